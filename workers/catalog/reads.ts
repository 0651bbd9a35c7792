import type { Database, Db } from "../db/client.ts";
import { CURSOR_TIMESTAMP, decodeCursor, encodeCursor, invalidCursor } from "../domain/cursor.ts";
import type { WaitUntil } from "../domain/runtime.ts";
import { type CachedBody, readThrough } from "./cache.ts";
import type { Market } from "./markets.ts";
import { ancestryOf, type CategoryNode, categoryTree, getProduct, listProducts, type ProductDetail, type ProductSort } from "./queries.ts";

/**
 * Catalog reads through the cache layers (memory, KV, Postgres), shared by the
 * JSON API and the storefront's pages, so both list, paginate and cache
 * products the same way: a cursor from one works with the same query in the other.
 */

type Cached = CachedBody & { source: "memory" | "kv" | "origin" };

/** A product list query as the API validates it: prices in minor units. */
export interface ProductListParams {
	q?: string | undefined;
	category?: string | undefined;
	min_price?: number | undefined;
	max_price?: number | undefined;
	in_stock?: "true" | "false" | undefined;
	sort?: ProductSort | undefined;
	limit: number;
	cursor?: string | undefined;
}

/** One product of a list, as the API answers it. */
export interface ProductSummary {
	id: string;
	slug: string;
	title: string;
	category: string | null;
	price: { min: number; max: number; currency: string };
	in_stock: boolean;
	image: string | null;
	created_at: string;
}

export interface ProductListBody {
	data: ProductSummary[];
	next_cursor: string | null;
}

interface Cursor {
	/** Fingerprint of the query the cursor belongs to. */
	f: string;
	v: string | number;
	i: string;
}

/** Relevance needs words to rank by; without them the newest come first. */
export function effectiveSort(params: Pick<ProductListParams, "q" | "sort">): ProductSort {
	return params.sort ?? (params.q ? "relevance" : "newest");
}

/**
 * A cursor of this query, with a sort value of the right type for the sort:
 * it reaches SQL as a parameter cast to timestamptz, float8 or int.
 */
function decodeProductCursor(text: string, fingerprint: string, sort: ProductSort): Cursor {
	const cursor = decodeCursor(text) as Partial<Cursor> | null;
	const valueOk =
		sort === "newest"
			? typeof cursor?.v === "string" && CURSOR_TIMESTAMP.test(cursor.v)
			: typeof cursor?.v === "number" && Number.isFinite(cursor.v) && (sort === "relevance" || Number.isSafeInteger(cursor.v));
	if (!cursor || cursor.f !== fingerprint || !valueOk || typeof cursor.i !== "string" || !/^prod_[a-z0-9]{1,40}$/.test(cursor.i)) {
		throw invalidCursor();
	}
	return cursor as Cursor;
}

/**
 * One page of products (JSON body with `next_cursor`), from the cache or
 * built from Postgres. Throws 400 `invalid_cursor` for a cursor of another query.
 */
export async function cachedProductList(
	kv: KVNamespace,
	ctx: WaitUntil,
	database: Database,
	params: ProductListParams,
	market: Market,
): Promise<Cached> {
	const sort = effectiveSort(params);
	// Everything but the cursor and the page size identifies the ordering a cursor belongs to; prices are the market's.
	const fingerprint = JSON.stringify([
		market.id,
		params.q ?? "",
		params.category ?? "",
		params.min_price ?? "",
		params.max_price ?? "",
		params.in_stock ?? "",
		sort,
	]);
	const after = params.cursor ? decodeProductCursor(params.cursor, fingerprint, sort) : undefined;
	const cacheName = `products:${fingerprint}:${params.limit}:${params.cursor ?? ""}`;
	const entry = await readThrough(kv, ctx, cacheName, async (): Promise<ProductListBody> => {
		const rows = await listProducts(
			database.read,
			{
				q: params.q,
				category: params.category,
				minPrice: params.min_price,
				maxPrice: params.max_price,
				inStock: params.in_stock === "true",
				sort,
				limit: params.limit,
				after: after ? { value: after.v, id: after.i } : undefined,
			},
			market,
		);
		const page = rows.slice(0, params.limit);
		const last = page.at(-1);
		return {
			data: page.map((row) => ({
				id: row.id,
				slug: row.slug,
				title: row.title,
				category: row.category_slug,
				price: { min: row.price_min, max: row.price_max, currency: row.currency },
				in_stock: row.in_stock,
				image: row.image_key ? `/v1/media/${row.image_key}` : null,
				created_at: row.created_at,
			})),
			next_cursor: rows.length > params.limit && last ? encodeCursor({ f: fingerprint, v: last.sort_value, i: last.id }) : null,
		};
	});
	if (!entry) throw new Error("product list produced nothing");
	return entry;
}

/** An active product by id or slug, priced in `market`, cached; undefined when there is none (in that market). */
export function cachedProduct(
	kv: KVNamespace,
	ctx: WaitUntil,
	database: Database,
	idOrSlug: string,
	market: Market,
): Promise<Cached | undefined> {
	return readThrough(
		kv,
		ctx,
		`product:${market.id}:${idOrSlug}`,
		(): Promise<ProductDetail | undefined> => getProduct(database.read, idOrSlug, market),
	);
}

/** The category tree, cached, as `{ data }`. */
export async function cachedCategories(kv: KVNamespace, ctx: WaitUntil, database: Database): Promise<Cached> {
	const entry = await readThrough(
		kv,
		ctx,
		"categories",
		async (): Promise<{ data: CategoryNode[] }> => ({
			data: await categoryTree(database.read),
		}),
	);
	if (!entry) throw new Error("category tree produced nothing");
	return entry;
}

/** Each category with the ones above it (catalog/queries.ts `ancestryOf`), through the cache. */
export async function cachedAncestry(kv: KVNamespace, ctx: WaitUntil, db: Db): Promise<Map<string, string[]>> {
	const entry = await readThrough(kv, ctx, "categories", async (): Promise<{ data: CategoryNode[] }> => ({ data: await categoryTree(db) }));
	return ancestryOf(entry ? (JSON.parse(entry.body) as { data: CategoryNode[] }).data : []);
}
