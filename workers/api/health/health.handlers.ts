import type { RouteHandler } from "@hono/zod-openapi";
import { type OpenIncidents, openIncidents } from "../../ops/alerts.ts";
import { HttpError } from "../lib/problem.ts";
import type { AppEnv } from "../types.ts";
import type { live, ready } from "./health.routes.ts";

const CHECK_TIMEOUT_MS = 3000;

interface CheckResult {
	status: "ok" | "fail";
	duration_ms: number;
	error?: string;
}

async function timed(probe: () => Promise<unknown>): Promise<CheckResult> {
	const started = performance.now();
	let timer: ReturnType<typeof setTimeout> | undefined;
	try {
		await Promise.race([
			probe(),
			new Promise((_, reject) => {
				timer = setTimeout(() => reject(new Error("timed out")), CHECK_TIMEOUT_MS);
			}),
		]);
		return { status: "ok", duration_ms: Math.round(performance.now() - started) };
	} catch (err) {
		const timedOut = err instanceof Error && err.message === "timed out";
		return {
			status: "fail",
			duration_ms: Math.round(performance.now() - started),
			error: timedOut ? `no answer within ${CHECK_TIMEOUT_MS} ms` : "unreachable or refused",
		};
	} finally {
		if (timer !== undefined) clearTimeout(timer);
	}
}

const NO_STORE = { "cache-control": "no-store" };

export const liveHandler: RouteHandler<typeof live, AppEnv> = (c) => c.json({ status: "ok" as const }, 200, NO_STORE);

export const readyHandler: RouteHandler<typeof ready, AppEnv> = async (c) => {
	const database = c.get("database");
	let incidents: OpenIncidents | undefined;
	const [postgres, kv, r2] = await Promise.all([
		// The probe is the read of the open incidents: one query tells both that Postgres answers and what is open.
		timed(async () => {
			incidents = await openIncidents(database.primary);
		}),
		timed(() => c.env.CATALOG.get("health:probe")),
		timed(() => c.env.MEDIA.head("health/probe")),
	]);
	const checks = { postgres, kv, r2 };
	const failed = Object.entries(checks)
		.filter(([, check]) => check.status === "fail")
		.map(([name]) => name);
	if (failed.length > 0) {
		throw new HttpError("not_ready", {
			detail: `Failing: ${failed.join(", ")}.`,
			extensions: { checks },
			retryAfterSeconds: 5,
			headers: NO_STORE,
		});
	}
	// Open incidents are for people to act on, not a reason to take the Worker out of rotation: still 200.
	if (incidents && incidents.total > 0) {
		return c.json({ status: "degraded" as const, checks, reasons: incidents.reasons, open_incidents: incidents.total }, 200, NO_STORE);
	}
	return c.json({ status: "ok" as const, checks, reasons: [], open_incidents: 0 }, 200, NO_STORE);
};
