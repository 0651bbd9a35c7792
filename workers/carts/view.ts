import type { CartState } from "../../durable-objects/cart.ts";
import { isSellable, type SkuSource, skuRows } from "../catalog/skus.ts";
import type { Db } from "../db/client.ts";
import type { Money } from "../domain/money.ts";

/** The currency an empty cart's subtotal is shown in: the catalog's. */
export const DEFAULT_CURRENCY = "EUR";

export interface CartLineView {
	sku: string;
	product_id: string | null;
	title: string | null;
	quantity: number;
	unit_price: Money | null;
	line_total: Money | null;
	available: boolean;
}

export interface CartView {
	id: string;
	owner: "guest" | "user";
	lines: CartLineView[];
	subtotal: Money;
	item_count: number;
	expires_at: string;
}

/**
 * Prices a cart from Postgres as it is now. The cart stores no prices, so these
 * are informative; checkout re-prices. A line whose SKU is no longer on sale
 * stays visible with `available: false` and counts toward no subtotal; so does
 * one priced in a currency other than the cart's (the first available line's).
 */
export async function priceCart(source: Db | SkuSource, cart: CartState): Promise<CartView> {
	const skus = cart.lines.map((line) => line.sku);
	const rows = typeof source === "function" ? await source(skus) : await skuRows(source, skus);
	const currency = cart.lines.map((line) => rows.get(line.sku)).find((row) => row && isSellable(row))?.currency ?? DEFAULT_CURRENCY;
	let subtotal = 0;
	const lines = cart.lines.map((line): CartLineView => {
		const row = rows.get(line.sku);
		if (!row) {
			return {
				sku: line.sku,
				product_id: null,
				title: null,
				quantity: line.quantity,
				unit_price: null,
				line_total: null,
				available: false,
			};
		}
		const available = isSellable(row);
		const lineTotal = row.priceMinor * line.quantity;
		if (available && row.currency === currency) subtotal += lineTotal;
		return {
			sku: line.sku,
			product_id: row.productId,
			title: row.variantTitle ? `${row.productTitle} — ${row.variantTitle}` : row.productTitle,
			quantity: line.quantity,
			unit_price: { amount: row.priceMinor, currency: row.currency },
			line_total: { amount: lineTotal, currency: row.currency },
			available,
		};
	});
	return {
		id: cart.id,
		owner: cart.owner,
		lines,
		subtotal: { amount: subtotal, currency },
		item_count: cart.lines.reduce((n, line) => n + line.quantity, 0),
		expires_at: new Date(cart.expiresAt).toISOString(),
	};
}
