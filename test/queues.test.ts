import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { Database } from "../workers/db/client.ts";
import { deadLetters } from "../workers/db/schema.ts";
import { type BatchStep, type Envelope, envelope } from "../workers/queues/envelope.ts";
import { consumeQueueBatch, mergeRoutes, queueRole, registry } from "../workers/queues/index.ts";
import { retryDelaySeconds } from "../workers/queues/retry.ts";

/** Delivers a batch to the consumer; returns the plugin's ack/retry record plus the delay asked for each retry. */
async function deliver(queue: string, messages: { id: string; body: unknown; attempts?: number }[]) {
	const batch = createMessageBatch(
		queue,
		messages.map((m) => ({ id: m.id, timestamp: new Date(), attempts: m.attempts ?? 1, body: m.body })),
	);
	const delays = new Map<string, number | undefined>();
	for (const message of batch.messages) {
		const retry = message.retry.bind(message);
		message.retry = (options) => {
			delays.set(message.id, options?.delaySeconds);
			retry(options);
		};
	}
	const ctx = createExecutionContext();
	await consumeQueueBatch(batch, env, ctx);
	return { ...(await getQueueResult(batch, ctx)), delays };
}

afterEach(() => {
	delete registry.orders["test.applied"];
	delete registry.orders["test.batched"];
});

describe("queue consumers", () => {
	it("routes queue names of every environment to their consumer", () => {
		expect(queueRole("orders")).toBe("orders");
		expect(queueRole("production-orders")).toBe("orders");
		expect(queueRole("staging-notifications")).toBe("notifications");
		expect(queueRole("notifications-dlq")).toBe("dead-letter");
		expect(queueRole("production-orders-dlq")).toBe("dead-letter");
		expect(queueRole("something-else")).toBeUndefined();
	});

	it("acks a message its handler applied and retries one whose handler failed, with growing delays", async () => {
		const seen: string[] = [];
		registry.orders["test.applied"] = {
			each: async (event) => {
				seen.push(event.id);
				if (event.data.fail) throw new Error("transient");
			},
		};
		const ok = envelope("evt_ok", "test.applied", {});
		const bad = envelope("evt_bad", "test.applied", { fail: true });
		const result = await deliver("orders", [
			{ id: "m1", body: ok },
			{ id: "m2", body: bad, attempts: 4 },
		]);
		expect(seen).toEqual(["evt_ok", "evt_bad"]);
		expect(result.explicitAcks).toEqual(["m1"]);
		expect(result.retryMessages.map((r) => r.msgId)).toEqual(["m2"]);
		// The fourth attempt waits between 20 and 40 seconds.
		expect(result.delays.get("m2")).toBeGreaterThanOrEqual(20);
		expect(result.delays.get("m2")).toBeLessThanOrEqual(40);
	});

	it("gives a batch step all its events in one call, then runs each one's handler; a refused event alone goes towards the dead-letter queue", async () => {
		const calls: string[][] = [];
		const handled: string[] = [];
		const step: BatchStep = {
			name: "test",
			apply: async (events) => {
				calls.push(events.map((e) => e.id));
				return { rejected: new Set(events.filter((e) => e.data.bad)) };
			},
		};
		registry.orders["test.batched"] = {
			batch: step,
			each: async (event) => {
				handled.push(event.id);
			},
		};
		const result = await deliver("orders", [
			{ id: "m1", body: envelope("evt_1", "test.batched", {}) },
			{ id: "m2", body: envelope("evt_2", "test.batched", { bad: true }) },
			{ id: "m3", body: envelope("evt_3", "test.batched", {}) },
		]);
		expect(calls).toEqual([["evt_1", "evt_2", "evt_3"]]);
		expect(handled).toEqual(["evt_1", "evt_3"]);
		expect(result.explicitAcks).toEqual(["m1", "m3"]);
		expect([...result.delays]).toEqual([["m2", 0]]);
	});

	it("retries every event of a failing batch step with backoff, and runs none of their handlers", async () => {
		const handled: string[] = [];
		registry.orders["test.batched"] = {
			batch: {
				name: "test",
				apply: async () => {
					throw new Error("database down");
				},
			},
			each: async (event: Envelope) => {
				handled.push(event.id);
			},
		};
		registry.orders["test.applied"] = { each: async (event) => void handled.push(event.id) };
		const result = await deliver("orders", [
			{ id: "m1", body: envelope("evt_1", "test.batched", {}), attempts: 2 },
			{ id: "m2", body: envelope("evt_2", "test.applied", {}) },
			{ id: "m3", body: envelope("evt_3", "test.batched", {}), attempts: 2 },
		]);
		expect(handled).toEqual(["evt_2"]);
		expect(result.explicitAcks).toEqual(["m2"]);
		expect(result.retryMessages.map((r) => r.msgId)).toEqual(["m1", "m3"]);
		// The second attempt waits between 5 and 10 seconds: backoff, not the dead-letter path.
		for (const id of ["m1", "m3"]) {
			expect(result.delays.get(id)).toBeGreaterThanOrEqual(5);
			expect(result.delays.get(id)).toBeLessThanOrEqual(10);
		}
	});

	it("refuses to route one event type's batch step or handler twice", () => {
		const each = async () => {};
		const step: BatchStep = { name: "test", apply: async () => undefined };
		expect(mergeRoutes({ "a.b": { batch: step } }, { "a.b": { each } })["a.b"]).toEqual({ batch: step, each });
		expect(() => mergeRoutes({ "a.b": { each } }, { "a.b": { each } })).toThrow("a.b");
		expect(() => mergeRoutes({ "a.b": { batch: step } }, { "a.b": { batch: step, each } })).toThrow("a.b");
	});

	it("sends malformed messages and unknown event types towards the dead-letter queue without delay", async () => {
		const result = await deliver("notifications", [
			{ id: "m1", body: "not an envelope" },
			{ id: "m2", body: envelope("evt_x", "nobody.handles_this", {}) },
		]);
		expect(result.explicitAcks).toEqual([]);
		expect(result.retryMessages.map((r) => r.msgId)).toEqual(["m1", "m2"]);
		expect([...result.delays]).toEqual([
			["m1", 0],
			["m2", 0],
		]);
	});

	it("stores each dead letter once, however often it is delivered", async () => {
		const messageId = `dlq-${crypto.randomUUID()}`;
		const body = envelope("evt_dead", "order.paid", { order_id: "ord_1" });
		for (let i = 0; i < 3; i++) {
			const result = await deliver("orders-dlq", [{ id: messageId, body, attempts: 6 }]);
			expect(result.ackAll).toBe(true);
		}
		const db = new Database(env);
		try {
			const rows = await db.primary
				.select()
				.from(deadLetters)
				.where(and(eq(deadLetters.queue, "orders"), eq(deadLetters.messageId, messageId)));
			expect(rows).toHaveLength(1);
			expect(rows[0]?.body).toEqual(body);
			expect(rows[0]?.attempts).toBe(6);
		} finally {
			await db.close();
		}
	});

	it("retries dead letters when Postgres is down instead of dropping them", async () => {
		const batch = createMessageBatch("notifications-dlq", [{ id: "d1", timestamp: new Date(), attempts: 1, body: { x: 1 } }]);
		const ctx = createExecutionContext();
		await consumeQueueBatch(batch, { ...env, DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere" }, ctx);
		const result = await getQueueResult(batch, ctx);
		expect(result.ackAll).toBe(false);
		expect(result.retryBatch.retry).toBe(true);
	});
});

describe("retry backoff", () => {
	it("grows exponentially from 5 s and caps at 15 minutes", () => {
		const top = () => 1;
		expect([1, 2, 3, 4].map((a) => retryDelaySeconds(a, top))).toEqual([5, 10, 20, 40]);
		expect(retryDelaySeconds(30, top)).toBe(900);
		expect(retryDelaySeconds(1, () => 0)).toBe(3);
	});
});
