import { DomainError } from "../domain/errors.ts";

/**
 * The revocation list: access tokens that must stop working before they
 * expire. Access tokens are stateless ES256 JWTs, so without it a sign-out, a
 * password reset or a refresh-token reuse would leave them usable until `exp`.
 *
 * Postgres stays the source of truth: a revoked session is a refresh-token
 * family whose rows carry `revoked_at` (a reset revokes every family of the
 * user), so the refresh that would renew a token is refused at once. This KV
 * namespace is the fast path every token verification reads:
 *
 *   session:{sid}    a revoked session (refresh-token family): every access
 *                    token with that `sid` is refused
 *   user:{userId}    a cut-off in epoch milliseconds: every access token of
 *                    the user issued at or before it is refused (password
 *                    reset: one entry however many sessions there were)
 *
 * Entries expire when the last token they could refuse has expired: the
 * newest token of a session or user was issued at the latest when the
 * revocation is written, so that is the token lifetime plus the verifier's
 * clock tolerance from then (at least KV's 60 s minimum). The list cleans
 * itself.
 *
 * Reads are cached per isolate: a "not revoked" answer is trusted for
 * REVOCATION_CACHE_SECONDS (default 5), a revocation for good, and a
 * revocation written by this isolate is known to it at once.
 *
 * Consistency window: KV is eventually consistent. The location that writes
 * sees the entry at once; other locations may keep answering from their edge
 * cache for up to about 60 s, plus the isolate cache above. So a revoked
 * access token may still be accepted elsewhere for roughly a minute (never
 * past its own expiry), while its refresh token is refused everywhere at once
 * by Postgres. A KV read that fails refuses the request (503) rather than
 * admit a token that may be revoked.
 */

export interface RevocationConfig {
	REVOCATIONS: KVNamespace;
	REVOCATION_CACHE_SECONDS?: string;
}

/** What the list needs to know of a verified access token. */
export interface TokenIdentity {
	sessionId: string;
	userId: string;
	/** `iat` in milliseconds. */
	issuedAtMs: number;
}

const DEFAULT_CACHE_SECONDS = 5;
const KV_MIN_TTL_SECONDS = 60;
/** Bound on each per-isolate map; the oldest answers are forgotten first. */
const MAX_CACHED = 10_000;

/** What this isolate knows of one key: the stored time (revocation or cut-off), if any, and when it last asked KV. */
interface Known {
	at: number | undefined;
	checkedAt: number;
}

const sessions = new Map<string, Known>();
const users = new Map<string, Known>();

const sessionKey = (sessionId: string) => `session:${sessionId}`;
const userKey = (userId: string) => `user:${userId}`;

function cacheMs(env: RevocationConfig): number {
	const seconds = Number.parseFloat(env.REVOCATION_CACHE_SECONDS ?? "");
	return (Number.isFinite(seconds) && seconds >= 0 ? seconds : DEFAULT_CACHE_SECONDS) * 1000;
}

function remember(cache: Map<string, Known>, key: string, known: Known): void {
	cache.delete(key);
	cache.set(key, known);
	if (cache.size > MAX_CACHED) {
		const oldest = cache.keys().next().value;
		if (oldest !== undefined) cache.delete(oldest);
	}
}

function laterOf(a: number | undefined, b: number | undefined): number | undefined {
	return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

/**
 * Whether the stored time under `key` refuses the token. A known time that
 * refuses is final (a session stays revoked, a user's cut-off only moves
 * forward); anything else is trusted for the cache window, then re-read.
 */
async function refusedBy(
	env: RevocationConfig,
	cache: Map<string, Known>,
	key: string,
	refuses: (at: number) => boolean,
): Promise<boolean> {
	const now = Date.now();
	const known = cache.get(key);
	if (known?.at !== undefined && refuses(known.at)) return true;
	if (known && now - known.checkedAt < cacheMs(env)) return false;
	let stored: string | null;
	try {
		stored = await env.REVOCATIONS.get(key);
	} catch (cause) {
		throw new DomainError("auth_unavailable", {
			detail: "Signed-in requests cannot be checked right now. Retry shortly.",
			retryAfterSeconds: 5,
			cause,
		});
	}
	// An entry that does not parse refuses everything it covers: failing closed is the safe reading.
	const at = stored === null ? undefined : Number.isFinite(Number(stored)) ? Number(stored) : Number.POSITIVE_INFINITY;
	remember(cache, key, { at: laterOf(known?.at, at), checkedAt: now });
	return at !== undefined && refuses(at);
}

/** Whether the token's session was revoked, or its user's tokens up to its issue time were. */
export async function isRevoked(env: RevocationConfig, token: TokenIdentity): Promise<boolean> {
	const [session, user] = await Promise.all([
		refusedBy(env, sessions, sessionKey(token.sessionId), () => true),
		refusedBy(env, users, userKey(token.userId), (cutoff) => token.issuedAtMs <= cutoff),
	]);
	return session || user;
}

function expirationTtl(lifetimeSeconds: number): number {
	return Math.max(KV_MIN_TTL_SECONDS, Math.ceil(lifetimeSeconds));
}

/**
 * Lists a session as revoked, for `lifetimeSeconds` (the longest an access
 * token issued now stays acceptable). Call it before the transaction that
 * revokes the session in Postgres commits, so a failed write undoes both.
 */
export async function listRevokedSession(env: RevocationConfig, sessionId: string, lifetimeSeconds: number): Promise<void> {
	const at = Date.now();
	await env.REVOCATIONS.put(sessionKey(sessionId), String(at), { expirationTtl: expirationTtl(lifetimeSeconds) });
	remember(sessions, sessionKey(sessionId), { at, checkedAt: at });
}

/**
 * Lists every access token of the user issued until now as revoked (the
 * cut-off is now, in milliseconds), for `lifetimeSeconds`. Same transaction
 * rule as `listRevokedSession`.
 */
export async function listRevokedUser(env: RevocationConfig, userId: string, lifetimeSeconds: number): Promise<void> {
	const at = Date.now();
	await env.REVOCATIONS.put(userKey(userId), String(at), { expirationTtl: expirationTtl(lifetimeSeconds) });
	remember(users, userKey(userId), { at: laterOf(users.get(userKey(userId))?.at, at), checkedAt: at });
}
