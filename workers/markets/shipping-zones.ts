import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import type { AdminActor } from "../catalog/admin.ts";
import { recordAudit } from "../catalog/audit.ts";
import { bumpCatalogVersion } from "../catalog/cache.ts";
import type { Db, Executor, Tx } from "../db/client.ts";
import { marketCountries, markets, type ShippingRate, shippingMethods, shippingZones } from "../db/schema.ts";
import { DomainError, fieldErrors, notFound } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";
import { ShippingRateSchema } from "../orders/shipping-rate.ts";
import type {
	CreateMethodInput,
	CreateZoneInput,
	PatchMethodInput,
	PatchZoneInput,
	ShippingMethod,
	ShippingZone,
} from "./admin.schemas.ts";

/**
 * Shipping zones and their methods for admins. A zone belongs to a market
 * and ships to some of that market's countries (zones may overlap: a
 * country-wide zone and a city's pickup zone); a method prices a parcel by
 * its rate (orders/shipping-rate.ts checks it) in the market's currency.
 * Every write is audited in its transaction and bumps the catalog version.
 *
 * Locks are taken in one order, market, zone, method, as deleting a market
 * (which cascades to its zones and methods) takes them: zone and method
 * writes first take a share lock on their market's row, which market writes
 * lock for update, so a zone can never name a country its market is dropping
 * at the same moment, and no two writes wait for each other in a circle.
 */

type MethodRow = typeof shippingMethods.$inferSelect;
type ZoneRow = typeof shippingZones.$inferSelect;

function methodJson(row: MethodRow): ShippingMethod {
	return {
		id: row.id,
		zone_id: row.zoneId,
		kind: row.kind,
		name: row.name,
		rate: row.rate,
		free_from_minor: row.freeFromMinor === null ? null : Number(row.freeFromMinor),
		tax_class: row.taxClass,
		active: row.active,
		position: row.position,
		created_at: new Date(row.createdAt).toISOString(),
		updated_at: new Date(row.updatedAt).toISOString(),
	};
}

function zoneJson(row: ZoneRow, methods: ShippingMethod[]): ShippingZone {
	return {
		id: row.id,
		market_id: row.marketId,
		name: row.name,
		countries: row.countries,
		methods,
		created_at: new Date(row.createdAt).toISOString(),
		updated_at: new Date(row.updatedAt).toISOString(),
	};
}

const zoneNotFound = (id: string) => notFound(`No shipping zone with id ${id}.`);
const methodNotFound = (id: string) => notFound(`No shipping method with id ${id}.`);

async function methodsOf(db: Executor, zoneIds: string[]): Promise<Map<string, ShippingMethod[]>> {
	const grouped = new Map<string, ShippingMethod[]>(zoneIds.map((id) => [id, []]));
	if (zoneIds.length === 0) return grouped;
	const rows = await db
		.select()
		.from(shippingMethods)
		.where(inArray(shippingMethods.zoneId, zoneIds))
		.orderBy(asc(shippingMethods.position), asc(shippingMethods.name), asc(shippingMethods.id));
	for (const row of rows) grouped.get(row.zoneId)?.push(methodJson(row));
	return grouped;
}

/** Every zone with its methods, or one market's: by market (the default first), then zone name. */
export async function listShippingZones(db: Executor, query: { market?: string | undefined } = {}): Promise<ShippingZone[]> {
	const rows = await db
		.select({ zone: shippingZones })
		.from(shippingZones)
		.innerJoin(markets, eq(markets.id, shippingZones.marketId))
		.where(query.market ? eq(shippingZones.marketId, query.market) : undefined)
		.orderBy(desc(markets.isDefault), asc(markets.position), asc(markets.id), asc(shippingZones.name), asc(shippingZones.id));
	const grouped = await methodsOf(
		db,
		rows.map((row) => row.zone.id),
	);
	return rows.map((row) => zoneJson(row.zone, grouped.get(row.zone.id) ?? []));
}

/** One zone with its methods; `lock` takes its row lock. */
export async function readZone(db: Executor, id: string, options: { lock?: boolean } = {}): Promise<ShippingZone | undefined> {
	const query = db.select().from(shippingZones).where(eq(shippingZones.id, id));
	const [row] = options.lock ? await query.for("update") : await query;
	if (!row) return undefined;
	return zoneJson(row, (await methodsOf(db, [id])).get(id) ?? []);
}

/** Takes the market row's share lock; false when there is no such market. */
async function lockMarket(tx: Tx, marketId: string): Promise<boolean> {
	const [market] = await tx.select({ id: markets.id }).from(markets).where(eq(markets.id, marketId)).for("share");
	return market !== undefined;
}

/** The market of a zone, its share lock taken (see the module comment); undefined when there is no such zone. */
async function lockMarketOfZone(tx: Tx, zoneId: string): Promise<string | undefined> {
	const [zone] = await tx.select({ marketId: shippingZones.marketId }).from(shippingZones).where(eq(shippingZones.id, zoneId));
	if (!zone) return undefined;
	await lockMarket(tx, zone.marketId);
	return zone.marketId;
}

/** The same for a method's zone's market. */
async function lockMarketOfMethod(tx: Tx, methodId: string): Promise<string | undefined> {
	const [method] = await tx
		.select({ marketId: shippingZones.marketId })
		.from(shippingMethods)
		.innerJoin(shippingZones, eq(shippingZones.id, shippingMethods.zoneId))
		.where(eq(shippingMethods.id, methodId));
	if (!method) return undefined;
	await lockMarket(tx, method.marketId);
	return method.marketId;
}

/** Refuses countries the market does not sell to, naming them; takes the market row's share lock first. */
async function assertCountriesOfMarket(tx: Tx, marketId: string, countries: string[]): Promise<void> {
	if (!(await lockMarket(tx, marketId))) {
		throw new DomainError("unknown_market", {
			detail: `There is no market "${marketId}".`,
			extensions: { errors: [{ path: "body.market_id", message: `no market ${marketId}` }] },
		});
	}
	const owned = await tx
		.select({ country: marketCountries.country })
		.from(marketCountries)
		.where(and(eq(marketCountries.marketId, marketId), inArray(marketCountries.country, countries)));
	const ownedSet = new Set(owned.map((row) => row.country));
	const outside = countries.filter((country) => !ownedSet.has(country));
	if (outside.length > 0) {
		throw new DomainError("zone_country_not_in_market", {
			detail: `Market ${marketId} does not sell to ${outside.join(", ")}; add ${outside.length === 1 ? "it" : "them"} to the market first.`,
			extensions: { countries: outside },
		});
	}
}

/** Creates a zone of a market, audited. */
export async function createZone(env: Env, db: Db, body: CreateZoneInput, actor: AdminActor): Promise<ShippingZone> {
	const id = newId("shz");
	const created = await db.transaction(async (tx) => {
		await assertCountriesOfMarket(tx, body.market_id, body.countries);
		await tx.insert(shippingZones).values({ id, marketId: body.market_id, name: body.name, countries: body.countries });
		const zone = await readZone(tx, id);
		if (!zone) throw new Error("created zone not readable in its own transaction");
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "shipping_zone.create",
			entityType: "shipping_zone",
			entityId: id,
			before: null,
			after: zone,
			requestId: actor.requestId,
		});
		return zone;
	});
	await bumpCatalogVersion(env.CATALOG);
	return created;
}

/** Renames a zone or replaces its countries (all of its market's), audited. */
export async function updateZone(env: Env, db: Db, id: string, body: PatchZoneInput, actor: AdminActor): Promise<ShippingZone> {
	const updated = await db.transaction(async (tx) => {
		const marketId = await lockMarketOfZone(tx, id);
		const before = marketId === undefined ? undefined : await readZone(tx, id, { lock: true });
		if (!before) throw zoneNotFound(id);
		if (body.countries) await assertCountriesOfMarket(tx, before.market_id, body.countries);
		await tx
			.update(shippingZones)
			.set({
				...(body.name !== undefined ? { name: body.name } : {}),
				...(body.countries !== undefined ? { countries: body.countries } : {}),
				updatedAt: sql`now()`,
			})
			.where(eq(shippingZones.id, id));
		const after = await readZone(tx, id);
		if (!after) throw new Error("updated zone not readable in its own transaction");
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "shipping_zone.update",
			entityType: "shipping_zone",
			entityId: id,
			before,
			after,
			requestId: actor.requestId,
		});
		return after;
	});
	await bumpCatalogVersion(env.CATALOG);
	return updated;
}

/** Deletes a zone with its methods (orders keep their own copy of the method they used), audited. */
export async function deleteZone(env: Env, db: Db, id: string, actor: AdminActor): Promise<void> {
	await db.transaction(async (tx) => {
		const marketId = await lockMarketOfZone(tx, id);
		const before = marketId === undefined ? undefined : await readZone(tx, id, { lock: true });
		if (!before) throw zoneNotFound(id);
		await tx.delete(shippingZones).where(eq(shippingZones.id, id));
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "shipping_zone.delete",
			entityType: "shipping_zone",
			entityId: id,
			before,
			after: null,
			requestId: actor.requestId,
		});
	});
	await bumpCatalogVersion(env.CATALOG);
}

/**
 * A rate as checkout will read it, or a 422 `invalid_shipping_rate` listing
 * what breaks orders/shipping-rate.ts's rules (tiers out of order, a field
 * its type needs).
 */
export function checkShippingRate(rate: unknown): ShippingRate {
	const parsed = ShippingRateSchema.safeParse(rate);
	if (parsed.success) return parsed.data;
	const errors = fieldErrors(parsed.error.issues, "body.rate");
	throw new DomainError("invalid_shipping_rate", {
		detail: `The shipping rate is invalid: ${errors.map((error) => `${error.path}: ${error.message}`).join("; ")}.`,
		extensions: { errors },
	});
}

/** One method; `lock` takes its row lock. */
export async function readMethod(db: Executor, id: string, options: { lock?: boolean } = {}): Promise<ShippingMethod | undefined> {
	const query = db.select().from(shippingMethods).where(eq(shippingMethods.id, id));
	const [row] = options.lock ? await query.for("update") : await query;
	return row ? methodJson(row) : undefined;
}

/** Adds a method to a zone (after its last unless `position` says otherwise), audited. */
export async function createMethod(env: Env, db: Db, zoneId: string, body: CreateMethodInput, actor: AdminActor): Promise<ShippingMethod> {
	const id = newId("shm");
	const created = await db.transaction(async (tx) => {
		const marketId = await lockMarketOfZone(tx, zoneId);
		const [zone] =
			marketId === undefined
				? []
				: await tx.select({ id: shippingZones.id }).from(shippingZones).where(eq(shippingZones.id, zoneId)).for("update");
		if (!zone) throw zoneNotFound(zoneId);
		const rate = checkShippingRate(body.rate);
		const [last] = await tx
			.select({ position: sql<number>`coalesce(max(${shippingMethods.position}), -1)::int` })
			.from(shippingMethods)
			.where(eq(shippingMethods.zoneId, zoneId));
		await tx.insert(shippingMethods).values({
			id,
			zoneId,
			kind: body.kind,
			name: body.name,
			rate,
			freeFromMinor: body.free_from_minor ?? null,
			taxClass: body.tax_class ?? "standard",
			active: body.active ?? true,
			position: body.position ?? Number(last?.position ?? -1) + 1,
		});
		const method = await readMethod(tx, id);
		if (!method) throw new Error("created method not readable in its own transaction");
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "shipping_method.create",
			entityType: "shipping_method",
			entityId: id,
			before: null,
			after: method,
			requestId: actor.requestId,
		});
		return method;
	});
	await bumpCatalogVersion(env.CATALOG);
	return created;
}

/** Changes a method; `rate` is replaced as a whole. Audited. */
export async function updateMethod(env: Env, db: Db, id: string, body: PatchMethodInput, actor: AdminActor): Promise<ShippingMethod> {
	const updated = await db.transaction(async (tx) => {
		const marketId = await lockMarketOfMethod(tx, id);
		const before = marketId === undefined ? undefined : await readMethod(tx, id, { lock: true });
		if (!before) throw methodNotFound(id);
		const rate = body.rate !== undefined ? checkShippingRate(body.rate) : undefined;
		await tx
			.update(shippingMethods)
			.set({
				...(body.kind !== undefined ? { kind: body.kind } : {}),
				...(body.name !== undefined ? { name: body.name } : {}),
				...(rate !== undefined ? { rate } : {}),
				...(body.free_from_minor !== undefined ? { freeFromMinor: body.free_from_minor } : {}),
				...(body.tax_class !== undefined ? { taxClass: body.tax_class } : {}),
				...(body.active !== undefined ? { active: body.active } : {}),
				...(body.position !== undefined ? { position: body.position } : {}),
				updatedAt: sql`now()`,
			})
			.where(eq(shippingMethods.id, id));
		const after = await readMethod(tx, id);
		if (!after) throw new Error("updated method not readable in its own transaction");
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "shipping_method.update",
			entityType: "shipping_method",
			entityId: id,
			before,
			after,
			requestId: actor.requestId,
		});
		return after;
	});
	await bumpCatalogVersion(env.CATALOG);
	return updated;
}

/** Deletes a method (orders keep their own copy of it), audited. */
export async function deleteMethod(env: Env, db: Db, id: string, actor: AdminActor): Promise<void> {
	await db.transaction(async (tx) => {
		const marketId = await lockMarketOfMethod(tx, id);
		const before = marketId === undefined ? undefined : await readMethod(tx, id, { lock: true });
		if (!before) throw methodNotFound(id);
		await tx.delete(shippingMethods).where(eq(shippingMethods.id, id));
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "shipping_method.delete",
			entityType: "shipping_method",
			entityId: id,
			before,
			after: null,
			requestId: actor.requestId,
		});
	});
	await bumpCatalogVersion(env.CATALOG);
}
