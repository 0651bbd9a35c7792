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

/** True for Postgres' unique_violation, however the driver wraps it. */
export function isUniqueViolation(err: unknown): boolean {
	for (let current = err, depth = 0; current && depth < 5; depth++) {
		if ((current as { code?: unknown }).code === "23505") return true;
		current = (current as { cause?: unknown }).cause;
	}
	return false;
}
