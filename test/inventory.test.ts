import {
	createExecutionContext,
	createMessageBatch,
	env,
	getQueueResult,
	runDurableObjectAlarm,
	runInDurableObject,
} from "cloudflare:test";
import { eq } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inventoryLedger, products, variants } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { inventoryItem, reserveAll } from "../workers/inventory/reservations.ts";
import { envelope } from "../workers/queues/envelope.ts";
import { consumeQueueBatch } from "../workers/queues/index.ts";
import { authed, makeAdmin, registerShopper, type Session } from "./accounts-helpers.ts";
import { at, call, problemOf, withDb } from "./helpers.ts";
import { latch } from "./latch.ts";

/** A SKU of its own (a product and one variant in Postgres), so object state never leaks between tests. */
async function newSku(): Promise<string> {
	const productId = newId("prod");
	const sku = `INV-${productId.slice(5, 15).toUpperCase()}`;
	await withDb(async (db) => {
		await db.primary.insert(products).values({ id: productId, slug: `inv-${productId.slice(5)}`, title: "Stock test", status: "active" });
		await db.primary.insert(variants).values({ id: newId("var"), productId, sku, title: "One", priceMinor: 100, currency: "EUR" });
	});
	return sku;
}

async function stock(sku: string, units: number): Promise<void> {
	const result = await inventoryItem(env, sku).adjust(sku, units, "test stock", `stock-${crypto.randomUUID()}`);
	if (!result.ok) throw new Error(`adjust failed: ${JSON.stringify(result)}`);
}

describe("InventoryItem: no oversell (I1)", () => {
	it("lets exactly the available units be reserved by 30 concurrent checkouts", async () => {
		const sku = await newSku();
		await stock(sku, 10);
		const item = inventoryItem(env, sku);
		const results = await Promise.all(Array.from({ length: 30 }, (_, i) => item.reserve(sku, `r-${i}`, 1, 60_000)));
		expect(results.filter((r) => r.ok)).toHaveLength(10);
		expect(await item.available(sku)).toMatchObject({ available: 0, onHand: 10, reserved: 10 });
	});

	it("keeps sold plus reserved within stock under any interleaving of reserve, release and commit", async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.integer({ min: 0, max: 8 }),
				fc.array(
					fc.tuple(fc.constantFrom("reserve", "release", "commit"), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 4 })),
					{
						minLength: 1,
						maxLength: 25,
					},
				),
				async (initial, ops) => {
					const sku = await newSku();
					if (initial > 0) await stock(sku, initial);
					const item = inventoryItem(env, sku);
					const outcomes = await Promise.all(
						ops.map(([op, id, qty]) =>
							op === "reserve"
								? item.reserve(sku, `r${id}`, qty, 60_000)
								: op === "release"
									? item.release(sku, `r${id}`)
									: item.commit(sku, `r${id}`),
						),
					);
					const sold = await runInDurableObject(
						item,
						(_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT coalesce(sum(quantity), 0) AS n FROM sales").one().n,
					);
					const level = await item.available(sku);
					expect(level.available).toBeGreaterThanOrEqual(0);
					expect(level.onHand).toBe(initial - sold);
					expect(sold + level.reserved).toBeLessThanOrEqual(initial);
					expect(outcomes).toHaveLength(ops.length);
				},
			),
			{ numRuns: 15 },
		);
	});

	it("never holds more than the stock under concurrent reservations of mixed quantities", async () => {
		const sku = await newSku();
		await stock(sku, 10);
		const item = inventoryItem(env, sku);
		const quantities = Array.from({ length: 50 }, (_, i) => 1 + (i % 3));
		const results = await Promise.all(quantities.map((q, i) => item.reserve(sku, `m-${i}`, q, 60_000)));
		const held = results.reduce((sum, r, i) => sum + (r.ok ? (quantities[i] as number) : 0), 0);
		expect(held).toBeLessThanOrEqual(10);
		expect(held).toBeGreaterThanOrEqual(8); // a 3 may be refused with 2 left, but never more slack than that
		expect((await item.available(sku)).available).toBe(10 - held);
	});

	// The object runs each call's reads and writes in one step, so a commit and the expiry alarm can only
	// meet in one of two orders; each is forced here.
	for (const alarmFirst of [true, false]) {
		it(`returns expired stock exactly once when the expiry alarm runs ${alarmFirst ? "before" : "after"} a late commit`, async () => {
			const sku = await newSku();
			await stock(sku, 6);
			const item = inventoryItem(env, sku);
			const held = await item.reserve(sku, "race", 4, 60_000);
			if (!held.ok) throw new Error(`reserve failed: ${JSON.stringify(held)}`);
			const { commit, alarmRan } = await at(held.expiresAt + 1, async () => {
				if (alarmFirst) {
					const alarmRan = await runDurableObjectAlarm(item);
					return { alarmRan, commit: await item.commit(sku, "race") };
				}
				const commit = await item.commit(sku, "race");
				return { commit, alarmRan: await runDurableObjectAlarm(item) };
			});
			// Still pending when run here: the runtime had not run it on its own.
			expect(alarmRan).toBe(true);
			expect(commit.ok).toBe(false);
			expect(await item.available(sku)).toMatchObject({ available: 6, onHand: 6, reserved: 0 });
			const expiredEvents = await runInDurableObject(item, (_i, state) => state.storage.sql.exec("SELECT seq FROM stock").one().seq);
			// adjust, reserve, expire: three events, the expiry recorded once.
			expect(expiredEvents).toBe(3);
		});
	}

	it("holds once per reservation id and sells once per commit", async () => {
		const sku = await newSku();
		await stock(sku, 5);
		const item = inventoryItem(env, sku);
		expect((await item.reserve(sku, "order-1", 2, 60_000)).ok).toBe(true);
		expect((await item.reserve(sku, "order-1", 2, 60_000)).ok).toBe(true);
		expect(await item.reserve(sku, "order-1", 3, 60_000)).toEqual({ ok: false, reason: "conflict" });
		expect((await item.available(sku)).available).toBe(3);
		expect(await item.commit(sku, "order-1")).toEqual({ ok: true, quantity: 2, alreadyCommitted: false });
		expect(await item.commit(sku, "order-1")).toEqual({ ok: true, quantity: 2, alreadyCommitted: true });
		expect(await item.available(sku)).toMatchObject({ available: 3, onHand: 3, reserved: 0 });
		expect(await item.reserve(sku, "order-1", 2, 60_000)).toEqual({ ok: false, reason: "committed" });
	});

	it("releases expired reservations from its alarm, and a late commit fails", async () => {
		const sku = await newSku();
		await stock(sku, 4);
		const item = inventoryItem(env, sku);
		const held = await item.reserve(sku, "late", 3, 60_000);
		if (!held.ok) throw new Error(`reserve failed: ${JSON.stringify(held)}`);
		const alarmAt = await runInDurableObject(item, (_instance, state) => state.storage.getAlarm());
		expect(alarmAt).toBe(held.expiresAt);
		const { ran, left } = await at(held.expiresAt + 1, async () => ({
			ran: await runDurableObjectAlarm(item),
			// Read the table directly: the alarm, not a later read, must have released the hold.
			left: await runInDurableObject(item, (_instance, state) => state.storage.sql.exec("SELECT id FROM reservations").toArray()),
		}));
		expect(ran).toBe(true);
		expect(left).toEqual([]);
		expect(await item.available(sku)).toMatchObject({ available: 4, reserved: 0 });
		expect((await item.commit(sku, "late")).ok).toBe(false);
	});

	it("reserves several lines all or nothing and names the short lines", async () => {
		const [a, b] = [await newSku(), await newSku()];
		await stock(a, 5);
		await stock(b, 3);
		const failed = await reserveAll(
			env,
			"ord-x",
			[
				{ sku: a, quantity: 2 },
				{ sku: b, quantity: 5 },
				{ sku: a, quantity: 1 },
			],
			60_000,
		);
		expect(failed).toEqual({ ok: false, short: [{ sku: b, requested: 5, available: 3, short: 2 }] });
		expect((await inventoryItem(env, a).available(a)).available).toBe(5);
		const ok = await reserveAll(
			env,
			"ord-y",
			[
				{ sku: a, quantity: 2 },
				{ sku: a, quantity: 3 },
				{ sku: b, quantity: 3 },
			],
			60_000,
		);
		expect(ok.ok).toBe(true);
		expect((await inventoryItem(env, a).available(a)).available).toBe(0);
	});

	it("a refused reservation writes nothing: no event, no alarm, the sequence unchanged", async () => {
		const sku = await newSku();
		await stock(sku, 2);
		const item = inventoryItem(env, sku);
		const before = await runInDurableObject(item, async (_i, state) => ({
			seq: state.storage.sql.exec<{ seq: number }>("SELECT seq FROM stock").one().seq,
			alarm: await state.storage.getAlarm(),
		}));
		expect(await item.reserve(sku, "too-many", 3, 60_000)).toEqual({ ok: false, reason: "insufficient", available: 2, short: 1 });
		// reserveAll gives back only what a line took: the refused line is not released, so nothing is recorded either.
		expect(await reserveAll(env, "too-many-2", [{ sku, quantity: 5 }], 60_000)).toMatchObject({ ok: false });
		const after = await runInDurableObject(item, async (_i, state) => ({
			seq: state.storage.sql.exec<{ seq: number }>("SELECT seq FROM stock").one().seq,
			alarm: await state.storage.getAlarm(),
			outbox: state.storage.sql.exec("SELECT id FROM outbox").toArray().length,
		}));
		expect(after).toEqual({ ...before, outbox: 0 });
		// A hold that is taken sets the expiry alarm at once, though its event leaves in the background.
		const held = await item.reserve(sku, "fits", 2, 60_000);
		expect(held.ok).toBe(true);
		expect(await runInDurableObject(item, (_i, state) => state.storage.getAlarm())).toBe(held.ok ? held.expiresAt : null);
	});

	it("emits one low-stock event per crossing of the threshold", async () => {
		const sku = await newSku();
		await stock(sku, 10);
		const item = inventoryItem(env, sku);
		await item.reserve(sku, "a", 6, 60_000); // 4 left: crosses below 5
		await item.reserve(sku, "b", 1, 60_000); // 3 left: still below, no new alert
		await item.release(sku, "a"); // 9: back above
		await item.reserve(sku, "c", 7, 60_000); // 2: crosses again
		const alerts = await runInDurableObject(
			item,
			(_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT low_alerted AS n FROM stock").one().n,
		);
		expect(alerts).toBe(1);
	});
});

describe("inventory routes", () => {
	let admin: Session;

	it("answers availability for known SKUs only", async () => {
		const sku = await newSku();
		await stock(sku, 7);
		const res = await call(`/v1/inventory/${sku}`);
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ sku, available: 7 });
		expect((await call("/v1/inventory/NO-SUCH-SKU-123")).status).toBe(404);
		expect((await call("/v1/inventory/bad sku")).status).toBe(400);
	});

	it("adjusts stock once per Idempotency-Key and refuses going below reservations", async () => {
		admin ??= await makeAdmin(await registerShopper());
		const sku = await newSku();
		const adjust = (body: object, key?: string) =>
			call(
				`/v1/admin/inventory/${sku}/adjust`,
				authed(admin.access_token, { method: "POST", body: JSON.stringify(body), headers: key ? { "idempotency-key": key } : {} }),
			);
		const first = await adjust({ delta: 12, reason: "received" }, "receipt-000001");
		expect(first.status).toBe(200);
		const firstBody = await first.json();
		expect(firstBody).toMatchObject({ on_hand: 12, available: 12, replayed: false });
		const replay = await adjust({ delta: 12, reason: "received" }, "receipt-000001");
		expect(replay.headers.get("idempotent-replayed")).toBe("true");
		expect(await replay.json()).toEqual(firstBody);
		expect((await inventoryItem(env, sku).available(sku)).onHand).toBe(12);
		const reused = await adjust({ delta: 5, reason: "received" }, "receipt-000001");
		expect(reused.status).toBe(422);
		expect((await problemOf(reused)).code).toBe("idempotency_key_reused");
		expect((await adjust({ delta: 1, reason: "x" })).status).toBe(400);

		await inventoryItem(env, sku).reserve(sku, "held", 10, 60_000);
		const below = await adjust({ delta: -5, reason: "damaged" }, "damage-000001");
		expect(below.status).toBe(409);
		expect((await problemOf(below)).code).toBe("below_reserved");
		expect((await inventoryItem(env, sku).available(sku)).onHand).toBe(12);
	});

	it("refuses customers on the adjust route", async () => {
		const customer = await registerShopper();
		const res = await call(
			"/v1/admin/inventory/ANY-SKU/adjust",
			authed(customer.access_token, {
				method: "POST",
				body: JSON.stringify({ delta: 1, reason: "x" }),
				headers: { "idempotency-key": "k-00000001" },
			}),
		);
		expect(res.status).toBe(403);
	});

	it("pushes availability to live subscribers on every change", async () => {
		const sku = await newSku();
		await stock(sku, 3);
		expect((await call(`/v1/inventory/${sku}/live`)).status).toBe(426);
		const res = await call(`/v1/inventory/${sku}/live`, { headers: { upgrade: "websocket" } });
		expect(res.status).toBe(101);
		const socket = res.webSocket as WebSocket;
		const messages: { available: number }[] = [];
		const [first, all] = [latch(), latch()];
		socket.addEventListener("message", (event) => {
			messages.push(JSON.parse(event.data as string));
			if (messages.length === 1) first.open();
			if (messages.length === 4) all.open();
		});
		socket.accept();
		// The figure on connecting arrives before anything changes it.
		await first.opened;
		await inventoryItem(env, sku).reserve(sku, "live-1", 2, 60_000);
		await inventoryItem(env, sku).release(sku, "live-1");
		admin ??= await makeAdmin(await registerShopper());
		const adjusted = await call(
			`/v1/admin/inventory/${sku}/adjust`,
			authed(admin.access_token, {
				method: "POST",
				body: JSON.stringify({ delta: 2, reason: "received" }),
				headers: { "idempotency-key": `live-${sku}` },
			}),
		);
		expect(adjusted.status).toBe(200);
		await all.opened;
		expect(messages.map((m) => m.available)).toEqual([3, 1, 3, 5]);
		socket.close(1000, "done");
	});
});

describe("inventory ledger consumer (I3)", () => {
	it("receives every change of an object through the orders queue, in one row per event", async () => {
		const sku = await newSku();
		const item = inventoryItem(env, sku);
		await item.adjust(sku, 6, "received", "ledger-path-1");
		await item.reserve(sku, "o-1", 2, 60_000);
		await item.commit(sku, "o-1");
		let rows: { delta: number; reason: string }[] = [];
		for (let i = 0; i < 100 && rows.length < 3; i++) {
			await new Promise((resolve) => setTimeout(resolve, 100));
			rows = await withDb((db) =>
				db.primary
					.select({ delta: inventoryLedger.delta, reason: inventoryLedger.reason })
					.from(inventoryLedger)
					.where(eq(inventoryLedger.sku, sku)),
			);
		}
		expect(rows.map((r) => `${r.reason}:${r.delta}`).sort()).toEqual(["adjusted:6", "committed:-2", "reserved:0"]);
		expect(await runInDurableObject(item, (_i, state) => state.storage.sql.exec("SELECT id FROM outbox").toArray())).toEqual([]);
	});

	it("writes a batch's events in one go: duplicates once, a malformed event retried alone", async () => {
		const sku = `LEDGER-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
		const event = (seq: number, type: string, delta: number) =>
			envelope(`inv:${sku}:${seq}`, `inventory.${type}`, { sku, seq, on_hand: 4, available: 4, quantity: 1, on_hand_delta: delta });
		const malformed = envelope(`inv:${sku}:9`, "inventory.reserved", { seq: 9 });
		const bodies = [event(1, "adjusted", 4), event(2, "reserved", 0), event(2, "reserved", 0), malformed, event(3, "released", 0)];
		const batch = createMessageBatch(
			"orders",
			bodies.map((body, i) => ({ id: `m-${i}`, timestamp: new Date(), attempts: 1, body })),
		);
		const ctx = createExecutionContext();
		await consumeQueueBatch(batch, env, ctx);
		const result = await getQueueResult(batch, ctx);
		expect([...result.explicitAcks].sort()).toEqual(["m-0", "m-1", "m-2", "m-4"]);
		expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m-3"]);
		const rows = await withDb((db) => db.primary.select().from(inventoryLedger).where(eq(inventoryLedger.sku, sku)));
		expect(rows.map((r) => `${r.reason}:${r.delta}`).sort()).toEqual(["adjusted:4", "released:0", "reserved:0"]);
	});

	it("writes one ledger row per event, however often it is delivered", async () => {
		const sku = `LEDGER-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
		const event = envelope(`inv:${sku}:1`, "inventory.adjusted", { sku, seq: 1, on_hand: 4, available: 4, quantity: 4, on_hand_delta: 4 });
		for (let i = 0; i < 3; i++) {
			const batch = createMessageBatch("orders", [{ id: `m-${i}`, timestamp: new Date(), attempts: 1, body: event }]);
			const ctx = createExecutionContext();
			await consumeQueueBatch(batch, env, ctx);
			expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([`m-${i}`]);
		}
		const rows = await withDb((db) => db.primary.select().from(inventoryLedger).where(eq(inventoryLedger.sku, sku)));
		expect(rows.map((r) => [r.delta, r.reason])).toEqual([[4, "adjusted"]]);
	});
});
