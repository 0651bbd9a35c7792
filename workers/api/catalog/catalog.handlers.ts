import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import { type CachedBody, matchesEtag, readThrough } from "../../catalog/cache.ts";
import { categoryTree, getProduct, type ProductSort, listProducts as queryProducts } from "../../catalog/queries.ts";
import { CURSOR_TIMESTAMP, decodeCursor, encodeCursor, invalidCursor } from "../lib/cursor.ts";
import { AppError } from "../lib/problem.ts";
import type { AppEnv } from "../types.ts";
import type { getProduct as getProductRoute, listCategories, listProducts } from "./catalog.routes.ts";

/** Browsers revalidate after a minute; the CDN may serve a little longer while it revalidates. */
const PRODUCT_CACHE_CONTROL = "public, max-age=60, s-maxage=60, stale-while-revalidate=300";
const LIST_CACHE_CONTROL = "public, max-age=30, s-maxage=30, stale-while-revalidate=120";

/** Answers from a cached body: 304 when the client already has it, else the JSON with its ETag. */
function respondCached(c: Context<AppEnv>, entry: CachedBody & { source: string }, cacheControl: string): Response {
	const headers = { etag: entry.etag, "cache-control": cacheControl, "x-catalog-cache": entry.source };
	if (matchesEtag(c.req.header("if-none-match"), entry.etag)) return c.body(null, 304, headers);
	return c.body(entry.body, 200, { ...headers, "content-type": "application/json; charset=utf-8" });
}

interface Cursor {
	/** Fingerprint of the query the cursor belongs to. */
	f: string;
	v: string | number;
	i: string;
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

export const listProductsHandler: RouteHandler<typeof listProducts, AppEnv> = async (c) => {
	const query = c.req.valid("query");
	const sort: ProductSort = query.sort ?? (query.q ? "relevance" : "newest");
	// Everything but the cursor and the page size identifies the ordering a cursor belongs to.
	const fingerprint = JSON.stringify([
		query.q ?? "",
		query.category ?? "",
		query.min_price ?? "",
		query.max_price ?? "",
		query.in_stock ?? "",
		sort,
	]);
	const after = query.cursor ? decodeProductCursor(query.cursor, fingerprint, sort) : undefined;
	const cacheName = `products:${fingerprint}:${query.limit}:${query.cursor ?? ""}`;
	const entry = await readThrough(c.env.CATALOG, c.executionCtx, cacheName, async () => {
		const rows = await queryProducts(c.get("database").read, {
			q: query.q,
			category: query.category,
			minPrice: query.min_price,
			maxPrice: query.max_price,
			inStock: query.in_stock === "true",
			sort,
			limit: query.limit,
			after: after ? { value: after.v, id: after.i } : undefined,
		});
		const page = rows.slice(0, query.limit);
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
			next_cursor: rows.length > query.limit && last ? encodeCursor({ f: fingerprint, v: last.sort_value, i: last.id }) : null,
		};
	});
	if (!entry) throw new Error("product list produced nothing");
	return respondCached(c, entry, LIST_CACHE_CONTROL) as never;
};

export const getProductHandler: RouteHandler<typeof getProductRoute, AppEnv> = async (c) => {
	const { idOrSlug } = c.req.valid("param");
	const entry = await readThrough(c.env.CATALOG, c.executionCtx, `product:${idOrSlug}`, () => getProduct(c.get("database").read, idOrSlug));
	if (!entry) throw new AppError(404, "not_found", "Not found", { detail: "No active product with this id or slug." });
	return respondCached(c, entry, PRODUCT_CACHE_CONTROL) as never;
};

export const listCategoriesHandler: RouteHandler<typeof listCategories, AppEnv> = async (c) => {
	const entry = await readThrough(c.env.CATALOG, c.executionCtx, "categories", async () => ({
		data: await categoryTree(c.get("database").read),
	}));
	if (!entry) throw new Error("category tree produced nothing");
	return respondCached(c, entry, PRODUCT_CACHE_CONTROL) as never;
};
