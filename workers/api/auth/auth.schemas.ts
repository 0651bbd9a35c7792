import { z } from "@hono/zod-openapi";
import { MergedCartSchema } from "../carts/carts.schemas.ts";
import { count, email, text, timestamp } from "../lib/openapi.ts";
import { CartId, idPattern, prefixedId, Token } from "../lib/params.ts";

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

const Email = email();
const Password = z
	.string()
	.min(PASSWORD_MIN, `Use at least ${PASSWORD_MIN} characters.`)
	.max(PASSWORD_MAX, `Use at most ${PASSWORD_MAX} characters.`)
	.openapi({ format: "password", example: "correct horse battery staple" });

export const UserSchema = z
	.object({
		id: prefixedId(idPattern("usr"), "usr_4f8k2m9q0x7v3b6n1c5d"),
		email: Email,
		name: text(100),
		role: z.enum(["customer", "admin"]),
		email_verified: z.boolean(),
		abandoned_cart_emails: z.boolean(),
		created_at: timestamp(),
	})
	.openapi("User");

export const TokensSchema = z
	.object({
		access_token: z
			.string()
			.max(4096)
			.regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
			.openapi({ description: "A JWS (ES256) in compact form: send it as `Authorization: Bearer <token>`" }),
		token_type: z.literal("Bearer"),
		expires_in: count().openapi({ description: "Seconds until the access token expires" }),
		refresh_token: Token.openapi({ description: "Exchange it at /v1/auth/refresh; each one works once" }),
		refresh_expires_in: count().openapi({ description: "Seconds until the refresh token expires" }),
	})
	.openapi("Tokens");

export const SessionSchema = z.object({ user: UserSchema }).extend(TokensSchema.shape).openapi("Session");

export const RegisterBody = z
	.object({ email: Email, password: Password, name: z.string().trim().min(1).max(100).openapi({ example: "Ana Lima" }) })
	.strict()
	.openapi("RegisterRequest");

/**
 * An e-mail address that is looked up, not stored: its format is not checked
 * (a malformed address simply has no account), only documented.
 */
const LookupEmail = z.string().min(1).max(254).openapi({ format: "email", example: "ana@example.com" });

export const LoginBody = z
	.object({
		email: LookupEmail,
		password: z.string().min(1).max(PASSWORD_MAX).openapi({ format: "password" }),
		guest_cart_id: CartId.optional().openapi({ description: "A guest cart to merge into the user's cart (with guest_token)" }),
		guest_token: Token.optional().openapi({ description: "The guest cart's token" }),
	})
	.strict()
	.refine((body) => (body.guest_cart_id === undefined) === (body.guest_token === undefined), {
		message: "guest_cart_id and guest_token come together.",
		path: ["guest_token"],
	})
	.openapi("LoginRequest");

export const LoginSessionSchema = SessionSchema.extend({
	cart: MergedCartSchema.nullable().optional().openapi({
		description:
			"Only when a guest cart was presented: the user's cart after the merge, or null when the guest cart could not be used (expired, closed or a wrong token). Sign-in succeeds either way.",
	}),
}).openapi("LoginSession");

export const RefreshBody = z.object({ refresh_token: Token }).strict().openapi("RefreshRequest");

export const TokenBody = z.object({ token: Token }).strict().openapi("EmailTokenRequest");

export const PasswordResetBody = z.object({ email: LookupEmail }).strict().openapi("PasswordResetRequest");

export const PasswordResetConfirmBody = z.object({ token: Token, password: Password }).strict().openapi("PasswordResetConfirmRequest");
