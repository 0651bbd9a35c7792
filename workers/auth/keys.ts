import { type CryptoKey, importJWK, type JWK } from "jose";

/** The only algorithm this issuer signs with and accepts. */
export const ACCESS_TOKEN_ALG = "ES256";

export interface PublicJwk {
	kty: "EC";
	crv: "P-256";
	x: string;
	y: string;
	kid: string;
	alg: typeof ACCESS_TOKEN_ALG;
	use: "sig";
}

export interface SigningKeys {
	/** The key new tokens are signed with: the first of the set. */
	current: { kid: string; key: CryptoKey };
	/** Every key whose tokens are still accepted, by kid (current included). */
	verify: Map<string, CryptoKey>;
	/** The public halves, as published at /.well-known/jwks.json. */
	publicJwks: PublicJwk[];
}

const cache = new Map<string, Promise<SigningKeys>>();

/**
 * Parses the JWT_KEYS secret: a JWK Set of EC P-256 private keys, each with a
 * `kid`. The first key signs; all of them verify and are published, which is
 * how two keys are valid at once during a rotation (see README, "Key
 * rotation"). Imported once per isolate.
 */
export function loadSigningKeys(secret: string | undefined): Promise<SigningKeys> {
	if (!secret) return Promise.reject(new KeyConfigurationError("JWT_KEYS is not set"));
	let keys = cache.get(secret);
	if (!keys) {
		keys = importKeys(secret);
		keys.catch(() => cache.delete(secret));
		cache.set(secret, keys);
	}
	return keys;
}

export class KeyConfigurationError extends Error {
	override name = "KeyConfigurationError";
}

async function importKeys(secret: string): Promise<SigningKeys> {
	let set: { keys?: JWK[] };
	try {
		set = JSON.parse(secret) as { keys?: JWK[] };
	} catch {
		throw new KeyConfigurationError("JWT_KEYS is not JSON");
	}
	const jwks = set.keys ?? [];
	if (jwks.length === 0) throw new KeyConfigurationError("JWT_KEYS has no keys");
	const verify = new Map<string, CryptoKey>();
	const publicJwks: PublicJwk[] = [];
	let current: SigningKeys["current"] | undefined;
	for (const jwk of jwks) {
		if (!jwk.kid || jwk.kty !== "EC" || jwk.crv !== "P-256" || !jwk.d || !jwk.x || !jwk.y) {
			throw new KeyConfigurationError("every JWT_KEYS entry must be an EC P-256 private JWK with a kid");
		}
		if (verify.has(jwk.kid)) throw new KeyConfigurationError(`duplicate kid ${jwk.kid}`);
		const privateKey = (await importJWK({ ...jwk, alg: ACCESS_TOKEN_ALG }, ACCESS_TOKEN_ALG)) as CryptoKey;
		const { d: _private, key_ops: _ops, ...publicPart } = jwk;
		const publicKey = (await importJWK({ ...publicPart, alg: ACCESS_TOKEN_ALG }, ACCESS_TOKEN_ALG)) as CryptoKey;
		verify.set(jwk.kid, publicKey);
		publicJwks.push({ kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, kid: jwk.kid, alg: ACCESS_TOKEN_ALG, use: "sig" });
		current ??= { kid: jwk.kid, key: privateKey };
	}
	if (!current) throw new KeyConfigurationError("JWT_KEYS has no keys");
	return { current, verify, publicJwks };
}
