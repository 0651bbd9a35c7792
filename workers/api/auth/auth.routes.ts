import { createRoute, z } from "@hono/zod-openapi";
import { bodyProblems, jsonBody, jsonResponse } from "../lib/openapi.ts";
import { problemResponse } from "../lib/problem.ts";
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
const rateLimited = { 429: problemResponse("Too many attempts; see Retry-After") };

export const register = createRoute({
	method: "post",
	path: "/auth/register",
	tags,
	summary: "Create a customer account and sign in",
	request: { body: jsonBody(RegisterBody) },
	responses: {
		201: jsonResponse(SessionSchema, "Account created; signed in"),
		...bodyProblems,
		409: problemResponse("An account with this e-mail exists (in any letter case)"),
		...rateLimited,
		503: problemResponse("Database or queue unavailable; nothing was created"),
	},
});

export const login = createRoute({
	method: "post",
	path: "/auth/login",
	tags,
	summary: "Sign in with e-mail and password",
	request: { body: jsonBody(LoginBody) },
	responses: {
		200: jsonResponse(LoginSessionSchema, "Signed in (and the guest cart merged, when one was presented)"),
		...bodyProblems,
		401: problemResponse("Unknown e-mail or wrong password (the same answer for both)"),
		...rateLimited,
	},
});

export const refresh = createRoute({
	method: "post",
	path: "/auth/refresh",
	tags,
	summary: "Rotate a refresh token; reusing an old one revokes the session",
	request: { body: jsonBody(RefreshBody) },
	responses: {
		200: jsonResponse(TokensSchema, "New access and refresh tokens"),
		...bodyProblems,
		401: problemResponse("Unknown, expired, revoked or reused refresh token"),
	},
});

export const logout = createRoute({
	method: "post",
	path: "/auth/logout",
	tags,
	summary: "Revoke the session (refresh-token family) of a refresh token",
	request: { body: jsonBody(RefreshBody) },
	responses: { 204: { description: "Revoked (also when the token was unknown)" }, ...bodyProblems },
});

export const verifyEmail = createRoute({
	method: "post",
	path: "/auth/verify-email",
	tags,
	summary: "Confirm an e-mail address with the token from the verification e-mail",
	request: { body: jsonBody(TokenBody) },
	responses: {
		200: jsonResponse(z.object({ email_verified: z.literal(true) }), "Verified"),
		...bodyProblems,
		400: problemResponse("Invalid, expired or used token, or validation failed"),
	},
});

export const passwordReset = createRoute({
	method: "post",
	path: "/auth/password-reset",
	tags,
	summary: "Request a password-reset e-mail (the same answer whether or not the address has an account)",
	request: { body: jsonBody(PasswordResetBody) },
	responses: {
		202: jsonResponse(z.object({ status: z.literal("accepted") }), "If the address has an account, an e-mail is on its way"),
		...bodyProblems,
		...rateLimited,
	},
});

export const passwordResetConfirm = createRoute({
	method: "post",
	path: "/auth/password-reset/confirm",
	tags,
	summary: "Set a new password with the token from the reset e-mail; signs out every session",
	request: { body: jsonBody(PasswordResetConfirmBody) },
	responses: {
		204: { description: "Password changed; all refresh tokens revoked" },
		...bodyProblems,
		400: problemResponse("Invalid, expired or used token, or validation failed"),
		...rateLimited,
	},
});
