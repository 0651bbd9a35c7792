import { z } from "@hono/zod-openapi";
import { CART_ID } from "../../carts/carts.ts";
import { MergedCartSchema } from "../carts/carts.schemas.ts";

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

const Email = z.email().max(254).openapi({ example: "ana@example.com" });
const Password = z
	.string()
	.min(PASSWORD_MIN, `Use at least ${PASSWORD_MIN} characters.`)
	.max(PASSWORD_MAX, `Use at most ${PASSWORD_MAX} characters.`)
	.openapi({ example: "correct horse battery staple" });

export const UserSchema = z
	.object({
		id: z.string().openapi({ example: "usr_4f8k2m9q0x7v3b6n1c5d" }),
		email: z.string(),
		name: z.string(),
		role: z.enum(["customer", "admin"]),
		email_verified: z.boolean(),
		abandoned_cart_emails: z.boolean(),
		created_at: z.string(),
	})
	.openapi("User");

export const TokensSchema = z
	.object({
		access_token: z.string(),
		token_type: z.literal("Bearer"),
		expires_in: z.number().int().openapi({ description: "Seconds until the access token expires" }),
		refresh_token: z.string(),
		refresh_expires_in: z.number().int(),
	})
	.openapi("Tokens");

export const SessionSchema = z.object({ user: UserSchema }).extend(TokensSchema.shape).openapi("Session");

export const RegisterBody = z
	.object({ email: Email, password: Password, name: z.string().trim().min(1).max(100).openapi({ example: "Ana Lima" }) })
	.strict()
	.openapi("RegisterRequest");

// Login does not check the e-mail's format: a malformed address simply has no account.
export const LoginBody = z
	.object({
		email: z.string().min(1).max(254),
		password: z.string().min(1).max(PASSWORD_MAX),
		guest_cart_id: z
			.string()
			.regex(CART_ID, "Not a cart id.")
			.optional()
			.openapi({ description: "A guest cart to merge into the user's cart (with guest_token)" }),
		guest_token: z.string().min(1).max(200).optional().openapi({ description: "The guest cart's token" }),
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

export const RefreshBody = z
	.object({ refresh_token: z.string().min(1).max(200) })
	.strict()
	.openapi("RefreshRequest");

export const TokenBody = z
	.object({ token: z.string().min(1).max(200) })
	.strict()
	.openapi("EmailTokenRequest");

export const PasswordResetBody = z
	.object({ email: z.string().min(1).max(254) })
	.strict()
	.openapi("PasswordResetRequest");

export const PasswordResetConfirmBody = z
	.object({ token: z.string().min(1).max(200), password: Password })
	.strict()
	.openapi("PasswordResetConfirmRequest");
