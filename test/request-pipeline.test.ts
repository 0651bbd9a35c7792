import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp, createRouter } from "../workers/api/app.ts";
import { Database } from "../workers/db/client.ts";
import { call, callWith } from "./helpers.ts";

/** Routes that answer fast, fail, or wait on I/O (workerd's clock only moves across I/O). */
const probe = createRouter()
	.get("/ok", (c) => c.json({ ok: true }))
	.get("/missing", (c) => c.json({ code: "not_found" }, 404))
	.get("/boom", () => {
		throw new Error("unexpected");
	})
	.get("/slow", async (c) => {
		await new Promise((resolve) => setTimeout(resolve, 60));
		return c.json({ ok: true });
	});
const app = createApp((root) => root.route("/v1/probe", probe));

interface Line {
	level: string;
	msg: string;
	route: string;
	status: number;
	request_id: string;
}

/** The request log lines written while `fn` runs. */
async function requestLines(fn: () => Promise<unknown>): Promise<Line[]> {
	const lines: string[] = [];
	const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
		lines.push(String(line));
	});
	try {
		await fn();
	} finally {
		spy.mockRestore();
	}
	return lines
		.filter((line) => line.startsWith("{"))
		.map((line) => JSON.parse(line) as Line)
		.filter((line) => line.msg === "request");
}

function analytics() {
	const points: AnalyticsEngineDataPoint[] = [];
	return { points, binding: { writeDataPoint: (point: AnalyticsEngineDataPoint) => points.push(point) } as AnalyticsEngineDataset };
}

afterEach(() => vi.restoreAllMocks());

describe("the per-request log line (REQUEST_LOG)", () => {
	it('"errors" logs 5xx answers and slow requests only, each with its route and request id', async () => {
		vi.spyOn(console, "error").mockImplementation(() => {});
		const vars = { REQUEST_LOG: "errors", REQUEST_LOG_SLOW_MS: "30" };
		const answers: Response[] = [];
		const lines = await requestLines(async () => {
			for (const path of ["/v1/probe/ok", "/v1/probe/missing", "/v1/probe/boom", "/v1/probe/slow"]) {
				answers.push(await callWith(app, path, {}, vars));
			}
		});
		expect(answers.map((r) => r.status)).toEqual([200, 404, 500, 200]);
		expect(lines.map(({ level, route, status }) => ({ level, route, status }))).toEqual([
			{ level: "error", route: "/v1/probe/boom", status: 500 },
			{ level: "warn", route: "/v1/probe/slow", status: 200 },
		]);
		expect(lines[0]?.request_id).toBe(answers[2]?.headers.get("x-request-id"));
	});

	it('"all" logs every request; "sampled" logs its share of the rest besides errors', async () => {
		const everyRequest = await requestLines(() => callWith(app, "/v1/probe/ok", {}, { REQUEST_LOG: "all" }));
		expect(everyRequest.map((line) => line.status)).toEqual([200]);
		const allSampled = await requestLines(() => callWith(app, "/v1/probe/ok", {}, { REQUEST_LOG: "sampled", REQUEST_LOG_SAMPLE: "1" }));
		expect(allSampled).toHaveLength(1);
		const noneSampled = await requestLines(() => callWith(app, "/v1/probe/ok", {}, { REQUEST_LOG: "sampled", REQUEST_LOG_SAMPLE: "0" }));
		expect(noneSampled).toHaveLength(0);
	});

	it("logs only errors when REQUEST_LOG is unset or unknown", async () => {
		for (const mode of [undefined, "verbose"]) {
			const lines = await requestLines(() => callWith(app, "/v1/probe/ok", {}, { REQUEST_LOG: mode as string }));
			expect(lines).toHaveLength(0);
		}
	});
});

describe("Analytics Engine data points (ANALYTICS_SAMPLE)", () => {
	it("writes one point per request by default, logged or not, with weight 1", async () => {
		const { points, binding } = analytics();
		await callWith(app, "/v1/probe/ok", {}, { ANALYTICS: binding, REQUEST_LOG: "errors" });
		await callWith(app, "/v1/probe/missing", {}, { ANALYTICS: binding, REQUEST_LOG: "errors" });
		expect(points.map((p) => ({ blobs: p.blobs, weight: p.doubles?.[2] }))).toEqual([
			{ blobs: ["GET", "/v1/probe/ok", "200"], weight: 1 },
			{ blobs: ["GET", "/v1/probe/missing", "404"], weight: 1 },
		]);
	});

	it("writes none at 0, and at a share below 1 each point carries the weight that restores the total", async () => {
		const none = analytics();
		for (let i = 0; i < 5; i++) await callWith(app, "/v1/probe/ok", {}, { ANALYTICS: none.binding, ANALYTICS_SAMPLE: "0" });
		expect(none.points).toHaveLength(0);

		vi.spyOn(Math, "random").mockReturnValue(0.1);
		const quarter = analytics();
		await callWith(app, "/v1/probe/ok", {}, { ANALYTICS: quarter.binding, ANALYTICS_SAMPLE: "0.25" });
		expect(quarter.points.map((p) => p.doubles?.[2])).toEqual([4]);
	});
});

describe("CORS on answers that are not preflights", () => {
	it("names an allowed origin, exposes the headers and varies on Origin, errors included", async () => {
		for (const path of ["/v1/health/live", "/v1/does-not-exist"]) {
			const res = await call(path, { headers: { origin: "https://shop.test" } });
			expect(res.headers.get("access-control-allow-origin")).toBe("https://shop.test");
			expect(res.headers.get("access-control-expose-headers")).toContain("X-Request-Id");
			expect(res.headers.get("vary")).toBe("Origin");
			expect(res.headers.get("x-content-type-options")).toBe("nosniff");
			expect(res.headers.get("x-request-id")).toBeTruthy();
		}
	});

	it("names no other origin, and none when the request has none", async () => {
		const stranger = await call("/v1/health/live", { headers: { origin: "https://evil.test" } });
		expect(stranger.headers.get("access-control-allow-origin")).toBeNull();
		expect(stranger.headers.get("vary")).toBe("Origin");
		const none = await call("/v1/health/live");
		expect(none.headers.get("access-control-allow-origin")).toBeNull();
	});
});

describe("the request's database", () => {
	it("opens no pool for a handle that is never queried, and one when it is", async () => {
		const idle = new Database(env);
		expect(idle.read).toBeDefined();
		expect(idle.primary).toBeDefined();
		expect(idle.opened).toBe(false);

		const used = new Database(env);
		try {
			const { rows } = await used.read.execute(sql`select 1 as one`);
			expect(rows).toEqual([{ one: 1 }]);
			expect(used.opened).toBe(true);
		} finally {
			await used.close();
		}
	});

	it("reports a missing DATABASE_URL when a query is made, as a 503", async () => {
		const probe = createRouter().get("/db", async (c) => {
			const db = c.get("database").primary;
			return c.json({ rows: (await db.execute(sql`select 1 as one`)).rows });
		});
		const res = await callWith(
			createApp((root) => root.route("/v1/probe", probe)),
			"/v1/probe/db",
			{},
			{ DATABASE_URL: "" },
		);
		expect(res.status).toBe(503);
	});
});
