/**
 * E-mail addresses are compared and stored trimmed, NFC-normalised and in
 * lower case: `Ana@Shop.test` and `ana@shop.test` are one account. (The local
 * part is case-sensitive in theory; no mainstream provider treats it so.)
 */
export function normalizeEmail(email: string): string {
	return email.normalize("NFC").trim().toLowerCase();
}
