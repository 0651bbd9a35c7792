import type { Database, Db } from "../db/client.ts";
import { CURSOR_TIMESTAMP, decodeCursor, encodeCursor, invalidCursor } from "../domain/cursor.ts";
import { sha256Hex } from "../domain/hash.ts";
import type { WaitUntil } from "../domain/runtime.ts";
import { type CachedBody, readThrough } from "./cache.ts";
import type { Market } from "./markets.ts";
import { ancestryOf, type CategoryNode, categoryTree, getProduct, listProducts, type ProductDetail, type ProductSort } from "./queries.ts";
import { distinctSorted, type Facets, facetsOf, optionFilters, type Suggestion, suggestProducts } from "./search.ts";

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
	/** Any of these brands. */
	brand?: string[] | undefined;
	/** `name:value` pairs: per name any of its values, all names on one variant. */
	option?: string[] | undefined;
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
	/** Products the query finds over all pages. */
	total: number;
	/** Whether titles similar to `q` were matched too (full text found too little). */
	fuzzy: boolean;
	facets: Facets;
}

type Mode = "text" | "fuzzy";

interface Cursor {
	/** Fingerprint of the query and the mode the cursor belongs to. */
	f: string;
	/** The mode of the first page, which every later page keeps. */
	m: Mode;
	v: string | number;
	i: string;
}

/** A short digest: cache names and cursors stay small (KV keys are at most 512 bytes) whatever the filters. */
async function digest(text: string): Promise<string> {
	return (await sha256Hex(text)).slice(0, 32);
}

const fingerprintOf = (query: string, mode: Mode) => digest(`${query}\n${mode}`);

/** Relevance needs words to rank by; without them the newest come first. */
export function effectiveSort(params: Pick<ProductListParams, "q" | "sort">): ProductSort {
	return params.sort ?? (params.q ? "relevance" : "newest");
}

/**
 * A cursor of this query, with a sort value of the right type for the sort:
 * it reaches SQL as a parameter cast to timestamptz, float8 or int.
 */
async function decodeProductCursor(text: string, query: string, sort: ProductSort): Promise<Cursor> {
	const cursor = decodeCursor(text) as Partial<Cursor> | null;
	const valueOk =
		sort === "newest"
			? typeof cursor?.v === "string" && CURSOR_TIMESTAMP.test(cursor.v)
			: typeof cursor?.v === "number" && Number.isFinite(cursor.v) && (sort === "relevance" || Number.isSafeInteger(cursor.v));
	const modeOk = cursor?.m === "text" || cursor?.m === "fuzzy";
	if (
		!cursor ||
		!modeOk ||
		cursor.f !== (await fingerprintOf(query, cursor.m as Mode)) ||
		!valueOk ||
		typeof cursor.i !== "string" ||
		!/^prod_[a-z0-9]{1,40}$/.test(cursor.i)
	) {
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
	const brands = distinctSorted(params.brand);
	const options = optionFilters(params.option);
	// What selects the products (prices are the market's); with the sort, the ordering a cursor belongs to.
	const selection = [
		market.id,
		params.q ?? "",
		params.category ?? "",
		params.min_price ?? "",
		params.max_price ?? "",
		params.in_stock ?? "",
		brands,
		options,
	];
	const query = JSON.stringify([...selection, sort]);
	const after = params.cursor ? await decodeProductCursor(params.cursor, query, sort) : undefined;
	const cacheName = `products:${await digest(query)}:${params.limit}:${params.cursor ?? ""}`;
	const entry = await readThrough(kv, ctx, cacheName, async (): Promise<ProductListBody> => {
		const filters = {
			q: params.q,
			category: params.category,
			minPrice: params.min_price,
			maxPrice: params.max_price,
			inStock: params.in_stock === "true",
			brands,
			options,
			// The first page decides the mode; later pages keep the one their cursor carries.
			match: after ? after.m : ("auto" as const),
		};
		// A first page counts its facets in its own statement. Later pages share one cached count per query
		// and mode (sort and page size change no count), so paging deep never recounts the whole result.
		const [result, laterFacets] = await Promise.all([
			listProducts(
				database.read,
				{ ...filters, withFacets: !after, sort, limit: params.limit, after: after ? { value: after.v, id: after.i } : undefined },
				market,
			),
			after
				? readThrough(kv, ctx, `facets:${await digest(JSON.stringify([...selection, after.m]))}`, async () => {
						const counted = await listProducts(database.read, { ...filters, sort: "newest", limit: 0 }, market);
						return facetsOf(counted.facets, market.currency);
					})
				: undefined,
		]);
		const page = result.rows.slice(0, params.limit);
		const last = page.at(-1);
		const mode: Mode = result.fuzzy ? "fuzzy" : "text";
		return {
			data: page.map((row) => ({
				id: row.id,
				slug: row.slug,
				title: row.title,
				category: row.category_slug,
				price: { min: row.price_min, max: row.price_max, currency: market.currency },
				in_stock: row.in_stock,
				image: row.image_key ? `/v1/media/${row.image_key}` : null,
				created_at: row.created_at,
			})),
			next_cursor:
				result.rows.length > params.limit && last
					? encodeCursor({ f: await fingerprintOf(query, mode), m: mode, v: last.sort_value, i: last.id })
					: null,
			total: result.total,
			fuzzy: result.fuzzy,
			facets: laterFacets ? (JSON.parse(laterFacets.body) as Facets) : facetsOf(result.facets, market.currency),
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

/**
 * Suggestions for what a shopper has typed (catalog/search.ts
 * `suggestProducts`), as `{ data }`, cached per market and text; the text is
 * matched without regard to case or repeated spaces, so it is keyed that way.
 */
export async function cachedSuggestions(kv: KVNamespace, ctx: WaitUntil, database: Database, q: string, market: Market): Promise<Cached> {
	const text = q.trim().replace(/\s+/g, " ").toLowerCase();
	const entry = await readThrough(
		kv,
		ctx,
		`suggest:${market.id}:${await digest(text)}`,
		async (): Promise<{ data: Suggestion[] }> => ({ data: await suggestProducts(database.read, text, market) }),
	);
	if (!entry) throw new Error("suggestions produced nothing");
	return entry;
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
