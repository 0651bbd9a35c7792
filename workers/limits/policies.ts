/**
 * The request-limit policies and their configuration (RATE_LIMITS), apart
 * from the bindings that count them so the config check (scripts/check-limits.ts)
 * can read them outside the Worker.
 */
export const LIMIT_POLICIES = ["auth", "auth_email", "carts", "cart_writes", "holds", "checkouts", "webhooks", "refresh", "live"] as const;
export type LimitPolicy = (typeof LIMIT_POLICIES)[number];

/** What one policy allows: `limit` requests per `period` seconds per counted subject. */
export interface PolicyLimits {
	limit: number;
	period: number;
}

/** Who a count is for: a client (see limits/client.ts), a cart, a signed-in user, an e-mail address (hashed). */
export type LimitScope = "client" | "cart" | "user" | "email";
export interface LimitKey {
	scope: LimitScope;
	id: string;
}

/** The Env binding that counts `policy`. */
export function bindingName(policy: LimitPolicy): `LIMIT_${Uppercase<LimitPolicy>}` {
	return `LIMIT_${policy.toUpperCase() as Uppercase<LimitPolicy>}`;
}

export function parsePolicies(raw: string): Record<LimitPolicy, PolicyLimits> {
	const source = JSON.parse(raw || "{}") as Record<string, Partial<PolicyLimits> | undefined>;
	const table = {} as Record<LimitPolicy, PolicyLimits>;
	for (const policy of LIMIT_POLICIES) {
		const entry = source[policy];
		const limit = entry?.limit;
		const period = entry?.period;
		if (!Number.isInteger(limit) || (limit as number) < 1 || (period !== 10 && period !== 60)) {
			throw new Error(`RATE_LIMITS.${policy} must be {"limit": <positive integer>, "period": 10 or 60}`);
		}
		table[policy] = { limit: limit as number, period };
	}
	return table;
}
