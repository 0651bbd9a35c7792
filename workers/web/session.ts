import { eq } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { CartCaller, CartState } from "../../durable-objects/cart.ts";
import type { AppEnv } from "../api/types.ts";
import { hashToken, randomToken } from "../auth/secrets.ts";
import { type IssuedTokens, revokeSession, revokeSessionOf, rotateSession } from "../auth/sessions.ts";
import { type AccessClaims, verifyAccessToken } from "../auth/tokens.ts";
import { CART_ID, cartStub } from "../carts/carts.ts";
import { ensureUserCart, mergeGuestCart } from "../carts/user-cart.ts";
import { users } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";
import { marketPicker, pageMarket } from "./market.ts";

/**
 * Browser sessions for the storefront and the admin console: the same access
 * and refresh tokens the API issues, kept in HttpOnly cookies (SameSite=Lax,
 * Secure except on plain-http localhost), so page scripts never see them. An
 * expired access token is renewed from the refresh cookie on the next page
 * (rotation and reuse detection as in the API). The guest cart is a cookie
 * too: its id and token, or for a signed-in shopper just the id of their
 * user cart. Guests reach their orders through `ec_orders`.
 */

const ACCESS = "ec_at";
const REFRESH = "ec_rt";
const CART = "ec_cart";
const ORDERS = "ec_orders";
const PAYING = "ec_paying";

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

/**
 * Signs the browser out: its session is revoked (by the refresh cookie, or
 * by the access cookie's session when only that is left) and both cookies
 * are dropped. A revocation that fails still clears the cookies.
 */
export async function endSession(c: Context<AppEnv>): Promise<void> {
	const refresh = getCookie(c, REFRESH);
	const db = c.get("database").primary;
	const viewer = c.get("viewer");
	if (refresh) await revokeSessionOf(db, c.env, refresh, "logout").catch(() => {});
	else if (viewer) await revokeSession(db, c.env, viewer.sessionId, "logout").catch(() => {});
	deleteCookie(c, ACCESS, { path: "/" });
	deleteCookie(c, REFRESH, { path: "/" });
}

/**
 * Reads the session of a page request into `c.var.viewer`: the access cookie
 * if valid (verifyAccessToken, so a revoked session counts as signed out),
 * else a refresh (new cookies set); a refresh token that is refused is
 * dropped and the page is served signed out. Only refusals (401s) sign out:
 * an outage (database, revocation list) fails the page instead.
 *
 * `skip` names paths that must not read the session at all: catalog pages are
 * cached publicly, so they must neither depend on the viewer nor carry a
 * Set-Cookie, and a refresh whose new cookies never reached the browser would
 * make its next request look like token reuse and end the session.
 */
export function loadViewer({ skip }: { skip?: (path: string) => boolean } = {}): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		c.set("viewer", undefined);
		if (skip?.(c.req.path)) return next();
		const access = getCookie(c, ACCESS);
		if (access) {
			try {
				c.set("viewer", await verifyAccessToken(c.env, access));
			} catch (err) {
				// Expired, forged or revoked: try the refresh token below.
				if (!refused(err)) throw err;
			}
		}
		const refresh = getCookie(c, REFRESH);
		if (!c.get("viewer") && refresh) {
			try {
				const tokens = await rotateSession(c.get("database").primary, c.env, refresh);
				setSession(c, tokens);
				c.set("viewer", await verifyAccessToken(c.env, tokens.access_token));
			} catch (err) {
				// Only a refused token ends the session; an outage (database down) must not sign everyone out.
				if (!refused(err)) throw err;
				deleteCookie(c, REFRESH, { path: "/" });
			}
		}
		await next();
	};
}

function refused(err: unknown): boolean {
	return err instanceof DomainError && err.kind === "unauthenticated";
}

/**
 * Form posts must come from our own pages: SameSite=Lax already keeps the
 * cookies off cross-site POSTs, and the Origin check refuses the rest (CSRF).
 * A page served with `Referrer-Policy: no-referrer` (the API's secure
 * headers) makes browsers send `Origin: null` even for its own forms; that
 * counts as ours only when the browser also says `Sec-Fetch-Site: same-origin`,
 * which no page can forge.
 */
export function sameOriginPosts({ skip }: { skip?: (path: string) => boolean } = {}): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		if (c.req.method !== "GET" && c.req.method !== "HEAD" && !skip?.(c.req.path)) {
			const site = c.req.header("sec-fetch-site");
			const sent = c.req.header("origin");
			const origin = sent === "null" && site === "same-origin" ? undefined : sent;
			const own = new URL(c.req.url).origin;
			if ((origin && origin !== own) || (!origin && site && site !== "same-origin" && site !== "none")) {
				throw new DomainError("cross_site_post", { detail: "Cross-site form posts are refused." });
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

const ORDER_ID = /^ord_[0-9abcdefghjkmnpqrstvwxyz]{20}$/;
const ORDER_TOKEN = /^[\w-]{20,100}$/;
/** How many guest orders the browser remembers (the newest). */
const REMEMBERED_ORDERS = 20;

/** A guest's proof for one order: its id and the order token checkout issued. */
export interface OrderPass {
	id: string;
	token: string;
}

/** The guest orders this browser placed, newest first. */
export function readOrderPasses(c: Context<AppEnv>): OrderPass[] {
	const value = getCookie(c, ORDERS) ?? "";
	return value
		.split("|")
		.map((pair) => {
			const [id, token] = pair.split(".", 2);
			return id && token && ORDER_ID.test(id) && ORDER_TOKEN.test(token) ? { id, token } : undefined;
		})
		.filter((pass): pass is OrderPass => pass !== undefined);
}

/**
 * Remembers a guest order in the HttpOnly `ec_orders` cookie (`{id}.{token}`
 * pairs, the last 20), so the order and pay pages open without an account.
 */
export function rememberOrder(c: Context<AppEnv>, pass: OrderPass): void {
	const passes = [pass, ...readOrderPasses(c).filter((known) => known.id !== pass.id)].slice(0, REMEMBERED_ORDERS);
	setCookie(c, ORDERS, passes.map((known) => `${known.id}.${known.token}`).join("|"), {
		httpOnly: true,
		secure: secure(c),
		sameSite: "Lax",
		path: "/",
		maxAge: 180 * 86_400,
	});
}

/**
 * Marks that this browser just sent the payment of an order: until the
 * consumer applies it, the order page says so and refreshes itself. A cookie,
 * not a query parameter, so the order's address stays `/orders/{id}`.
 */
export function markPaymentSent(c: Context<AppEnv>, orderId: string): void {
	setCookie(c, PAYING, orderId, { httpOnly: true, secure: secure(c), sameSite: "Lax", path: "/", maxAge: 10 * 60 });
}

export function paymentSent(c: Context<AppEnv>, orderId: string): boolean {
	return getCookie(c, PAYING) === orderId;
}

export function clearPaymentSent(c: Context<AppEnv>): void {
	deleteCookie(c, PAYING, { path: "/" });
}

/** A cart this request may use, with the proof that opens it. */
export interface PageCart {
	id: string;
	caller: CartCaller;
	state: CartState;
}

/**
 * The open cart of a page request: a signed-in shopper's current user cart
 * (`users.cart_id`, the authority: the latest cart they created or merged
 * into, whichever device did it; the cookie just follows it), or the guest
 * cart in `ec_cart`. A cart that has expired or is not the caller's is forgotten.
 */
export async function findCart(c: Context<AppEnv>): Promise<PageCart | undefined> {
	const viewer = c.get("viewer");
	const cookie = readCartCookie(c);
	if (viewer) {
		// Signed in elsewhere (the API) with a guest cart still in this browser: keep its lines, as a sign-in here would.
		if (cookie?.token) await adoptGuestCart(c, viewer.userId);
		const caller = { userId: viewer.userId };
		const id = await userCartId(c, viewer.userId);
		const snapshot = id ? await cartStub(c.env, id).snapshot(caller) : undefined;
		if (!id || !snapshot?.ok) return undefined;
		if (cookie?.id !== id || cookie.token) setCartCookie(c, { id });
		return { id, caller, state: snapshot.cart };
	}
	if (!cookie?.token) return undefined;
	const caller = { tokenHash: await hashToken(cookie.token) };
	const snapshot = await cartStub(c.env, cookie.id).snapshot(caller);
	if (!snapshot.ok) {
		clearCartCookie(c);
		return undefined;
	}
	return { id: cookie.id, caller, state: snapshot.cart };
}

async function userCartId(c: Context<AppEnv>, userId: string): Promise<string | undefined> {
	const [row] = await c.get("database").primary.select({ cartId: users.cartId }).from(users).where(eq(users.id, userId));
	return row?.cartId ?? undefined;
}

/**
 * The cart to put an item in, created when there is none: for a signed-in
 * shopper their user cart (`ensureUserCart`, so two first adds racing agree on
 * one cart), for a guest a new guest cart whose token goes into `ec_cart`.
 */
export async function cartForChange(c: Context<AppEnv>): Promise<{ id: string; caller: CartCaller }> {
	const found = await findCart(c);
	if (found) return found;
	const viewer = c.get("viewer");
	if (viewer) {
		const id = await ensureUserCart(c.env, c.get("database").primary, viewer.userId);
		setCartCookie(c, { id });
		return { id, caller: { userId: viewer.userId } };
	}
	const id = newId("cart");
	const token = randomToken();
	const tokenHash = await hashToken(token);
	// The cart shops in the market the shopper browses in, so the prices they saw are the prices it shows.
	const created = await cartStub(c.env, id).create(id, { kind: "guest", tokenHash }, (await pageMarket(c)).id);
	if (!created.ok) throw new Error(`cart ${id} could not be created: ${created.reason}`);
	setCartCookie(c, { id, token });
	return { id, caller: { tokenHash } };
}

/**
 * After sign-in or registration: the guest cart in `ec_cart` is merged into
 * the user's cart (created when they have none) and the cookie then points at
 * the user's cart. A guest cart that cannot be used (expired, already merged)
 * changes nothing; the cookie still moves to the user's cart if they have one.
 */
export async function adoptGuestCart(c: Context<AppEnv>, userId: string): Promise<void> {
	const db = c.get("database").primary;
	const cookie = readCartCookie(c);
	if (cookie?.token) {
		const targetId = await ensureUserCart(c.env, db, userId);
		await mergeGuestCart(c.env, targetId, userId, cookie.id, cookie.token);
		setCartCookie(c, { id: targetId });
		return;
	}
	const current = await userCartId(c, userId);
	if (current) setCartCookie(c, { id: current });
	else clearCartCookie(c);
}

/**
 * A cart follows the market the shopper picked in the header (the cookie):
 * shown on the cart or checkout page in another market, it is moved there
 * first, so the page prices it as the catalog did.
 */
export async function followPickedMarket(c: Context<AppEnv>, cart: PageCart): Promise<PageCart> {
	const { market, chosen } = await marketPicker(c);
	if (!chosen || cart.state.market === market.id) return cart;
	const moved = await cartStub(c.env, cart.id).setMarket(cart.caller, market.id);
	return moved.ok ? { ...cart, state: moved.cart } : cart;
}
