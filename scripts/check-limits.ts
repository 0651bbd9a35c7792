/**
 * Checks that every environment in wrangler.toml enforces the request limits
 * it advertises: each RATE_LIMITS policy has its LIMIT_<POLICY> Rate Limiting
 * binding with the same limit and period (the binding counts, the variable
 * feeds Retry-After and the RateLimit headers, and neither can see the
 * other), and no limit binding is left without a policy. Run by `npm run lint`.
 */
import { experimental_readRawConfig } from "wrangler";
import { bindingName, LIMIT_POLICIES, parsePolicies } from "../workers/limits/policies.ts";

interface RateLimitBinding {
	name: string;
	namespace_id: string;
	simple: { limit: number; period: number };
}
interface EnvironmentConfig {
	vars?: Record<string, unknown>;
	ratelimits?: RateLimitBinding[];
}

const { rawConfig } = experimental_readRawConfig({ config: "wrangler.toml" });
const top = rawConfig as EnvironmentConfig & { env?: Record<string, EnvironmentConfig> };
const environments: [string, EnvironmentConfig][] = [["(top level)", top], ...Object.entries(top.env ?? {})];

const problems: string[] = [];
const namespaces = new Map<string, string>();
for (const [name, config] of environments) {
	const raw = config.vars?.RATE_LIMITS;
	if (typeof raw !== "string") {
		problems.push(`${name}: vars.RATE_LIMITS is missing`);
		continue;
	}
	let policies: ReturnType<typeof parsePolicies>;
	try {
		policies = parsePolicies(raw);
	} catch (err) {
		problems.push(`${name}: ${(err as Error).message}`);
		continue;
	}
	const bindings = new Map((config.ratelimits ?? []).map((binding) => [binding.name, binding]));
	for (const policy of LIMIT_POLICIES) {
		const binding = bindings.get(bindingName(policy));
		const wanted = policies[policy];
		if (!binding) problems.push(`${name}: no [[ratelimits]] binding ${bindingName(policy)} for policy ${policy}`);
		else if (binding.simple.limit !== wanted.limit || binding.simple.period !== wanted.period) {
			problems.push(
				`${name}: ${binding.name} counts ${binding.simple.limit} per ${binding.simple.period} s, RATE_LIMITS.${policy} says ${wanted.limit} per ${wanted.period} s`,
			);
		}
		bindings.delete(bindingName(policy));
	}
	for (const extra of bindings.keys()) problems.push(`${name}: binding ${extra} has no RATE_LIMITS policy`);
	for (const binding of config.ratelimits ?? []) {
		const other = namespaces.get(binding.namespace_id);
		if (other) problems.push(`${name}: ${binding.name} shares namespace_id ${binding.namespace_id} with ${other}`);
		namespaces.set(binding.namespace_id, `${name} ${binding.name}`);
	}
}

if (problems.length > 0) {
	for (const problem of problems) console.error(`check-limits: ${problem}`);
	process.exit(1);
}
console.log(`check-limits: ${environments.length} environments, ${LIMIT_POLICIES.length} policies each, bindings agree`);
