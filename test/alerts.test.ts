import { env } from "cloudflare:test";
import { and, count, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import type { Db } from "../workers/db/client.ts";
import { alertIncidents, deadLetters, notifications, outbox, stockDrift, stockReconciliationRuns } from "../workers/db/schema.ts";
import { type AlertOptions, type IncidentRef, runAlerts } from "../workers/ops/alerts.ts";
import { envelope } from "../workers/queues/envelope.ts";
import { makeAdmin, registerShopper, type Session } from "./accounts-helpers.ts";
import { call, withDb } from "./helpers.ts";
import { Bus, checkoutOk, deliverNotifications, guestCart, headersFor, newSku, stock } from "./orders-helpers.ts";

/*
 * Other files run in parallel on the same database and leave dead letters,
 * orders in review and unpublished outbox rows of their own. Every run here
 * is scoped to this file's incidents: dead letters of a queue named for the
 * test, the test's own order, and, for the conditions with one global key
 * (stock drift, outbox lag), a transaction that is rolled back, so nobody
 * else sees the rows that trip them.
 */

/** Incidents a test opened for real; closed afterwards so the next test's readiness answer is its own. */
const opened: IncidentRef[] = [];

afterEach(async () => {
	const refs = opened.splice(0);
	await withDb(async (db) => {
		for (const ref of refs) {
			await db.primary
				.update(alertIncidents)
				.set({ resolvedAt: sql`now()` })
				.where(and(eq(alertIncidents.kind, ref.kind), eq(alertIncidents.key, ref.key), isNull(alertIncidents.resolvedAt)));
		}
	});
});

const only =
	(kind: string, key?: string): AlertOptions["scope"] =>
	(incident) =>
		incident.kind === kind && (key === undefined || incident.key === key);

function runFor(bus: Bus, scope: AlertOptions["scope"], db?: Db) {
	const bindings = { ...env, ...bus.env } as Env;
	return db ? runAlerts(bindings, db, { scope }) : withDb((own) => runAlerts(bindings, own.primary, { scope }));
}

/** A queue name of the test's own: its dead letters are one incident that no other file's letters share. */
function testQueue(): string {
	return `alerts-test-${crypto.randomUUID().slice(0, 8)}`;
}

async function storeDeadLetter(queue: string): Promise<number> {
	const [row] = await withDb((db) =>
		db.primary
			.insert(deadLetters)
			.values({
				queue,
				messageId: `m-${crypto.randomUUID()}`,
				body: { id: "evt", type: "order.paid", data: { email: "ana@example.test" } },
				attempts: 6,
			})
			.returning({ id: deadLetters.id }),
	);
	return row?.id as number;
}

/** What an admin's replay does to the letter (replayDeadLetter also re-queues it, which needs a real queue name). */
async function markReplayed(queue: string): Promise<void> {
	await withDb((db) =>
		db.primary
			.update(deadLetters)
			.set({ replayedAt: sql`now()` })
			.where(and(eq(deadLetters.queue, queue), isNull(deadLetters.replayedAt))),
	);
}

function incidentsOf(kind: string, key: string, db?: Db) {
	const query = (handle: Db) =>
		handle
			.select()
			.from(alertIncidents)
			.where(and(eq(alertIncidents.kind, kind), eq(alertIncidents.key, key)))
			.orderBy(alertIncidents.openedAt);
	return db ? query(db) : withDb((own) => query(own.primary));
}

/** The alert e-mails of one incident, by recipient. */
async function mailsOf(incidentId: string): Promise<Map<string, number>> {
	const rows = await withDb((db) =>
		db.primary
			.select({ recipient: notifications.recipient, n: count() })
			.from(notifications)
			.where(and(eq(notifications.eventId, `ops_alert:${incidentId}`), eq(notifications.kind, "ops_alert")))
			.groupBy(notifications.recipient),
	);
	return new Map(rows.map((row) => [row.recipient, row.n]));
}

async function mailBodies(incidentId: string) {
	return withDb((db) =>
		db.primary
			.select()
			.from(notifications)
			.where(eq(notifications.eventId, `ops_alert:${incidentId}`)),
	);
}

function alertEvents(bus: Bus) {
	return bus.notifications.take((sent) => sent.body.type === "ops.alert").map((sent) => sent.body);
}

async function twoAdmins(): Promise<Session[]> {
	return Promise.all([makeAdmin(await registerShopper()), makeAdmin(await registerShopper())]);
}

class Rollback extends Error {}

/** Runs `fn` in a transaction that is rolled back: its rows, and the incidents they open, are never seen by another file. */
async function rolledBack(fn: (tx: Db) => Promise<void>): Promise<void> {
	await withDb((db) =>
		db.primary
			.transaction(async (tx) => {
				await fn(tx as unknown as Db);
				throw new Rollback();
			})
			.catch((err: unknown) => {
				if (!(err instanceof Rollback)) throw err;
			}),
	);
}

describe("alerts: one e-mail per incident to every admin, until it resolves", () => {
	it("a dead letter opens one incident and mails each admin once; a second run and a redelivery send nothing; after the replay it resolves, and a new letter mails again", async () => {
		const admins = await twoAdmins();
		const bus = new Bus();
		const queue = testQueue();
		opened.push({ kind: "dead_letters", key: queue });
		await storeDeadLetter(queue);

		expect(await runFor(bus, only("dead_letters", queue))).toMatchObject({ open: 1, opened: 1, resolved: 0, notified: 1 });
		const [incident, ...others] = await incidentsOf("dead_letters", queue);
		expect(others).toEqual([]);
		expect(incident?.notifiedAt).not.toBeNull();
		expect(incident?.resolvedAt).toBeNull();
		const events = alertEvents(bus);
		expect(events.map((event) => event.id)).toEqual([`ops_alert:${incident?.id}`]);

		// Delivered three times (the queue is at-least-once): still one e-mail per admin.
		const delivery = await deliverNotifications([...events, ...events], bus.env);
		expect(delivery.retryMessages).toEqual([]);
		await deliverNotifications(events, bus.env);
		const mails = await mailsOf(incident?.id as string);
		for (const admin of admins) expect(mails.get(admin.user.email)).toBe(1);
		expect([...mails.values()].every((n) => n === 1)).toBe(true);
		const [mail] = (await mailBodies(incident?.id as string)).filter((row) => row.recipient === admins[0]?.user.email);
		expect(mail?.status).toBe("sent");
		expect(mail?.subject).toBe(`Alert: Dead letters waiting (${queue})`);
		expect(mail?.text).toContain(`1 dead letter of the ${queue} queue waits for a replay.`);
		expect(mail?.text).toContain("/admin/dead-letters");
		// Nothing of the letter's body (a shopper's address) and no admin's address in what is mailed.
		expect(`${mail?.subject}${mail?.text}${mail?.html}`).not.toContain("@");

		expect(await runFor(bus, only("dead_letters", queue))).toMatchObject({ open: 1, opened: 0, resolved: 0, notified: 0 });
		expect(alertEvents(bus)).toEqual([]);
		expect(await incidentsOf("dead_letters", queue)).toHaveLength(1);

		await markReplayed(queue);
		expect(await runFor(bus, only("dead_letters", queue))).toMatchObject({ open: 0, opened: 0, resolved: 1, notified: 0 });
		expect((await incidentsOf("dead_letters", queue))[0]?.resolvedAt).not.toBeNull();
		expect(alertEvents(bus)).toEqual([]);

		await storeDeadLetter(queue);
		expect(await runFor(bus, only("dead_letters", queue))).toMatchObject({ open: 1, opened: 1, notified: 1 });
		const [first, second, ...more] = await incidentsOf("dead_letters", queue);
		expect(more).toEqual([]);
		expect(first?.id).toBe(incident?.id);
		expect(second?.id).not.toBe(incident?.id);
		expect(second?.resolvedAt).toBeNull();
		await deliverNotifications(alertEvents(bus), bus.env);
		const again = await mailsOf(second?.id as string);
		for (const admin of admins) expect(again.get(admin.user.email)).toBe(1);
		// The first incident's e-mails are as they were.
		for (const admin of admins) expect((await mailsOf(incident?.id as string)).get(admin.user.email)).toBe(1);
	});

	it("two concurrent runs open one incident and mail each admin exactly once", async () => {
		const admins = await twoAdmins();
		const bus = new Bus();
		const queue = testQueue();
		opened.push({ kind: "dead_letters", key: queue });
		await storeDeadLetter(queue);

		const runs = await Promise.all(Array.from({ length: 4 }, () => runFor(bus, only("dead_letters", queue))));
		expect(runs.reduce((sum, run) => sum + run.opened, 0)).toBe(1);
		expect(runs.reduce((sum, run) => sum + run.notified, 0)).toBe(1);
		const incidents = await incidentsOf("dead_letters", queue);
		expect(incidents).toHaveLength(1);
		const events = alertEvents(bus);
		expect(events.map((event) => event.id)).toEqual([`ops_alert:${incidents[0]?.id}`]);

		await deliverNotifications(events, bus.env);
		const mails = await mailsOf(incidents[0]?.id as string);
		for (const admin of admins) expect(mails.get(admin.user.email)).toBe(1);
	});
});

describe("readiness reports open incidents", () => {
	it("says degraded with the dead-letter reason while the letter waits, and ok once the incident resolved", async () => {
		const bus = new Bus();
		const queue = testQueue();
		opened.push({ kind: "dead_letters", key: queue });
		await storeDeadLetter(queue);
		await runFor(bus, only("dead_letters", queue));

		const degraded = await call("/v1/health/ready");
		const body = (await degraded.json()) as {
			status: string;
			checks: Record<string, { status: string }>;
			reasons: { kind: string; summary: string; since: string }[];
			open_incidents: number;
		};
		expect(degraded.status).toBe(200);
		expect(body.status).toBe("degraded");
		expect(body.checks.postgres?.status).toBe("ok");
		expect(body.open_incidents).toBeGreaterThanOrEqual(1);
		expect(body.reasons).toContainEqual({
			kind: "dead_letters",
			summary: `1 dead letter of the ${queue} queue waits for a replay.`,
			since: expect.any(String),
		});
		expect(JSON.stringify(body)).not.toContain("@");

		await markReplayed(queue);
		expect(await runFor(bus, only("dead_letters", queue))).toMatchObject({ resolved: 1 });
		const ok = await call("/v1/health/ready");
		expect(ok.status).toBe(200);
		expect(await ok.json()).toMatchObject({ status: "ok", reasons: [], open_incidents: 0 });
	});
});

describe("conditions", () => {
	it("a payment in review is an incident keyed by its order, whose id the e-mail names and readiness does not; accepting the payment resolves it", async () => {
		const [admin] = await twoAdmins();
		const bus = new Bus();
		const { sku } = await newSku(2500);
		await stock(sku, 3);
		const placed = await checkoutOk(bus, await guestCart([[sku, 1]]));
		const paid = await bus.request(`/v1/payments/test/${placed.payment?.id}/confirm`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ outcome: "succeeded", amount: placed.order.total.amount - 1 }),
		});
		expect(paid.status).toBe(202);
		await bus.pump();
		const orderId = placed.order.id;
		opened.push({ kind: "payment_review", key: orderId });

		expect(await runFor(bus, only("payment_review", orderId))).toMatchObject({ open: 1, opened: 1, notified: 1 });
		const [incident] = await incidentsOf("payment_review", orderId);
		expect(incident?.details).toMatchObject({ order_id: orderId });
		expect(incident?.summary).not.toContain(orderId);
		await deliverNotifications(alertEvents(bus), bus.env);
		const [mail] = (await mailBodies(incident?.id as string)).filter((row) => row.recipient === admin?.user.email);
		expect(mail?.subject).toBe(`Alert: Payment in review (${orderId})`);
		expect(mail?.text).toContain(`Order: ${orderId}`);
		expect(mail?.text).toContain(`/admin/orders/${orderId}`);
		expect(mail?.text).not.toContain(placed.order.email);

		const ready = (await (await call("/v1/health/ready")).json()) as { status: string; reasons: { kind: string }[] };
		expect(ready.status).toBe("degraded");
		expect(JSON.stringify(ready)).not.toContain(orderId);

		const accepted = await bus.request(`/v1/admin/orders/${orderId}/accept-payment`, {
			method: "POST",
			headers: headersFor({ bearer: admin?.access_token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
		});
		expect(accepted.status).toBe(200);
		expect(await runFor(bus, only("payment_review", orderId))).toMatchObject({ open: 0, resolved: 1 });
	});

	it("an outbox message unpublished for longer than ALERT_OUTBOX_LAG_MINUTES is an outbox_lag incident, once", async () => {
		await makeAdmin(await registerShopper());
		const bus = new Bus();
		await rolledBack(async (tx) => {
			const lagging = () =>
				tx
					.select({ n: count() })
					.from(outbox)
					.where(and(isNull(outbox.publishedAt), lt(outbox.createdAt, sql`now() - interval '10 minutes'`)));
			const [before] = await lagging();
			// Eleven minutes old and never published. Only this transaction sees it, so no relay publishes it meanwhile.
			const [row] = await tx
				.insert(outbox)
				.values({
					queue: "orders",
					body: envelope(`alerts-test-${crypto.randomUUID()}`, "alerts.test_lag", {}) as unknown as Record<string, unknown>,
					createdAt: new Date(Date.now() - 11 * 60_000),
				})
				.returning({ id: outbox.id });

			expect(await runFor(bus, only("outbox_lag"), tx)).toMatchObject({ open: 1, notified: 1 });
			const [incident, ...others] = (await incidentsOf("outbox_lag", "outbox", tx)).filter((i) => i.resolvedAt === null);
			expect(others).toEqual([]);
			expect(incident?.summary).toMatch(/waited more than 10 minutes to be published\.$/);
			expect(incident?.details).toMatchObject({ lag_minutes: 10, unpublished: (before?.n ?? 0) + 1 });
			expect(alertEvents(bus).map((event) => event.id)).toEqual([`ops_alert:${incident?.id}`]);
			expect(await runFor(bus, only("outbox_lag"), tx)).toMatchObject({ open: 1, opened: 0, notified: 0 });
			expect(alertEvents(bus)).toEqual([]);

			await tx.delete(outbox).where(eq(outbox.id, row?.id as number));
			// Resolved, unless another file left a message lagging too.
			if (before?.n === 0) expect(await runFor(bus, only("outbox_lag"), tx)).toMatchObject({ open: 0, resolved: 1 });
		});
	});

	it("open stock drift is one incident for all of it, keyed open", async () => {
		await makeAdmin(await registerShopper());
		const bus = new Bus();
		await rolledBack(async (tx) => {
			const [before] = await tx.select({ n: count() }).from(stockDrift).where(isNull(stockDrift.resolvedAt));
			const [run] = await tx.insert(stockReconciliationRuns).values({ status: "succeeded" }).returning({ id: stockReconciliationRuns.id });
			const skus = [`ALERT-${crypto.randomUUID().slice(0, 6)}`, `ALERT-${crypto.randomUUID().slice(0, 6)}`];
			const drift = await tx
				.insert(stockDrift)
				.values(skus.map((sku) => ({ runId: run?.id as number, sku, kind: "projection", observed: { object: 3, projection: 2 } })))
				.returning({ id: stockDrift.id });

			expect(await runFor(bus, only("stock_drift"), tx)).toMatchObject({ open: 1, notified: 1 });
			const [incident, ...others] = (await incidentsOf("stock_drift", "open", tx)).filter((i) => i.resolvedAt === null);
			expect(others).toEqual([]);
			expect(incident?.details).toMatchObject({ open_records: (before?.n ?? 0) + 2 });
			expect(alertEvents(bus)).toHaveLength(1);

			await tx
				.update(stockDrift)
				.set({ resolvedAt: sql`now()` })
				.where(
					inArray(
						stockDrift.id,
						drift.map((d) => d.id),
					),
				);
			if (before?.n === 0) expect(await runFor(bus, only("stock_drift"), tx)).toMatchObject({ open: 0, resolved: 1 });
		});
	});
});
