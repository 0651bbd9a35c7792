import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp, createRouter } from "../workers/api/app.ts";
import { idempotent } from "../workers/api/middleware/idempotency.ts";
import { idempotencyKeys } from "../workers/db/schema.ts";
import { DomainError } from "../workers/domain/errors.ts";
import { callWith, problemOf, withDb } from "./helpers.ts";
import { type Latch, latch } from "./latch.ts";

/**
 * The idempotency middleware on a probe route whose handler records a
 * recovery point in its own transaction and can be told to fail after it, or
 * before it, or to stop (mode `hold`) at the gate the test set up for its scope.
 */
const gates = new Map<string, { entered: Latch; go: Latch }>();
const probe = createRouter();
probe.use(
	"/thing",
	idempotent(async (c) => c.req.header("x-scope") ?? null),
);
probe.post("/thing", async (c) => {
	const claim = c.get("idempotency");
	if (claim.recovery) return c.json({ resumed: claim.recovery }, 201);
	const mode = c.req.header("x-mode");
	if (mode === "fail-before") throw new DomainError("database_unavailable", { detail: "nothing was done" });
	if (mode === "hold") {
		const gate = gates.get(c.req.header("x-scope") ?? "");
		gate?.entered.open();
		await gate?.go.opened;
	}
	const body = (await c.req.json()) as { n: number };
	await c.get("database").primary.transaction((tx) => claim.remember(tx, { step: body.n }));
	if (mode === "fail-after") throw new Error("crashed after the commit");
	return c.json({ fresh: body.n }, 201);
});
const app = createApp((root) => root.route("/v1/probe", probe));

function send(scope: string, key: string, body: unknown, mode?: string) {
	return callWith(app, "/v1/probe/thing", {
		method: "POST",
		headers: { "content-type": "application/json", "x-scope": scope, "idempotency-key": key, ...(mode ? { "x-mode": mode } : {}) },
		body: JSON.stringify(body),
	});
}

const fresh = () => `scope-${crypto.randomUUID()}`;

describe("idempotency keys (I2)", () => {
	it("replays the first answer; a differently ordered but equal body is the same request; another body is a 422", async () => {
		const scope = fresh();
		const first = await send(scope, "key-00000001", { n: 1, m: [1, 2] });
		expect(first.status).toBe(201);
		const again = await callWith(app, "/v1/probe/thing", {
			method: "POST",
			headers: { "content-type": "application/json", "x-scope": scope, "idempotency-key": "key-00000001" },
			body: '{ "m": [1, 2],   "n": 1 }',
		});
		expect(again.status).toBe(201);
		expect(again.headers.get("idempotent-replayed")).toBe("true");
		expect(await again.json()).toEqual({ fresh: 1 });
		const other = await send(scope, "key-00000001", { n: 2 });
		expect(other.status).toBe(422);
		expect((await problemOf(other)).code).toBe("idempotency_key_reused");
		// Another caller's identical key is another key.
		expect((await send(fresh(), "key-00000001", { n: 2 })).status).toBe(201);
	});

	it("answers 409 while the first request with the key is still running, then replays its answer", async () => {
		const scope = fresh();
		const gate = { entered: latch(), go: latch() };
		gates.set(scope, gate);
		const first = send(scope, "key-held-0001", { n: 1 }, "hold");
		// The handler runs only after the key is claimed: once it is entered, the first request is in flight.
		const early = await Promise.race([gate.entered.opened.then(() => undefined), first]);
		expect(early, "the first request answered without reaching its handler").toBeUndefined();
		let dup: Response;
		try {
			dup = await send(scope, "key-held-0001", { n: 1 });
		} finally {
			gate.go.open();
		}
		expect(dup.status).toBe(409);
		expect((await problemOf(dup)).code).toBe("idempotency_in_progress");
		expect(dup.headers.get("retry-after")).toBe("1");
		const answered = await first;
		expect(answered.status).toBe(201);
		expect(await answered.json()).toEqual({ fresh: 1 });
		const replay = await send(scope, "key-held-0001", { n: 1 });
		expect(replay.status).toBe(201);
		expect(replay.headers.get("idempotent-replayed")).toBe("true");
		expect(await replay.json()).toEqual({ fresh: 1 });
	});

	it("a 5xx that left nothing behind frees the key for a clean retry", async () => {
		const scope = fresh();
		expect((await send(scope, "key-before-01", { n: 3 }, "fail-before")).status).toBe(503);
		const retry = await send(scope, "key-before-01", { n: 3 });
		expect(retry.status).toBe(201);
		expect(await retry.json()).toEqual({ fresh: 3 });
	});

	it("a 5xx after the handler committed keeps its recovery point: the retry resumes instead of doing it again", async () => {
		const scope = fresh();
		expect((await send(scope, "key-after-001", { n: 4 }, "fail-after")).status).toBe(500);
		const retry = await send(scope, "key-after-001", { n: 4 });
		expect(retry.status).toBe(201);
		expect(await retry.json()).toEqual({ resumed: { step: 4 } });
		// And that answer is now the key's stored one.
		const replay = await send(scope, "key-after-001", { n: 4 });
		expect(replay.headers.get("idempotent-replayed")).toBe("true");
		expect(await replay.json()).toEqual({ resumed: { step: 4 } });
	});

	it("a key older than 24 hours is new again", async () => {
		const scope = fresh();
		expect((await send(scope, "key-old-00001", { n: 5 })).status).toBe(201);
		await withDb((db) =>
			db.primary
				.update(idempotencyKeys)
				.set({ createdAt: sql`now() - interval '25 hours'` })
				.where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, "key-old-00001"))),
		);
		const reused = await send(scope, "key-old-00001", { n: 6 });
		expect(reused.status).toBe(201);
		expect(await reused.json()).toEqual({ fresh: 6 });
	});

	it("refuses a missing or malformed key before anything runs", async () => {
		const missing = await callWith(app, "/v1/probe/thing", {
			method: "POST",
			headers: { "content-type": "application/json", "x-scope": fresh() },
			body: "{}",
		});
		expect((await problemOf(missing)).code).toBe("idempotency_key_required");
		expect((await send(fresh(), "short", { n: 1 })).status).toBe(400);
		expect((await send(fresh(), "bad key with spaces", { n: 1 })).status).toBe(400);
	});
});
