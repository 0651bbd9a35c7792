const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/**
 * A prefixed, unguessable id (`usr_…`, `addr_…`): 20 characters of Crockford
 * base32 from the platform CSPRNG, 100 bits, so ids a guest may hold cannot
 * be enumerated.
 */
export function newId(prefix: string): string {
	const bytes = crypto.getRandomValues(new Uint8Array(20));
	let out = "";
	for (const byte of bytes) out += ALPHABET[byte & 31];
	return `${prefix}_${out}`;
}
