import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { createApp, createRouter } from "../workers/api/app.ts";
import { problemResponse, statusOf } from "../workers/api/lib/problem.ts";
import { DomainError, ERROR_CODES } from "../workers/domain/errors.ts";
import worker from "../workers/index.ts";
import { call, callWith, problemOf } from "./helpers.ts";

const MiB = 1024 * 1024;

/**
 * The real app factory with routes that exercise the shared pipeline: a JSON
 * body validated by a strict schema, a handler that fails unexpectedly, and one
 * that queries Postgres.
 */
const echo = createRoute({
	method: "post",
	path: "/echo",
	request: {
		body: {
			required: true,
			content: {
				"application/json": {
					schema: z
						.object({ name: z.string().min(1), quantity: z.number().int().min(1).max(99), tags: z.array(z.string()).optional() })
						.strict(),
				},
			},
		},
	},
	responses: {
		200: { description: "echo", content: { "application/json": { schema: z.object({ name: z.string() }) } } },
		400: problemResponse("bad"),
	},
});
const probe = createRouter()
	.openapi(echo, (c) => c.json({ name: c.req.valid("json").name }, 200))
	.get("/boom", () => {
		throw new Error("secret internal detail: password=hunter2");
	})
	.get("/conflict", () => {
		throw new DomainError("out_of_stock", {
			detail: "Not enough units.",
			extensions: { lines: [{ sku: "A", short: 2 }] },
		});
	})
	.get("/outage", () => {
		throw new DomainError("queue_unavailable", { detail: "Retry shortly.", retryAfterSeconds: 7 });
	})
	.get("/signin", () => {
		throw new DomainError("unauthorized", { detail: "Send a token." });
	})
	.get("/db", async (c) => c.json({ rows: (await c.get("database").primary.execute(sql`select 1 as one`)).rows }))
	.get("/db-read", async (c) => c.json({ rows: (await c.get("database").read.execute(sql`select 1 as one`)).rows }))
	.get("/db-param", async (c) =>
		c.json({ rows: (await c.get("database").primary.execute(sql`select ${c.req.query("email")} as email`)).rows }),
	);
const app = createApp((root) => root.route("/v1/probe", probe));

const postJson = (body: BodyInit, headers: Record<string, string> = { "content-type": "application/json" }) => ({
	method: "POST",
	body,
	headers,
});

describe("problem+json for bad requests (I7)", () => {
	it("answers an unknown route with 404", async () => {
		const res = await call("/v1/no-such-thing");
		expect(res.status).toBe(404);
		expect((await problemOf(res)).code).toBe("not_found");
	});

	it("answers a body sent to a route that takes none with 405, not 415", async () => {
		const res = await call("/v1/health/ready", { method: "POST", body: "x", headers: { "content-type": "text/plain" } });
		expect(res.status).toBe(405);
	});

	it("answers a wrong method with 405 and an Allow header", async () => {
		const res = await call("/v1/health/live", { method: "DELETE" });
		expect(res.status).toBe(405);
		expect(res.headers.get("allow")).toContain("GET");
		expect((await problemOf(res)).code).toBe("method_not_allowed");
	});

	it("answers a 2 MiB body with 413, declared length or streamed", async () => {
		const big = "x".repeat(2 * MiB);
		const declared = await call("/v1/health/live", postJson(JSON.stringify({ big })));
		expect(declared.status).toBe(413);
		expect((await problemOf(declared)).code).toBe("payload_too_large");

		const stream = new ReadableStream({
			start(controller) {
				const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
				for (let i = 0; i < 32; i++) controller.enqueue(chunk);
				controller.close();
			},
		});
		const streamed = await callWith(app, "/v1/probe/echo", { ...postJson(stream), duplex: "half" } as RequestInit);
		expect(streamed.status).toBe(413);
		await problemOf(streamed);
	});

	it("answers malformed JSON with 400", async () => {
		const res = await callWith(app, "/v1/probe/echo", postJson('{"name": "a", '));
		expect(res.status).toBe(400);
		expect((await problemOf(res)).code).toBe("malformed_request");
	});

	it("answers a non-JSON content type with 415", async () => {
		const res = await callWith(app, "/v1/probe/echo", postJson("name=a", { "content-type": "application/x-www-form-urlencoded" }));
		expect(res.status).toBe(415);
		expect((await problemOf(res)).code).toBe("unsupported_media_type");
		const missing = await callWith(app, "/v1/probe/echo", postJson('{"name":"a","quantity":1}', {}));
		expect(missing.status).toBe(415);
	});

	it("answers wrong types, absurd values and unknown fields with 400 and field paths", async () => {
		const res = await callWith(app, "/v1/probe/echo", postJson(JSON.stringify({ name: 5, quantity: 1e9, role: "admin" })));
		expect(res.status).toBe(400);
		const problem = await problemOf(res);
		expect(problem.code).toBe("validation_failed");
		const paths = (problem.errors as { path: string }[]).map((e) => e.path).sort();
		expect(paths).toEqual(["body", "body.name", "body.quantity"]);
		expect(JSON.stringify(problem.errors)).toContain("role");
	});

	it("accepts a valid body", async () => {
		const res = await callWith(app, "/v1/probe/echo", postJson(JSON.stringify({ name: "mug", quantity: 2 })));
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ name: "mug" });
	});
});

describe("problem+json for faults", () => {
	it("maps domain errors to their status, code and extensions", async () => {
		const res = await callWith(app, "/v1/probe/conflict");
		expect(res.status).toBe(409);
		const problem = await problemOf(res);
		expect(problem).toMatchObject({ code: "out_of_stock", title: "Out of stock", lines: [{ sku: "A", short: 2 }] });
		expect(problem.type).toBe("https://edge-commerce.dev/problems/out_of_stock");
	});

	it("maps each kind of domain error to its status, with Retry-After and WWW-Authenticate where the kind calls for them", async () => {
		const outage = await callWith(app, "/v1/probe/outage");
		expect(outage.status).toBe(503);
		expect(outage.headers.get("retry-after")).toBe("7");
		expect(await problemOf(outage)).toMatchObject({ code: "queue_unavailable", title: "Service temporarily unavailable" });
		const signin = await callWith(app, "/v1/probe/signin");
		expect(signin.status).toBe(401);
		expect(signin.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
		// Every registered code has a kind with a status, and codes are unique machine names.
		for (const code of ERROR_CODES) {
			expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
			expect(statusOf(new DomainError(code))).toBeGreaterThanOrEqual(400);
		}
		expect(statusOf(new DomainError("not_found"))).toBe(404);
		expect(statusOf(new DomainError("out_of_stock"))).toBe(409);
		expect(statusOf(new DomainError("cart_empty"))).toBe(422);
		expect(statusOf(new DomainError("payment_provider_unavailable"))).toBe(502);
	});

	it("answers an unexpected error with a generic 500 that leaks nothing", async () => {
		const res = await callWith(app, "/v1/probe/boom");
		expect(res.status).toBe(500);
		const text = JSON.stringify(await problemOf(res));
		expect(text).not.toContain("hunter2");
		expect(text).not.toContain("secret internal detail");
		expect(text).not.toMatch(/at .*\.ts/);
	});

	it("answers 503 with Retry-After when Postgres is unreachable, and reads when it is", async () => {
		const ok = await callWith(app, "/v1/probe/db");
		expect(ok.status).toBe(200);
		expect(await ok.json()).toEqual({ rows: [{ one: 1 }] });

		const down = await callWith(app, "/v1/probe/db", {}, { DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere" });
		expect(down.status).toBe(503);
		expect((await problemOf(down)).code).toBe("database_unavailable");
		expect(down.headers.get("retry-after")).toBe("5");
	});

	it("logs a failed query's stack frames but never its SQL parameters", async () => {
		const logged: string[] = [];
		const spy = vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
			logged.push(args.map(String).join(" "));
		});
		try {
			const secret = "ana.secret.address@example.com";
			const down = await callWith(
				app,
				`/v1/probe/db-param?email=${encodeURIComponent(secret)}`,
				{},
				{ DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere" },
			);
			expect(down.status).toBe(503);
			expect(logged.join("\n")).toContain("database_unavailable");
			expect(logged.join("\n")).not.toContain(secret);
			// What kind of failure it was is logged as a fixed word, so an operator can tell a refused
			// connection from a timeout or a full admission queue without reading any message.
			const entry = JSON.parse(logged.find((line) => line.includes("database_unavailable"))?.replace(/^[^{]*/, "") ?? "{}") as {
				failure?: string;
			};
			expect(["connection_refused", "connection_terminated", "websocket_error", "connect_timeout"]).toContain(entry.failure);
		} finally {
			spy.mockRestore();
		}
	});

	it("sends catalog reads to DATABASE_READ_URL when set, and to the primary otherwise", async () => {
		const unreachable = "postgres://postgres@127.0.0.1:1/replica";
		expect((await callWith(app, "/v1/probe/db-read")).status).toBe(200);
		expect((await callWith(app, "/v1/probe/db-read", {}, { DATABASE_READ_URL: unreachable })).status).toBe(503);
		expect((await callWith(app, "/v1/probe/db", {}, { DATABASE_READ_URL: unreachable })).status).toBe(200);
	});

	it("keeps the Worker's own routes unaffected by the probe app", async () => {
		const res = await callWith(worker, "/v1/probe/echo", postJson("{}"));
		expect(res.status).toBe(404);
	});
});
