import { createRoute, z } from "@hono/zod-openapi";
import { bodyProblems, databaseProblems, jsonBody, jsonResponse, problem, publicAccess } from "../lib/openapi.ts";
import {
	LoginBody,
	LoginSessionSchema,
	PasswordResetBody,
	PasswordResetConfirmBody,
	RefreshBody,
	RegisterBody,
	SessionSchema,
	TokenBody,
	TokensSchema,
} from "./auth.schemas.ts";

const tags = ["Accounts"];

export const register = createRoute({
	method: "post",
	path: "/auth/register",
	operationId: "createAccount",
	tags,
	security: publicAccess,
	summary: "Create a customer account and sign in",
	description:
		"Signs the new customer in at once; the verification e-mail goes out on its own. The e-mail address is compared without letter case.",
	request: { body: jsonBody(RegisterBody) },
	responses: {
		201: jsonResponse(SessionSchema, "Account created; signed in"),
		...databaseProblems,
		...bodyProblems,
		409: problem("An account with this e-mail exists (in any letter case)"),
		503: problem("Database or queue unavailable; nothing was created"),
	},
});

export const login = createRoute({
	method: "post",
	path: "/auth/login",
	operationId: "createSession",
	tags,
	security: publicAccess,
	summary: "Sign in with e-mail and password",
	description:
		"Starts a session: a short-lived access token and a refresh token. With `guest_cart_id` and `guest_token` the guest cart is merged into the user's cart.",
	request: { body: jsonBody(LoginBody) },
	responses: {
		200: jsonResponse(LoginSessionSchema, "Signed in (and the guest cart merged, when one was presented)"),
		...databaseProblems,
		...bodyProblems,
		401: problem("Unknown e-mail or wrong password (the same answer for both)"),
	},
});

export const refresh = createRoute({
	method: "post",
	path: "/auth/refresh",
	operationId: "refreshSession",
	tags,
	security: publicAccess,
	summary: "Rotate a refresh token; reusing an old one revokes the session",
	description:
		"Each refresh token works once and is replaced by the answer's. Presenting one already used revokes its whole session, as a stolen token would have been.",
	request: { body: jsonBody(RefreshBody) },
	responses: {
		200: jsonResponse(TokensSchema, "New access and refresh tokens"),
		...databaseProblems,
		...bodyProblems,
		401: problem("Unknown, expired, revoked or reused refresh token"),
	},
});

export const logout = createRoute({
	method: "post",
	path: "/auth/logout",
	operationId: "revokeSession",
	tags,
	security: publicAccess,
	summary: "Revoke the session (refresh-token family) of a refresh token",
	description:
		"The refresh token in the body is the credential. Every refresh token of its session is revoked; access tokens already issued stay valid until they expire.",
	request: { body: jsonBody(RefreshBody) },
	responses: { 204: { description: "Revoked (also when the token was unknown)" }, ...databaseProblems, ...bodyProblems },
});

export const verifyEmail = createRoute({
	method: "post",
	path: "/auth/verify-email",
	operationId: "verifyEmail",
	tags,
	security: publicAccess,
	summary: "Confirm an e-mail address with the token from the verification e-mail",
	description: "Tokens are single-use and expire; a used or expired one answers 400.",
	request: { body: jsonBody(TokenBody) },
	responses: {
		200: jsonResponse(z.object({ email_verified: z.literal(true) }), "Verified"),
		...databaseProblems,
		...bodyProblems,
		400: problem("Invalid, expired or used token, or validation failed"),
	},
});

export const passwordReset = createRoute({
	method: "post",
	path: "/auth/password-reset",
	operationId: "requestPasswordReset",
	tags,
	security: publicAccess,
	summary: "Request a password-reset e-mail (the same answer whether or not the address has an account)",
	description:
		"The answer is the same whether or not the address has an account, so it cannot be used to find out which addresses have one. The e-mail's token is single-use and expires.",
	request: { body: jsonBody(PasswordResetBody) },
	responses: {
		202: jsonResponse(z.object({ status: z.literal("accepted") }), "If the address has an account, an e-mail is on its way"),
		...databaseProblems,
		...bodyProblems,
	},
});

export const passwordResetConfirm = createRoute({
	method: "post",
	path: "/auth/password-reset/confirm",
	operationId: "confirmPasswordReset",
	tags,
	security: publicAccess,
	summary: "Set a new password with the token from the reset e-mail; signs out every session",
	description: "The token is single-use and expires. Every session of the account is revoked, so a stolen refresh token stops working too.",
	request: { body: jsonBody(PasswordResetConfirmBody) },
	responses: {
		204: { description: "Password changed; all refresh tokens revoked" },
		...databaseProblems,
		...bodyProblems,
		400: problem("Invalid, expired or used token, or validation failed"),
	},
});
