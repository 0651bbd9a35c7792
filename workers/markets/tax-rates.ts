import { and, asc, eq, or, type SQL, sql } from "drizzle-orm";
import type { AdminActor } from "../catalog/admin.ts";
import { recordAudit } from "../catalog/audit.ts";
import { bumpCatalogVersion } from "../catalog/cache.ts";
import type { Db, Executor } from "../db/client.ts";
import { taxRates } from "../db/schema.ts";
import { notFound } from "../domain/errors.ts";
import type { PutTaxRatesInput, TaxClass, TaxRate } from "./admin.schemas.ts";

/**
 * Tax rates for admins: per country, optionally per region ('' is the whole
 * country; a region's row wins over it) and tax class, in basis points.
 * Writes are audited and bump the catalog version, like every admin write.
 */

type TaxRateRow = typeof taxRates.$inferSelect;

function taxRateJson(row: TaxRateRow): TaxRate {
	return {
		country: row.country,
		region: row.region,
		tax_class: row.taxClass,
		rate_bp: row.rateBp,
		updated_at: new Date(row.updatedAt).toISOString(),
	};
}

const ORDER = [asc(taxRates.country), asc(taxRates.region), asc(taxRates.taxClass)];

/** Every rate, or one country's, by country, region ('' first) and class (standard, reduced, zero). */
export async function listTaxRates(db: Executor, query: { country?: string | undefined } = {}): Promise<TaxRate[]> {
	const rows = await db
		.select()
		.from(taxRates)
		.where(query.country ? eq(taxRates.country, query.country) : undefined)
		.orderBy(...ORDER);
	return rows.map(taxRateJson);
}

interface TaxRateKey {
	country: string;
	region: string;
	taxClass: TaxClass;
}

const keyMatch = (keys: TaxRateKey[]): SQL | undefined =>
	or(...keys.map((key) => and(eq(taxRates.country, key.country), eq(taxRates.region, key.region), eq(taxRates.taxClass, key.taxClass))));

/** The audit entry's id for rates of these countries: the countries, comma-separated. */
const entityOf = (countries: string[]) => [...new Set(countries)].sort().join(",");

/** Upserts rates by (country, region, class) in one statement, audited with the rows before (those that existed) and after. */
export async function upsertTaxRates(env: Env, db: Db, body: PutTaxRatesInput, actor: AdminActor): Promise<TaxRate[]> {
	const keys: TaxRateKey[] = body.rates.map((rate) => ({ country: rate.country, region: rate.region ?? "", taxClass: rate.tax_class }));
	const written = await db.transaction(async (tx) => {
		const before = await tx
			.select()
			.from(taxRates)
			.where(keyMatch(keys))
			.orderBy(...ORDER)
			.for("update");
		await tx
			.insert(taxRates)
			.values(
				body.rates.map((rate) => ({ country: rate.country, region: rate.region ?? "", taxClass: rate.tax_class, rateBp: rate.rate_bp })),
			)
			.onConflictDoUpdate({
				target: [taxRates.country, taxRates.region, taxRates.taxClass],
				set: { rateBp: sql`excluded.rate_bp`, updatedAt: sql`now()` },
			});
		const after = (
			await tx
				.select()
				.from(taxRates)
				.where(keyMatch(keys))
				.orderBy(...ORDER)
		).map(taxRateJson);
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "tax_rates.upsert",
			entityType: "tax_rates",
			entityId: entityOf(keys.map((key) => key.country)),
			before: before.map(taxRateJson),
			after,
			requestId: actor.requestId,
		});
		return after;
	});
	await bumpCatalogVersion(env.CATALOG);
	return written;
}

/** Deletes one rate (the country then charges no tax in that class, or its country-wide rate for a region), audited. */
export async function deleteTaxRate(
	env: Env,
	db: Db,
	key: { country: string; region: string; taxClass: TaxClass },
	actor: AdminActor,
): Promise<void> {
	await db.transaction(async (tx) => {
		const [removed] = await tx
			.delete(taxRates)
			.where(keyMatch([key]))
			.returning();
		if (!removed) {
			throw notFound(`No ${key.taxClass} rate for ${key.country}${key.region ? `-${key.region}` : ""}.`);
		}
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "tax_rate.delete",
			entityType: "tax_rates",
			entityId: key.country,
			before: [taxRateJson(removed)],
			after: [],
			requestId: actor.requestId,
		});
	});
	await bumpCatalogVersion(env.CATALOG);
}
