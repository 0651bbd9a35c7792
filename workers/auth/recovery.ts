import { eq, sql } from "drizzle-orm";
import { Database, type Db } from "../db/client.ts";
import { users } from "../db/schema.ts";
import type { WaitUntil } from "../domain/runtime.ts";
import { queueNotification } from "../queues/producers.ts";
import { consumeAccountToken, createAccountToken } from "./account-tokens.ts";
import { hashPassword } from "./password.ts";
import { revokeAllSessions, type SessionConfig } from "./sessions.ts";

/**
 * E-mail verification and password reset, shared by the API
 * (`/v1/auth/verify-email`, `/v1/auth/password-reset[/confirm]`) and the
 * storefront's pages the e-mails link to.
 */

/** Uses up a verification token and marks the address verified. False when the token is unknown, used or expired. */
export async function verifyEmailWithToken(db: Db, token: string): Promise<boolean> {
	return db.transaction(async (tx) => {
		const userId = await consumeAccountToken(tx, token, "verify_email");
		if (!userId) return false;
		await tx
			.update(users)
			.set({ emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, now())`, updatedAt: sql`now()` })
			.where(eq(users.id, userId));
		return true;
	});
}

/**
 * Sets a new password with a reset token and signs out every session of the
 * account: refresh tokens at once, and every access token issued before the
 * reset (the user's cut-off in the revocation list). Receiving the reset
 * e-mail proves the address, so it counts as verified too. False when the
 * token is unknown, used or expired.
 */
export async function resetPasswordWithToken(db: Db, env: SessionConfig, token: string, password: string): Promise<boolean> {
	const passwordHash = await hashPassword(password);
	return db.transaction(async (tx) => {
		const userId = await consumeAccountToken(tx, token, "password_reset");
		if (!userId) return false;
		await tx
			.update(users)
			.set({ passwordHash, emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, now())`, updatedAt: sql`now()` })
			.where(eq(users.id, userId));
		await revokeAllSessions(tx, env, userId, "password_reset");
		return true;
	});
}

/**
 * Issues a reset token and queues its e-mail, when `email` (normalized) has
 * an account; nothing otherwise. Callers run it after answering (waitUntil)
 * with the same answer either way, so neither content nor timing tells
 * whether the address has an account. `database` is its own: the request's
 * pool is closed once the answer is sent.
 */
export async function sendPasswordReset(env: Env, database: Database, email: string): Promise<void> {
	const db = database.primary;
	const [user] = await db.select({ id: users.id, email: users.email, name: users.name }).from(users).where(eq(users.email, email));
	if (!user) return;
	await db.transaction(async (tx) => {
		const reset = await createAccountToken(tx, user.id, "password_reset");
		await queueNotification(env, `password_reset:${user.id}:${reset.expiresAt.getTime()}`, "account.password_reset", {
			user_id: user.id,
			email: user.email,
			name: user.name,
			token: reset.token,
			expires_at: reset.expiresAt.toISOString(),
		});
	});
}

/**
 * Starts `sendPasswordReset` after the answer, on a database handle of its
 * own (the request's pool closes once the answer is sent), and logs a failure
 * by its kind only: the same background job for the API and the storefront.
 */
export function sendPasswordResetLater(env: Env, ctx: WaitUntil, email: string, requestId: string | undefined): void {
	const background = new Database(env);
	ctx.waitUntil(
		sendPasswordReset(env, background, email)
			.catch((err: unknown) => {
				console.error(
					JSON.stringify({
						level: "error",
						msg: "password_reset_failed",
						request_id: requestId,
						error_name: err instanceof Error ? err.name : typeof err,
					}),
				);
			})
			.finally(() => background.close()),
	);
}
