import type { Context } from "hono";
import { AppError } from "../api/lib/problem.ts";
import type { AppEnv } from "../api/types.ts";
import { hashToken } from "./secrets.ts";

/** Both limiters count per 60 seconds (wrangler.toml), so that is when to come back. */
const RETRY_AFTER_SECONDS = 60;

/** The client's address as Cloudflare saw it; local requests without the header share one bucket. */
export function clientIp(c: Context<AppEnv>): string {
	return c.req.header("cf-connecting-ip") ?? "local";
}

/**
 * Counts an attempt at `action` against the client IP and, when given, the
 * e-mail address (hashed, so the limiter never sees it), and refuses with 429
 * and Retry-After once either is over its limit. Runs before any expensive
 * work such as password hashing.
 */
export async function limitAuthAttempt(c: Context<AppEnv>, action: string, email?: string): Promise<void> {
	const checks = [c.env.RATE_LIMITER.limit({ key: `${action}:ip:${clientIp(c)}` })];
	if (email) checks.push(c.env.EMAIL_RATE_LIMITER.limit({ key: `${action}:email:${await hashToken(email)}` }));
	const outcomes = await Promise.all(checks);
	if (outcomes.some((outcome) => !outcome.success)) {
		throw new AppError(429, "rate_limited", "Too many attempts", {
			detail: `Too many ${action} attempts. Try again in ${RETRY_AFTER_SECONDS} seconds.`,
			headers: { "retry-after": String(RETRY_AFTER_SECONDS) },
		});
	}
}
