import { and, asc, eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { recordAudit } from "../workers/catalog/audit.ts";
import { auditLog, deadLetters, idempotencyKeys, payments, webhookEndpoints } from "../workers/db/schema.ts";
import { authed, makeAdmin, registerShopper, type Session } from "./accounts-helpers.ts";
import { call, problemOf, withDb } from "./helpers.ts";
import { Bus, checkoutOk, confirm, guestCart, headersFor, newSku, stock } from "./orders-helpers.ts";

interface Entry {
	id: number;
	actor_id: string;
	actor_email: string | null;
	action: string;
	entity_type: string;
	entity_id: string;
	before: unknown;
	after: unknown;
	request_id: string | null;
	created_at: string;
}

const tag = () => crypto.randomUUID().slice(0, 8);

let admin: Session;
let other: Session;

beforeAll(async () => {
	admin = await makeAdmin(await registerShopper());
	other = await makeAdmin(await registerShopper());
});

/** An admin request through `bus` (its queues captured), with a fresh Idempotency-Key unless one is given. */
function adminCall(bus: Bus, method: string, path: string, body?: unknown, options: { token?: string; key?: string } = {}) {
	return bus.request(path, {
		method,
		headers: headersFor(
			{ bearer: options.token ?? admin.access_token },
			{ "idempotency-key": options.key ?? `key-${crypto.randomUUID()}` },
		),
		...(body === undefined ? {} : { body: JSON.stringify(body) }),
	});
}

async function listed(query: string, token = admin.access_token): Promise<{ data: Entry[]; next_cursor: string | null }> {
	const res = await call(`/v1/admin/audit-log?${query}`, authed(token));
	expect(res.status).toBe(200);
	expect(res.headers.get("cache-control")).toBe("private, no-store");
	return (await res.json()) as { data: Entry[]; next_cursor: string | null };
}

/** The stored rows of one entity, oldest first. */
function rowsOf(entityType: string, entityId: string) {
	return withDb((db) =>
		db.primary
			.select()
			.from(auditLog)
			.where(and(eq(auditLog.entityType, entityType), eq(auditLog.entityId, entityId)))
			.orderBy(asc(auditLog.id)),
	);
}

async function actionsOf(entityType: string, entityId: string): Promise<string[]> {
	return (await rowsOf(entityType, entityId)).map((row) => row.action);
}

async function paidOrder(bus: Bus): Promise<{ orderId: string; total: number; sku: string }> {
	const { sku } = await newSku(2000);
	await stock(sku, 5);
	const placed = await checkoutOk(bus, await guestCart([[sku, 2]]));
	expect((await confirm(bus, placed.payment?.id as string, "succeeded")).status).toBe(202);
	await bus.pump();
	return { orderId: placed.order.id, total: placed.order.total.amount, sku };
}

describe("audit log: reading and filtering", () => {
	it("filters by entity, action, actor and time exactly, newest first, and pages with a keyset cursor", async () => {
		const bus = new Bus();
		const t = tag();
		const a = (await (await adminCall(bus, "POST", "/v1/admin/categories", { name: `Audit A ${t}` })).json()) as { id: string };
		const b = (await (await adminCall(bus, "POST", "/v1/admin/categories", { name: `Audit B ${t}` })).json()) as { id: string };
		expect((await adminCall(bus, "PATCH", `/v1/admin/categories/${a.id}`, { name: `Audit A1 ${t}` })).status).toBe(200);
		expect((await adminCall(bus, "PATCH", `/v1/admin/categories/${a.id}`, { name: `Audit A2 ${t}` })).status).toBe(200);
		expect(
			(await adminCall(bus, "PATCH", `/v1/admin/categories/${b.id}`, { name: `Audit B1 ${t}` }, { token: other.access_token })).status,
		).toBe(200);

		const ofA = await listed(`entity_type=category&entity_id=${a.id}`);
		expect(ofA.data.map((e) => e.action)).toEqual(["category.update", "category.update", "category.create"]);
		expect(ofA.data.every((e) => e.entity_id === a.id && e.actor_id === admin.user.id && e.actor_email === admin.user.email)).toBe(true);
		expect(ofA.data.map((e) => (e.after as { name: string }).name)).toEqual([`Audit A2 ${t}`, `Audit A1 ${t}`, `Audit A ${t}`]);
		expect(ofA.data.map((e) => (e.before as { name: string } | null)?.name ?? null)).toEqual([`Audit A1 ${t}`, `Audit A ${t}`, null]);
		expect(ofA.next_cursor).toBeNull();
		const stored = await rowsOf("category", a.id);
		expect(ofA.data.map((e) => e.id)).toEqual(stored.map((row) => row.id).reverse());

		expect((await listed(`entity_id=${a.id}`)).data.map((e) => e.id)).toEqual(ofA.data.map((e) => e.id));
		expect((await listed(`entity_id=${a.id}&action=category.update`)).data.map((e) => e.id)).toEqual(ofA.data.slice(0, 2).map((e) => e.id));
		expect((await listed(`entity_id=${a.id}&action=category.delete`)).data).toEqual([]);
		// The second admin made exactly one change.
		const byOther = await listed(`actor_id=${other.user.id}`);
		expect(byOther.data.map((e) => [e.action, e.entity_id])).toEqual([["category.update", b.id]]);

		// Bounds are inclusive.
		const middle = ofA.data[1] as Entry;
		expect((await listed(`entity_id=${a.id}&since=${middle.created_at}`)).data.map((e) => e.id)).toEqual(
			ofA.data.slice(0, 2).map((e) => e.id),
		);
		expect((await listed(`entity_id=${a.id}&until=${middle.created_at}`)).data.map((e) => e.id)).toEqual(
			ofA.data.slice(1).map((e) => e.id),
		);

		const seen: number[] = [];
		let cursor: string | null = null;
		do {
			const page = await listed(`entity_id=${a.id}&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
			expect(page.data).toHaveLength(1);
			seen.push(...page.data.map((e) => e.id));
			cursor = page.next_cursor;
		} while (cursor);
		expect(seen).toEqual(ofA.data.map((e) => e.id));
	});

	it("refuses malformed filters and cursors with 400, customers with 403 and anonymous callers with 401", async () => {
		for (const query of ["since=yesterday", "actor_id=admin", "entity_type=Product", "action=update", "limit=0", "nope=1"]) {
			const res = await call(`/v1/admin/audit-log?${query}`, authed(admin.access_token));
			expect(res.status, query).toBe(400);
			expect((await problemOf(res)).code).toBe("validation_failed");
		}
		const cursor = await call("/v1/admin/audit-log?cursor=garbage", authed(admin.access_token));
		expect((await problemOf(cursor)).code).toBe("invalid_cursor");
		const customer = await registerShopper();
		expect((await call("/v1/admin/audit-log", authed(customer.access_token))).status).toBe(403);
		expect((await call("/v1/admin/audit-log")).status).toBe(401);
	});
});

describe("audit log: every admin write is recorded once, with it", () => {
	it("fulfil, ship, deliver, partial and full refund: one entry each, none for a refused or replayed request", async () => {
		const bus = new Bus();
		const { orderId, total } = await paidOrder(bus);

		const key = `fulfil-${crypto.randomUUID()}`;
		const fulfilled = await adminCall(bus, "POST", `/v1/admin/orders/${orderId}/fulfil`, undefined, { key });
		expect(fulfilled.status).toBe(200);
		// The same key again: the stored answer, no second change.
		expect((await adminCall(bus, "POST", `/v1/admin/orders/${orderId}/fulfil`, undefined, { key })).status).toBe(200);
		// A new request that the order's status refuses.
		expect((await adminCall(bus, "POST", `/v1/admin/orders/${orderId}/fulfil`)).status).toBe(409);
		expect(await actionsOf("order", orderId)).toEqual(["order.fulfil"]);
		const [first] = await rowsOf("order", orderId);
		expect(first).toMatchObject({ actorId: admin.user.id, requestId: fulfilled.headers.get("x-request-id") });
		expect(first?.before).toMatchObject({ status: "paid", total: { amount: total, currency: "EUR" }, tracking: null });
		expect(first?.after).toMatchObject({ status: "fulfilled" });

		expect((await adminCall(bus, "POST", `/v1/admin/orders/${orderId}/deliver`)).status).toBe(409);
		const shipped = await adminCall(bus, "POST", `/v1/admin/orders/${orderId}/ship`, { tracking_number: "TRK123", carrier: "DHL" });
		expect(shipped.status).toBe(200);
		expect((await adminCall(bus, "POST", `/v1/admin/orders/${orderId}/deliver`)).status).toBe(200);

		expect((await adminCall(bus, "POST", `/v1/admin/orders/${orderId}/refund`, { amount: 500, reason: "scratch" })).status).toBe(200);
		// More than is left: refused before any money moves.
		expect((await adminCall(bus, "POST", `/v1/admin/orders/${orderId}/refund`, { amount: total })).status).toBe(409);
		expect((await adminCall(bus, "POST", `/v1/admin/orders/${orderId}/refund`, { reason: "customer asked" })).status).toBe(200);
		expect((await adminCall(bus, "POST", `/v1/admin/orders/${orderId}/refund`, {})).status).toBe(409);

		const rows = await rowsOf("order", orderId);
		expect(rows.map((row) => row.action)).toEqual(["order.fulfil", "order.ship", "order.deliver", "order.refund_part", "order.refund"]);
		expect(rows[1]?.after).toMatchObject({ status: "shipped", tracking: { carrier: "DHL", number: "TRK123" } });
		expect(rows[2]?.after).toMatchObject({ status: "delivered" });
		expect(rows[3]?.before).toMatchObject({ status: "delivered", payment: { refunded: { amount: 0 } } });
		expect(rows[3]?.after).toMatchObject({
			status: "partially_refunded",
			payment: { refunded: { amount: 500 } },
			refund: { amount: { amount: 500, currency: "EUR" }, reason: "scratch", restock: false, lines: [] },
		});
		expect(rows[4]?.before).toMatchObject({ status: "partially_refunded" });
		expect(rows[4]?.after).toMatchObject({
			status: "refunded",
			payment: { status: "refunded", refunded: { amount: total } },
			refund: { amount: { amount: total - 500, currency: "EUR" }, reason: "customer asked" },
		});
		expect(rows.every((row) => row.actorId === admin.user.id && row.requestId)).toBe(true);
	});

	it("a refund the payment provider refuses leaves no entry", async () => {
		const bus = new Bus();
		const { orderId } = await paidOrder(bus);
		// The test provider refuses refunds of a payment it does not know.
		await withDb((db) => db.primary.update(payments).set({ providerPaymentId: "unknown_payment" }).where(eq(payments.orderId, orderId)));
		expect((await adminCall(bus, "POST", `/v1/admin/orders/${orderId}/refund`, { amount: 100 })).status).toBe(502);
		expect((await adminCall(bus, "POST", `/v1/admin/orders/${orderId}/refund`, {})).status).toBe(502);
		expect(await actionsOf("order", orderId)).toEqual([]);
	});

	it("accepting a payment under review: one entry; a second accept is refused and adds none", async () => {
		const bus = new Bus();
		const { sku } = await newSku(1800);
		await stock(sku, 3);
		const placed = await checkoutOk(bus, await guestCart([[sku, 1]]));
		const short = await bus.request(`/v1/payments/test/${placed.payment?.id}/confirm`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ outcome: "succeeded", amount: placed.order.total.amount - 1 }),
		});
		expect(short.status).toBe(202);
		await bus.pump();
		const orderId = placed.order.id;
		expect((await adminCall(bus, "POST", `/v1/admin/orders/${orderId}/accept-payment`)).status).toBe(200);
		expect((await adminCall(bus, "POST", `/v1/admin/orders/${orderId}/accept-payment`)).status).toBe(409);
		const rows = await rowsOf("order", orderId);
		expect(rows.map((row) => row.action)).toEqual(["order.accept_payment"]);
		expect(rows[0]?.before).toMatchObject({ status: "payment_review" });
		expect(rows[0]?.after).toMatchObject({ status: "paid", payment: { status: "succeeded" } });
	});

	it("a stock adjustment: one entry after the object confirms, none when refused or replayed, and a lost entry is written by the retry", async () => {
		const bus = new Bus();
		const { sku } = await newSku(1000);
		await stock(sku, 4);
		const key = `adjust-${crypto.randomUUID()}`;
		const path = `/v1/admin/inventory/${sku}/adjust`;
		const first = await adminCall(bus, "POST", path, { delta: 5, reason: "delivery" }, { key });
		expect(first.status).toBe(200);
		expect(await first.json()).toMatchObject({ on_hand: 9, replayed: false });
		expect((await adminCall(bus, "POST", path, { delta: 5, reason: "delivery" }, { key })).status).toBe(200);
		expect((await adminCall(bus, "POST", path, { delta: -1000, reason: "typo" })).status).toBe(409);
		const rows = await rowsOf("sku", sku);
		expect(rows.map((row) => [row.action, row.before, row.after])).toEqual([
			["inventory.adjust", { on_hand: 4 }, { on_hand: 9, delta: 5, reason: "delivery", idempotency_key: key }],
		]);
		expect(rows[0]?.requestId).toBe(first.headers.get("x-request-id"));

		// As if the entry's statement had failed after the object applied the change: the retry's replay writes it, once.
		await withDb(async (db) => {
			await db.primary.delete(auditLog).where(and(eq(auditLog.entityType, "sku"), eq(auditLog.entityId, sku)));
			await db.primary.delete(idempotencyKeys).where(and(eq(idempotencyKeys.scope, `user:${admin.user.id}`), eq(idempotencyKeys.key, key)));
		});
		const retried = await adminCall(bus, "POST", path, { delta: 5, reason: "delivery" }, { key });
		expect(await retried.json()).toMatchObject({ on_hand: 9, replayed: true });
		expect(await actionsOf("sku", sku)).toEqual(["inventory.adjust"]);
		await withDb((db) =>
			db.primary.delete(idempotencyKeys).where(and(eq(idempotencyKeys.scope, `user:${admin.user.id}`), eq(idempotencyKeys.key, key))),
		);
		expect((await adminCall(bus, "POST", path, { delta: 5, reason: "delivery" }, { key })).status).toBe(200);
		expect(await actionsOf("sku", sku)).toEqual(["inventory.adjust"]);
	});

	it("a dead-letter replay: one entry; a second replay adds none; a replay the queue refuses rolls its entry back", async () => {
		const bus = new Bus();
		const [letter, refused] = await withDb((db) =>
			db.primary
				.insert(deadLetters)
				.values([
					{ queue: "orders", messageId: `m-${crypto.randomUUID()}`, body: { type: "order.expiry_check", id: "x", data: {} }, attempts: 5 },
					{ queue: "orders", messageId: `m-${crypto.randomUUID()}`, body: { type: "order.expiry_check", id: "y", data: {} }, attempts: 5 },
				])
				.returning(),
		);
		if (!letter || !refused) throw new Error("dead letters not stored");
		expect((await adminCall(bus, "POST", `/v1/admin/dead-letters/${letter.id}/replay`)).status).toBe(202);
		expect((await adminCall(bus, "POST", `/v1/admin/dead-letters/${letter.id}/replay`)).status).toBe(409);
		const rows = await rowsOf("dead_letter", String(letter.id));
		expect(rows.map((row) => [row.action, row.before])).toEqual([
			["dead_letter.replay", { queue: "orders", message_id: letter.messageId, attempts: 5, replayed_at: null }],
		]);
		expect(rows[0]?.after).toMatchObject({ queue: "orders", replayed_at: expect.stringMatching(/^\d{4}-/) });

		bus.orders.failing = true;
		expect((await adminCall(bus, "POST", `/v1/admin/dead-letters/${refused.id}/replay`)).status).toBe(503);
		expect(await actionsOf("dead_letter", String(refused.id))).toEqual([]);
		const [still] = await withDb((db) => db.primary.select().from(deadLetters).where(eq(deadLetters.id, refused.id)));
		expect(still?.replayedAt).toBeNull();
	});

	it("webhook endpoints: create, rotate and deactivate once each, never with a secret", async () => {
		const bus = new Bus();
		const created = await adminCall(bus, "POST", "/v1/admin/webhooks", {
			url: `https://hooks.example.com/${tag()}`,
			event_types: ["order.paid"],
		});
		expect(created.status).toBe(201);
		const endpoint = (await created.json()) as { id: string; secret: string };
		const rotated = await adminCall(bus, "POST", `/v1/admin/webhooks/${endpoint.id}/rotate-secret`);
		expect(rotated.status).toBe(200);
		const { secret: second } = (await rotated.json()) as { secret: string };
		expect((await adminCall(bus, "DELETE", `/v1/admin/webhooks/${endpoint.id}`)).status).toBe(204);
		// Deactivating again succeeds and changes nothing: no second entry.
		expect((await adminCall(bus, "DELETE", `/v1/admin/webhooks/${endpoint.id}`)).status).toBe(204);
		expect((await adminCall(bus, "POST", "/v1/admin/webhooks/whe_0000000000000000zzzz/rotate-secret")).status).toBe(404);

		const rows = await rowsOf("webhook_endpoint", endpoint.id);
		expect(rows.map((row) => row.action)).toEqual([
			"webhook_endpoint.create",
			"webhook_endpoint.rotate_secret",
			"webhook_endpoint.deactivate",
		]);
		expect(rows[0]?.after).toMatchObject({ id: endpoint.id, active: true, rotating_until: null });
		expect(rows[1]?.after).toMatchObject({ rotating_until: expect.stringMatching(/^\d{4}-/) });
		expect(rows[2]?.before).toMatchObject({ active: true });
		expect(rows[2]?.after).toMatchObject({ active: false });

		const [stored] = await withDb((db) => db.primary.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id)));
		const secrets = [endpoint.secret, second, stored?.secret, stored?.previousSecret].filter((s): s is string => Boolean(s));
		expect(secrets.length).toBeGreaterThanOrEqual(3);
		// Not in this endpoint's entries, nor anywhere in the log.
		const text = JSON.stringify(rows);
		for (const secret of secrets) {
			expect(text).not.toContain(secret);
			const [found] = await withDb((db) =>
				db.primary
					.select({ n: sql<number>`count(*)::int` })
					.from(auditLog)
					.where(sql`strpos(coalesce(${auditLog.before}::text, '') || coalesce(${auditLog.after}::text, ''), ${secret}) > 0`),
			);
			expect(found?.n).toBe(0);
		}
		expect(text).not.toMatch(/whsec_|"secret"/);
	});

	it("records fields that hold secrets as [redacted], at any depth, whatever a writer passes", async () => {
		const entityId = `probe-${tag()}`;
		await withDb((db) =>
			recordAudit(db.primary, {
				actorId: admin.user.id,
				action: "probe.write",
				entityType: "probe",
				entityId,
				before: { secret: "whsec_one", nested: [{ token: "tok", keep: 1 }] },
				after: { password_hash: "$argon2id$x", endpoint: { previous_secret: "whsec_two", url: "https://x.test" } },
			}),
		);
		const [row] = await rowsOf("probe", entityId);
		expect(row?.before).toEqual({ secret: "[redacted]", nested: [{ token: "[redacted]", keep: 1 }] });
		expect(row?.after).toEqual({ password_hash: "[redacted]", endpoint: { previous_secret: "[redacted]", url: "https://x.test" } });
	});
});
