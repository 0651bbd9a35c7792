import { errors, type JWTPayload, jwtVerify, SignJWT } from "jose";
import { DomainError } from "../domain/errors.ts";
import { ACCESS_TOKEN_ALG, KeyConfigurationError, loadSigningKeys } from "./keys.ts";

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

function issuerAndAudience(env: TokenConfig): { issuer: string; audience: string } {
	if (!env.JWT_ISSUER || !env.JWT_AUDIENCE) throw new KeyConfigurationError("JWT_ISSUER and JWT_AUDIENCE must be set");
	return { issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE };
}

/** Signs a short-lived access token (RFC 9068 `at+jwt`) with the current key. */
export async function signAccessToken(env: TokenConfig, claims: AccessClaims): Promise<string> {
	const keys = await loadSigningKeys(env.JWT_KEYS);
	const { issuer, audience } = issuerAndAudience(env);
	return await new SignJWT({ role: claims.role, sid: claims.sessionId })
		.setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid: keys.current.kid, typ: TOKEN_TYPE })
		.setSubject(claims.userId)
		.setIssuer(issuer)
		.setAudience(audience)
		.setIssuedAt()
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

/**
 * Verifies an access token: signature by one of our keys chosen by `kid`
 * (an unknown kid fails), algorithm pinned to ES256 (so `none` and HS256
 * confusion fail), issuer, audience, expiry and not-before with a small clock
 * tolerance, and the token type. Any failure is the same 401.
 */
export async function verifyAccessToken(env: TokenConfig, token: string): Promise<AccessClaims> {
	const keys = await loadSigningKeys(env.JWT_KEYS);
	const { issuer, audience } = issuerAndAudience(env);
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
	return { userId: payload.sub, role, sessionId: payload.sid };
}
