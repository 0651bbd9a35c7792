import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditLog, markets, orders } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { deleteMarket, listAdminMarkets, updateMarket } from "../workers/markets/admin.ts";
import { authed, env, makeAdmin, registerShopper, type Session } from "./accounts-helpers.ts";
import { call, problemOf, withDb } from "./helpers.ts";
import { newSku } from "./orders-helpers.ts";

/**
 * The markets, price lists, tax rates and shipping admin API. The database is
 * shared with every other test file, so each test makes markets of its own
 * (`t-…` ids) that sell to ISO 3166's user-assigned codes (XA–XZ), which no
 * real address and no other test uses; the seeded markets are only read,
 * except where the default flag moves, inside a transaction that is rolled back.
 */

interface Market {
	id: string;
	name: string;
	currency: string;
	tax_mode: string;
	convert_from: string | null;
	rate_micros: number | null;
	is_default: boolean;
	position: number;
	countries: string[];
	zone_count: number;
	created_at: string;
	updated_at: string;
}

interface PriceRow {
	sku: string;
	variant_id: string;
	product_id: string;
	product_title: string;
	variant_title: string;
	base_price_minor: number;
	base_currency: string;
	list_price_minor: number | null;
	price_minor: number | null;
	currency: string;
}

interface Method {
	id: string;
	zone_id: string;
	kind: string;
	name: string;
	rate: unknown;
	free_from_minor: number | null;
	tax_class: string;
	active: boolean;
	position: number;
	created_at: string;
	updated_at: string;
}

interface Zone {
	id: string;
	market_id: string;
	name: string;
	countries: string[];
	methods: Method[];
	created_at: string;
	updated_at: string;
}

const tag = () => crypto.randomUUID().slice(0, 8);

/** User-assigned country codes, handed out one at a time so no two tests of this file share one. */
const spareCountries = "ABCDEFGHIJKLMNOPQRSTUVWXYZ".split("").map((letter) => `X${letter}`);
function countries(n: number): string[] {
	const taken = spareCountries.splice(0, n);
	if (taken.length < n) throw new Error("out of spare country codes");
	return taken;
}

let admin: Session;
let customer: Session;

beforeAll(async () => {
	admin = await makeAdmin(await registerShopper());
	customer = await registerShopper();
});

const send = (method: string, path: string, body?: unknown, token = admin.access_token) =>
	call(path, authed(token, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));

async function json<T>(res: Response, status: number): Promise<T> {
	if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${await res.text()}`);
	return (await res.json()) as T;
}

async function expectProblem(res: Response, status: number, code: string) {
	expect(res.status).toBe(status);
	const problem = await problemOf(res);
	expect(problem.code).toBe(code);
	return problem;
}

async function auditRows(entityType: string, entityId: string) {
	return withDb((db) =>
		db.primary
			.select()
			.from(auditLog)
			.where(and(eq(auditLog.entityType, entityType), eq(auditLog.entityId, entityId)))
			.orderBy(asc(auditLog.id)),
	);
}

const catalogVersion = () => env.CATALOG.get("catalog:version");

async function createMarket(overrides: Record<string, unknown> = {}): Promise<Market> {
	return json<Market>(
		await send("POST", "/v1/admin/markets", {
			id: `t-${tag()}`,
			name: "Test market",
			currency: "CHF",
			tax_mode: "inclusive",
			convert_from: "EUR",
			rate_micros: 950_000,
			...overrides,
		}),
		201,
	);
}

async function listMarkets(): Promise<Market[]> {
	return (await json<{ data: Market[] }>(await send("GET", "/v1/admin/markets"), 200)).data;
}

describe("admin markets", () => {
	it("creates, lists, changes and deletes a market, auditing each write once and bumping the catalog version", async () => {
		const [a, b, c] = countries(3);
		const id = `t-${tag()}`;
		const v0 = await catalogVersion();
		const res = await send("POST", "/v1/admin/markets", {
			id,
			name: "Switzerland",
			currency: "CHF",
			tax_mode: "inclusive",
			convert_from: "EUR",
			rate_micros: 950_000,
			countries: [b, a],
		});
		const created = await json<Market>(res, 201);
		expect(created).toEqual({
			id,
			name: "Switzerland",
			currency: "CHF",
			tax_mode: "inclusive",
			convert_from: "EUR",
			rate_micros: 950_000,
			is_default: false,
			position: expect.any(Number),
			countries: [a, b],
			zone_count: 0,
			created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
			updated_at: created.created_at,
		});
		const v1 = await catalogVersion();
		expect(v1).not.toBe(v0);

		const list = await send("GET", "/v1/admin/markets");
		expect(list.headers.get("cache-control")).toBe("private, no-store");
		const all = ((await list.json()) as { data: Market[] }).data;
		expect(all.find((market) => market.id === id)).toEqual(created);
		// The seeded markets are there, the default first.
		expect(all[0]).toMatchObject({ id: "eu", is_default: true, currency: "EUR", tax_mode: "inclusive" });
		expect(all.find((market) => market.id === "us")).toMatchObject({
			currency: "USD",
			tax_mode: "exclusive",
			countries: ["US"],
			zone_count: 1,
		});
		expect(created.position).toBeGreaterThan(all.find((market) => market.id === "us")?.position as number);

		const patched = await json<Market>(
			await send("PATCH", `/v1/admin/markets/${id}`, {
				name: "Schweiz",
				tax_mode: "exclusive",
				convert_from: null,
				rate_micros: null,
				countries: [a, c],
			}),
			200,
		);
		expect(patched).toEqual({
			...created,
			name: "Schweiz",
			tax_mode: "exclusive",
			convert_from: null,
			rate_micros: null,
			countries: [a, c],
			updated_at: patched.updated_at,
		});
		expect(patched.updated_at > created.updated_at).toBe(true);
		const v2 = await catalogVersion();
		expect(v2).not.toBe(v1);

		const deleted = await send("DELETE", `/v1/admin/markets/${id}`);
		expect(deleted.status).toBe(204);
		expect(await catalogVersion()).not.toBe(v2);
		expect((await listMarkets()).some((market) => market.id === id)).toBe(false);
		await expectProblem(await send("PATCH", `/v1/admin/markets/${id}`, { name: "Gone" }), 404, "not_found");
		await expectProblem(await send("DELETE", `/v1/admin/markets/${id}`), 404, "not_found");

		const audit = await auditRows("market", id);
		expect(audit.map((row) => [row.action, row.actorId])).toEqual([
			["market.create", admin.user.id],
			["market.update", admin.user.id],
			["market.delete", admin.user.id],
		]);
		expect(audit.map((row) => [row.before, row.after])).toEqual([
			[null, created],
			[created, patched],
			[patched, null],
		]);
		expect(audit[0]?.requestId).toBe(res.headers.get("x-request-id"));
	});

	it("moves the default in one transaction, leaving exactly one default market", async () => {
		// The default market is what every other test file's carts shop in: moving it for real, even for a
		// moment, would move their carts too. So the move runs through the service inside a transaction that
		// is rolled back, where no other session ever sees it; the rollback also proves the audit row is
		// written in the move's own transaction.
		const standIn = await createMarket({ currency: "EUR", convert_from: null, rate_micros: null, countries: countries(1) });
		const actor = { userId: admin.user.id, requestId: "test-default-swap" };
		class Rollback extends Error {}
		await withDb((db) =>
			db.primary
				.transaction(async (tx) => {
					const asDb = tx as unknown as Parameters<typeof updateMarket>[1];
					const swapped = await updateMarket(env, asDb, standIn.id, { is_default: true }, actor);
					expect(swapped.is_default).toBe(true);
					const defaults = await tx.select({ id: markets.id }).from(markets).where(eq(markets.isDefault, true));
					expect(defaults).toEqual([{ id: standIn.id }]);
					expect((await listAdminMarkets(tx))[0]?.id).toBe(standIn.id);
					await expect(updateMarket(env, asDb, standIn.id, { is_default: false }, actor)).rejects.toMatchObject({ code: "default_market" });
					await expect(deleteMarket(env, asDb, standIn.id, actor)).rejects.toMatchObject({ code: "default_market" });
					const audited = await tx
						.select({ action: auditLog.action, before: auditLog.before, after: auditLog.after })
						.from(auditLog)
						.where(and(eq(auditLog.entityType, "market"), eq(auditLog.entityId, standIn.id)))
						.orderBy(asc(auditLog.id));
					expect(audited.map((row) => row.action)).toEqual(["market.create", "market.update"]);
					expect((audited[1]?.before as Market | undefined)?.is_default).toBe(false);
					expect((audited[1]?.after as Market | undefined)?.is_default).toBe(true);
					throw new Rollback();
				})
				.catch((err) => {
					if (!(err instanceof Rollback)) throw err;
				}),
		);
		const defaults = await withDb((db) => db.primary.select({ id: markets.id }).from(markets).where(eq(markets.isDefault, true)));
		expect(defaults).toEqual([{ id: "eu" }]);
		const audit = await auditRows("market", standIn.id);
		expect(audit.map((row) => row.action)).toEqual(["market.create"]);
		// Through the API, the default cannot be switched off or deleted.
		await expectProblem(await send("PATCH", "/v1/admin/markets/eu", { is_default: false }), 409, "default_market");
		await expectProblem(await send("DELETE", "/v1/admin/markets/eu"), 409, "default_market");
		expect((await send("DELETE", `/v1/admin/markets/${standIn.id}`)).status).toBe(204);
	});

	it("refuses a country that belongs to another market, naming it, and writes nothing", async () => {
		const [shared, own] = countries(2);
		const first = await createMarket({ countries: [shared] });
		const secondId = `t-${tag()}`;
		const refused = await send("POST", "/v1/admin/markets", {
			id: secondId,
			name: "Second",
			currency: "CHF",
			tax_mode: "inclusive",
			countries: [own, shared],
		});
		const problem = await expectProblem(refused, 409, "country_taken");
		expect(problem.countries).toEqual([{ country: shared, market_id: first.id }]);
		expect(problem.detail).toContain(`${shared} belongs to market ${first.id}`);
		expect((await listMarkets()).some((market) => market.id === secondId)).toBe(false);
		expect(await auditRows("market", secondId)).toEqual([]);

		const second = await createMarket({ countries: [own] });
		const moved = await send("PATCH", `/v1/admin/markets/${second.id}`, { countries: [own, "DE"] });
		expect((await expectProblem(moved, 409, "country_taken")).countries).toEqual([{ country: "DE", market_id: "eu" }]);
		const after = await listMarkets();
		expect(after.find((market) => market.id === second.id)?.countries).toEqual([own]);
		expect(after.find((market) => market.id === "eu")?.countries).toContain("DE");
		expect((await auditRows("market", second.id)).map((row) => row.action)).toEqual(["market.create"]);

		await expectProblem(await send("POST", "/v1/admin/markets", { ...second, countries: [] }), 400, "validation_failed");
		const duplicate = await send("POST", "/v1/admin/markets", { id: second.id, name: "Again", currency: "CHF", tax_mode: "exclusive" });
		await expectProblem(duplicate, 409, "market_id_taken");
	});

	it("validates conversions and refuses a currency change while the market has list prices", async () => {
		const bad = [
			{ convert_from: "EUR" },
			{ rate_micros: 900_000 },
			{ convert_from: "CHF", rate_micros: 1_000_000 },
			{ rate_micros: 0, convert_from: "EUR" },
			{ currency: "chf" },
			{ unknown: true },
		];
		for (const overrides of bad) {
			const res = await send("POST", "/v1/admin/markets", {
				id: `t-${tag()}`,
				name: "Bad",
				currency: "CHF",
				tax_mode: "inclusive",
				...overrides,
			});
			await expectProblem(res, 400, "validation_failed");
		}
		const market = await createMarket();
		await expectProblem(await send("PATCH", `/v1/admin/markets/${market.id}`, { rate_micros: 1 }), 400, "validation_failed");
		await expectProblem(await send("PATCH", `/v1/admin/markets/${market.id}`, { currency: "EUR" }), 400, "validation_failed");
		const { sku } = await newSku(1000);
		await json(await send("PUT", `/v1/admin/markets/${market.id}/prices`, { prices: [{ sku, amount_minor: 990 }] }), 200);
		const locked = await send("PATCH", `/v1/admin/markets/${market.id}`, { currency: "GBP" });
		expect((await expectProblem(locked, 409, "market_currency_locked")).list_prices).toBe(1);
		expect((await listMarkets()).find((row) => row.id === market.id)?.currency).toBe("CHF");
	});

	it("refuses to delete a market orders were placed in", async () => {
		const market = await createMarket({ countries: countries(1) });
		const orderId = newId("ord");
		await withDb((db) =>
			db.primary.insert(orders).values({
				id: orderId,
				email: "market.order@example.test",
				currency: "CHF",
				subtotalMinor: 1000,
				shippingMinor: 0,
				taxMinor: 0,
				totalMinor: 1000,
				marketId: market.id,
				shippingAddress: { name: "A", line1: "B", city: "C", postal_code: "1", country: "XA" },
				cartId: newId("cart"),
				reservationExpiresAt: new Date(Date.now() + 60_000),
			}),
		);
		try {
			const refused = await send("DELETE", `/v1/admin/markets/${market.id}`);
			const problem = await expectProblem(refused, 409, "market_in_use");
			expect(problem.orders).toBe(1);
			expect((await listMarkets()).find((row) => row.id === market.id)).toEqual(market);
			expect((await auditRows("market", market.id)).map((row) => row.action)).toEqual(["market.create"]);
		} finally {
			await withDb((db) => db.primary.delete(orders).where(eq(orders.id, orderId)));
		}
		expect((await send("DELETE", `/v1/admin/markets/${market.id}`)).status).toBe(204);
	});
});

describe("admin price lists", () => {
	it("lists base, list and effective prices, upserts in bulk and removes a list price, auditing each write once", async () => {
		const market = await createMarket();
		const one = await newSku(1500);
		const two = await newSku(2599);
		const path = `/v1/admin/markets/${market.id}/prices`;
		const rowOf = async (sku: string) => {
			const page = await json<{ data: PriceRow[]; next_cursor: string | null }>(await send("GET", `${path}?q=${sku}`), 200);
			expect(page.data).toHaveLength(1);
			return page.data[0] as PriceRow;
		};

		const before = await rowOf(one.sku);
		expect(before).toEqual({
			sku: one.sku,
			variant_id: expect.stringMatching(/^var_/),
			product_id: one.productId,
			product_title: expect.stringMatching(/^Test item /),
			variant_title: "",
			base_price_minor: 1500,
			base_currency: "EUR",
			list_price_minor: null,
			// €15.00 at 0.95: CHF 14.25.
			price_minor: 1425,
			currency: "CHF",
		});

		const v0 = await catalogVersion();
		const written = await json<{ data: PriceRow[] }>(
			await send("PUT", path, {
				prices: [
					{ sku: two.sku, amount_minor: 2490 },
					{ sku: one.sku, amount_minor: 1390 },
				],
			}),
			200,
		);
		expect(written.data.map((row) => [row.sku, row.list_price_minor, row.price_minor])).toEqual(
			[
				[one.sku, 1390, 1390],
				[two.sku, 2490, 2490],
			].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
		);
		expect(await catalogVersion()).not.toBe(v0);
		expect(await rowOf(one.sku)).toEqual({ ...before, list_price_minor: 1390, price_minor: 1390 });

		// An upsert replaces the row it had.
		await json(await send("PUT", path, { prices: [{ sku: one.sku, amount_minor: 1290 }] }), 200);
		expect((await rowOf(one.sku)).list_price_minor).toBe(1290);

		const v1 = await catalogVersion();
		expect((await send("DELETE", `${path}/${one.sku}`)).status).toBe(204);
		expect(await catalogVersion()).not.toBe(v1);
		expect(await rowOf(one.sku)).toEqual(before);
		await expectProblem(await send("DELETE", `${path}/${one.sku}`), 404, "not_found");
		await expectProblem(await send("DELETE", `${path}/NO-SUCH-SKU-${tag().toUpperCase()}`), 404, "not_found");

		const audit = (await auditRows("market", market.id)).filter((row) => row.action !== "market.create");
		expect(audit.map((row) => [row.action, row.before, row.after])).toEqual([
			["market.prices.upsert", { prices: { [one.sku]: null, [two.sku]: null } }, { prices: { [one.sku]: 1390, [two.sku]: 2490 } }],
			["market.prices.upsert", { prices: { [one.sku]: 1390 } }, { prices: { [one.sku]: 1290 } }],
			["market.price.delete", { prices: { [one.sku]: 1290 } }, { prices: { [one.sku]: null } }],
		]);
	});

	it("writes nothing when one SKU of a bulk upsert is unknown, naming it", async () => {
		const market = await createMarket();
		const known = await newSku(1000);
		const unknown = `NOPE-${tag().toUpperCase()}`;
		const path = `/v1/admin/markets/${market.id}/prices`;
		const v0 = await catalogVersion();
		const refused = await send("PUT", path, {
			prices: [
				{ sku: known.sku, amount_minor: 900 },
				{ sku: unknown, amount_minor: 100 },
			],
		});
		const problem = await expectProblem(refused, 422, "unknown_sku");
		expect(problem.skus).toEqual([unknown]);
		expect(problem.detail).toContain(unknown);
		expect(await catalogVersion()).toBe(v0);
		const page = await json<{ data: PriceRow[] }>(await send("GET", `${path}?q=${known.sku}`), 200);
		expect(page.data.map((row) => [row.sku, row.list_price_minor, row.price_minor])).toEqual([[known.sku, null, 950]]);
		expect((await auditRows("market", market.id)).map((row) => row.action)).toEqual(["market.create"]);

		const repeated = await send("PUT", path, {
			prices: [
				{ sku: known.sku, amount_minor: 1 },
				{ sku: known.sku, amount_minor: 2 },
			],
		});
		expect(((await expectProblem(repeated, 400, "validation_failed")).errors as { path: string }[]).map((e) => e.path)).toEqual([
			"body.prices.1",
		]);
		const tooMany = { prices: Array.from({ length: 501 }, (_, i) => ({ sku: `X-${i}`, amount_minor: 1 })) };
		await expectProblem(await send("PUT", path, tooMany), 400, "validation_failed");
		await expectProblem(
			await send("PUT", "/v1/admin/markets/t-nosuchmarket/prices", { prices: [{ sku: known.sku, amount_minor: 1 }] }),
			404,
			"not_found",
		);
	});

	it("pages by SKU with a cursor and leaves a variant in another currency unsold", async () => {
		const market = await createMarket();
		const t = tag();
		const product = await json<{ variants: { sku: string }[] }>(
			await send("POST", "/v1/admin/products", {
				title: `Paged ${t}`,
				status: "active",
				variants: ["A", "B", "C"].map((letter) => ({
					sku: `PG-${t.toUpperCase()}-${letter}`,
					title: letter,
					price_minor: 1000,
					currency: "USD",
				})),
			}),
			201,
		);
		const skus = product.variants.map((variant) => variant.sku);
		const first = await json<{ data: PriceRow[]; next_cursor: string | null }>(
			await send("GET", `/v1/admin/markets/${market.id}/prices?q=Paged%20${t}&limit=2`),
			200,
		);
		expect(first.data.map((row) => [row.sku, row.price_minor])).toEqual([
			[skus[0], null],
			[skus[1], null],
		]);
		const second = await json<{ data: PriceRow[]; next_cursor: string | null }>(
			await send("GET", `/v1/admin/markets/${market.id}/prices?q=Paged%20${t}&limit=2&cursor=${first.next_cursor}`),
			200,
		);
		expect(second.data.map((row) => row.sku)).toEqual([skus[2]]);
		expect(second.next_cursor).toBeNull();
		await expectProblem(await send("GET", `/v1/admin/markets/${market.id}/prices?cursor=bm9wZQ`), 400, "invalid_cursor");
	});
});

describe("admin tax rates", () => {
	it("upserts, lists and deletes rates by country, region and class, auditing each write once", async () => {
		const [country] = countries(1);
		const v0 = await catalogVersion();
		const written = await json<{ data: unknown[] }>(
			await send("PUT", "/v1/admin/tax-rates", {
				rates: [
					{ country, tax_class: "standard", rate_bp: 1900 },
					{ country, region: "AB", tax_class: "reduced", rate_bp: 700 },
					{ country, tax_class: "zero", rate_bp: 0 },
				],
			}),
			200,
		);
		expect(await catalogVersion()).not.toBe(v0);
		const listed = await json<{ data: { country: string; region: string; tax_class: string; rate_bp: number }[] }>(
			await send("GET", `/v1/admin/tax-rates?country=${country}`),
			200,
		);
		expect(listed.data.map((row) => [row.country, row.region, row.tax_class, row.rate_bp])).toEqual([
			[country, "", "standard", 1900],
			[country, "", "zero", 0],
			[country, "AB", "reduced", 700],
		]);
		expect(written.data).toEqual(listed.data);

		const changed = await json<{ data: { rate_bp: number }[] }>(
			await send("PUT", "/v1/admin/tax-rates", { rates: [{ country, tax_class: "standard", rate_bp: 2000 }] }),
			200,
		);
		expect(changed.data.map((row) => row.rate_bp)).toEqual([2000]);

		expect((await send("DELETE", `/v1/admin/tax-rates/${country}/reduced?region=AB`)).status).toBe(204);
		await expectProblem(await send("DELETE", `/v1/admin/tax-rates/${country}/reduced?region=AB`), 404, "not_found");
		await expectProblem(await send("DELETE", `/v1/admin/tax-rates/${country}/reduced`), 404, "not_found");
		const after = await json<{ data: { region: string; tax_class: string; rate_bp: number }[] }>(
			await send("GET", `/v1/admin/tax-rates?country=${country}`),
			200,
		);
		expect(after.data.map((row) => [row.region, row.tax_class, row.rate_bp])).toEqual([
			["", "standard", 2000],
			["", "zero", 0],
		]);

		const audit = await auditRows("tax_rates", country as string);
		expect(audit.map((row) => row.action)).toEqual(["tax_rates.upsert", "tax_rates.upsert", "tax_rate.delete"]);
		expect(audit[0]?.before).toEqual([]);
		expect(audit[0]?.after).toEqual(written.data);
		expect(((audit[1]?.before ?? []) as { rate_bp: number }[]).map((row) => row.rate_bp)).toEqual([1900]);
		expect(((audit[1]?.after ?? []) as { rate_bp: number }[]).map((row) => row.rate_bp)).toEqual([2000]);
		expect(((audit[2]?.before ?? []) as { region: string; rate_bp: number }[]).map((row) => [row.region, row.rate_bp])).toEqual([
			["AB", 700],
		]);
		expect(audit[2]?.after).toEqual([]);

		// The seeded rates are there too.
		const germany = await json<{ data: { tax_class: string; rate_bp: number }[] }>(
			await send("GET", "/v1/admin/tax-rates?country=DE"),
			200,
		);
		expect(germany.data.map((row) => [row.tax_class, row.rate_bp])).toEqual([
			["standard", 1900],
			["reduced", 700],
			["zero", 0],
		]);
	});

	it("refuses rates out of range, repeated keys and malformed countries", async () => {
		const [country] = countries(1);
		for (const rates of [
			[{ country, tax_class: "standard", rate_bp: 10_001 }],
			[{ country, tax_class: "standard", rate_bp: -1 }],
			[{ country: "de", tax_class: "standard", rate_bp: 1 }],
			[{ country, tax_class: "luxury", rate_bp: 1 }],
			[{ country, region: "us-ca", tax_class: "standard", rate_bp: 1 }],
			[
				{ country, tax_class: "standard", rate_bp: 1 },
				{ country, region: "", tax_class: "standard", rate_bp: 2 },
			],
		]) {
			await expectProblem(await send("PUT", "/v1/admin/tax-rates", { rates }), 400, "validation_failed");
		}
		expect((await json<{ data: unknown[] }>(await send("GET", `/v1/admin/tax-rates?country=${country}`), 200)).data).toEqual([]);
	});
});

describe("admin shipping zones and methods", () => {
	it("creates, changes and deletes a zone and its methods, auditing each write once", async () => {
		const [a, b, outside] = countries(3);
		const market = await createMarket({ countries: [a, b] });
		const v0 = await catalogVersion();
		const zone = await json<Zone>(
			await send("POST", "/v1/admin/shipping-zones", { market_id: market.id, name: "Alps", countries: [a] }),
			201,
		);
		expect(zone).toEqual({
			id: expect.stringMatching(/^shz_[0-9a-z]{20}$/),
			market_id: market.id,
			name: "Alps",
			countries: [a],
			methods: [],
			created_at: expect.any(String),
			updated_at: expect.any(String),
		});
		expect(await catalogVersion()).not.toBe(v0);
		expect((await listMarkets()).find((row) => row.id === market.id)?.zone_count).toBe(1);

		const method = await json<Method>(
			await send("POST", `/v1/admin/shipping-zones/${zone.id}/methods`, {
				kind: "standard",
				name: "Post",
				rate: {
					type: "weight",
					tiers: [
						{ up_to_grams: 1000, amount: 700 },
						{ up_to_grams: null, amount: 1200 },
					],
				},
				free_from_minor: 10_000,
			}),
			201,
		);
		expect(method).toEqual({
			id: expect.stringMatching(/^shm_[0-9a-z]{20}$/),
			zone_id: zone.id,
			kind: "standard",
			name: "Post",
			rate: {
				type: "weight",
				tiers: [
					{ up_to_grams: 1000, amount: 700 },
					{ up_to_grams: null, amount: 1200 },
				],
			},
			free_from_minor: 10_000,
			tax_class: "standard",
			active: true,
			position: 0,
			created_at: expect.any(String),
			updated_at: expect.any(String),
		});
		const express = await json<Method>(
			await send("POST", `/v1/admin/shipping-zones/${zone.id}/methods`, {
				kind: "express",
				name: "Courier",
				rate: { type: "flat", amount: 1990 },
				tax_class: "reduced",
			}),
			201,
		);
		expect([express.position, express.free_from_minor, express.tax_class]).toEqual([1, null, "reduced"]);

		const changedMethod = await json<Method>(
			await send("PATCH", `/v1/admin/shipping-methods/${express.id}`, {
				active: false,
				rate: {
					type: "subtotal",
					tiers: [
						{ from: 0, amount: 1990 },
						{ from: 5000, amount: 990 },
					],
				},
			}),
			200,
		);
		expect(changedMethod).toEqual({
			...express,
			active: false,
			rate: {
				type: "subtotal",
				tiers: [
					{ from: 0, amount: 1990 },
					{ from: 5000, amount: 990 },
				],
			},
			updated_at: changedMethod.updated_at,
		});

		const changedZone = await json<Zone>(
			await send("PATCH", `/v1/admin/shipping-zones/${zone.id}`, { name: "Alps and lakes", countries: [a, b] }),
			200,
		);
		expect(changedZone).toEqual({
			...zone,
			name: "Alps and lakes",
			countries: [a, b],
			methods: [method, changedMethod],
			updated_at: changedZone.updated_at,
		});
		const listed = await json<{ data: Zone[] }>(await send("GET", `/v1/admin/shipping-zones?market=${market.id}`), 200);
		expect(listed.data).toEqual([changedZone]);

		const outsideZone = await send("PATCH", `/v1/admin/shipping-zones/${zone.id}`, { countries: [a, outside] });
		expect((await expectProblem(outsideZone, 422, "zone_country_not_in_market")).countries).toEqual([outside]);
		const dropping = await send("PATCH", `/v1/admin/markets/${market.id}`, { countries: [a] });
		expect((await expectProblem(dropping, 409, "country_in_zone")).countries).toEqual([b]);

		expect((await send("DELETE", `/v1/admin/shipping-methods/${method.id}`)).status).toBe(204);
		await expectProblem(await send("DELETE", `/v1/admin/shipping-methods/${method.id}`), 404, "not_found");
		expect((await send("DELETE", `/v1/admin/shipping-zones/${zone.id}`)).status).toBe(204);
		await expectProblem(await send("PATCH", `/v1/admin/shipping-methods/${express.id}`, { name: "Gone" }), 404, "not_found");

		const zoneAudit = await auditRows("shipping_zone", zone.id);
		expect(zoneAudit.map((row) => [row.action, row.before, row.after])).toEqual([
			["shipping_zone.create", null, zone],
			["shipping_zone.update", { ...zone, methods: [method, changedMethod] }, changedZone],
			["shipping_zone.delete", { ...changedZone, methods: [changedMethod] }, null],
		]);
		const methodAudit = await auditRows("shipping_method", express.id);
		expect(methodAudit.map((row) => [row.action, row.before, row.after])).toEqual([
			["shipping_method.create", null, express],
			["shipping_method.update", express, changedMethod],
		]);
		expect((await auditRows("shipping_method", method.id)).map((row) => [row.action, row.after])).toEqual([
			["shipping_method.create", method],
			["shipping_method.delete", null],
		]);
	});

	it("answers 422 for descending weight tiers and other broken rates, writing nothing", async () => {
		const [a] = countries(1);
		const market = await createMarket({ countries: [a] });
		const zone = await json<Zone>(await send("POST", "/v1/admin/shipping-zones", { market_id: market.id, name: "Z", countries: [a] }), 201);
		const descending = await send("POST", `/v1/admin/shipping-zones/${zone.id}/methods`, {
			kind: "standard",
			name: "Backwards",
			rate: {
				type: "weight",
				tiers: [
					{ up_to_grams: 5000, amount: 999 },
					{ up_to_grams: 1000, amount: 599 },
				],
			},
		});
		const problem = await expectProblem(descending, 422, "invalid_shipping_rate");
		expect(problem.errors).toEqual([
			{ path: "body.rate.tiers", message: "weight tiers ascend by up_to_grams and only the last may be unbounded (null)" },
		]);
		for (const rate of [
			{ type: "flat" },
			{ type: "weight", tiers: [] },
			{ type: "subtotal", tiers: [{ from: 100, amount: 1 }] },
			{
				type: "weight",
				tiers: [
					{ up_to_grams: null, amount: 1 },
					{ up_to_grams: 10, amount: 1 },
				],
			},
		]) {
			await expectProblem(
				await send("POST", `/v1/admin/shipping-zones/${zone.id}/methods`, { kind: "standard", name: "X", rate }),
				422,
				"invalid_shipping_rate",
			);
		}
		// Wrong types are a malformed request, not a rule.
		await expectProblem(
			await send("POST", `/v1/admin/shipping-zones/${zone.id}/methods`, {
				kind: "standard",
				name: "X",
				rate: { type: "flat", amount: "5" },
			}),
			400,
			"validation_failed",
		);
		await expectProblem(
			await send("POST", `/v1/admin/shipping-zones/${zone.id}/methods`, { kind: "drone", name: "X", rate: { type: "flat", amount: 5 } }),
			400,
			"validation_failed",
		);
		const listed = await json<{ data: Zone[] }>(await send("GET", `/v1/admin/shipping-zones?market=${market.id}`), 200);
		expect(listed.data.map((row) => row.methods)).toEqual([[]]);
		const methodAudits = await withDb((db) =>
			db.primary
				.select()
				.from(auditLog)
				.where(and(eq(auditLog.entityType, "shipping_method"), sql`${auditLog.after}->>'zone_id' = ${zone.id}`)),
		);
		expect(methodAudits).toEqual([]);
	});

	it("lists the seeded zones and takes their named ids in paths", async () => {
		const all = await json<{ data: Zone[] }>(await send("GET", "/v1/admin/shipping-zones"), 200);
		const eu = all.data.find((zone) => zone.id === "shz_eu");
		expect(eu?.market_id).toBe("eu");
		expect(eu?.methods.map((method) => [method.id, method.rate, method.free_from_minor])).toEqual([
			["shm_eustandard", { type: "flat", amount: 495 }, 5000],
			["shm_euexpress", { type: "flat", amount: 1290 }, null],
		]);
		expect(all.data[0]?.market_id).toBe("eu");
		// Well-formed ids that name nothing reach the handler.
		await expectProblem(await send("DELETE", "/v1/admin/shipping-methods/shm_nosuchmethod"), 404, "not_found");
		await expectProblem(await send("PATCH", "/v1/admin/shipping-zones/shz_nosuchzone", { name: "X" }), 404, "not_found");
		await expectProblem(await send("PATCH", "/v1/admin/shipping-zones/zone_1", { name: "X" }), 400, "validation_failed");
		await expectProblem(
			await send("POST", "/v1/admin/shipping-zones", { market_id: "t-nosuchmarket", name: "X", countries: ["DE"] }),
			422,
			"unknown_market",
		);
	});
});

describe("admin products: tax class and weight", () => {
	it("creates and changes a product's tax class and its variants' weights", async () => {
		const t = tag();
		const T = t.toUpperCase();
		const created = await json<{ id: string; tax_class: string; variants: { sku: string; weight_grams: number }[] }>(
			await send("POST", "/v1/admin/products", {
				title: `Book ${t}`,
				tax_class: "reduced",
				variants: [
					{ sku: `BK-${T}-H`, title: "Hardback", price_minor: 2500, currency: "EUR", weight_grams: 640 },
					{ sku: `BK-${T}-P`, title: "Paperback", price_minor: 1200, currency: "EUR" },
				],
			}),
			201,
		);
		expect(created.tax_class).toBe("reduced");
		expect(created.variants.map((variant) => [variant.sku, variant.weight_grams])).toEqual([
			[`BK-${T}-H`, 640],
			[`BK-${T}-P`, 0],
		]);
		const updated = await json<typeof created>(
			await send("PATCH", `/v1/admin/products/${created.id}`, {
				tax_class: "zero",
				variants: [
					{ sku: `BK-${T}-P`, weight_grams: 310 },
					{ sku: `BK-${T}-E`, title: "Large print", price_minor: 1900, currency: "EUR", weight_grams: 720 },
				],
			}),
			200,
		);
		expect(updated.tax_class).toBe("zero");
		expect(updated.variants.map((variant) => [variant.sku, variant.weight_grams])).toEqual([
			[`BK-${T}-H`, 640],
			[`BK-${T}-P`, 310],
			[`BK-${T}-E`, 720],
		]);
		await expectProblem(await send("PATCH", `/v1/admin/products/${created.id}`, { tax_class: "luxury" }), 400, "validation_failed");
		await expectProblem(
			await send("PATCH", `/v1/admin/products/${created.id}`, { variants: [{ sku: `BK-${T}-P`, weight_grams: -1 }] }),
			400,
			"validation_failed",
		);
	});
});

describe("markets admin access", () => {
	it("refuses customers with 403 and anonymous callers with 401 on every route, changing nothing", async () => {
		const [a] = countries(1);
		const market = await createMarket({ countries: [a] });
		const zone = await json<Zone>(await send("POST", "/v1/admin/shipping-zones", { market_id: market.id, name: "Z", countries: [a] }), 201);
		const method = await json<Method>(
			await send("POST", `/v1/admin/shipping-zones/${zone.id}/methods`, {
				kind: "pickup",
				name: "Shop",
				rate: { type: "flat", amount: 0 },
			}),
			201,
		);
		const { sku } = await newSku(1000);
		const routes: [string, string, unknown][] = [
			["GET", "/v1/admin/markets", undefined],
			["POST", "/v1/admin/markets", { id: `t-${tag()}`, name: "X", currency: "EUR", tax_mode: "inclusive" }],
			["PATCH", `/v1/admin/markets/${market.id}`, { name: "Hijacked" }],
			["DELETE", `/v1/admin/markets/${market.id}`, undefined],
			["GET", `/v1/admin/markets/${market.id}/prices`, undefined],
			["PUT", `/v1/admin/markets/${market.id}/prices`, { prices: [{ sku, amount_minor: 1 }] }],
			["DELETE", `/v1/admin/markets/${market.id}/prices/${sku}`, undefined],
			["GET", "/v1/admin/tax-rates", undefined],
			["PUT", "/v1/admin/tax-rates", { rates: [{ country: a, tax_class: "standard", rate_bp: 1 }] }],
			["DELETE", "/v1/admin/tax-rates/DE/standard", undefined],
			["GET", "/v1/admin/shipping-zones", undefined],
			["POST", "/v1/admin/shipping-zones", { market_id: market.id, name: "X", countries: [a] }],
			["PATCH", `/v1/admin/shipping-zones/${zone.id}`, { name: "Hijacked" }],
			["DELETE", `/v1/admin/shipping-zones/${zone.id}`, undefined],
			["POST", `/v1/admin/shipping-zones/${zone.id}/methods`, { kind: "pickup", name: "X", rate: { type: "flat", amount: 0 } }],
			["PATCH", `/v1/admin/shipping-methods/${method.id}`, { name: "Hijacked" }],
			["DELETE", `/v1/admin/shipping-methods/${method.id}`, undefined],
		];
		for (const [method, path, body] of routes) {
			await expectProblem(await send(method, path, body, customer.access_token), 403, "forbidden");
			const anonymous = await call(path, {
				method,
				...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
			});
			await expectProblem(anonymous, 401, "unauthorized");
		}
		expect((await listMarkets()).find((row) => row.id === market.id)).toEqual({ ...market, zone_count: 1 });
		const zones = await json<{ data: Zone[] }>(await send("GET", `/v1/admin/shipping-zones?market=${market.id}`), 200);
		expect(zones.data).toEqual([{ ...zone, methods: [method] }]);
		const actors = await withDb((db) =>
			db.primary
				.select({ actor: auditLog.actorId })
				.from(auditLog)
				.where(inArray(auditLog.entityId, [market.id, zone.id, method.id, a as string])),
		);
		expect(new Set(actors.map((row) => row.actor))).toEqual(new Set([admin.user.id]));
		expect((await send("GET", "/v1/admin/tax-rates?country=DE")).status).toBe(200);
	});
});
