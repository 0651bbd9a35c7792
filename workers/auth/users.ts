import type { users } from "../db/schema.ts";

type UserRow = typeof users.$inferSelect;

/** The public shape of a user: never the password hash. */
export function publicUser(user: UserRow) {
	return {
		id: user.id,
		email: user.email,
		name: user.name,
		role: user.role,
		email_verified: user.emailVerifiedAt !== null,
		abandoned_cart_emails: user.abandonedCartEmails,
		created_at: user.createdAt.toISOString(),
	};
}
