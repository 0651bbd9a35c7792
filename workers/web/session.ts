import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../api/types.ts";
import { type IssuedTokens, revokeSessionOf, rotateSession } from "../auth/sessions.ts";
import { type AccessClaims, verifyAccessToken } from "../auth/tokens.ts";
import { CART_ID } from "../carts/carts.ts";

/**
 * Browser sessions for the storefront and the admin console: the same access
 * and refresh tokens the API issues, kept in HttpOnly cookies (SameSite=Lax,
 * Secure except on plain-http localhost), so page scripts never see them. An
 * expired access token is renewed from the refresh cookie on the next page
 * (rotation and reuse detection as in the API). The guest cart is a cookie
 * too: its id and token.
 */

const ACCESS = "ec_at";
const REFRESH = "ec_rt";
const CART = "ec_cart";

declare module "hono" {
	interface ContextVariableMap {
		/** The signed-in shopper or admin of a page request, or undefined. */
		viewer: AccessClaims | undefined;
	}
}

function secure(c: Context<AppEnv>): boolean {
	const url = new URL(c.req.url);
	return url.protocol === "https:" || !["localhost", "127.0.0.1"].includes(url.hostname);
}

export function setSession(c: Context<AppEnv>, tokens: IssuedTokens): void {
	const base = { httpOnly: true, secure: secure(c), sameSite: "Lax" as const, path: "/" };
	setCookie(c, ACCESS, tokens.access_token, { ...base, maxAge: tokens.expires_in });
	setCookie(c, REFRESH, tokens.refresh_token, { ...base, maxAge: tokens.refresh_expires_in });
}

export async function endSession(c: Context<AppEnv>): Promise<void> {
	const refresh = getCookie(c, REFRESH);
	if (refresh) await revokeSessionOf(c.get("database").primary, refresh, "logout").catch(() => {});
	deleteCookie(c, ACCESS, { path: "/" });
	deleteCookie(c, REFRESH, { path: "/" });
}

/**
 * Reads the session of a page request into `c.var.viewer`: the access cookie
 * if valid, else a refresh (new cookies set); a refresh token that fails is
 * dropped and the page is served signed out.
 */
export function loadViewer(): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		c.set("viewer", undefined);
		const access = getCookie(c, ACCESS);
		if (access) {
			try {
				c.set("viewer", await verifyAccessToken(c.env, access));
			} catch {
				// Expired or forged: try the refresh token below.
			}
		}
		const refresh = getCookie(c, REFRESH);
		if (!c.get("viewer") && refresh) {
			try {
				const tokens = await rotateSession(c.get("database").primary, c.env, refresh);
				setSession(c, tokens);
				c.set("viewer", await verifyAccessToken(c.env, tokens.access_token));
			} catch {
				deleteCookie(c, REFRESH, { path: "/" });
			}
		}
		await next();
	};
}

/**
 * Form posts must come from our own pages: SameSite=Lax already keeps the
 * cookies off cross-site POSTs, and the Origin check refuses the rest (CSRF).
 */
export function sameOriginPosts(): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		if (c.req.method !== "GET" && c.req.method !== "HEAD") {
			const origin = c.req.header("origin");
			const site = c.req.header("sec-fetch-site");
			const own = new URL(c.req.url).origin;
			if ((origin && origin !== own) || (!origin && site && site !== "same-origin" && site !== "none")) {
				return c.text("Cross-site form posts are refused.", 403);
			}
		}
		await next();
	};
}

export interface CartCookie {
	id: string;
	/** The guest token; absent for a signed-in user's cart. */
	token?: string;
}

export function readCartCookie(c: Context<AppEnv>): CartCookie | undefined {
	const value = getCookie(c, CART);
	if (!value) return undefined;
	const [id, token] = value.split(".", 2);
	if (!id || !CART_ID.test(id)) return undefined;
	return token ? { id, token } : { id };
}

export function setCartCookie(c: Context<AppEnv>, cart: CartCookie): void {
	setCookie(c, CART, cart.token ? `${cart.id}.${cart.token}` : cart.id, {
		httpOnly: true,
		secure: secure(c),
		sameSite: "Lax",
		path: "/",
		maxAge: 30 * 86_400,
	});
}

export function clearCartCookie(c: Context<AppEnv>): void {
	deleteCookie(c, CART, { path: "/" });
}
