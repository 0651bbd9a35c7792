import { and, asc, desc, eq, inArray, ne, sql } from "drizzle-orm";
import type { AdminActor } from "../catalog/admin.ts";
import { recordAudit } from "../catalog/audit.ts";
import { bumpCatalogVersion } from "../catalog/cache.ts";
import type { Db, Executor, Tx } from "../db/client.ts";
import { isUniqueViolation } from "../db/client.ts";
import { marketCountries, marketPrices, markets, orders, shippingZones } from "../db/schema.ts";
import { DomainError, notFound } from "../domain/errors.ts";
import type { AdminMarket, CreateMarketInput, PatchMarketInput } from "./admin.schemas.ts";

/**
 * Markets for admins: the one implementation behind `/v1/admin/markets` and
 * the console's market pages. Every write runs in one transaction with its
 * audit entry, then bumps the catalog version: cached catalog reads (and the
 * cached market list checkout resolves countries with) are then rebuilt.
 *
 * Market writes first lock every market row, in id order: they are few, and
 * the rules span markets (one default, a country in at most one market), so
 * two admins' writes take turns instead of racing past each other's checks.
 * The unique indexes still back both rules.
 */

export type { AdminMarket };

const marketColumns = {
	id: markets.id,
	name: markets.name,
	currency: markets.currency,
	taxMode: markets.taxMode,
	convertFrom: markets.convertFrom,
	rateMicros: markets.rateMicros,
	isDefault: markets.isDefault,
	position: markets.position,
	createdAt: markets.createdAt,
	updatedAt: markets.updatedAt,
	// Spelled out: inside a select list drizzle leaves columns unqualified, and a bare "id" would name the subquery's own table.
	countries: sql<
		string[]
	>`coalesce((select array_agg(mc.country::text order by mc.country) from market_countries mc where mc.market_id = "markets"."id"), '{}'::text[])`,
	zoneCount: sql<number>`(select count(*)::int from shipping_zones z where z.market_id = "markets"."id")`,
};

type MarketRow = {
	id: string;
	name: string;
	currency: string;
	taxMode: "inclusive" | "exclusive";
	convertFrom: string | null;
	rateMicros: number | null;
	isDefault: boolean;
	position: number;
	createdAt: Date;
	updatedAt: Date;
	countries: string[];
	zoneCount: number;
};

function marketJson(row: MarketRow): AdminMarket {
	return {
		id: row.id,
		name: row.name,
		currency: row.currency,
		tax_mode: row.taxMode,
		convert_from: row.convertFrom,
		rate_micros: row.rateMicros === null ? null : Number(row.rateMicros),
		is_default: row.isDefault,
		position: row.position,
		countries: row.countries,
		zone_count: Number(row.zoneCount),
		created_at: new Date(row.createdAt).toISOString(),
		updated_at: new Date(row.updatedAt).toISOString(),
	};
}

export const marketNotFound = (id: string) => notFound(`No market with id ${id}.`);

/** Every market: the default first, then by position and id. */
export async function listAdminMarkets(db: Executor): Promise<AdminMarket[]> {
	const rows = await db.select(marketColumns).from(markets).orderBy(desc(markets.isDefault), asc(markets.position), asc(markets.id));
	return rows.map(marketJson);
}

/** One market with its countries and zone count, or undefined. */
export async function readMarket(db: Executor, id: string): Promise<AdminMarket | undefined> {
	const [row] = await db.select(marketColumns).from(markets).where(eq(markets.id, id));
	return row ? marketJson(row) : undefined;
}

/** Takes every market row's lock, in id order (see the module comment). */
async function lockMarkets(tx: Tx): Promise<void> {
	await tx.select({ id: markets.id }).from(markets).orderBy(asc(markets.id)).for("update");
}

const countryTaken = (owners: { country: string; marketId: string }[]) =>
	new DomainError("country_taken", {
		detail: `${owners.map((owner) => `${owner.country} belongs to market ${owner.marketId}`).join("; ")}. A country belongs to one market: remove it there first.`,
		extensions: { countries: owners.map((owner) => ({ country: owner.country, market_id: owner.marketId })) },
	});

/** The countries among `countries` that a market other than `marketId` sells to. */
async function countriesOfOtherMarkets(tx: Tx, countries: string[], marketId: string): Promise<{ country: string; marketId: string }[]> {
	if (countries.length === 0) return [];
	const rows = await tx
		.select({ country: marketCountries.country, marketId: marketCountries.marketId })
		.from(marketCountries)
		.where(and(inArray(marketCountries.country, countries), ne(marketCountries.marketId, marketId)))
		.orderBy(asc(marketCountries.country));
	return rows;
}

/** The constraint a Postgres error names, along its cause chain (drizzle wraps the driver's error). */
export function constraintOf(err: unknown): string | undefined {
	for (let current = err, depth = 0; current && typeof current === "object" && depth < 5; depth++) {
		const value = (current as { constraint?: unknown }).constraint;
		if (typeof value === "string") return value;
		current = (current as { cause?: unknown }).cause;
	}
	return undefined;
}

/** A concurrent writer slipped past the checks: the unique indexes answer instead. */
async function mapMarketConflicts<T>(write: Promise<T>, id: string): Promise<T> {
	try {
		return await write;
	} catch (err) {
		if (!isUniqueViolation(err)) throw err;
		const constraint = constraintOf(err);
		if (constraint === "market_countries_pkey") {
			throw new DomainError("country_taken", { detail: "A country in the request belongs to another market." });
		}
		if (constraint === "markets_pkey") throw marketIdTaken(id);
		throw err;
	}
}

const marketIdTaken = (id: string) => new DomainError("market_id_taken", { detail: `There is already a market with id ${id}.` });

/** Makes `id` the only default market (the partial unique index allows one, so the old flag goes first). */
async function makeDefault(tx: Tx, id: string): Promise<void> {
	await tx
		.update(markets)
		.set({ isDefault: false, updatedAt: sql`now()` })
		.where(and(eq(markets.isDefault, true), ne(markets.id, id)));
	await tx.update(markets).set({ isDefault: true, updatedAt: sql`now()` }).where(eq(markets.id, id));
}

/** Creates a market with its countries, audited; `is_default` takes the flag from the previous default. */
export async function createMarket(env: Env, db: Db, body: CreateMarketInput, actor: AdminActor): Promise<AdminMarket> {
	const created = await mapMarketConflicts(
		db.transaction(async (tx) => {
			await lockMarkets(tx);
			if (await readMarket(tx, body.id)) throw marketIdTaken(body.id);
			const countries = body.countries ?? [];
			const taken = await countriesOfOtherMarkets(tx, countries, body.id);
			if (taken.length > 0) throw countryTaken(taken);
			const [last] = await tx.select({ position: sql<number>`coalesce(max(${markets.position}), -1)::int` }).from(markets);
			await tx.insert(markets).values({
				id: body.id,
				name: body.name,
				currency: body.currency,
				taxMode: body.tax_mode,
				convertFrom: body.convert_from ?? null,
				rateMicros: body.rate_micros ?? null,
				isDefault: false,
				position: body.position ?? Number(last?.position ?? -1) + 1,
			});
			if (countries.length > 0) await tx.insert(marketCountries).values(countries.map((country) => ({ country, marketId: body.id })));
			if (body.is_default) await makeDefault(tx, body.id);
			const market = await readMarket(tx, body.id);
			if (!market) throw new Error("created market not readable in its own transaction");
			await recordAudit(tx, {
				actorId: actor.userId,
				action: "market.create",
				entityType: "market",
				entityId: body.id,
				before: null,
				after: market,
				requestId: actor.requestId,
			});
			return market;
		}),
		body.id,
	);
	await bumpCatalogVersion(env.CATALOG);
	return created;
}

/** The countries of `removed` that a zone of the market still ships to, with the zones. */
async function countriesInZones(tx: Tx, marketId: string, removed: string[]): Promise<{ country: string; zone: string }[]> {
	if (removed.length === 0) return [];
	const zones = await tx
		.select({ id: shippingZones.id, name: shippingZones.name, countries: shippingZones.countries })
		.from(shippingZones)
		.where(eq(shippingZones.marketId, marketId))
		.orderBy(asc(shippingZones.id));
	return zones.flatMap((zone) =>
		zone.countries.filter((country) => removed.includes(country)).map((country) => ({ country, zone: `${zone.name} (${zone.id})` })),
	);
}

/**
 * Changes a market, audited. Countries are replaced as a whole; one of
 * another market is refused (409 `country_taken`, naming the market) rather
 * than moved, because moving it would silently change where that market's
 * zones ship. `is_default: true` unsets the previous default in the same
 * transaction, so exactly one market is the default at every commit.
 */
export async function updateMarket(env: Env, db: Db, id: string, body: PatchMarketInput, actor: AdminActor): Promise<AdminMarket> {
	const updated = await mapMarketConflicts(
		db.transaction(async (tx) => {
			await lockMarkets(tx);
			const before = await readMarket(tx, id);
			if (!before) throw marketNotFound(id);
			const currency = body.currency ?? before.currency;
			const convertFrom = body.convert_from !== undefined ? body.convert_from : before.convert_from;
			if (convertFrom !== null && convertFrom === currency) {
				throw new DomainError("validation_failed", {
					detail: "The request body is invalid.",
					extensions: {
						errors: [{ path: "body.convert_from", message: `The market's currency is ${currency}: it cannot convert from it.` }],
					},
				});
			}
			if (currency !== before.currency) {
				const [listed] = await tx.select({ count: sql<number>`count(*)::int` }).from(marketPrices).where(eq(marketPrices.marketId, id));
				if (Number(listed?.count ?? 0) > 0) {
					throw new DomainError("market_currency_locked", {
						detail: `Market ${id} has ${listed?.count} list prices in ${before.currency}; delete them before changing its currency.`,
						extensions: { list_prices: Number(listed?.count) },
					});
				}
			}
			if (body.is_default === false && before.is_default) {
				throw new DomainError("default_market", {
					detail: `Market ${id} is the default market; make another market the default instead.`,
				});
			}
			if (body.countries) {
				const taken = await countriesOfOtherMarkets(tx, body.countries, id);
				if (taken.length > 0) throw countryTaken(taken);
				const next = new Set(body.countries);
				const removed = before.countries.filter((country) => !next.has(country));
				const inZones = await countriesInZones(tx, id, removed);
				if (inZones.length > 0) {
					throw new DomainError("country_in_zone", {
						detail: `Still shipped to: ${inZones.map((entry) => `${entry.country} by zone ${entry.zone}`).join("; ")}. Remove it from the zone first.`,
						extensions: { countries: [...new Set(inZones.map((entry) => entry.country))] },
					});
				}
				if (removed.length > 0) {
					await tx.delete(marketCountries).where(and(eq(marketCountries.marketId, id), inArray(marketCountries.country, removed)));
				}
				const added = body.countries.filter((country) => !before.countries.includes(country));
				if (added.length > 0) await tx.insert(marketCountries).values(added.map((country) => ({ country, marketId: id })));
			}
			await tx
				.update(markets)
				.set({
					...(body.name !== undefined ? { name: body.name } : {}),
					...(body.currency !== undefined ? { currency: body.currency } : {}),
					...(body.tax_mode !== undefined ? { taxMode: body.tax_mode } : {}),
					...(body.convert_from !== undefined ? { convertFrom: body.convert_from, rateMicros: body.rate_micros ?? null } : {}),
					...(body.position !== undefined ? { position: body.position } : {}),
					updatedAt: sql`now()`,
				})
				.where(eq(markets.id, id));
			if (body.is_default && !before.is_default) await makeDefault(tx, id);
			const after = await readMarket(tx, id);
			if (!after) throw new Error("updated market not readable in its own transaction");
			await recordAudit(tx, {
				actorId: actor.userId,
				action: "market.update",
				entityType: "market",
				entityId: id,
				before,
				after,
				requestId: actor.requestId,
			});
			return after;
		}),
		id,
	);
	await bumpCatalogVersion(env.CATALOG);
	return updated;
}

/**
 * Deletes a market with its countries, price list and shipping zones,
 * audited. The default market is refused (another must be made the default
 * first), and so is a market orders were placed in: their `market_id` must
 * keep naming what they were priced in.
 */
export async function deleteMarket(env: Env, db: Db, id: string, actor: AdminActor): Promise<void> {
	await db.transaction(async (tx) => {
		await lockMarkets(tx);
		const before = await readMarket(tx, id);
		if (!before) throw marketNotFound(id);
		if (before.is_default) {
			throw new DomainError("default_market", { detail: `Market ${id} is the default market; make another market the default first.` });
		}
		const [placed] = await tx.select({ count: sql<number>`count(*)::int` }).from(orders).where(eq(orders.marketId, id));
		const count = Number(placed?.count ?? 0);
		if (count > 0) {
			throw new DomainError("market_in_use", {
				detail: `${count} ${count === 1 ? "order was" : "orders were"} placed in market ${id}; it cannot be deleted.`,
				extensions: { orders: count },
			});
		}
		await tx.delete(markets).where(eq(markets.id, id));
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "market.delete",
			entityType: "market",
			entityId: id,
			before,
			after: null,
			requestId: actor.requestId,
		});
	});
	await bumpCatalogVersion(env.CATALOG);
}
