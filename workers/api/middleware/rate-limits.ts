import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { bearerUser } from "../../auth/caller.ts";
import { clientOf } from "../../limits/client.ts";
import { enforceRateLimit, type LimitKey, type LimitPolicy, policyLimits } from "../../limits/rate-limits.ts";
import { rateLimitPolicyHeader } from "../lib/problem.ts";
import type { AppEnv } from "../types.ts";

/**
 * Who a limited route counts: the client and the signed-in user (here, with
 * the policy's Rate Limiting binding), and the cart it writes — counted by
 * that Cart object itself (`#admit` in durable-objects/cart.ts), strictly and
 * without a call of its own, since every such request reaches it anyway.
 *
 * Item writes and holds of an existing cart are counted per cart and user,
 * not per client: creating carts is what is limited per client (policy
 * carts), which bounds the carts one client can write to, and the units a
 * client can hold are capped strictly (ClientHolds). A per-client count on
 * these, the busiest writes of the shop, measured 0.09 of add_to_cart's
 * throughput and 0.14 of reserve_hot_sku's (a binding call per request; see
 * the README's Benchmarks).
 */
export type Scope = "client" | "cart" | "user";

/**
 * One rate-limited operation of the API. `enforcedBy: "service"` marks routes
 * whose service counts the attempt itself (sign-in, registration, recovery:
 * they count per e-mail address too), listed so the contract documents them.
 */
export interface LimitedRoute {
	method: "get" | "post" | "patch" | "delete";
	/** The OpenAPI path, as in /openapi.json. */
	path: `/v1/${string}`;
	policy: LimitPolicy;
	per: readonly Scope[];
	enforcedBy?: "service";
}

/**
 * Every write that costs stock, money, mail or storage, and the live-stock
 * socket. The one table the limiter and the OpenAPI document both read.
 */
export const LIMITED_ROUTES: readonly LimitedRoute[] = [
	{ method: "post", path: "/v1/carts", policy: "carts", per: ["client", "user"] },
	{ method: "patch", path: "/v1/carts/{id}", policy: "cart_writes", per: ["cart", "user"] },
	{ method: "post", path: "/v1/carts/{id}/items", policy: "cart_writes", per: ["cart", "user"] },
	{ method: "patch", path: "/v1/carts/{id}/items/{sku}", policy: "cart_writes", per: ["cart", "user"] },
	{ method: "delete", path: "/v1/carts/{id}/items/{sku}", policy: "cart_writes", per: ["cart", "user"] },
	{ method: "post", path: "/v1/carts/{id}/merge", policy: "cart_writes", per: ["cart", "user"] },
	{ method: "post", path: "/v1/carts/{id}/hold", policy: "holds", per: ["cart", "user"] },
	{ method: "delete", path: "/v1/carts/{id}/hold", policy: "holds", per: ["cart", "user"] },
	{ method: "post", path: "/v1/checkout", policy: "checkouts", per: ["client", "cart", "user"] },
	{ method: "post", path: "/v1/orders/{id}/cancel", policy: "checkouts", per: ["client", "user"] },
	{ method: "post", path: "/v1/orders/{id}/returns", policy: "checkouts", per: ["client", "user"] },
	{ method: "post", path: "/v1/orders/{id}/returns/{return_id}/cancel", policy: "checkouts", per: ["client", "user"] },
	{ method: "post", path: "/v1/payments/test/{id}/confirm", policy: "checkouts", per: ["client"] },
	{ method: "post", path: "/v1/webhooks/payments/{provider}", policy: "webhooks", per: ["client"] },
	{ method: "post", path: "/v1/carriers/{carrier}/events", policy: "webhooks", per: ["client"] },
	{ method: "post", path: "/v1/auth/refresh", policy: "refresh", per: ["client"] },
	{ method: "post", path: "/v1/auth/logout", policy: "refresh", per: ["client"] },
	{ method: "get", path: "/v1/inventory/{sku}/live", policy: "live", per: ["client"] },
	{ method: "post", path: "/v1/auth/register", policy: "auth", per: ["client"], enforcedBy: "service" },
	{ method: "post", path: "/v1/auth/login", policy: "auth", per: ["client"], enforcedBy: "service" },
	{ method: "post", path: "/v1/auth/password-reset", policy: "auth", per: ["client"], enforcedBy: "service" },
	{ method: "post", path: "/v1/auth/password-reset/confirm", policy: "auth", per: ["client"], enforcedBy: "service" },
];

/** The keys the binding counts a request under: its client, and its user when the route names users. */
async function keysOf(c: Context<AppEnv>, per: readonly Scope[]): Promise<LimitKey[]> {
	const keys: LimitKey[] = per.includes("client") ? [{ scope: "client", id: clientOf(c.req.raw) }] : [];
	if (per.includes("user") && c.req.header("authorization") !== undefined) {
		// Only a verified token names a user: a forged one must not spend someone else's allowance.
		const userId = await bearerUser(c.env, c.req.header("authorization")).catch(() => undefined);
		if (userId) keys.push({ scope: "user", id: userId });
	}
	return keys;
}

function limiter(route: LimitedRoute): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		const limits = policyLimits(c.env, route.policy);
		if (route.enforcedBy !== "service") await enforceRateLimit(c.env, route.policy, await keysOf(c, route.per));
		await next();
		// Every answer of a limited route names its policy (a WebSocket upgrade's headers are immutable).
		if (c.res.status !== 101) c.res.headers.set("ratelimit-policy", rateLimitPolicyHeader(route.policy, limits.limit, limits.period));
	};
}

/** Puts the limiter in front of each limited route (before the routes, so it runs first). */
export function mountRateLimits(app: OpenAPIHono<AppEnv>): void {
	for (const route of LIMITED_ROUTES) {
		const path = route.path.replace(/\{(\w+)\}/g, ":$1");
		app.on(route.method.toUpperCase(), path, limiter(route));
	}
}
