import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../workers/index.ts";
import { call, callWith, problemOf } from "./helpers.ts";

describe("health", () => {
	it("answers liveness without touching dependencies", async () => {
		// Even with no database configured, liveness is 200.
		const res = await callWith(worker, "/v1/health/live", {}, { DATABASE_URL: "" });
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ status: "ok" });
		expect(res.headers.get("cache-control")).toBe("no-store");
	});

	it("reports Postgres, KV and R2 healthy when they answer", async () => {
		const res = await call("/v1/health/ready");
		const body = (await res.json()) as { status: string; checks: Record<string, { status: string }> };
		expect(res.status, JSON.stringify(body)).toBe(200);
		// Healthy: every dependency answers. Open alert incidents (test/alerts.test.ts opens some while it runs beside
		// this file) would make it "degraded", still a 200 with the same checks.
		expect(["ok", "degraded"]).toContain(body.status);
		expect(Object.fromEntries(Object.entries(body.checks).map(([k, v]) => [k, v.status]))).toEqual({ postgres: "ok", kv: "ok", r2: "ok" });
	});

	it("releases its database connection after every request (100 requests, more than the server's connection limit)", async () => {
		for (let wave = 0; wave < 10; wave++) {
			const statuses = await Promise.all(Array.from({ length: 10 }, () => call("/v1/health/ready").then((r) => r.status)));
			expect(statuses).toEqual(Array(10).fill(200));
		}
	});

	it("answers 503 naming Postgres when the database cannot be reached", async () => {
		const res = await callWith(worker, "/v1/health/ready", {}, { DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere" });
		const problem = await problemOf(res);
		expect(res.status).toBe(503);
		expect(problem.code).toBe("not_ready");
		expect(problem.detail).toBe("Failing: postgres.");
		const checks = problem.checks as Record<string, { status: string; error?: string }>;
		expect(checks.postgres?.status).toBe("fail");
		expect(checks.kv?.status).toBe("ok");
		expect(checks.r2?.status).toBe("ok");
		expect(JSON.stringify(problem)).not.toContain("127.0.0.1:1");
		expect(res.headers.get("retry-after")).toBe("5");
	});

	it("answers 503 naming KV and R2 when they fail", async () => {
		const broken = () => Promise.reject(new Error("binding down"));
		const res = await callWith(
			worker,
			"/v1/health/ready",
			{},
			{ CATALOG: { ...env.CATALOG, get: broken } as unknown as KVNamespace, MEDIA: { head: broken } as unknown as R2Bucket },
		);
		const problem = await problemOf(res);
		expect(res.status).toBe(503);
		expect(problem.detail).toBe("Failing: kv, r2.");
		expect(JSON.stringify(problem)).not.toContain("binding down");
	});

	it("answers 503 when no database is configured at all", async () => {
		const res = await callWith(worker, "/v1/health/ready", {}, { DATABASE_URL: "" });
		expect(res.status).toBe(503);
		expect(((await problemOf(res)).checks as Record<string, { status: string }>).postgres?.status).toBe("fail");
	});
});

describe("request context", () => {
	it("uses cf-ray as the request id when Cloudflare sends one", async () => {
		const res = await call("/v1/health/live", { headers: { "cf-ray": "8f1e2d3c4b5a6978-AMS" } });
		expect(res.headers.get("x-request-id")).toBe("8f1e2d3c4b5a6978-AMS");
	});

	it("generates a fresh request id per request and ignores a client-sent one", async () => {
		const a = await call("/v1/health/live", { headers: { "x-request-id": "client-chosen" } });
		const b = await call("/v1/health/live");
		expect(a.headers.get("x-request-id")).not.toBe("client-chosen");
		expect(a.headers.get("x-request-id")).not.toBe(b.headers.get("x-request-id"));
	});

	it("sets secure headers", async () => {
		const res = await call("/v1/health/live");
		expect(res.headers.get("x-content-type-options")).toBe("nosniff");
		expect(res.headers.get("strict-transport-security")).toContain("max-age=");
		expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
		expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
	});

	it("keeps the document-only security headers for pages, off the JSON API", async () => {
		const api = await call("/v1/health/live");
		const page = await call("/");
		expect(page.status).toBe(200);
		const documentOnly = [
			"cross-origin-opener-policy",
			"origin-agent-cluster",
			"referrer-policy",
			"x-dns-prefetch-control",
			"x-download-options",
			"x-permitted-cross-domain-policies",
			"x-xss-protection",
		];
		for (const name of documentOnly) {
			expect(api.headers.has(name), name).toBe(false);
			expect(page.headers.has(name), name).toBe(true);
		}
		expect(page.headers.get("referrer-policy")).toBe("no-referrer");
		for (const name of ["strict-transport-security", "x-content-type-options", "x-frame-options"]) {
			expect(page.headers.get(name)).toBe(api.headers.get(name));
		}
	});

	it("allows configured CORS origins and no others", async () => {
		const preflight = (origin: string) =>
			call("/v1/health/ready", { method: "OPTIONS", headers: { origin, "access-control-request-method": "GET" } });
		const allowed = await preflight("https://shop.test");
		expect(allowed.headers.get("access-control-allow-origin")).toBe("https://shop.test");
		const refused = await preflight("https://evil.test");
		expect(refused.headers.get("access-control-allow-origin")).toBeNull();
	});
});

describe("API description", () => {
	it("serves an OpenAPI 3.1 document that describes the routes and the problem shape", async () => {
		const res = await call("/openapi.json");
		expect(res.status).toBe(200);
		const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
		expect(doc.openapi).toBe("3.1.0");
		expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/health/live", "/v1/health/ready"]));
		expect(doc.components.schemas).toHaveProperty("Problem");
	});

	it("serves the interactive reference pointing at the document", async () => {
		const res = await call("/docs");
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toContain("text/html");
		expect(await res.text()).toContain("/openapi.json");
	});
});
