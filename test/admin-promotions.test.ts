import { and, asc, eq, like } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditLog, categories, orders, promotions } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { authed, env, makeAdmin, registerShopper, type Session } from "./accounts-helpers.ts";
import { call, problemOf, withDb } from "./helpers.ts";
import { Bus, checkoutOk, checkoutRequest, guestCart, newSku, stock } from "./orders-helpers.ts";

/**
 * The promotions admin (`/v1/admin/promotions`): every rule of the
 * `promotions` table answered as a 422 or 400 before the database could
 * refuse it, every write audited, and a promotion made here is the one
 * checkout applies. Automatic promotions made here target a product of
 * their own or stay inactive: the database is shared with every other test
 * file, whose orders must not be discounted.
 */

interface Promotion {
	id: string;
	code: string | null;
	name: string;
	kind: string;
	value: number;
	currency: string | null;
	target: string;
	target_ids: string[];
	buy_quantity: number | null;
	get_quantity: number | null;
	min_subtotal_minor: number;
	starts_at: string | null;
	ends_at: string | null;
	max_uses: number | null;
	max_uses_per_customer: number | null;
	used_count: number;
	active: boolean;
	created_at: string;
	updated_at: string;
}

interface Detail extends Promotion {
	redemptions: { count: number; recent: { order_id: string; customer: string; status: string; total_minor: number; currency: string }[] };
}

const tag = () => crypto.randomUUID().replaceAll("-", "").slice(0, 10).toUpperCase();

let admin: Session;
let customer: Session;

beforeAll(async () => {
	admin = await makeAdmin(await registerShopper());
	customer = await registerShopper();
});

const send = (method: string, path: string, body?: unknown, token = admin.access_token) =>
	call(path, authed(token, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));

async function create(body: Record<string, unknown>): Promise<Promotion> {
	const res = await send("POST", "/v1/admin/promotions", body);
	if (res.status !== 201) throw new Error(`create answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as Promotion;
}

async function expectProblem(res: Response, status: number, code: string) {
	expect(res.status).toBe(status);
	const problem = await problemOf(res);
	expect(problem.code).toBe(code);
	return problem;
}

const errorPaths = (problem: Record<string, unknown>) => ((problem.errors ?? []) as { path: string }[]).map((e) => e.path).sort();

function auditRows(promotionId: string) {
	return withDb((db) =>
		db.primary
			.select()
			.from(auditLog)
			.where(and(eq(auditLog.entityType, "promotion"), eq(auditLog.entityId, promotionId)))
			.orderBy(asc(auditLog.id)),
	);
}

/** Promotions whose name carries `t`: what a refused request would have written. */
function promotionsNamed(t: string) {
	return withDb((db) =>
		db.primary
			.select()
			.from(promotions)
			.where(like(promotions.name, `%${t}%`)),
	);
}

async function newCategory(): Promise<string> {
	const id = newId("cat");
	await withDb((db) => db.primary.insert(categories).values({ id, slug: `promo-${id.slice(4)}`, name: `Promo ${id.slice(4, 10)}` }));
	return id;
}

describe("admin promotions: create, read, change, stop, delete", () => {
	it("round-trips a code through every operation, one audit row per write, bumping the catalog version each time", async () => {
		const t = tag();
		const versions = [await env.CATALOG.get("catalog:version")];
		const bumped = async () => {
			const now = await env.CATALOG.get("catalog:version");
			expect(versions).not.toContain(now);
			versions.push(now);
		};

		const res = await send("POST", "/v1/admin/promotions", {
			code: `  summer-${t.toLowerCase()} `,
			name: `Summer ${t}`,
			kind: "percentage",
			value: 1250,
			starts_at: "2026-06-01T00:00:00+02:00",
			ends_at: "2026-09-01T00:00:00Z",
			max_uses: 100,
			max_uses_per_customer: 1,
		});
		expect(res.status).toBe(201);
		const created = (await res.json()) as Promotion;
		expect(created).toMatchObject({
			code: `SUMMER-${t}`,
			name: `Summer ${t}`,
			kind: "percentage",
			value: 1250,
			currency: null,
			target: "order",
			target_ids: [],
			buy_quantity: null,
			get_quantity: null,
			min_subtotal_minor: 0,
			starts_at: "2026-05-31T22:00:00.000Z",
			ends_at: "2026-09-01T00:00:00.000Z",
			max_uses: 100,
			max_uses_per_customer: 1,
			used_count: 0,
			active: true,
		});
		expect(created.id).toMatch(/^prm_[0-9a-z]{20}$/);
		await bumped();

		const read = await send("GET", `/v1/admin/promotions/${created.id}`);
		expect(read.status).toBe(200);
		expect(read.headers.get("cache-control")).toBe("private, no-store");
		expect(await read.json()).toEqual({ ...created, redemptions: { count: 0, recent: [] } });

		const listed = (await (await send("GET", `/v1/admin/promotions?q=summer-${t.toLowerCase()}`)).json()) as { data: Promotion[] };
		expect(listed.data).toEqual([created]);
		expect(((await (await send("GET", `/v1/admin/promotions?q=${t}&kind=fixed`)).json()) as { data: Promotion[] }).data).toEqual([]);

		const patched = await send("PATCH", `/v1/admin/promotions/${created.id}`, {
			kind: "fixed",
			value: 500,
			currency: "EUR",
			min_subtotal_minor: 2000,
			ends_at: null,
		});
		expect(patched.status).toBe(200);
		const updated = (await patched.json()) as Promotion;
		expect(updated).toMatchObject({ kind: "fixed", value: 500, currency: "EUR", min_subtotal_minor: 2000, ends_at: null, max_uses: 100 });
		await bumped();

		const stopped = await send("POST", `/v1/admin/promotions/${created.id}/deactivate`);
		expect(stopped.status).toBe(200);
		expect(((await stopped.json()) as Promotion).active).toBe(false);
		await bumped();
		// Deactivating again changes nothing and records nothing.
		expect((await send("POST", `/v1/admin/promotions/${created.id}/deactivate`)).status).toBe(200);
		const inactive = (await (await send("GET", `/v1/admin/promotions?q=${t}&active=false`)).json()) as { data: Promotion[] };
		expect(inactive.data.map((p) => p.id)).toEqual([created.id]);
		expect(((await (await send("GET", `/v1/admin/promotions?q=${t}&active=true`)).json()) as { data: Promotion[] }).data).toEqual([]);

		const deleted = await send("DELETE", `/v1/admin/promotions/${created.id}`);
		expect(deleted.status).toBe(204);
		await bumped();
		await expectProblem(await send("GET", `/v1/admin/promotions/${created.id}`), 404, "not_found");
		await expectProblem(await send("PATCH", `/v1/admin/promotions/${created.id}`, { name: "Gone" }), 404, "not_found");

		const audit = await auditRows(created.id);
		expect(audit.map((row) => [row.action, row.actorId])).toEqual([
			["promotion.create", admin.user.id],
			["promotion.update", admin.user.id],
			["promotion.deactivate", admin.user.id],
			["promotion.delete", admin.user.id],
		]);
		expect(audit[0]?.before).toBeNull();
		expect(audit[0]?.after).toEqual(created);
		expect(audit[1]?.before).toEqual(created);
		expect(audit[1]?.after).toEqual(updated);
		expect(audit[2]?.after).toMatchObject({ active: false });
		expect(audit[3]?.before).toMatchObject({ id: created.id, active: false });
		expect(audit[3]?.after).toBeNull();
	});

	it("makes automatic promotions (no code), buy X get Y with a default of one free unit, and targets that exist", async () => {
		const t = tag();
		const { productId } = await newSku(2000);
		const category = await newCategory();
		const bxgy = await create({
			name: `BXGY ${t}`,
			kind: "buy_x_get_y",
			buy_quantity: 2,
			get_quantity: 1,
			target: "products",
			target_ids: [productId],
		});
		expect(bxgy).toMatchObject({ code: null, value: 10_000, buy_quantity: 2, get_quantity: 1, target_ids: [productId] });
		const byCategory = await create({
			name: `Category ${t}`,
			kind: "percentage",
			value: 500,
			target: "categories",
			target_ids: [category],
			active: false,
		});
		expect(byCategory).toMatchObject({ target: "categories", target_ids: [category], active: false });
		const shipping = await create({
			code: `SHIP${t}`,
			name: `Shipping ${t}`,
			kind: "free_shipping",
			min_subtotal_minor: 5000,
			currency: "EUR",
		});
		expect(shipping).toMatchObject({ kind: "free_shipping", value: 0, min_subtotal_minor: 5000, currency: "EUR" });
	});

	it("pages newest first with a cursor that continues the same query", async () => {
		const t = tag();
		const made: Promotion[] = [];
		for (let i = 0; i < 3; i++) made.push(await create({ code: `PAGE${t}${i}`, name: `Paging ${t}`, kind: "percentage", value: 100 }));
		const first = (await (await send("GET", `/v1/admin/promotions?q=PAGE${t}&limit=2`)).json()) as {
			data: Promotion[];
			next_cursor: string | null;
		};
		expect(first.data.map((p) => p.code)).toEqual([`PAGE${t}2`, `PAGE${t}1`]);
		expect(first.next_cursor).toBeTruthy();
		const second = (await (await send("GET", `/v1/admin/promotions?q=PAGE${t}&limit=2&cursor=${first.next_cursor}`)).json()) as {
			data: Promotion[];
			next_cursor: string | null;
		};
		expect(second.data.map((p) => p.code)).toEqual([`PAGE${t}0`]);
		expect(second.next_cursor).toBeNull();
		await expectProblem(await send("GET", "/v1/admin/promotions?cursor=bm9wZQ"), 400, "invalid_cursor");
		await expectProblem(await send("GET", "/v1/admin/promotions?kind=bogus"), 400, "validation_failed");
	});
});

describe("admin promotions: what the table refuses is refused first, in words, writing nothing", () => {
	const base = (t: string) => ({ name: `Refused ${t}`, kind: "percentage", value: 1000 });

	it("answers 422 invalid_promotion naming the fields, for every combination the CHECK constraints forbid", async () => {
		const t = tag();
		const { productId } = await newSku();
		const cases: [Record<string, unknown>, string[]][] = [
			[{ value: 0 }, ["body.value"]],
			[{ value: 10_001 }, ["body.value"]],
			[{ kind: "buy_x_get_y", value: 10_001, buy_quantity: 1, get_quantity: 1 }, ["body.value"]],
			[{ kind: "buy_x_get_y" }, ["body.buy_quantity", "body.get_quantity"]],
			[{ kind: "buy_x_get_y", buy_quantity: 2 }, ["body.get_quantity"]],
			[{ buy_quantity: 2, get_quantity: 1 }, ["body.buy_quantity", "body.get_quantity"]],
			[{ kind: "fixed", value: 500 }, ["body.currency"]],
			[{ kind: "fixed", value: 0, currency: "EUR" }, ["body.value"]],
			[{ min_subtotal_minor: 3000 }, ["body.currency"]],
			[{ kind: "free_shipping", value: 100 }, ["body.value"]],
			[{ kind: "free_shipping", value: undefined, target: "products", target_ids: [productId] }, ["body.target"]],
			[{ target_ids: [productId] }, ["body.target_ids"]],
			[{ target: "products" }, ["body.target_ids"]],
			[{ target: "categories", target_ids: [] }, ["body.target_ids"]],
			[{ starts_at: "2026-06-01T00:00:00Z", ends_at: "2026-06-01T00:00:00Z" }, ["body.ends_at"]],
			[{ starts_at: "2026-06-01T00:00:00Z", ends_at: "2026-06-01T01:00:00+02:00" }, ["body.ends_at"]],
		];
		for (const [extra, paths] of cases) {
			const res = await send("POST", "/v1/admin/promotions", { ...base(t), code: `BAD${t}`, ...extra });
			const problem = await expectProblem(res, 422, "invalid_promotion");
			expect(errorPaths(problem), JSON.stringify(extra)).toEqual(paths);
		}
		expect(await promotionsNamed(t)).toEqual([]);
	});

	it("answers 422 unknown_promotion_target naming the products or categories that do not exist", async () => {
		const t = tag();
		const { productId } = await newSku();
		const missing = "prod_nosuchproduct0000000";
		const products = await send("POST", "/v1/admin/promotions", {
			...base(t),
			target: "products",
			target_ids: [productId, missing],
		});
		const problem = await expectProblem(products, 422, "unknown_promotion_target");
		expect(problem.missing).toEqual([missing]);
		expect(problem.detail).toContain(missing);
		// A product id is no category.
		const category = await expectProblem(
			await send("POST", "/v1/admin/promotions", { ...base(t), target: "categories", target_ids: [productId] }),
			422,
			"unknown_promotion_target",
		);
		expect(category.missing).toEqual([productId]);
		expect(await promotionsNamed(t)).toEqual([]);
	});

	it("answers 400 for a field out of shape, unknown and server-owned fields included", async () => {
		const t = tag();
		const cases: [Record<string, unknown>, string[]][] = [
			[{ code: "A" }, ["body.code"]],
			[{ code: "NOT OK!" }, ["body.code"]],
			[{ code: `-${t}` }, ["body.code"]],
			[{ code: "X".repeat(65) }, ["body.code"]],
			[{ value: -1 }, ["body.value"]],
			[{ value: 12.5 }, ["body.value"]],
			[{ kind: "bogus" }, ["body.kind"]],
			[{ currency: "eur" }, ["body.currency"]],
			[{ kind: "buy_x_get_y", buy_quantity: 0, get_quantity: 100 }, ["body.buy_quantity", "body.get_quantity"]],
			[{ max_uses: 0 }, ["body.max_uses"]],
			[{ starts_at: "tomorrow" }, ["body.starts_at"]],
			[{ target_ids: ["prod_a", "prod_a"] }, ["body.target_ids.1"]],
			[{ used_count: 5 }, ["body"]],
			[{ id: "prm_0123456789abcdefghjk" }, ["body"]],
			[{ name: "  " }, ["body.name"]],
		];
		for (const [extra, paths] of cases) {
			const problem = await expectProblem(await send("POST", "/v1/admin/promotions", { ...base(t), ...extra }), 400, "validation_failed");
			expect(errorPaths(problem), JSON.stringify(extra)).toEqual(paths);
		}
		expect(await promotionsNamed(t)).toEqual([]);
	});

	it("answers 409 promotion_code_taken for a code in use, whatever its letter case", async () => {
		const t = tag();
		const first = await create({ ...base(t), code: `DUP${t}` });
		const problem = await expectProblem(
			await send("POST", "/v1/admin/promotions", { ...base(t), name: `Second ${t}`, code: `dup${t.toLowerCase()}` }),
			409,
			"promotion_code_taken",
		);
		expect(problem.promotion_code).toBe(`DUP${t}`);
		const other = await create({ ...base(t), name: `Other ${t}`, code: `OTHER${t}` });
		await expectProblem(await send("PATCH", `/v1/admin/promotions/${other.id}`, { code: first.code }), 409, "promotion_code_taken");
		expect((await promotionsNamed(t)).map((row) => row.code).sort()).toEqual([`DUP${t}`, `OTHER${t}`]);
		expect(await auditRows(other.id)).toHaveLength(1);
	});

	it("checks a change on the promotion as it will be, and refuses it whole", async () => {
		const t = tag();
		const promotion = await create({ ...base(t), code: `PATCH${t}` });
		const cases: [Record<string, unknown>, number, string][] = [
			[{ kind: "fixed" }, 422, "invalid_promotion"],
			[{ kind: "buy_x_get_y" }, 422, "invalid_promotion"],
			[{ value: 20_000 }, 422, "invalid_promotion"],
			[{ target: "products" }, 422, "invalid_promotion"],
			[{ target: "products", target_ids: ["prod_nosuchproduct0000000"] }, 422, "unknown_promotion_target"],
			[{ ends_at: "2020-01-01T00:00:00Z", starts_at: "2021-01-01T00:00:00Z" }, 422, "invalid_promotion"],
			[{}, 400, "validation_failed"],
			[{ used_count: 0 }, 400, "validation_failed"],
		];
		for (const [body, status, code] of cases) {
			await expectProblem(await send("PATCH", `/v1/admin/promotions/${promotion.id}`, body), status, code);
		}
		const [row] = await promotionsNamed(t);
		expect(row).toMatchObject({ kind: "percentage", value: 1000, target: "order", endsAt: null });
		expect(await auditRows(promotion.id)).toHaveLength(1);
		// Leaving buy X get Y takes its quantities along when they are sent as null.
		const bxgy = await create({ name: `Leaving ${t}`, kind: "buy_x_get_y", buy_quantity: 1, get_quantity: 1, code: `LEAVE${t}` });
		await expectProblem(await send("PATCH", `/v1/admin/promotions/${bxgy.id}`, { kind: "percentage" }), 422, "invalid_promotion");
		const changed = await send("PATCH", `/v1/admin/promotions/${bxgy.id}`, { kind: "percentage", buy_quantity: null, get_quantity: null });
		expect(changed.status).toBe(200);
		expect(await changed.json()).toMatchObject({ kind: "percentage", value: 10_000, buy_quantity: null });
	});

	it("answers 404 for an id that names nothing and 400 for one out of shape", async () => {
		await expectProblem(await send("GET", "/v1/admin/promotions/prm_0123456789abcdefghjk"), 404, "not_found");
		await expectProblem(await send("DELETE", "/v1/admin/promotions/prm_0123456789abcdefghjk"), 404, "not_found");
		await expectProblem(await send("POST", "/v1/admin/promotions/prm_0123456789abcdefghjk/deactivate"), 404, "not_found");
		await expectProblem(await send("GET", "/v1/admin/promotions/prod_0123456789abcdefghjk"), 400, "validation_failed");
	});
});

describe("admin promotions are for admins only", () => {
	it("answers a customer 403 and a caller without a token 401, on every operation, changing nothing", async () => {
		const promotion = await create({ code: `GUARD${tag()}`, name: "Guarded", kind: "percentage", value: 100 });
		const attempts: [string, string, unknown?][] = [
			["GET", "/v1/admin/promotions"],
			["POST", "/v1/admin/promotions", { code: `MINE${tag()}`, name: "Mine", kind: "percentage", value: 10_000 }],
			["GET", `/v1/admin/promotions/${promotion.id}`],
			["PATCH", `/v1/admin/promotions/${promotion.id}`, { value: 10_000 }],
			["POST", `/v1/admin/promotions/${promotion.id}/deactivate`],
			["DELETE", `/v1/admin/promotions/${promotion.id}`],
		];
		for (const [method, path, body] of attempts) {
			await expectProblem(await send(method, path, body, customer.access_token), 403, "forbidden");
			const anonymous = await call(path, {
				method,
				...(body ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {}),
			});
			await expectProblem(anonymous, 401, "unauthorized");
		}
		const detail = (await (await send("GET", `/v1/admin/promotions/${promotion.id}`)).json()) as Promotion;
		expect(detail).toMatchObject({ value: 100, active: true });
		expect(await auditRows(promotion.id)).toHaveLength(1);
	});
});

describe("a promotion made through the admin API is the one checkout applies", () => {
	it("gives a 10 % code's discount at checkout, shows the order among its uses, and then refuses to delete it or cap it below its uses", async () => {
		const bus = new Bus();
		const { sku } = await newSku(3000);
		await stock(sku, 5);
		const t = tag();
		const promotion = await create({ code: `TEN${t}`, name: `Ten ${t}`, kind: "percentage", value: 1000, max_uses: 5 });

		const first = await checkoutOk(bus, await guestCart([[sku, 1]]), { discount_code: `ten${t.toLowerCase()}` });
		// EU prices include VAT: 10 % of the 30.00 line.
		expect(first.order.discount.amount).toBe(300);
		const second = await checkoutOk(bus, await guestCart([[sku, 1]]), { discount_code: `TEN${t}`, email: "other@example.com" });
		expect(second.order.discount.amount).toBe(300);

		const detail = (await (await send("GET", `/v1/admin/promotions/${promotion.id}`)).json()) as Detail;
		expect(detail.used_count).toBe(2);
		expect(detail.redemptions.count).toBe(2);
		expect(detail.redemptions.recent.map((use) => use.order_id).sort()).toEqual([first.order.id, second.order.id].sort());
		expect(detail.redemptions.recent[0]).toMatchObject({
			status: "pending_payment",
			currency: "EUR",
			customer: expect.stringMatching(/^email:/),
		});

		const refused = await expectProblem(await send("DELETE", `/v1/admin/promotions/${promotion.id}`), 409, "promotion_used");
		expect(refused.detail).toMatch(/deactivate it instead/);
		const capped = await expectProblem(
			await send("PATCH", `/v1/admin/promotions/${promotion.id}`, { max_uses: 1 }),
			409,
			"max_uses_below_used",
		);
		expect(capped.used_count).toBe(2);
		expect((await send("PATCH", `/v1/admin/promotions/${promotion.id}`, { max_uses: 2 })).status).toBe(200);
		expect((await send("GET", `/v1/admin/promotions/${promotion.id}`)).status).toBe(200);
		expect((await auditRows(promotion.id)).map((row) => row.action)).toEqual(["promotion.create", "promotion.update"]);

		// Once deactivated, the code is refused at checkout.
		expect((await send("POST", `/v1/admin/promotions/${promotion.id}/deactivate`)).status).toBe(200);
		const refusedCheckout = await checkoutRequest(bus, await guestCart([[sku, 1]]), `key-${crypto.randomUUID()}`, {
			discount_code: `TEN${t}`,
		});
		await expectProblem(refusedCheckout, 422, "invalid_discount_code");
	});

	it("keeps a promotion whose only order was cancelled unpaid: the use came back, the order still lists it", async () => {
		const bus = new Bus();
		const { sku } = await newSku(3000);
		await stock(sku, 2);
		const t = tag();
		const promotion = await create({ code: `GONE${t}`, name: `Gone ${t}`, kind: "percentage", value: 1000 });
		const placed = await checkoutOk(bus, await guestCart([[sku, 1]]), { discount_code: `GONE${t}` });
		// The reservation runs out: the expiry check cancels the order and gives its use back.
		await withDb((db) =>
			db.primary
				.update(orders)
				.set({ reservationExpiresAt: new Date(Date.now() - 1000) })
				.where(eq(orders.id, placed.order.id)),
		);
		await bus.deliver(bus.orders.take((s) => s.body.type === "order.expiry_check").map((s) => s.body));
		const detail = (await (await send("GET", `/v1/admin/promotions/${promotion.id}`)).json()) as Detail;
		expect(detail).toMatchObject({ used_count: 0, redemptions: { count: 0, recent: [] } });
		// A late payment may still revive the order and take the use again: the promotion must stay.
		await expectProblem(await send("DELETE", `/v1/admin/promotions/${promotion.id}`), 409, "promotion_used");
		expect((await send("GET", `/v1/admin/promotions/${promotion.id}`)).status).toBe(200);
	});

	it("applies an automatic promotion on one product to that product's lines only", async () => {
		const bus = new Bus();
		const targeted = await newSku(2000);
		const other = await newSku(2000);
		await stock(targeted.sku, 3);
		await stock(other.sku, 3);
		const t = tag();
		await create({
			name: `Product ${t}`,
			kind: "fixed",
			value: 500,
			currency: "EUR",
			target: "products",
			target_ids: [targeted.productId],
		});
		const placed = await checkoutOk(
			bus,
			await guestCart([
				[targeted.sku, 2],
				[other.sku, 1],
			]),
		);
		const discountOf = (sku: string) => placed.order.lines.find((line) => line.sku === sku)?.discount.amount;
		// 5.00 off each unit of the targeted product.
		expect(discountOf(targeted.sku)).toBe(1000);
		expect(discountOf(other.sku)).toBe(0);
		expect(placed.order.discount.amount).toBe(1000);
	});
});
