import { eq } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../../api/types.ts";
import { users } from "../../db/schema.ts";
import { PERSONAL_PAGE_CACHE } from "../layout.tsx";
import { forbiddenPage } from "./pages/forbidden.tsx";

/** Where a signed-out visitor is sent: the sign-in page, coming back here afterwards. */
function signInUrl(c: Context<AppEnv>): string {
	const url = new URL(c.req.url);
	// A redirect cannot repeat a form post; come back to the console instead.
	const next = c.req.method === "GET" || c.req.method === "HEAD" ? `${url.pathname}${url.search}` : "/admin";
	return `/signin?next=${encodeURIComponent(next)}`;
}

/**
 * The guard in front of every console page, like `requireAdmin()` for the
 * API: the session's role claim is a hint, the role is re-read from Postgres
 * on every request, so a demoted admin loses access at once rather than when
 * the access token expires. Signed out: 303 to sign-in. Signed in without the
 * role: a 403 page. Every answer, refusals included, is `private, no-store`.
 */
export function requireAdminPage(): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		const viewer = c.get("viewer");
		let refusal: Response | undefined;
		if (!viewer) {
			refusal = c.redirect(signInUrl(c), 303);
		} else if (viewer.role !== "admin") {
			refusal = await forbiddenPage(c);
		} else {
			const [row] = await c.get("database").primary.select({ role: users.role }).from(users).where(eq(users.id, viewer.userId));
			if (row?.role !== "admin") refusal = await forbiddenPage(c);
		}
		if (refusal) {
			refusal.headers.set("cache-control", PERSONAL_PAGE_CACHE);
			return refusal;
		}
		c.set("auth", viewer as NonNullable<typeof viewer>);
		await next();
		c.res.headers.set("cache-control", PERSONAL_PAGE_CACHE);
	};
}
