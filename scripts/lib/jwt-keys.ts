import { randomBytes } from "node:crypto";
import { exportJWK, generateKeyPair, type JWK } from "jose";

/** A new EC P-256 private JWK with a random kid, in the form the JWT_KEYS secret takes. */
export async function generateSigningJwk(): Promise<JWK> {
	const { privateKey } = await generateKeyPair("ES256", { extractable: true });
	const jwk = await exportJWK(privateKey);
	return { ...jwk, kid: `k-${randomBytes(6).toString("hex")}`, alg: "ES256", use: "sig" };
}

/** A JWT_KEYS value: a JWK Set whose first key signs. */
export async function generateKeySet(count = 1): Promise<string> {
	const keys: JWK[] = [];
	for (let i = 0; i < count; i++) keys.push(await generateSigningJwk());
	return JSON.stringify({ keys });
}
