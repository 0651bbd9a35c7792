import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import { type CachedBody, matchesEtag } from "../../catalog/cache.ts";
import { cachedMarkets, marketView } from "../../catalog/markets.ts";
import { cachedCategories, cachedProduct, cachedProductList, cachedSuggestions } from "../../catalog/reads.ts";
import { notFound } from "../../domain/errors.ts";
import { sha256Hex } from "../../domain/hash.ts";
import { marketOf } from "../lib/market.ts";
import type { AppEnv } from "../types.ts";
import type { getProduct as getProductRoute, listCategories, listMarkets, listProducts, suggestProducts } from "./catalog.routes.ts";

/**
 * Catalog answers carry `in_stock`, which follows the InventoryItem objects
 * within a few seconds; an HTTP cache may not keep them longer than that.
 * Revalidation is cheap (the ETag answers 304 from the Worker's own cache).
 */
const PRODUCT_CACHE_CONTROL = "public, max-age=5, s-maxage=30, stale-while-revalidate=30";
const LIST_CACHE_CONTROL = PRODUCT_CACHE_CONTROL;

/** Answers from a cached body: 304 when the client already has it, else the JSON with its ETag. */
function respondCached(c: Context<AppEnv>, entry: CachedBody & { source: string }, cacheControl: string): Response {
	const headers = { etag: entry.etag, "cache-control": cacheControl, "x-catalog-cache": entry.source };
	if (matchesEtag(c.req.header("if-none-match"), entry.etag)) return c.body(null, 304, headers);
	return c.body(entry.body, 200, { ...headers, "content-type": "application/json; charset=utf-8" });
}

export const listProductsHandler: RouteHandler<typeof listProducts, AppEnv> = async (c) => {
	const { market, country, ...params } = c.req.valid("query");
	const entry = await cachedProductList(c.env.CATALOG, c.executionCtx, c.get("database"), params, await marketOf(c, { market, country }));
	return respondCached(c, entry, LIST_CACHE_CONTROL) as never;
};

export const getProductHandler: RouteHandler<typeof getProductRoute, AppEnv> = async (c) => {
	const { idOrSlug } = c.req.valid("param");
	const market = await marketOf(c, c.req.valid("query"));
	const entry = await cachedProduct(c.env.CATALOG, c.executionCtx, c.get("database"), idOrSlug, market);
	if (!entry) throw notFound("No active product with this id or slug.");
	return respondCached(c, entry, PRODUCT_CACHE_CONTROL) as never;
};

export const listCategoriesHandler: RouteHandler<typeof listCategories, AppEnv> = async (c) => {
	const entry = await cachedCategories(c.env.CATALOG, c.executionCtx, c.get("database"));
	return respondCached(c, entry, PRODUCT_CACHE_CONTROL) as never;
};

export const listMarketsHandler: RouteHandler<typeof listMarkets, AppEnv> = async (c) => {
	const markets = await cachedMarkets(c.env, c.executionCtx, c.get("database").read);
	const fallback = markets.find((market) => market.isDefault) ?? markets[0];
	const body = JSON.stringify({ data: markets.map(marketView), default: fallback?.id ?? null });
	return respondCached(c, { body, etag: `"${(await sha256Hex(body)).slice(0, 32)}"`, source: "memory" }, PRODUCT_CACHE_CONTROL) as never;
};

export const suggestProductsHandler: RouteHandler<typeof suggestProducts, AppEnv> = async (c) => {
	const { q, market, country } = c.req.valid("query");
	const entry = await cachedSuggestions(c.env.CATALOG, c.executionCtx, c.get("database"), q, await marketOf(c, { market, country }));
	return respondCached(c, entry, LIST_CACHE_CONTROL) as never;
};
