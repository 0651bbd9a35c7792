import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import { authenticate, registerAccount } from "../../auth/accounts.ts";
import { normalizeEmail } from "../../auth/email.ts";
import { limitAuthAttempt } from "../../auth/rate-limit.ts";
import { resetPasswordWithToken, sendPasswordResetLater, verifyEmailWithToken } from "../../auth/recovery.ts";
import { revokeSessionOf, rotateSession, startSession } from "../../auth/sessions.ts";
import { publicUser } from "../../auth/users.ts";
import { ensureUserCart, mergeGuestCart } from "../../carts/user-cart.ts";
import { viewCart } from "../../carts/view.ts";
import { DomainError } from "../../domain/errors.ts";
import { accountContext } from "../lib/request.ts";
import type { AppEnv } from "../types.ts";
import type { login, logout, passwordReset, passwordResetConfirm, refresh, register, verifyEmail } from "./auth.routes.ts";

const invalidToken = () => new DomainError("invalid_token", { detail: "The link is invalid, expired or was already used." });

/** Registration (see registerAccount): the session starts in the same transaction. */
export const registerHandler: RouteHandler<typeof register, AppEnv> = async (c) => {
	const body = c.req.valid("json");
	const result = await registerAccount(accountContext(c), body, async (tx, user) => {
		const tokens = await startSession(tx, c.env, user);
		return { user: publicUser(user), ...tokens };
	});
	return c.json(result, 201);
};

/** Sign-in (see authenticate), merging a presented guest cart into the user's cart. */
export const loginHandler: RouteHandler<typeof login, AppEnv> = async (c) => {
	const body = c.req.valid("json");
	const user = await authenticate(accountContext(c), body.email, body.password);
	const db = c.get("database").primary;
	// The merge runs before the session starts, so a fault in it fails the sign-in cleanly.
	const cart = body.guest_cart_id && body.guest_token ? await mergeAtLogin(c, user.id, body.guest_cart_id, body.guest_token) : undefined;
	const tokens = await startSession(db, c.env, user);
	return c.json({ user: publicUser(user), ...tokens, ...(cart === undefined ? {} : { cart }) }, 200);
};

/**
 * Merge on sign-in: the guest cart's lines go into the user's current cart (one
 * is created when they have none) by the rule of the merge route, and the guest
 * cart is closed. A guest cart that cannot be used does not fail the sign-in:
 * the answer's `cart` is null and the user's cart is left as it was.
 */
async function mergeAtLogin(c: Context<AppEnv>, userId: string, guestId: string, guestToken: string) {
	const database = c.get("database");
	const targetId = await ensureUserCart(c.env, database.primary, userId);
	const merged = await mergeGuestCart(c.env, targetId, userId, guestId, guestToken);
	if (!merged.ok) return null;
	const view = await viewCart(c.env, c.executionCtx, database.read, database.read, merged.cart);
	return { ...view, merge: { capped: merged.cart.capped, dropped: merged.cart.dropped } };
}

export const refreshHandler: RouteHandler<typeof refresh, AppEnv> = async (c) => {
	const { refresh_token } = c.req.valid("json");
	return c.json(await rotateSession(c.get("database").primary, c.env, refresh_token), 200);
};

/** Ends the refresh token's session: its refresh and access tokens stop working (see revocation.ts for the window). */
export const logoutHandler: RouteHandler<typeof logout, AppEnv> = async (c) => {
	const { refresh_token } = c.req.valid("json");
	await revokeSessionOf(c.get("database").primary, c.env, refresh_token, "logout");
	return c.body(null, 204);
};

export const verifyEmailHandler: RouteHandler<typeof verifyEmail, AppEnv> = async (c) => {
	const { token } = c.req.valid("json");
	if (!(await verifyEmailWithToken(c.get("database").primary, token))) throw invalidToken();
	return c.json({ email_verified: true as const }, 200);
};

export const passwordResetHandler: RouteHandler<typeof passwordReset, AppEnv> = async (c) => {
	const email = normalizeEmail(c.req.valid("json").email);
	await limitAuthAttempt(accountContext(c), "password_reset", email);
	sendPasswordResetLater(c.env, c.executionCtx, email, c.get("requestId"));
	return c.json({ status: "accepted" as const }, 202);
};

export const passwordResetConfirmHandler: RouteHandler<typeof passwordResetConfirm, AppEnv> = async (c) => {
	const { token, password } = c.req.valid("json");
	await limitAuthAttempt(accountContext(c), "password_reset_confirm");
	const changed = await resetPasswordWithToken(c.get("database").primary, c.env, token, password);
	if (!changed) throw invalidToken();
	return c.body(null, 204);
};
