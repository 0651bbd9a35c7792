import type { RouteHandler } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
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
	const [postgres, kv, r2] = await Promise.all([
		timed(() => database.primary.execute(sql`select 1`)),
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
	return c.json({ status: "ok" as const, checks }, 200, NO_STORE);
};
