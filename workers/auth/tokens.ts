import { errors, type JWTPayload, jwtVerify, SignJWT } from "jose";
import { DomainError } from "../domain/errors.ts";
import { ACCESS_TOKEN_ALG, KeyConfigurationError, loadSigningKeys, type SigningKeys } from "./keys.ts";
import { isRevoked, type RevocationConfig } from "./revocation.ts";

export type Role = "customer" | "admin";

/** What an access token says about its bearer. */
export interface AccessClaims {
	userId: string;
	role: Role;
	/** The refresh-token family (the sign-in session) the token was issued for. */
	sessionId: string;
}

export interface TokenConfig {
	JWT_KEYS?: string;
	JWT_ISSUER?: string;
	JWT_AUDIENCE?: string;
	ACCESS_TOKEN_TTL_SECONDS?: string;
}

const DEFAULT_ACCESS_TTL_SECONDS = 900;
/** Allowance for clocks that disagree a little between the edge and clients. */
const CLOCK_TOLERANCE_SECONDS = 30;
const TOKEN_TYPE = "at+jwt";

export function accessTokenTtl(env: TokenConfig): number {
	const ttl = Number.parseInt(env.ACCESS_TOKEN_TTL_SECONDS ?? "", 10);
	return Number.isFinite(ttl) && ttl > 0 ? ttl : DEFAULT_ACCESS_TTL_SECONDS;
}

/** How long an access token issued now may still be accepted: its lifetime plus the verifier's clock tolerance. */
export function accessTokenMaxLifetime(env: TokenConfig): number {
	return accessTokenTtl(env) + CLOCK_TOLERANCE_SECONDS;
}

function issuerAndAudience(env: TokenConfig): { issuer: string; audience: string } {
	if (!env.JWT_ISSUER || !env.JWT_AUDIENCE) throw new KeyConfigurationError("JWT_ISSUER and JWT_AUDIENCE must be set");
	return { issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE };
}

/**
 * Signs a short-lived access token (RFC 9068 `at+jwt`) with the current key.
 * `iat` keeps its milliseconds (a NumericDate may be fractional, RFC 7519
 * §2), so a password reset's cut-off tells apart the tokens issued just
 * before it from those of a sign-in in the same second just after.
 */
export async function signAccessToken(env: TokenConfig, claims: AccessClaims): Promise<string> {
	const keys = await loadSigningKeys(env.JWT_KEYS);
	const { issuer, audience } = issuerAndAudience(env);
	return await new SignJWT({ role: claims.role, sid: claims.sessionId })
		.setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid: keys.current.kid, typ: TOKEN_TYPE })
		.setSubject(claims.userId)
		.setIssuer(issuer)
		.setAudience(audience)
		.setIssuedAt(Date.now() / 1000)
		.setNotBefore("0s")
		.setExpirationTime(`${accessTokenTtl(env)}s`)
		.setJti(crypto.randomUUID())
		.sign(keys.current.key);
}

export function unauthorized(detail: string): DomainError {
	return new DomainError("unauthorized", {
		detail,
	});
}

interface VerifiedToken {
	claims: AccessClaims;
	issuedAtMs: number;
	expiresAtMs: number;
	/** What it was verified against: a change of keys, issuer or audience means verifying again. */
	keys: SigningKeys;
	issuer: string;
	audience: string;
}

/** Tokens this isolate verified, by token, until their `exp`; the least recently used go first. */
const verifiedTokens = new Map<string, VerifiedToken>();
const MAX_VERIFIED_TOKENS = 1_000;

/**
 * Verifies an access token: signature by one of our keys chosen by `kid`
 * (an unknown kid fails), algorithm pinned to ES256 (so `none` and HS256
 * confusion fail), issuer, audience, expiry and not-before with a small clock
 * tolerance, and the token type. Then its session and user are checked
 * against the revocation list (revocation.ts) on every call: a token of a
 * signed-out session, or issued before its user's password reset, fails too.
 * Any failure is the same 401 `unauthorized` with a Bearer challenge, like
 * any invalid token (RFC 6750 `invalid_token`).
 *
 * A signature checked once is remembered per isolate until the token expires,
 * so a client repeating its token costs a map lookup, not an ES256
 * verification; the revocation check is never skipped.
 */
export async function verifyAccessToken(env: TokenConfig & RevocationConfig, token: string): Promise<AccessClaims> {
	const verified = await verifySignedToken(env, token);
	const { claims } = verified;
	if (await isRevoked(env, { sessionId: claims.sessionId, userId: claims.userId, issuedAtMs: verified.issuedAtMs })) {
		throw unauthorized("This session has ended (signed out, password reset, or a refresh token reused). Sign in again.");
	}
	// A copy: the cached claims are shared by every request that presents the token.
	return { ...claims };
}

async function verifySignedToken(env: TokenConfig, token: string): Promise<VerifiedToken> {
	const keys = await loadSigningKeys(env.JWT_KEYS);
	const { issuer, audience } = issuerAndAudience(env);
	const cached = verifiedTokens.get(token);
	if (cached && cached.keys === keys && cached.issuer === issuer && cached.audience === audience && Date.now() < cached.expiresAtMs) {
		verifiedTokens.delete(token);
		verifiedTokens.set(token, cached);
		return cached;
	}
	let payload: JWTPayload;
	try {
		({ payload } = await jwtVerify(
			token,
			async (header) => {
				const key = header.kid ? keys.verify.get(header.kid) : undefined;
				if (!key) throw new errors.JWKSNoMatchingKey();
				return key;
			},
			{
				algorithms: [ACCESS_TOKEN_ALG],
				issuer,
				audience,
				clockTolerance: CLOCK_TOLERANCE_SECONDS,
				typ: TOKEN_TYPE,
				requiredClaims: ["sub", "exp", "iat", "sid", "role"],
			},
		));
	} catch {
		throw unauthorized("The access token is invalid or expired.");
	}
	const role = payload.role;
	if ((role !== "customer" && role !== "admin") || typeof payload.sid !== "string" || !payload.sub) {
		throw unauthorized("The access token is invalid or expired.");
	}
	const verified: VerifiedToken = {
		claims: { userId: payload.sub, role, sessionId: payload.sid },
		issuedAtMs: Math.round((payload.iat as number) * 1000),
		expiresAtMs: (payload.exp as number) * 1000,
		keys,
		issuer,
		audience,
	};
	verifiedTokens.delete(token);
	verifiedTokens.set(token, verified);
	if (verifiedTokens.size > MAX_VERIFIED_TOKENS) {
		const oldest = verifiedTokens.keys().next().value;
		if (oldest !== undefined) verifiedTokens.delete(oldest);
	}
	return verified;
}
