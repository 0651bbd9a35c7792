import type { CartState } from "../../durable-objects/cart.ts";
import { cachedMarkets, type Market, type MarketView, marketView, priceIn } from "../catalog/markets.ts";
import { cachedAncestry } from "../catalog/reads.ts";
import { isSellable, type SkuSource, skuRows } from "../catalog/skus.ts";
import type { Db } from "../db/client.ts";
import type { Money } from "../domain/money.ts";
import type { WaitUntil } from "../domain/runtime.ts";
import { share } from "../orders/pricing.ts";
import { applyPromotions, cachedAutomaticPromotions, type PromotionRow, usedPromotions } from "../orders/promotions.ts";

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
	/** The market the cart shops in: every price is in its currency, tax included when it says so. */
	market: MarketView;
	lines: CartLineView[];
	subtotal: Money;
	/** The automatic promotions that apply now and what each saves (a discount code is applied at checkout). */
	promotions: { id: string; name: string; saving: Money }[];
	/** What they save on the items (free shipping is shown by the shipping methods at checkout). */
	discount: Money;
	free_shipping: boolean;
	item_count: number;
	expires_at: string;
}

/** The market a cart shops in: its own, else (a cart from before markets, or a market since deleted) the default. */
export function cartMarket(markets: readonly Market[], cart: Pick<CartState, "market">): Market {
	const market = markets.find((m) => m.id === cart.market) ?? markets.find((m) => m.isDefault) ?? markets[0];
	if (!market) throw new Error("no market is configured");
	return market;
}

/** Automatic promotions and the category tree they match against, for a cart's view. */
export interface CartPromotions {
	rows: readonly PromotionRow[];
	ancestry: ReadonlyMap<string, readonly string[]>;
}

/** `priceCart` in the cart's market with the automatic promotions, read through the catalog cache. */
export async function viewCart(env: Env, ctx: WaitUntil, db: Db, source: Db | SkuSource, cart: CartState): Promise<CartView> {
	const [markets, rows, ancestry] = await Promise.all([
		cachedMarkets(env, ctx, db),
		cachedAutomaticPromotions(env, ctx, db),
		cachedAncestry(env.CATALOG, ctx, db),
	]);
	return priceCart(source, cart, cartMarket(markets, cart), { rows, ancestry });
}

/**
 * Prices a cart in its market from Postgres (or the catalog cache) as it is
 * now. The cart stores no prices, so these are informative; checkout
 * re-prices. A line whose SKU is no longer on sale, or not sold in the
 * cart's market, stays visible with `available: false` and counts toward no
 * subtotal.
 */
export async function priceCart(
	source: Db | SkuSource,
	cart: CartState,
	market: Market,
	promotions: CartPromotions = { rows: [], ancestry: new Map() },
): Promise<CartView> {
	const skus = cart.lines.map((line) => line.sku);
	const rows = typeof source === "function" ? await source(skus) : await skuRows(source, skus);
	const currency = market.currency;
	let subtotal = 0;
	const promoted: Parameters<typeof applyPromotions>[1][number][] = [];
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
		const price = priceIn(market, row);
		const available = isSellable(row) && price !== null;
		const lineTotal = price === null ? null : price * line.quantity;
		if (available && lineTotal !== null && price !== null) {
			subtotal += lineTotal;
			const categories = row.categoryId ? (promotions.ancestry.get(row.categoryId) ?? [row.categoryId]) : [];
			promoted.push({ productId: row.productId, categories, unitPrice: price, quantity: line.quantity });
		}
		return {
			sku: line.sku,
			product_id: row.productId,
			title: row.variantTitle ? `${row.productTitle} — ${row.variantTitle}` : row.productTitle,
			quantity: line.quantity,
			unit_price: price === null ? null : { amount: price, currency },
			line_total: lineTotal === null ? null : { amount: lineTotal, currency },
			available,
		};
	});
	const outcome = applyPromotions(promotions.rows, promoted, currency);
	const lineOff = outcome.lineDiscounts.reduce((a, b) => a + b, 0);
	const left = subtotal - lineOff;
	const orderOff = outcome.order
		? Math.min(
				left,
				outcome.order.discount.kind === "percentage" ? share(left, outcome.order.discount.value) : outcome.order.discount.value,
			)
		: 0;
	const applied = usedPromotions(outcome, orderOff, 0).filter((p) => p.amount_minor > 0 || p.id === outcome.freeShipping?.id);
	return {
		id: cart.id,
		owner: cart.owner,
		market: marketView(market),
		lines,
		subtotal: { amount: subtotal, currency },
		promotions: applied.map((p) => ({ id: p.id, name: p.name, saving: { amount: p.amount_minor, currency } })),
		discount: { amount: lineOff + orderOff, currency },
		free_shipping: outcome.freeShipping !== null,
		item_count: cart.lines.reduce((n, line) => n + line.quantity, 0),
		expires_at: new Date(cart.expiresAt).toISOString(),
	};
}
