import type { Context, MiddlewareHandler } from "hono";
import { type IdempotencyClaim, requestHashOf, requireIdempotencyKey, runIdempotent } from "../../idempotency/store.ts";
import type { AppEnv } from "../types.ts";

declare module "hono" {
	interface ContextVariableMap {
		idempotency: IdempotencyClaim;
	}
}

/**
 * Idempotency for a mutating route (invariant I2), keyed by the
 * `Idempotency-Key` header within the caller's scope (their user id, or the
 * hash of the guest token they hold), so one caller's keys never collide with
 * another's. The rules live in the store (`idempotency/store.ts`): the first
 * request claims the key; a request with the same key then gets the first
 * one's stored answer (`Idempotent-Replayed: true`) for 24 hours, 409 while
 * the first is still running, and 422 when its method, route or body differ;
 * 5xx answers are not stored.
 *
 * `scopeOf` returns the caller's scope, or null when the caller proves no
 * identity; the route then refuses the request itself and nothing is stored.
 */
export function idempotent(scopeOf: (c: Context<AppEnv>) => Promise<string | null>): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		const key = requireIdempotencyKey(c.req.header("idempotency-key"));
		const scope = await scopeOf(c);
		if (scope === null) return next();
		const route = `${c.req.method} ${c.req.routePath}`;
		const requestHash = await requestHashOf(c.req.method, c.req.path, await c.req.text());
		const outcome = await runIdempotent(c.get("database").primary, { scope, key, route, requestHash }, async (claimed) => {
			c.set("idempotency", claimed);
			await next();
			return c.res;
		});
		if (outcome.replayed) return outcome.response;
	};
}
