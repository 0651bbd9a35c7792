import { env, runInDurableObject } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditLog, inventoryLedger, orderLines, stockDrift, stockLevels, stockReconciliationRuns } from "../workers/db/schema.ts";
import { openDriftSummary, reconcileStock, type StockDriftView, type StockRunView } from "../workers/inventory/reconcile.ts";
import { inventoryItem } from "../workers/inventory/reservations.ts";
import { envelope } from "../workers/queues/envelope.ts";
import { authed, makeAdmin, registerShopper, type Session } from "./accounts-helpers.ts";
import { call, problemOf, withDb } from "./helpers.ts";
import { latch } from "./latch.ts";
import { available, Bus, checkoutOk, confirm, guestCart, newSku, stock } from "./orders-helpers.ts";

/**
 * Every run here checks only the SKUs its test made. Other files run the
 * job over a slice of every SKU (the fuzz test and the console's "Run now")
 * from runtimes of their own, where the objects of this file's SKUs are
 * empty, so a foreign run may open a ledger drift on one of them; a run here
 * that finds agreement clears it, and the assertions pick this file's rows by
 * kind or id.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One run for these SKUs, or null when another run holds the lease. */
function reconcileOnce(skus: string[]): Promise<StockRunView | null> {
	return withDb((db) => reconcileStock(env, db, { skus }));
}

/** A run for these SKUs, waiting out another file's run that holds the lease. */
async function reconcile(...skus: string[]): Promise<StockRunView> {
	for (let attempt = 0; attempt < 100; attempt++) {
		const run = await reconcileOnce(skus);
		if (run) return run;
		await sleep(100);
	}
	throw new Error("another stock reconciliation run held the lease for 10 s");
}

async function driftOf(sku: string) {
	return withDb((db) => db.primary.select().from(stockDrift).where(eq(stockDrift.sku, sku)).orderBy(stockDrift.id));
}

const openOf = async (sku: string) => (await driftOf(sku)).filter((row) => row.resolvedAt === null);

async function levelOf(sku: string) {
	const [row] = await withDb((db) => db.primary.select().from(stockLevels).where(eq(stockLevels.sku, sku)));
	return row ? { available: row.available, seq: row.seq } : undefined;
}

/**
 * A SKU with four events, all applied by the consumer: 10 received, 3 held
 * and sold, 5 more received. The object: 12 on hand, 3 sold, seq 4; the
 * ledger: +10, 0, −3, +5.
 */
async function stockedSku(bus: Bus): Promise<string> {
	const { sku } = await newSku();
	await bus.watch(sku);
	const item = inventoryItem(env, sku);
	await stock(sku, 10);
	const held = await item.reserve(sku, "recon-hold", 3, 60_000);
	if (!held.ok) throw new Error("hold refused");
	await item.commit(sku, "recon-hold");
	await stock(sku, 5);
	await bus.pump();
	return sku;
}

/** Deletes the ledger row of the object's event `seq` for the SKU. */
async function deleteLedgerRow(sku: string, seq: number): Promise<void> {
	const deleted = await withDb((db) =>
		db.primary
			.delete(inventoryLedger)
			.where(eq(inventoryLedger.eventId, `inv:${sku}:${seq}`))
			.returning(),
	);
	expect(deleted).toHaveLength(1);
}

let admin: Session;
let customer: Session;

beforeAll(async () => {
	admin = await makeAdmin(await registerShopper());
	customer = await registerShopper();
});

function resolve(id: number, body: unknown, token = admin.access_token): Promise<Response> {
	return call(`/v1/admin/stock-drift/${id}/resolve`, authed(token, { method: "POST", body: JSON.stringify(body) }));
}

async function listDrift(query: string): Promise<StockDriftView[]> {
	const res = await call(`/v1/admin/stock-drift?${query}`, authed(admin.access_token));
	expect(res.status).toBe(200);
	return ((await res.json()) as { data: StockDriftView[] }).data;
}

describe("stock reconciliation: the InventoryItem against the ledger, the stock levels and paid orders", () => {
	it("finds nothing for a SKU whose ledger, stock level and paid orders agree with its object", async () => {
		const sku = await stockedSku(new Bus());
		const run = await reconcile(sku);
		expect(run).toMatchObject({ status: "succeeded", skus_checked: 1, drifted: 0, repaired: 0, errors: [] });
		expect(await openOf(sku)).toEqual([]);
	});

	it("drift is found and reported after a ledger row is deleted", async () => {
		const sku = await stockedSku(new Bus());
		expect((await reconcile(sku)).drifted).toBe(0);

		// The sale's row goes missing: the ledger now sums to 15 in three rows, the object has 12 after four events.
		await deleteLedgerRow(sku, 3);
		const run = await reconcile(sku);
		expect(run).toMatchObject({ status: "succeeded", skus_checked: 1, drifted: 1, repaired: 0 });
		const open = await openOf(sku);
		expect(open).toHaveLength(1);
		expect(open[0]).toMatchObject({ kind: "ledger", runId: run.id, resolution: null });
		expect(open[0]?.observed).toMatchObject({
			object_on_hand: 12,
			object_seq: 4,
			object_sold: 3,
			ledger_on_hand: 15,
			ledger_events: 3,
			ledger_max_seq: 4,
		});

		// Reported: the admin route lists it as open, with the figures, and the run is in the run list.
		const listed = await listDrift(`open=true&sku=${sku}`);
		expect(listed).toEqual([
			expect.objectContaining({
				id: open[0]?.id,
				sku,
				kind: "ledger",
				run_id: run.id,
				resolved_at: null,
				observed: expect.objectContaining({ object_on_hand: 12, ledger_on_hand: 15, ledger_events: 3 }),
			}),
		]);
		const runs = await call("/v1/admin/stock-reconciliation/runs?limit=100", authed(admin.access_token));
		expect(runs.status).toBe(200);
		expect(((await runs.json()) as { data: StockRunView[] }).data).toContainEqual(expect.objectContaining({ id: run.id, drifted: 1 }));

		// Alerts see it: open drift exists.
		const summary = await withDb((db) => openDriftSummary(db.primary));
		expect(summary.open).toBeGreaterThanOrEqual(1);
		expect(summary.by_kind.ledger).toBeGreaterThanOrEqual(1);
		expect(summary.oldest).not.toBeNull();

		// Seen again, it is the same drift with the newer run, not a second one.
		const again = await reconcile(sku);
		const still = await openOf(sku);
		expect(still).toHaveLength(1);
		expect(still[0]).toMatchObject({ id: open[0]?.id, runId: again.id });
	});

	it("leaves a check to the next run while the consumer has not applied the object's newest event", async () => {
		const bus = new Bus();
		const sku = await stockedSku(bus);
		await inventoryItem(env, sku).reserve(sku, "in-flight", 2, 60_000);
		// The hold's event waits on the queue: the ledger and the stock level are one event behind, which is lag, not drift.
		const run = await reconcile(sku);
		expect(run).toMatchObject({ skus_checked: 1, drifted: 0, repaired: 0 });
		expect(await openOf(sku)).toEqual([]);
		await bus.pump();
		expect((await reconcile(sku)).drifted).toBe(0);
		expect(await levelOf(sku)).toEqual({ available: 10, seq: 5 });
	});

	it("rewrites a corrupted stock level from the object and resolves the drift as repaired", async () => {
		const sku = await stockedSku(new Bus());
		await withDb((db) => db.primary.update(stockLevels).set({ available: 99 }).where(eq(stockLevels.sku, sku)));
		const run = await reconcile(sku);
		expect(run).toMatchObject({ drifted: 1, repaired: 1 });
		expect(await levelOf(sku)).toEqual({ available: (await available(sku)).available, seq: 4 });
		const drift = (await driftOf(sku)).filter((row) => row.kind === "projection");
		expect(drift).toHaveLength(1);
		expect(drift[0]).toMatchObject({ kind: "projection", resolution: "repaired", resolvedBy: "reconciliation" });
		expect(drift[0]?.resolvedAt).not.toBeNull();
		expect(drift[0]?.observed).toMatchObject({ object_available: 12, projection_available: 99, projection_seq: 4 });

		// A stock level ahead of its object (a seq the object never reached) is rewritten too.
		await withDb((db) => db.primary.update(stockLevels).set({ available: 0, seq: 999 }).where(eq(stockLevels.sku, sku)));
		expect(await reconcile(sku)).toMatchObject({ drifted: 1, repaired: 1 });
		expect(await levelOf(sku)).toEqual({ available: 12, seq: 4 });
		expect(await openOf(sku)).toEqual([]);
	});

	it("sets the object's on hand to the ledger's figure on an admin's explicit request, once, audited with the resolution", async () => {
		const bus = new Bus();
		const sku = await stockedSku(bus);
		await deleteLedgerRow(sku, 3);
		await reconcile(sku);
		const [drift] = await openOf(sku);
		if (!drift) throw new Error("no drift");
		// The job itself changed neither the object nor the ledger.
		expect((await available(sku)).onHand).toBe(12);

		const res = await resolve(drift.id, { action: "set_object_from_ledger", note: "Shelf count matches the ledger" });
		expect(res.status).toBe(200);
		expect(await res.json()).toMatchObject({
			id: drift.id,
			resolution: "set_object_from_ledger",
			resolved_by: admin.user.id,
			note: "Shelf count matches the ledger",
		});
		expect((await available(sku)).onHand).toBe(15);

		const entries = await withDb((db) =>
			db.primary
				.select()
				.from(auditLog)
				.where(and(eq(auditLog.actorId, admin.user.id)))
				.orderBy(auditLog.id),
		);
		const mine = entries.filter((e) => e.entityId === sku || e.entityId === String(drift.id));
		expect(mine.map((e) => `${e.action} ${e.entityType}`)).toEqual([
			"inventory.adjust sku",
			"stock_drift.set_object_from_ledger stock_drift",
		]);
		expect(mine[0]?.after).toMatchObject({ on_hand: 15, delta: 3, idempotency_key: `stock-drift:${drift.id}` });
		expect(mine[1]?.after).toMatchObject({
			resolution: "set_object_from_ledger",
			note: "Shelf count matches the ledger",
			adjusted: { delta: 3 },
		});

		// Again: answered as resolved, the object adjusted once; another resolution is refused.
		const repeat = await resolve(drift.id, { action: "set_object_from_ledger", note: "Shelf count matches the ledger" });
		expect(repeat.status).toBe(200);
		expect((await available(sku)).onHand).toBe(15);
		const other = await resolve(drift.id, { action: "accept", note: "changed my mind" });
		expect(other.status).toBe(409);
		expect((await problemOf(other)).code).toBe("drift_resolved");

		// The adjustment reaches the ledger too, so the difference stays what the admin resolved: no new drift.
		await bus.pump();
		expect((await reconcile(sku)).drifted).toBe(0);
		expect(await openOf(sku)).toEqual([]);
	});

	it("accepts a difference with a note: stock unchanged, audited, and not reported again", async () => {
		const sku = await stockedSku(new Bus());
		await deleteLedgerRow(sku, 1);
		await reconcile(sku);
		const [drift] = await openOf(sku);
		if (!drift) throw new Error("no drift");
		const res = await resolve(drift.id, { action: "accept", note: "Opening stock row lost in the 2026 migration" });
		expect(res.status).toBe(200);
		expect(await res.json()).toMatchObject({ resolution: "accepted", note: "Opening stock row lost in the 2026 migration" });
		expect((await available(sku)).onHand).toBe(12);
		const [entry] = await withDb((db) =>
			db.primary
				.select()
				.from(auditLog)
				.where(and(eq(auditLog.entityType, "stock_drift"), eq(auditLog.entityId, String(drift.id)))),
		);
		expect(entry).toMatchObject({ action: "stock_drift.accept", actorId: admin.user.id });
		expect(entry?.after).toMatchObject({ resolution: "accepted", note: "Opening stock row lost in the 2026 migration" });

		expect((await reconcile(sku)).drifted).toBe(0);
		expect(await openOf(sku)).toEqual([]);
		expect(await listDrift(`open=false&sku=${sku}`)).toContainEqual(
			expect.objectContaining({ id: drift.id, resolution: "accepted", note: "Opening stock row lost in the 2026 migration" }),
		);
	});

	it("compares paid orders with the object's sales: more paid units than sold is drift, which only an accept resolves", async () => {
		const bus = new Bus();
		const { sku } = await newSku(1200);
		await bus.watch(sku);
		await stock(sku, 5);
		const placed = await checkoutOk(bus, await guestCart([[sku, 2]]));
		await confirm(bus, placed.payment?.id as string, "succeeded");
		await bus.pump();
		expect(await reconcile(sku)).toMatchObject({ drifted: 0 });

		// The order now claims a unit the object never sold.
		await withDb((db) =>
			db.primary
				.update(orderLines)
				.set({ quantity: 3 })
				.where(and(eq(orderLines.orderId, placed.order.id), eq(orderLines.sku, sku))),
		);
		expect(await reconcile(sku)).toMatchObject({ drifted: 1, repaired: 0 });
		const [drift] = (await openOf(sku)).filter((row) => row.kind === "orders");
		expect(drift).toMatchObject({ kind: "orders" });
		expect(drift?.observed).toMatchObject({ object_sold: 2, paid_units: 3 });

		const refused = await resolve(drift?.id ?? 0, { action: "set_object_from_ledger", note: "x" });
		expect(refused.status).toBe(422);
		expect((await problemOf(refused)).code).toBe("drift_not_ledger");
		expect((await resolve(drift?.id ?? 0, { action: "accept", note: "Line edited by support" })).status).toBe(200);
		expect((await reconcile(sku)).drifted).toBe(0);
	});

	it("reports an object without a single event, while Postgres has the SKU's history, as one ledger drift that an admin restores", async () => {
		const bus = new Bus();
		const { sku } = await newSku();
		// The consumer applied the object's first event, and then the object lost its storage.
		const event = envelope(`inv:${sku}:1`, "inventory.adjusted", { sku, seq: 1, on_hand: 6, available: 6, quantity: 6, on_hand_delta: 6 });
		expect((await bus.deliver([event])).retryMessages).toEqual([]);
		const run = await reconcile(sku);
		expect(run).toMatchObject({ drifted: 1, repaired: 0 });
		const open = await openOf(sku);
		expect(open.map((d) => d.kind)).toEqual(["ledger"]);
		expect(open[0]?.observed).toMatchObject({ object_on_hand: 0, object_seq: 0, ledger_on_hand: 6, ledger_events: 1, ledger_max_seq: 1 });
		// Nothing to repair the stock level from.
		expect(await levelOf(sku)).toEqual({ available: 6, seq: 1 });

		await bus.watch(sku);
		expect((await resolve(open[0]?.id ?? 0, { action: "set_object_from_ledger", note: "Restore after storage loss" })).status).toBe(200);
		expect((await available(sku)).onHand).toBe(6);
		await bus.pump();
		expect(await reconcile(sku)).toMatchObject({ drifted: 0 });
		expect(await openOf(sku)).toEqual([]);
	});

	it("clears an open drift that a later run finds agreeing", async () => {
		const sku = await stockedSku(new Bus());
		const [row] = await withDb((db) =>
			db.primary
				.select()
				.from(inventoryLedger)
				.where(eq(inventoryLedger.eventId, `inv:${sku}:2`)),
		);
		await deleteLedgerRow(sku, 2);
		await reconcile(sku);
		const open = await openOf(sku);
		expect(open.map((d) => d.kind)).toEqual(["ledger"]);
		// The missing row comes back (a dead letter replayed, say).
		if (!row) throw new Error("no ledger row");
		await withDb((db) => db.primary.insert(inventoryLedger).values({ ...row, id: undefined }));
		await reconcile(sku);
		expect(await openOf(sku)).toEqual([]);
		expect((await driftOf(sku)).find((d) => d.id === open[0]?.id)).toMatchObject({ resolution: "cleared", resolvedBy: "reconciliation" });
	});
});

describe("stock reconciliation runs never overlap", () => {
	it("refuses a second run, in the service and on the route, while one is in progress", async () => {
		const sku = await stockedSku(new Bus());
		for (let attempt = 0; attempt < 20; attempt++) {
			const gate = latch();
			const blocking = latch();
			// The object answers nothing until the gate opens, so the first run stays in progress.
			const held = runInDurableObject(inventoryItem(env, sku), (_instance, state) =>
				state.blockConcurrencyWhile(async () => {
					blocking.open();
					await gate.opened;
				}),
			);
			await blocking.opened;
			const first = reconcileOnce([sku]);
			await sleep(300);
			const second = reconcileOnce([sku]);
			const viaRoute = call(`/v1/admin/stock-reconciliation/run?sku=${sku}`, authed(admin.access_token, { method: "POST" }));
			await sleep(300);
			gate.open();
			await held;
			const [ran, refused, res] = await Promise.all([first, second, viaRoute]);
			// Another file's run held the lease when the first one tried: try again.
			if (!ran) {
				await res.body?.cancel();
				if (refused === null) await sleep(200);
				continue;
			}
			expect(refused).toBeNull();
			expect(res.status).toBe(409);
			expect((await problemOf(res)).code).toBe("reconciliation_running");
			expect(ran).toMatchObject({ status: "succeeded", skus_checked: 1 });
			return;
		}
		throw new Error("the first run never got the lease");
	});

	it("takes over from a run that died: one still running past its lease is marked failed", async () => {
		const sku = await stockedSku(new Bus());
		const [dead] = await withDb((db) =>
			db.primary
				.insert(stockReconciliationRuns)
				.values({ status: "running", startedAt: new Date(Date.now() - 20 * 60 * 1000) })
				.returning(),
		);
		const run = await reconcile(sku);
		expect(run.id).toBeGreaterThan(dead?.id ?? 0);
		const [after] = await withDb((db) =>
			db.primary
				.select()
				.from(stockReconciliationRuns)
				.where(eq(stockReconciliationRuns.id, dead?.id ?? 0)),
		);
		expect(after?.status).toBe("failed");
		expect(after?.finishedAt).not.toBeNull();
		expect(after?.errors).toEqual([{ sku: null, message: expect.stringMatching(/^Abandoned/) }]);
	});
});

describe("stock reconciliation admin routes", () => {
	it("runs one SKU on request and answers the run; a SKU nothing names is a 404", async () => {
		const unknown = await call(
			"/v1/admin/stock-reconciliation/run?sku=NO-SUCH-SKU-ANYWHERE",
			authed(admin.access_token, { method: "POST" }),
		);
		expect(unknown.status).toBe(404);
		await unknown.body?.cancel();
		const sku = await stockedSku(new Bus());
		for (let attempt = 0; attempt < 100; attempt++) {
			const res = await call(`/v1/admin/stock-reconciliation/run?sku=${sku}`, authed(admin.access_token, { method: "POST" }));
			if (res.status === 409) {
				await res.body?.cancel();
				await sleep(100);
				continue;
			}
			expect(res.status).toBe(201);
			expect(await res.json()).toMatchObject({ status: "succeeded", skus_checked: 1, drifted: 0, finished_at: expect.any(String) });
			return;
		}
		throw new Error("another run held the lease for 10 s");
	});

	it("refuses customers and anonymous callers on every route", async () => {
		const routes: [string, string, unknown?][] = [
			["GET", "/v1/admin/stock-reconciliation/runs"],
			["POST", "/v1/admin/stock-reconciliation/run"],
			["GET", "/v1/admin/stock-drift?open=true"],
			["POST", "/v1/admin/stock-drift/1/resolve", { action: "accept", note: "mine now" }],
		];
		for (const [method, path, body] of routes) {
			const init = { method, ...(body ? { body: JSON.stringify(body) } : {}) };
			const res = await call(path, authed(customer.access_token, init));
			expect(res.status, `${method} ${path}`).toBe(403);
			expect((await problemOf(res)).code).toBe("forbidden");
			const anonymous = await call(path, { ...init, headers: { "content-type": "application/json" } });
			expect(anonymous.status, `${method} ${path}`).toBe(401);
			await anonymous.body?.cancel();
		}
	});

	it("answers 404 for a drift that does not exist and 400 for a malformed resolution", async () => {
		const missing = await resolve(Number.MAX_SAFE_INTEGER, { action: "accept", note: "x" });
		expect(missing.status).toBe(404);
		await missing.body?.cancel();
		for (const body of [
			{ action: "delete", note: "x" },
			{ action: "accept" },
			{ action: "accept", note: "  " },
			{ action: "accept", note: "x", extra: 1 },
		]) {
			const res = await resolve(1, body);
			expect(res.status, JSON.stringify(body)).toBe(400);
			await res.body?.cancel();
		}
	});
});
