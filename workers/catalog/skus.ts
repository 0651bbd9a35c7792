import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { products, variants } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import type { WaitUntil } from "../domain/runtime.ts";
import { readThrough } from "./cache.ts";
import { type Market, priceIn } from "./markets.ts";

/** SKU facts (price, title, whether on sale) for carts and checkout. */

export interface SkuRow {
	sku: string;
	variantId: string;
	productId: string;
	productTitle: string;
	variantTitle: string;
	/** The base price (catalog/markets.ts `priceIn` gives the price in a market). */
	priceMinor: number;
	currency: string;
	/** The variant's rows of market price lists: market id → amount. */
	prices: Record<string, number>;
	taxClass: "standard" | "reduced" | "zero";
	weightGrams: number;
	categoryId: string | null;
	archivedAt: Date | null;
	status: string;
}

export async function skuRows(db: Db, skus: readonly string[]): Promise<Map<string, SkuRow>> {
	if (skus.length === 0) return new Map();
	const rows = await db
		.select({
			sku: variants.sku,
			variantId: variants.id,
			productId: variants.productId,
			productTitle: products.title,
			variantTitle: variants.title,
			priceMinor: variants.priceMinor,
			currency: variants.currency,
			prices: sql<
				Record<string, number>
			>`coalesce((select jsonb_object_agg(mp.market_id, mp.amount_minor) from market_prices mp where mp.variant_id = ${variants.id}), '{}'::jsonb)`,
			taxClass: products.taxClass,
			weightGrams: variants.weightGrams,
			categoryId: products.categoryId,
			archivedAt: variants.archivedAt,
			status: products.status,
		})
		.from(variants)
		.innerJoin(products, eq(products.id, variants.productId))
		.where(inArray(variants.sku, [...skus]));
	return new Map(rows.map((row) => [row.sku, { ...row, prices: normalisePrices(row.prices) }]));
}

/** jsonb numbers arrive as numbers, but a driver may hand bigints over as strings. */
function normalisePrices(prices: Record<string, number | string> | null): Record<string, number> {
	return Object.fromEntries(Object.entries(prices ?? {}).map(([market, amount]) => [market, Number(amount)]));
}

/** Looks SKUs up, from Postgres or from the catalog cache (`cachedSkus`). */
export type SkuSource = (skus: readonly string[]) => Promise<Map<string, SkuRow>>;

/**
 * SKU facts for cart pages and routes, through the catalog cache (isolate
 * memory, then KV, then Postgres; versioned keys every admin write bumps), so
 * adding to a cart usually touches no database. Carts only show informative
 * prices and refuse SKUs not on sale; what is charged is re-read from the
 * Postgres primary at checkout, which also refuses a SKU that went off sale
 * in the short while another location's cache still offers it.
 */
export function cachedSkus(env: Env, ctx: WaitUntil, db: Db): SkuSource {
	return async (skus) => {
		const found = new Map<string, SkuRow>();
		await Promise.all(
			[...new Set(skus)].map(async (sku) => {
				const entry = await readThrough(env.CATALOG, ctx, `sku:${sku}`, async () => {
					const row = (await skuRows(db, [sku])).get(sku);
					return row ? { ...row, archivedAt: row.archivedAt?.toISOString() ?? null } : { missing: true };
				});
				const value = entry
					? (JSON.parse(entry.body) as (Omit<SkuRow, "archivedAt"> & { archivedAt: string | null }) | { missing: true })
					: undefined;
				// Entries written before markets lack the newer fields; they stand for a product taxed as standard.
				if (value && !("missing" in value)) {
					found.set(sku, {
						...value,
						prices: value.prices ?? {},
						taxClass: value.taxClass ?? "standard",
						weightGrams: value.weightGrams ?? 0,
						categoryId: value.categoryId ?? null,
						archivedAt: value.archivedAt ? new Date(value.archivedAt) : null,
					});
				}
			}),
		);
		return found;
	};
}

/**
 * The markets a SKU is priced in (catalog/markets.ts `priceIn`), null
 * standing for the default market: what a cart checks its own market against.
 */
export async function marketsSelling(source: SkuSource, markets: readonly Market[], sku: string): Promise<(string | null)[]> {
	const row = (await source([sku])).get(sku);
	if (!row) return [];
	const selling: (string | null)[] = markets.filter((market) => priceIn(market, row) !== null).map((market) => market.id);
	if (markets.some((market) => market.isDefault && selling.includes(market.id))) selling.push(null);
	return selling;
}

/** Refuses a SKU that is unknown, archived, or whose product is not on sale (422 unknown_sku). */
export async function assertSellable(source: Db | SkuSource, sku: string): Promise<void> {
	if (typeof source === "function") {
		const row = (await source([sku])).get(sku);
		if (!row || !isSellable(row)) throw new DomainError("unknown_sku", { detail: `${sku} is not a product on sale.` });
		return;
	}
	const db = source;
	const [row] = await db
		.select({ id: variants.id })
		.from(variants)
		.innerJoin(products, eq(products.id, variants.productId))
		.where(and(eq(variants.sku, sku), isNull(variants.archivedAt), eq(products.status, "active")));
	if (!row) throw new DomainError("unknown_sku", { detail: `${sku} is not a product on sale.` });
}

export function isSellable(row: SkuRow): boolean {
	return row.archivedAt === null && row.status === "active";
}
