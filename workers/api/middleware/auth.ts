import { eq } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { bearerToken } from "../../auth/caller.ts";
import { unauthorized, verifyAccessToken } from "../../auth/tokens.ts";
import { users } from "../../db/schema.ts";
import { DomainError } from "../../domain/errors.ts";
import type { AppEnv } from "../types.ts";

/** Admits requests with a valid access token and puts its claims on `c.var.auth`. */
export function requireUser(): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		const header = c.req.header("authorization");
		if (!header) throw unauthorized("Send an access token: Authorization: Bearer <token>.");
		c.set("auth", await verifyAccessToken(c.env, bearerToken(header)));
		await next();
	};
}

/**
 * The one guard in front of every admin route. The token's role claim is a
 * hint; the role is re-read from Postgres so that a demoted admin loses access
 * at once rather than when the token expires.
 */
export function requireAdmin(): MiddlewareHandler<AppEnv> {
	const user = requireUser();
	return (c, next) =>
		user(c, async () => {
			const auth = c.get("auth");
			const forbidden = new DomainError("forbidden", { detail: "This route requires the admin role." });
			if (auth.role !== "admin") throw forbidden;
			const [row] = await c.get("database").primary.select({ role: users.role }).from(users).where(eq(users.id, auth.userId));
			if (row?.role !== "admin") throw forbidden;
			await next();
		});
}
