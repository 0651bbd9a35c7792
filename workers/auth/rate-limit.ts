import { enforceRateLimit, type LimitKey } from "../limits/rate-limits.ts";
import { hashToken } from "./secrets.ts";

/** Who is attempting: the Worker's bindings and the client (limits/client.ts: an IPv6 /64 is one client). */
export interface AttemptContext {
	env: Env;
	client: string;
}

/**
 * Counts an attempt at `action` against the client and, when given, the
 * e-mail address (hashed, so the limiter never sees it), and refuses with 429
 * once either is over its limit (policies `auth` and `auth_email`). Runs
 * before any expensive work such as password hashing.
 */
export async function limitAuthAttempt(ctx: AttemptContext, action: string, email?: string): Promise<void> {
	const byClient = enforceRateLimit(ctx.env, "auth", [{ scope: "client", id: `${action}:${ctx.client}` }]);
	const byEmail = email
		? enforceRateLimit(ctx.env, "auth_email", [{ scope: "email", id: `${action}:${await hashToken(email)}` } satisfies LimitKey])
		: undefined;
	await Promise.all([byClient, byEmail]);
}
