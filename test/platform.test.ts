import { describe, expect, it } from "vitest";
import { call, problemOf } from "./helpers.ts";

describe("health", () => {
	it("answers liveness without touching dependencies", async () => {
		const res = await call("/v1/health/live");
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ status: "ok" });
		expect(res.headers.get("x-request-id")).toMatch(/^[\w-]+$/);
	});

	it("reports Postgres, KV and R2 healthy when they answer", async () => {
		const res = await call("/v1/health/ready");
		const body = (await res.json()) as { status: string; checks: Record<string, { status: string }> };
		expect(res.status, JSON.stringify(body)).toBe(200);
		expect(body.checks.postgres?.status).toBe("ok");
		expect(body.checks.kv?.status).toBe("ok");
		expect(body.checks.r2?.status).toBe("ok");
	});
});
