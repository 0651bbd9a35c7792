import { DomainError } from "../domain/errors.ts";
import { bindingName, type LimitKey, type LimitPolicy, type PolicyLimits, parsePolicies } from "./policies.ts";

export { bindingName, LIMIT_POLICIES, type LimitKey, type LimitPolicy, type LimitScope, type PolicyLimits } from "./policies.ts";

/**
 * Approximate request limits, one policy per kind of costly write. Each is
 * counted by a Workers Rate Limiting binding (`LIMIT_<POLICY>` in
 * wrangler.toml), which counts per Cloudflare location and may let a burst
 * slightly past its limit: fine for requests, not for stock (ClientHolds
 * counts held units strictly). RATE_LIMITS repeats each binding's limit and
 * period, which the binding cannot tell, for Retry-After and the RateLimit
 * headers; `npm run lint` checks the two agree in every environment.
 */
let parsed: { raw: string; table: Record<LimitPolicy, PolicyLimits> } | undefined;

/** RATE_LIMITS, parsed once per isolate; a missing or malformed policy is a configuration fault. */
export function policyLimits(env: Env, policy: LimitPolicy): PolicyLimits {
	const raw = env.RATE_LIMITS ?? "";
	const current = parsed?.raw === raw ? parsed : { raw, table: parsePolicies(raw) };
	parsed = current;
	return current.table[policy];
}

/**
 * Counts one request against `policy` for every key, and refuses with
 * `rate_limited` (429, Retry-After: the policy's window) when any of them is
 * over the limit. All keys are counted even when one refuses, so a client
 * cannot dodge its own count by also naming a busy cart.
 */
export async function enforceRateLimit(env: Env, policy: LimitPolicy, keys: readonly LimitKey[]): Promise<void> {
	const limits = policyLimits(env, policy);
	const binding = env[bindingName(policy)] as RateLimit;
	const outcomes = await Promise.all(keys.map((key) => binding.limit({ key: `${policy}:${key.scope}:${key.id}` })));
	const refused = keys.find((_, i) => !outcomes[i]?.success);
	if (!refused) return;
	throw new DomainError("rate_limited", {
		detail: `Too many requests of this kind for this ${refused.scope === "client" ? "client" : refused.scope}. Try again in ${limits.period} seconds.`,
		retryAfterSeconds: limits.period,
		rateLimit: { policy, ...limits, remaining: 0, resetSeconds: limits.period },
	});
}
