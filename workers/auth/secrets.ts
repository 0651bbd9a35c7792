import { sha256Hex } from "../domain/hash.ts";

/** A random secret for tokens handed to clients: 32 bytes, base64url. */
export function randomToken(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(32));
	return btoa(String.fromCharCode(...bytes))
		.replaceAll("+", "-")
		.replaceAll("/", "_")
		.replace(/=+$/, "");
}

/**
 * How opaque tokens are stored: SHA-256, hex. The tokens carry 256 random
 * bits, so a fast hash is enough; a database leak does not reveal them.
 */
export function hashToken(token: string): Promise<string> {
	return sha256Hex(token);
}
