import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { marketOf } from "../api/lib/market.ts";
import type { AppEnv } from "../api/types.ts";
import { cachedMarkets, type Market } from "../catalog/markets.ts";

/** The shopper's saved market: a first-party cookie the market picker (`?market=`) sets. */
const MARKET_COOKIE = "market";
const MARKET_ID = /^[a-z][a-z0-9-]{0,31}$/;
const COUNTRY = /^[A-Za-z]{2}$/;
const YEAR_SECONDS = 365 * 24 * 3600;

/**
 * The market a page prices in: `?market=` (which the shopper picked, saved
 * in a cookie for the next pages), else `?country=`, else the saved choice,
 * else the request's country, else the default. An unknown or malformed
 * `?market=` is ignored rather than failing the page.
 */
export async function pageMarket(c: Context<AppEnv>): Promise<Market> {
	return (await marketPicker(c)).market;
}

/** What the header's market picker shows: the page's market and the others. */
export interface MarketPicker {
	market: Market;
	all: readonly Market[];
	/** True when the shopper picked it (now, or saved in the cookie), rather than it being inferred. */
	chosen: boolean;
}

/** The page's market (`pageMarket`) with every market, for the header's picker. */
export async function marketPicker(c: Context<AppEnv>): Promise<MarketPicker> {
	const markets = await cachedMarkets(c.env, c.executionCtx, c.get("database").read);
	const asked = c.req.query("market");
	const picked = asked && MARKET_ID.test(asked) && markets.some((m) => m.id === asked) ? asked : undefined;
	const country = c.req.query("country");
	const saved = getCookie(c, MARKET_COOKIE);
	if (picked && picked !== saved) {
		const secure = new URL(c.req.url).protocol === "https:";
		setCookie(c, MARKET_COOKIE, picked, { httpOnly: true, secure, sameSite: "Lax", path: "/", maxAge: YEAR_SECONDS });
	}
	// A cache in front of a page keyed only on its address would show one market's prices to another's shoppers.
	c.header("vary", "Cookie", { append: true });
	const market = await marketOf(
		c,
		{ market: picked, country: country && COUNTRY.test(country) ? country : undefined },
		picked ?? (saved && MARKET_ID.test(saved) ? saved : undefined),
	);
	const chosen = market.id === (picked ?? saved);
	return { market, all: markets, chosen };
}
