/**
 * Signatures for the webhooks we send to merchants' endpoints, in the
 * Standard Webhooks scheme (https://github.com/standard-webhooks/standard-webhooks,
 * spec/standard-webhooks.md, "Signature scheme" and "Webhook headers"), so a
 * merchant can verify them with any of that project's libraries:
 *
 * - `webhook-id`: the event id, the same on every retry (the receiver's de-duplication key);
 * - `webhook-timestamp`: this attempt's time, integer Unix seconds;
 * - `webhook-signature`: space-separated `v1,<base64 HMAC-SHA256>` entries over
 *   `${id}.${timestamp}.${body}`, one per active secret, so a secret can be
 *   rotated without downtime: during the overlap both sign, and a receiver
 *   that knows either accepts.
 *
 * Secrets are `whsec_` + base64 of 24 to 64 random bytes (the spec's bounds);
 * the HMAC key is the decoded bytes, not the text. WebCrypto only, so this
 * runs in workerd and in a merchant's Worker alike.
 */

export const WEBHOOK_SECRET_PREFIX = "whsec_";
/** How far a signed timestamp may be from the receiver's clock, either way (the spec's libraries use five minutes). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
const SIGNATURE_VERSION = "v1";
/** Ids are never user-controlled, and a `.` could shift where id, timestamp and body split in the signed content. */
const WEBHOOK_ID = /^[A-Za-z0-9_-]{1,256}$/;
const TIMESTAMP = /^\d{1,12}$/;
const encoder = new TextEncoder();

/**
 * Header names as sent; HTTP header names are case-insensitive, and receivers
 * may read them as `webhook-id` etc. A type alias, not an interface, so it can
 * be passed where a plain header record is expected.
 */
export type WebhookSignatureHeaders = {
	"Webhook-Id": string;
	"Webhook-Timestamp": string;
	"Webhook-Signature": string;
};

export type WebhookVerificationFailure = "missing_header" | "malformed_header" | "no_matching_signature" | "timestamp_out_of_tolerance";

export type WebhookVerification = { ok: true; id: string; timestampSeconds: number } | { ok: false; reason: WebhookVerificationFailure };

/** A fresh endpoint secret: `whsec_` + base64 of 32 random bytes. Show it to the merchant once; store it encrypted. */
export function generateWebhookSecret(): string {
	return `${WEBHOOK_SECRET_PREFIX}${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/**
 * The three headers for one delivery attempt of `body` (the exact bytes that
 * will be sent). Pass the current and the previous secret while rotating;
 * each adds one signature.
 */
export async function signWebhook(
	secret: string | readonly string[],
	body: string,
	timestampSeconds: number,
	id: string,
): Promise<WebhookSignatureHeaders> {
	const secrets = typeof secret === "string" ? [secret] : secret;
	if (secrets.length === 0) throw new TypeError("at least one webhook secret is required");
	if (!WEBHOOK_ID.test(id)) throw new TypeError("the webhook id must be 1 to 256 ASCII letters, digits, _ or -");
	if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0 || !TIMESTAMP.test(String(timestampSeconds))) {
		throw new RangeError("timestampSeconds must be a non-negative integer of at most 12 digits");
	}
	const content = `${id}.${timestampSeconds}.${body}`;
	const signatures = await Promise.all(secrets.map(async (s) => `${SIGNATURE_VERSION},${await hmacBase64(s, content)}`));
	return { "Webhook-Id": id, "Webhook-Timestamp": String(timestampSeconds), "Webhook-Signature": signatures.join(" ") };
}

/**
 * What a receiver does with a delivery: true when one `v1` signature matches
 * `body` under one of `secrets` and the timestamp is within the tolerance of
 * `nowSeconds`. The timestamp is checked after the signature, so an "expired"
 * answer is only ever given about an authentic delivery. Throws only for a
 * malformed secret (a configuration error, not a bad request).
 */
export async function verifyWebhook(
	secrets: readonly string[],
	headers: Headers | Record<string, string | null | undefined>,
	body: string,
	nowSeconds: number,
	toleranceSeconds: number = WEBHOOK_TOLERANCE_SECONDS,
): Promise<WebhookVerification> {
	if (secrets.length === 0) throw new TypeError("at least one webhook secret is required");
	const id = header(headers, "webhook-id");
	const timestamp = header(headers, "webhook-timestamp");
	const signatureHeader = header(headers, "webhook-signature");
	if (!id || !timestamp || !signatureHeader) return { ok: false, reason: "missing_header" };
	if (!WEBHOOK_ID.test(id) || !TIMESTAMP.test(timestamp)) return { ok: false, reason: "malformed_header" };

	// Other versions (`v1a` asymmetric signatures) are skipped, as the spec asks of receivers that do not know them.
	const candidates = signatureHeader
		.split(" ")
		.filter((entry) => entry.startsWith(`${SIGNATURE_VERSION},`))
		.map((entry) => entry.slice(SIGNATURE_VERSION.length + 1));
	if (candidates.length === 0) return { ok: false, reason: "malformed_header" };

	const content = `${id}.${timestamp}.${body}`;
	const expected = await Promise.all(secrets.map((secret) => hmacBase64(secret, content)));
	let matched = false;
	for (const mac of expected) {
		for (const candidate of candidates) matched = constantTimeEqual(mac, candidate) || matched;
	}
	if (!matched) return { ok: false, reason: "no_matching_signature" };

	const timestampSeconds = Number(timestamp);
	if (Math.abs(nowSeconds - timestampSeconds) > toleranceSeconds) return { ok: false, reason: "timestamp_out_of_tolerance" };
	return { ok: true, id, timestampSeconds };
}

/** The HMAC key a `whsec_` secret stands for; throws for anything else, since a weak or garbled key must not sign. */
export function decodeWebhookSecret(secret: string): Uint8Array<ArrayBuffer> {
	if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) throw new TypeError("a webhook secret starts with whsec_");
	let bytes: Uint8Array<ArrayBuffer>;
	try {
		bytes = Uint8Array.from(atob(secret.slice(WEBHOOK_SECRET_PREFIX.length)), (c) => c.charCodeAt(0));
	} catch {
		throw new TypeError("a webhook secret is whsec_ followed by base64");
	}
	if (bytes.length < MIN_SECRET_BYTES || bytes.length > MAX_SECRET_BYTES) {
		throw new TypeError(`a webhook secret holds ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes`);
	}
	return bytes;
}

async function hmacBase64(secret: string, content: string): Promise<string> {
	const key = await crypto.subtle.importKey("raw", decodeWebhookSecret(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	return toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(content))));
}

function header(headers: Headers | Record<string, string | null | undefined>, name: string): string | undefined {
	if (headers instanceof Headers) return headers.get(name) ?? undefined;
	for (const [key, value] of Object.entries(headers)) {
		if (key.toLowerCase() === name && typeof value === "string") return value;
	}
	return undefined;
}

function toBase64(bytes: Uint8Array): string {
	let binary = "";
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary);
}

/** Time depends only on the lengths, which are public (44 characters for a SHA-256 MAC). */
function constantTimeEqual(expected: string, candidate: string): boolean {
	if (candidate.length !== expected.length) return false;
	let diff = 0;
	for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ candidate.charCodeAt(i);
	return diff === 0;
}
