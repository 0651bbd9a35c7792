import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { cachedMarkets, type Market, resolveMarket } from "../../catalog/markets.ts";
import type { AppEnv } from "../types.ts";
import { currencyCode, text } from "./openapi.ts";

/** A market id, as `markets.id` allows it. */
export const MarketId = z
	.string()
	.max(32)
	.regex(/^[a-z][a-z0-9-]{0,31}$/)
	.openapi({ example: "eu" });

export const CountryCode = z
	.string()
	.length(2)
	.regex(/^[A-Za-z]{2}$/)
	.openapi({ example: "DE", description: "ISO 3166-1 alpha-2" });

/** `?market=` and `?country=`, the two explicit ways a request names where it shops. */
export const MarketQuery = z.object({
	market: MarketId.optional().openapi({ description: "The market to price in (GET /v1/markets)" }),
	country: CountryCode.optional().openapi({ description: "Price in the market that sells to this country (when no `market` is given)" }),
});

export const MarketSchema = z
	.object({
		id: MarketId,
		name: text(100),
		currency: currencyCode(),
		tax_included: z.boolean().openapi({ description: "Whether prices include tax (VAT): true in the EU and UK, false in the US" }),
		countries: z.array(CountryCode).max(250),
	})
	.openapi("Market");

/**
 * The country Cloudflare says the request comes from, if it says. Not in
 * development: `wrangler dev` answers every request with a stand-in
 * `request.cf` (it cannot fetch the real one offline) that always says US,
 * which would put every local shopper in the US market.
 */
export function requestCountry(c: Context<AppEnv>): string | undefined {
	if (c.env.APP_ENV === "development") return undefined;
	const country = (c.req.raw.cf as { country?: unknown } | undefined)?.country;
	return typeof country === "string" && /^[A-Z]{2}$/.test(country) ? country : undefined;
}

/** The request's market: `?market=`, else `?country=`, else `saved`, else the request's country, else the default. */
export async function marketOf(
	c: Context<AppEnv>,
	query: { market?: string | undefined; country?: string | undefined },
	saved?: string | null,
): Promise<Market> {
	const markets = await cachedMarkets(c.env, c.executionCtx, c.get("database").read);
	return resolveMarket(markets, { ...query, saved: saved ?? undefined, requestCountry: requestCountry(c) });
}
