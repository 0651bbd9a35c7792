import { DomainError } from "../domain/errors.ts";
import { hashToken } from "./secrets.ts";

/** Both limiters count per 60 seconds (wrangler.toml), so that is when to come back. */
const RETRY_AFTER_SECONDS = 60;

/** Who is attempting: the Worker's bindings and the client's address. */
export interface AttemptContext {
	env: Env;
	/** See `clientAddress`. */
	client: string;
}

/** The client's address as Cloudflare saw it; local requests without the header share one bucket. */
export function clientAddress(request: Request): string {
	return request.headers.get("cf-connecting-ip") ?? "local";
}

/**
 * Counts an attempt at `action` against the client IP and, when given, the
 * e-mail address (hashed, so the limiter never sees it), and refuses with 429
 * and Retry-After once either is over its limit. Runs before any expensive
 * work such as password hashing.
 */
export async function limitAuthAttempt(ctx: AttemptContext, action: string, email?: string): Promise<void> {
	const checks = [ctx.env.RATE_LIMITER.limit({ key: `${action}:ip:${ctx.client}` })];
	if (email) checks.push(ctx.env.EMAIL_RATE_LIMITER.limit({ key: `${action}:email:${await hashToken(email)}` }));
	const outcomes = await Promise.all(checks);
	if (outcomes.some((outcome) => !outcome.success)) {
		throw new DomainError("rate_limited", {
			detail: `Too many ${action} attempts. Try again in ${RETRY_AFTER_SECONDS} seconds.`,
			retryAfterSeconds: RETRY_AFTER_SECONDS,
		});
	}
}
