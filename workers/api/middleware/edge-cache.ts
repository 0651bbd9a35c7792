import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { catalogVersion, matchesEtag, stockVersion } from "../../catalog/cache.ts";
import { cachedMarkets, resolveMarket } from "../../catalog/markets.ts";
import { requestCountry } from "../lib/market.ts";
import type { AppEnv } from "../types.ts";

/**
 * Cloudflare's cache in front of anonymous catalog reads: the Workers Cache
 * API (`caches.default`, the cache of the data center that answers), before
 * the catalog's own layers (isolate memory, KV, Postgres).
 *
 * - **What.** GETs of the routes below, answered 200 with a `public`
 *   Cache-Control and no cookie to set: catalog JSON (products, one product,
 *   categories, markets, search suggestions), catalog pages (home, search,
 *   category, product) and media.
 * - **Who.** Anonymous requests only: an Authorization header, an X-Cart-Token,
 *   or a session or cart cookie bypasses the cache (`X-Cache: BYPASS`), so
 *   nothing personal is ever stored or served from it.
 * - **Key.** The request's origin and path, its query parameters sorted, the
 *   market it prices in (resolved as the route would: `?market=`, `?country=`,
 *   the saved choice, the request's country, the default) and, for catalog
 *   entries, the catalog and stock versions (catalog/cache.ts). An admin
 *   write or a SKU selling out bumps a version: every location's next request
 *   builds another key and misses, so a bump is an instant purge everywhere.
 *   Media keys are content-addressed and never change, so they carry no version.
 * - **Headers.** Stored entries live a day (versions retire them sooner);
 *   clients are told `s-maxage` and `stale-while-revalidate` as the route
 *   says. Every cacheable answer carries `X-Cache: HIT` or `MISS`.
 *
 * Live stock badges come from the product page's live socket, never from a
 * cached page. On workers.dev the Cache API stores nothing (it needs a zone):
 * every answer is then a MISS.
 */

type Kind = "catalog" | "page" | "media";

/** The cached routes (Hono paths) and what kind of entry each is. */
const EDGE_CACHED: readonly { path: string; kind: Kind }[] = [
	{ path: "/v1/products", kind: "catalog" },
	{ path: "/v1/products/:idOrSlug", kind: "catalog" },
	{ path: "/v1/categories", kind: "catalog" },
	{ path: "/v1/markets", kind: "catalog" },
	{ path: "/v1/search/suggest", kind: "catalog" },
	{ path: "/v1/media/*", kind: "media" },
	{ path: "/", kind: "page" },
	{ path: "/search", kind: "page" },
	{ path: "/c/:slug", kind: "page" },
	{ path: "/p/:slug", kind: "page" },
];

/** How long a stored entry may live: its key changes with every version, so it never goes stale, only unused. */
const STORED_SECONDS = 24 * 3600;
const MEDIA_STORED_SECONDS = 365 * 24 * 3600;

/** Cookies that make a request personal (the storefront's session and cart, web/session.ts). */
const PERSONAL_COOKIES = ["ec_at", "ec_rt", "ec_cart"];
/** Any of them in a Cookie header, read in one pass (a parse per name was a measured share of a read). */
const PERSONAL_COOKIE = new RegExp(`(?:^|;)\\s*(?:${PERSONAL_COOKIES.join("|")})\\s*=`);
/** The storefront's saved market (web/market.ts). */
const MARKET_COOKIE = "market";
const MARKET_ID = /^[a-z][a-z0-9-]{0,31}$/;
/** Where a stored entry keeps the Cache-Control its route gave clients. */
const CLIENT_CACHE_CONTROL = "x-edge-client-cache-control";
const CLIENT_VARY = "x-edge-client-vary";

function personal(c: Context<AppEnv>): boolean {
	if (c.req.header("authorization") || c.req.header("x-cart-token")) return true;
	const cookie = c.req.header("cookie");
	return cookie !== undefined && PERSONAL_COOKIE.test(cookie);
}

/** The market a request prices in, as the route resolves it; undefined when it names one that does not exist (the route answers 4xx). */
async function marketKey(c: Context<AppEnv>, kind: Kind): Promise<string | undefined> {
	const markets = await cachedMarkets(c.env, c.executionCtx, c.get("database").read);
	const asked = c.req.query("market");
	const country = c.req.query("country");
	const saved = kind === "page" ? getCookie(c, MARKET_COOKIE) : undefined;
	try {
		return resolveMarket(markets, {
			market: asked,
			country: country && /^[A-Za-z]{2}$/.test(country) ? country : undefined,
			saved: saved && MARKET_ID.test(saved) ? saved : undefined,
			requestCountry: requestCountry(c),
		}).id;
	} catch {
		return undefined;
	}
}

/** The cache key: the same origin (the Cache API is per zone), a path naming kind, versions and market, the query sorted. */
async function keyOf(c: Context<AppEnv>, kind: Kind): Promise<Request | undefined> {
	const url = new URL(c.req.url);
	const params = [...url.searchParams.entries()].sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : av > bv ? 1 : 0) : a < b ? -1 : 1));
	const query = new URLSearchParams(params).toString();
	let scope = "media";
	if (kind !== "media") {
		const market = await marketKey(c, kind);
		if (market === undefined) return undefined;
		const [catalog, stock] = await Promise.all([catalogVersion(c.env.CATALOG), stockVersion(c.env.CATALOG)]);
		scope = `${kind}/${catalog}/${stock}/${market}`;
	}
	return new Request(`${url.origin}/__edge-cache/${scope}${url.pathname}${query ? `?${query}` : ""}`);
}

function storable(res: Response): boolean {
	const control = res.headers.get("cache-control") ?? "";
	return res.status === 200 && /\bpublic\b/.test(control) && !res.headers.has("set-cookie") && !res.headers.get("vary")?.includes("*");
}

/** A cached answer for this request: 304 when the client has it, the entry otherwise, marked HIT. */
function fromCache(c: Context<AppEnv>, hit: Response): Response {
	const headers = new Headers(hit.headers);
	headers.set("x-cache", "HIT");
	// The entry is stored with its own lifetime; the client gets the route's Cache-Control.
	headers.set("cache-control", hit.headers.get(CLIENT_CACHE_CONTROL) ?? "public, max-age=5");
	headers.delete(CLIENT_CACHE_CONTROL);
	const vary = hit.headers.get(CLIENT_VARY);
	if (vary) headers.set("vary", vary);
	headers.delete(CLIENT_VARY);
	const etag = hit.headers.get("etag");
	if (etag && matchesEtag(c.req.header("if-none-match"), etag)) {
		headers.delete("content-length");
		headers.delete("content-type");
		return new Response(null, { status: 304, headers });
	}
	return new Response(hit.body, { status: 200, headers });
}

function edgeCache(kind: Kind): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		// A byte range is the media route's to answer from R2; HEAD is answered by the route too.
		if (c.req.method !== "GET" || c.req.header("range")) return next();
		// The market picker (`?market=` on a page) saves a cookie: such an answer is the shopper's, not the cache's.
		if (personal(c) || (kind === "page" && c.req.query("market") !== undefined) || c.req.query("ref") !== undefined) {
			await next();
			c.res.headers.set("x-cache", "BYPASS");
			return;
		}
		const key = await keyOf(c, kind);
		const cache = key ? await caches.default.match(key).catch(() => undefined) : undefined;
		if (cache) return fromCache(c, cache);
		await next();
		if (!key || !storable(c.res)) return;
		const stored = new Response(c.res.clone().body, c.res);
		stored.headers.set(CLIENT_CACHE_CONTROL, c.res.headers.get("cache-control") ?? "");
		// The market is in the key: the entry itself varies on nothing, and keeps the Vary clients are told.
		const vary = c.res.headers.get("vary");
		if (vary) stored.headers.set(CLIENT_VARY, vary);
		stored.headers.delete("vary");
		stored.headers.set("cache-control", `public, max-age=${kind === "media" ? MEDIA_STORED_SECONDS : STORED_SECONDS}`);
		stored.headers.delete("x-catalog-cache");
		stored.headers.delete("x-request-id");
		c.executionCtx.waitUntil(caches.default.put(key, stored).catch(() => {}));
		c.res.headers.set("x-cache", "MISS");
	};
}

/** Puts the edge cache in front of every route of `EDGE_CACHED`, before their handlers and after the request context. */
export function mountEdgeCache(app: OpenAPIHono<AppEnv>): void {
	for (const route of EDGE_CACHED) app.on("GET", route.path, edgeCache(route.kind));
}
