import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { accountTokens } from "../db/schema.ts";
import { newId } from "../domain/ids.ts";
import { hashToken, randomToken } from "./secrets.ts";

export type AccountTokenKind = "verify_email" | "password_reset";

/** How long an e-mailed link stays valid. */
export const ACCOUNT_TOKEN_TTL_SECONDS: Record<AccountTokenKind, number> = {
	verify_email: 48 * 3600,
	password_reset: 3600,
};

/** Creates a single-use token, stores its hash, and returns the token for the e-mail. */
export async function createAccountToken(
	db: Executor,
	userId: string,
	kind: AccountTokenKind,
): Promise<{ token: string; expiresAt: Date }> {
	const token = randomToken();
	const expiresAt = new Date(Date.now() + ACCOUNT_TOKEN_TTL_SECONDS[kind] * 1000);
	await db.insert(accountTokens).values({ id: newId("atk"), userId, kind, tokenHash: await hashToken(token), expiresAt });
	return { token, expiresAt };
}

/**
 * Uses up a token in one conditional update, so it works once even under
 * concurrent submissions. Returns the user it was issued to, or undefined
 * when it is unknown, of another kind, expired or already used.
 */
export async function consumeAccountToken(db: Executor, token: string, kind: AccountTokenKind): Promise<string | undefined> {
	const [row] = await db
		.update(accountTokens)
		.set({ usedAt: sql`now()` })
		.where(
			and(
				eq(accountTokens.tokenHash, await hashToken(token)),
				eq(accountTokens.kind, kind),
				isNull(accountTokens.usedAt),
				gt(accountTokens.expiresAt, sql`now()`),
			),
		)
		.returning({ userId: accountTokens.userId });
	return row?.userId;
}
