import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { Db, Executor, Tx } from "../db/client.ts";
import { refreshTokens, users } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";
import { listRevokedSession, listRevokedUser, type RevocationConfig } from "./revocation.ts";
import { hashToken, randomToken } from "./secrets.ts";
import { accessTokenMaxLifetime, accessTokenTtl, type Role, signAccessToken, type TokenConfig } from "./tokens.ts";

/**
 * A session is one sign-in (or registration): one refresh-token family, whose
 * id (`ses_…`) every access token issued in it carries as `sid`. Rotation
 * keeps the family, so the tokens of one device share a `sid`, and a second
 * sign-in, on another device or the same one, is another session.
 *
 * Revoking marks the family's rows in Postgres (the refresh is refused from
 * then on) and lists the session, or for a password reset the user, in the
 * revocation list (revocation.ts), so the access tokens already out die too.
 * The list is written inside the revoking transaction, before the commit: a
 * failed write undoes the revocation and the caller's retry does both again.
 */

export interface SessionConfig extends TokenConfig, RevocationConfig {
	REFRESH_TOKEN_TTL_DAYS?: string;
}

/** What a successful sign-in or refresh answers. */
export interface IssuedTokens {
	access_token: string;
	token_type: "Bearer";
	expires_in: number;
	refresh_token: string;
	refresh_expires_in: number;
}

const DEFAULT_REFRESH_TTL_DAYS = 30;

function refreshTtlSeconds(env: SessionConfig): number {
	const days = Number.parseInt(env.REFRESH_TOKEN_TTL_DAYS ?? "", 10);
	return (Number.isFinite(days) && days > 0 ? days : DEFAULT_REFRESH_TTL_DAYS) * 86_400;
}

async function issue(db: Executor, env: SessionConfig, user: { id: string; role: Role }, familyId: string): Promise<IssuedTokens> {
	const refreshToken = randomToken();
	const ttl = refreshTtlSeconds(env);
	await db.insert(refreshTokens).values({
		id: newId("rt"),
		userId: user.id,
		familyId,
		tokenHash: await hashToken(refreshToken),
		expiresAt: new Date(Date.now() + ttl * 1000),
	});
	return {
		access_token: await signAccessToken(env, { userId: user.id, role: user.role, sessionId: familyId }),
		token_type: "Bearer",
		expires_in: accessTokenTtl(env),
		refresh_token: refreshToken,
		refresh_expires_in: ttl,
	};
}

/** Starts a new sign-in session (a new refresh-token family) for the user. */
export async function startSession(db: Executor, env: SessionConfig, user: { id: string; role: Role }): Promise<IssuedTokens> {
	return await issue(db, env, user, newId("ses"));
}

const invalidRefresh = () =>
	new DomainError("invalid_refresh_token", {
		detail: "The refresh token is unknown, expired or revoked. Sign in again.",
	});

/**
 * Exchanges a refresh token for a new pair. The token is claimed with one
 * conditional update, so of two concurrent uses exactly one succeeds. A token
 * that was already rotated is being replayed, by a thief or by the victim
 * after a thief used it: the whole family is revoked (and stays revoked even
 * though the request fails), and the caller must sign in again.
 */
export async function rotateSession(db: Db, env: SessionConfig, presented: string): Promise<IssuedTokens> {
	const tokenHash = await hashToken(presented);
	const outcome = await db.transaction(async (tx) => {
		const [claimed] = await tx
			.update(refreshTokens)
			.set({ rotatedAt: sql`now()` })
			.where(
				and(
					eq(refreshTokens.tokenHash, tokenHash),
					isNull(refreshTokens.rotatedAt),
					isNull(refreshTokens.revokedAt),
					gt(refreshTokens.expiresAt, sql`now()`),
				),
			)
			.returning({ userId: refreshTokens.userId, familyId: refreshTokens.familyId });
		if (!claimed) {
			const [seen] = await tx
				.select({ familyId: refreshTokens.familyId, rotatedAt: refreshTokens.rotatedAt, revokedAt: refreshTokens.revokedAt })
				.from(refreshTokens)
				.where(eq(refreshTokens.tokenHash, tokenHash));
			if (seen?.rotatedAt && !seen.revokedAt) {
				await revokeFamily(tx, env, seen.familyId, "reuse_detected");
				return { kind: "reused" as const };
			}
			return { kind: "invalid" as const };
		}
		const [user] = await tx.select({ id: users.id, role: users.role }).from(users).where(eq(users.id, claimed.userId));
		if (!user) return { kind: "invalid" as const };
		return { kind: "ok" as const, tokens: await issue(tx, env, user, claimed.familyId) };
	});
	if (outcome.kind === "reused") {
		throw new DomainError("refresh_token_reused", {
			detail: "This refresh token was already used. The session has been revoked; sign in again.",
		});
	}
	if (outcome.kind === "invalid") throw invalidRefresh();
	return outcome.tokens;
}

/**
 * Revokes a family (one session): its live refresh tokens, and its access
 * tokens through the revocation list. A family revoked before is left as it
 * is (it was listed then). Run it in a transaction (see the module comment).
 */
export async function revokeFamily(tx: Tx, env: SessionConfig, familyId: string, reason: string): Promise<void> {
	const revoked = await tx
		.update(refreshTokens)
		.set({ revokedAt: sql`now()`, revokedReason: reason })
		.where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)))
		.returning({ id: refreshTokens.id });
	if (revoked.length > 0) await listRevokedSession(env, familyId, accessTokenMaxLifetime(env));
}

/** Revokes the session a presented refresh token belongs to; unknown tokens are ignored. */
export async function revokeSessionOf(db: Db, env: SessionConfig, presented: string, reason: string): Promise<void> {
	const tokenHash = await hashToken(presented);
	await db.transaction(async (tx) => {
		const [row] = await tx.select({ familyId: refreshTokens.familyId }).from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash));
		if (row) await revokeFamily(tx, env, row.familyId, reason);
	});
}

/** Revokes a session by its id (an access token's `sid`), e.g. when only the access token is at hand. */
export async function revokeSession(db: Db, env: SessionConfig, sessionId: string, reason: string): Promise<void> {
	await db.transaction((tx) => revokeFamily(tx, env, sessionId, reason));
}

/**
 * Revokes every session of a user, e.g. after a password reset: all refresh
 * tokens, and every access token issued until now through the user's cut-off
 * in the revocation list. The cut-off is taken after the update, which waits
 * for a refresh of the user that is committing meanwhile, so the access
 * token that refresh issued falls before it. Run it in a transaction.
 */
export async function revokeAllSessions(tx: Tx, env: SessionConfig, userId: string, reason: string): Promise<void> {
	await tx
		.update(refreshTokens)
		.set({ revokedAt: sql`now()`, revokedReason: reason })
		.where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
	await listRevokedUser(env, userId, accessTokenMaxLifetime(env));
}
