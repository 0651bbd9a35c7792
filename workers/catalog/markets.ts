import { asc, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { marketCountries, markets } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import { conversionTerms, convertMinor } from "../domain/money.ts";
import type { WaitUntil } from "../domain/runtime.ts";
import { readThrough } from "./cache.ts";

/**
 * Markets (db/schema.ts `markets`): which one a request shops in, and what a
 * variant costs there.
 *
 * A variant's price in a market, in this order:
 * 1. its row in the market's price list (`market_prices`);
 * 2. its base price, when that is in the market's currency;
 * 3. its base price converted from the market's `convert_from` currency at
 *    `rate_micros`, rounded half up to the market currency's minor unit
 *    (domain/money.ts `convertMinor`; the same rule in SQL, `marketPriceSql`);
 * 4. otherwise the variant is not sold in that market.
 *
 * A price is a shelf price: tax included in an inclusive market (EU, UK),
 * without it in an exclusive one (US). Conversion changes the currency, never
 * the tax treatment: admins set a rate that fits both markets' prices.
 */
export interface Market {
	id: string;
	name: string;
	currency: string;
	taxMode: "inclusive" | "exclusive";
	convertFrom: string | null;
	rateMicros: number | null;
	isDefault: boolean;
	countries: string[];
}

/** Every market, the default first, then by position, with its countries. */
export async function marketList(db: Db): Promise<Market[]> {
	const rows = await db
		.select({
			id: markets.id,
			name: markets.name,
			currency: markets.currency,
			taxMode: markets.taxMode,
			convertFrom: markets.convertFrom,
			rateMicros: markets.rateMicros,
			isDefault: markets.isDefault,
			countries: sql<
				string[]
			>`coalesce((select array_agg(mc.country order by mc.country) from ${marketCountries} mc where mc.market_id = ${markets.id}), '{}')`,
		})
		.from(markets)
		.orderBy(sql`${markets.isDefault} desc`, asc(markets.position), asc(markets.id));
	return rows;
}

const isolateMarkets = new WeakMap<KVNamespace, { body: string; markets: Market[] }>();

/**
 * The markets through the catalog cache (memory, KV, Postgres; every admin
 * write bumps its version), so resolving a request's market costs no query.
 */
export async function cachedMarkets(env: Env, ctx: WaitUntil, db: Db): Promise<Market[]> {
	const entry = await readThrough(env.CATALOG, ctx, "markets", () => marketList(db));
	if (!entry) throw new Error("the markets produced nothing");
	const parsed = isolateMarkets.get(env.CATALOG);
	if (parsed?.body === entry.body) return parsed.markets;
	const list = JSON.parse(entry.body) as Market[];
	isolateMarkets.set(env.CATALOG, { body: entry.body, markets: list });
	return list;
}

/** What a request says about where it shops, strongest first (see `resolveMarket`). */
export interface MarketChoice {
	/** `?market=`: an explicit market id. */
	market?: string | undefined;
	/** `?country=`: a country, whose market is chosen. */
	country?: string | undefined;
	/** The shopper's saved choice (the storefront's cookie, a cart's market). */
	saved?: string | undefined;
	/** The country the request comes from (`request.cf.country`). */
	requestCountry?: string | undefined;
}

export function unknownMarket(id: string): DomainError {
	return new DomainError("unknown_market", {
		detail: `There is no market "${id}". GET /v1/markets lists them.`,
		extensions: { errors: [{ path: "query.market", message: `no market ${id}` }] },
	});
}

/** The market that sells to `country`, if any. */
export function marketOfCountry(list: readonly Market[], country: string): Market | undefined {
	const code = country.toUpperCase();
	return list.find((market) => market.countries.includes(code));
}

/**
 * The market of a request: `?market=` (an unknown id is a 422), else the
 * market of `?country=`, else the saved choice, else the market of the
 * request's country, else the default market. A country no market sells to
 * falls through to the next rule.
 */
export function resolveMarket(list: readonly Market[], choice: MarketChoice): Market {
	if (choice.market !== undefined) {
		const named = list.find((market) => market.id === choice.market);
		if (!named) throw unknownMarket(choice.market);
		return named;
	}
	const byCountry = choice.country ? marketOfCountry(list, choice.country) : undefined;
	if (byCountry) return byCountry;
	const saved = choice.saved ? list.find((market) => market.id === choice.saved) : undefined;
	if (saved) return saved;
	const local = choice.requestCountry ? marketOfCountry(list, choice.requestCountry) : undefined;
	if (local) return local;
	const fallback = list.find((market) => market.isDefault) ?? list[0];
	if (!fallback) throw new Error("no market is configured");
	return fallback;
}

/** A variant's base price and its price-list rows (market id → amount), as `SkuRow` carries them. */
export interface PricedVariant {
	priceMinor: number;
	currency: string;
	prices: Readonly<Record<string, number>>;
}

/** The variant's shelf price in `market` (the rules above), or null when it is not sold there. */
export function priceIn(market: Market, variant: PricedVariant): number | null {
	const listed = variant.prices[market.id];
	if (listed !== undefined) return listed;
	if (variant.currency === market.currency) return variant.priceMinor;
	if (market.convertFrom === variant.currency && market.rateMicros !== null) {
		return convertMinor(variant.priceMinor, variant.currency, market.currency, market.rateMicros);
	}
	return null;
}

/**
 * `priceIn` as SQL, for catalog queries that filter and sort by price: the
 * variant as `v`, the market's price-list row as `mp` (left joined by the
 * caller on `mp.variant_id = v.id and mp.market_id = <market>`). Null when
 * the variant is not sold in the market. The conversion multiplies by the
 * rate and the power of ten between the currencies' minor units as exact
 * numerics, and Postgres's round() of a non-negative numeric is half up, as
 * `convertMinor` is.
 */
export function marketPriceSql(market: Market) {
	const conversion = market.convertFrom && market.rateMicros !== null ? conversionFactor(market) : null;
	return sql`coalesce(mp.amount_minor, case
		when v.currency = ${market.currency} then v.price_minor
		${conversion ? sql`when v.currency = ${market.convertFrom} then round(v.price_minor::numeric * ${conversion.multiply}::numeric / ${conversion.divide}::numeric)::bigint` : sql``}
	end)`;
}

function conversionFactor(market: Market): { multiply: string; divide: string } {
	const from = market.convertFrom as string;
	const { multiply, divide } = conversionTerms(from, market.currency, market.rateMicros as number);
	return { multiply: multiply.toString(), divide: divide.toString() };
}

/** A market's price list joined for `marketPriceSql`. */
export function marketPriceJoin(market: Market) {
	return sql`left join market_prices mp on mp.variant_id = v.id and mp.market_id = ${market.id}`;
}

/** The market's public face: what every price object of it is in. */
export function marketView(market: Market) {
	return {
		id: market.id,
		name: market.name,
		currency: market.currency,
		tax_included: market.taxMode === "inclusive",
		countries: market.countries,
	};
}

export type MarketView = ReturnType<typeof marketView>;

/** A market by id, from the primary: checkout re-prices in the cart's market as it is now. */
export async function marketById(db: Db, id: string): Promise<Market | undefined> {
	const list = await marketList(db);
	return list.find((market) => market.id === id) ?? undefined;
}

/** The default market, from the primary. */
export async function defaultMarket(db: Db): Promise<Market> {
	const list = await marketList(db);
	const found = list.find((market) => market.isDefault) ?? list[0];
	if (!found) throw new Error("no market is configured");
	return found;
}
