import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import { type CachedBody, matchesEtag } from "../../catalog/cache.ts";
import { cachedCategories, cachedProduct, cachedProductList } from "../../catalog/reads.ts";
import { notFound } from "../../domain/errors.ts";
import type { AppEnv } from "../types.ts";
import type { getProduct as getProductRoute, listCategories, listProducts } from "./catalog.routes.ts";

/**
 * Catalog answers carry `in_stock`, which follows the InventoryItem objects
 * within a few seconds; an HTTP cache may not keep them longer than that.
 * Revalidation is cheap (the ETag answers 304 from the Worker's own cache).
 */
const PRODUCT_CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=5";
const LIST_CACHE_CONTROL = PRODUCT_CACHE_CONTROL;

/** Answers from a cached body: 304 when the client already has it, else the JSON with its ETag. */
function respondCached(c: Context<AppEnv>, entry: CachedBody & { source: string }, cacheControl: string): Response {
	const headers = { etag: entry.etag, "cache-control": cacheControl, "x-catalog-cache": entry.source };
	if (matchesEtag(c.req.header("if-none-match"), entry.etag)) return c.body(null, 304, headers);
	return c.body(entry.body, 200, { ...headers, "content-type": "application/json; charset=utf-8" });
}

export const listProductsHandler: RouteHandler<typeof listProducts, AppEnv> = async (c) => {
	const entry = await cachedProductList(c.env.CATALOG, c.executionCtx, c.get("database"), c.req.valid("query"));
	return respondCached(c, entry, LIST_CACHE_CONTROL) as never;
};

export const getProductHandler: RouteHandler<typeof getProductRoute, AppEnv> = async (c) => {
	const { idOrSlug } = c.req.valid("param");
	const entry = await cachedProduct(c.env.CATALOG, c.executionCtx, c.get("database"), idOrSlug);
	if (!entry) throw notFound("No active product with this id or slug.");
	return respondCached(c, entry, PRODUCT_CACHE_CONTROL) as never;
};

export const listCategoriesHandler: RouteHandler<typeof listCategories, AppEnv> = async (c) => {
	const entry = await cachedCategories(c.env.CATALOG, c.executionCtx, c.get("database"));
	return respondCached(c, entry, PRODUCT_CACHE_CONTROL) as never;
};
