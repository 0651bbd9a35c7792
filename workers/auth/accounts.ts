import { eq, sql } from "drizzle-orm";
import type { Db, Tx } from "../db/client.ts";
import { isUniqueViolation } from "../db/client.ts";
import { users } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";
import { queueNotification } from "../queues/producers.ts";
import { createAccountToken } from "./account-tokens.ts";
import { normalizeEmail } from "./email.ts";
import { hashPassword, verifyDummy, verifyPassword } from "./password.ts";
import { type AttemptContext, limitAuthAttempt } from "./rate-limit.ts";

export type UserRow = typeof users.$inferSelect;

/** What sign-in and registration need of the request: bindings, the client's address, the primary database. */
export interface AccountContext extends AttemptContext {
	db: Db;
}

/**
 * Sign-in and registration, shared by the JSON API and the storefront's
 * forms, so both apply the same rate limits, timing and rules.
 */

export const invalidCredentials = () => new DomainError("invalid_credentials", { detail: "The e-mail address or the password is wrong." });

/**
 * The user for an e-mail and password, or 401. An unknown e-mail and a wrong
 * password get the same answer after the same work: an unknown address still
 * pays for one full password verification.
 */
export async function authenticate(ctx: AccountContext, rawEmail: string, password: string): Promise<UserRow> {
	const email = normalizeEmail(rawEmail);
	await limitAuthAttempt(ctx, "login", email);
	const { db } = ctx;
	const [user] = await db.select().from(users).where(eq(users.email, email));
	if (!user) {
		await verifyDummy(password);
		throw invalidCredentials();
	}
	const check = await verifyPassword(password, user.passwordHash);
	if (!check.ok) throw invalidCredentials();
	if (check.needsRehash) {
		// Upgrading the stored hash is best effort: a failure here must not fail the sign-in.
		const upgraded = await hashPassword(password);
		await db
			.update(users)
			.set({ passwordHash: upgraded, updatedAt: sql`now()` })
			.where(eq(users.id, user.id))
			.catch(() => {});
	}
	return user;
}

/**
 * Creates the account, its verification token and the verification e-mail
 * event in one transaction: the event is queued before the commit, so either
 * all of it happens or (queue or database down) none of it does. `within`
 * runs in the same transaction (the API starts the session there).
 */
export async function registerAccount<T>(
	ctx: AccountContext,
	input: { email: string; password: string; name: string },
	within: (tx: Tx, user: UserRow) => Promise<T>,
): Promise<T> {
	const email = normalizeEmail(input.email);
	await limitAuthAttempt(ctx, "register", email);
	const passwordHash = await hashPassword(input.password);
	try {
		return await ctx.db.transaction(async (tx) => {
			const [user] = await tx
				.insert(users)
				.values({ id: newId("usr"), email, name: input.name, passwordHash })
				.returning();
			if (!user) throw new Error("insert returned no row");
			const verification = await createAccountToken(tx, user.id, "verify_email");
			await queueNotification(ctx.env, `verify_email:${user.id}:${verification.expiresAt.getTime()}`, "account.verify_email", {
				user_id: user.id,
				email: user.email,
				name: user.name,
				token: verification.token,
				expires_at: verification.expiresAt.toISOString(),
			});
			return within(tx, user);
		});
	} catch (err) {
		if (isUniqueViolation(err)) {
			throw new DomainError("email_taken", { detail: "An account with this e-mail address exists." });
		}
		throw err;
	}
}
