import { and, asc, eq, gt, ilike, inArray, isNull, ne, or, type SQL, sql } from "drizzle-orm";
import type { AdminActor } from "../catalog/admin.ts";
import { recordAudit } from "../catalog/audit.ts";
import { bumpCatalogVersion } from "../catalog/cache.ts";
import { type Market, priceIn } from "../catalog/markets.ts";
import type { Db, Executor } from "../db/client.ts";
import { marketPrices, markets, products, variants } from "../db/schema.ts";
import { decodeCursor, encodeCursor, invalidCursor } from "../domain/cursor.ts";
import { DomainError, notFound } from "../domain/errors.ts";
import type { AdminMarket, PriceRow, PutPricesInput } from "./admin.schemas.ts";
import { marketNotFound, readMarket } from "./admin.ts";

/**
 * A market's price list for admins: every live variant with its base price,
 * the market's list price (or none) and what the market charges for it, by
 * the pricing rules of catalog/markets.ts (`priceIn`, the one place they
 * live). Writes are audited and bump the catalog version, so cached catalog
 * reads re-price at once.
 */

export interface PriceListQuery {
	q?: string | undefined;
	limit: number;
	cursor?: string | undefined;
}

const SKU = /^[A-Z0-9]+(?:-[A-Z0-9]+)*$/;

/** The market as the pricing rules take it. */
function pricingMarket(market: AdminMarket): Market {
	return {
		id: market.id,
		name: market.name,
		currency: market.currency,
		taxMode: market.tax_mode,
		convertFrom: market.convert_from,
		rateMicros: market.rate_micros,
		isDefault: market.is_default,
		countries: market.countries,
	};
}

/** The price-list rows of `market`'s variants that match `where`, by SKU. */
async function priceRows(db: Executor, market: AdminMarket, where: SQL | undefined, limit?: number): Promise<PriceRow[]> {
	const query = db
		.select({
			sku: variants.sku,
			variantId: variants.id,
			productId: products.id,
			productTitle: products.title,
			variantTitle: variants.title,
			priceMinor: variants.priceMinor,
			currency: variants.currency,
			listed: marketPrices.amountMinor,
		})
		.from(variants)
		.innerJoin(products, eq(products.id, variants.productId))
		.leftJoin(marketPrices, and(eq(marketPrices.variantId, variants.id), eq(marketPrices.marketId, market.id)))
		.where(where)
		.orderBy(asc(variants.sku));
	const rows = limit === undefined ? await query : await query.limit(limit);
	const pricing = pricingMarket(market);
	return rows.map((row) => {
		const listed = row.listed === null ? null : Number(row.listed);
		const base = Number(row.priceMinor);
		return {
			sku: row.sku,
			variant_id: row.variantId,
			product_id: row.productId,
			product_title: row.productTitle,
			variant_title: row.variantTitle,
			base_price_minor: base,
			base_currency: row.currency,
			list_price_minor: listed,
			price_minor: priceIn(pricing, { priceMinor: base, currency: row.currency, prices: listed === null ? {} : { [market.id]: listed } }),
			currency: market.currency,
		};
	});
}

/** LIKE treats % and _ as wildcards; an admin searching for "50%" means the characters. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

function decodeSkuCursor(text: string): string {
	const decoded = decodeCursor(text);
	if (!Array.isArray(decoded) || decoded.length !== 1 || typeof decoded[0] !== "string" || !SKU.test(decoded[0])) throw invalidCursor();
	return decoded[0];
}

/**
 * A page of the market's price list, by SKU: the variants on sale or in
 * preparation (archived variants and products left out), filtered by a
 * substring of the SKU or the product's title.
 */
export async function listMarketPrices(
	db: Db,
	marketId: string,
	query: PriceListQuery,
): Promise<{ data: PriceRow[]; next_cursor: string | null }> {
	const after = query.cursor ? decodeSkuCursor(query.cursor) : undefined;
	const market = await readMarket(db, marketId);
	if (!market) throw marketNotFound(marketId);
	const conditions: (SQL | undefined)[] = [isNull(variants.archivedAt), ne(products.status, "archived")];
	if (query.q) conditions.push(or(ilike(variants.sku, likePattern(query.q)), ilike(products.title, likePattern(query.q))));
	if (after) conditions.push(gt(variants.sku, after));
	const rows = await priceRows(db, market, and(...conditions), query.limit + 1);
	const page = rows.slice(0, query.limit);
	const last = page.at(-1);
	return { data: page, next_cursor: rows.length > query.limit && last ? encodeCursor([last.sku]) : null };
}

/**
 * Upserts list prices by SKU, all or nothing: an unknown SKU is a 422 naming
 * every unknown one, and nothing is written. One audit entry holds each
 * SKU's list price before (null: none) and after.
 */
export async function upsertMarketPrices(env: Env, db: Db, marketId: string, body: PutPricesInput, actor: AdminActor): Promise<PriceRow[]> {
	const written = await db.transaction(async (tx) => {
		// The market's row lock orders concurrent writes to its list, so each audit entry's "before" is what that write replaced.
		const [locked] = await tx.select({ id: markets.id }).from(markets).where(eq(markets.id, marketId)).for("update");
		if (!locked) throw marketNotFound(marketId);
		const skus = body.prices.map((row) => row.sku);
		const found = await tx.select({ id: variants.id, sku: variants.sku }).from(variants).where(inArray(variants.sku, skus));
		const idOf = new Map(found.map((row) => [row.sku, row.id]));
		const unknown = skus.filter((sku) => !idOf.has(sku));
		if (unknown.length > 0) {
			throw new DomainError("unknown_sku", {
				detail: `No variant has ${unknown.length === 1 ? "the SKU" : "these SKUs"} ${unknown.join(", ")}; nothing was written.`,
				extensions: { skus: unknown },
			});
		}
		const previous = await tx
			.select({ variantId: marketPrices.variantId, amount: marketPrices.amountMinor })
			.from(marketPrices)
			.where(and(eq(marketPrices.marketId, marketId), inArray(marketPrices.variantId, [...idOf.values()])));
		const previousById = new Map(previous.map((row) => [row.variantId, Number(row.amount)]));
		await tx
			.insert(marketPrices)
			.values(body.prices.map((row) => ({ marketId, variantId: idOf.get(row.sku) as string, amountMinor: row.amount_minor })))
			.onConflictDoUpdate({
				target: [marketPrices.marketId, marketPrices.variantId],
				set: { amountMinor: sql`excluded.amount_minor`, updatedAt: sql`now()` },
			});
		const market = await readMarket(tx, marketId);
		if (!market) throw new Error("market not readable in its own transaction");
		const sorted = [...body.prices].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "market.prices.upsert",
			entityType: "market",
			entityId: marketId,
			before: { prices: Object.fromEntries(sorted.map((row) => [row.sku, previousById.get(idOf.get(row.sku) as string) ?? null])) },
			after: { prices: Object.fromEntries(sorted.map((row) => [row.sku, row.amount_minor])) },
			requestId: actor.requestId,
		});
		return priceRows(tx, market, inArray(variants.sku, skus));
	});
	await bumpCatalogVersion(env.CATALOG);
	return written;
}

/** Removes one SKU's list price (the market then charges the base price, converted if it must be), audited. */
export async function deleteMarketPrice(env: Env, db: Db, marketId: string, sku: string, actor: AdminActor): Promise<void> {
	await db.transaction(async (tx) => {
		const [locked] = await tx.select({ id: markets.id }).from(markets).where(eq(markets.id, marketId)).for("update");
		if (!locked) throw marketNotFound(marketId);
		const [variant] = await tx.select({ id: variants.id }).from(variants).where(eq(variants.sku, sku));
		if (!variant) throw notFound(`No variant has the SKU ${sku}.`);
		const [removed] = await tx
			.delete(marketPrices)
			.where(and(eq(marketPrices.marketId, marketId), eq(marketPrices.variantId, variant.id)))
			.returning({ amount: marketPrices.amountMinor });
		if (!removed) throw notFound(`${sku} has no list price in market ${marketId}.`);
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "market.price.delete",
			entityType: "market",
			entityId: marketId,
			before: { prices: { [sku]: Number(removed.amount) } },
			after: { prices: { [sku]: null } },
			requestId: actor.requestId,
		});
	});
	await bumpCatalogVersion(env.CATALOG);
}
