/**
 * Stripe's webhook signature scheme, on WebCrypto so it runs in workerd
 * without node:crypto. The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`;
 * each v1 is HMAC-SHA256 over `${t}.${rawBody}` keyed with the endpoint
 * secret's UTF-8 bytes, the whole `whsec_…` string included (that is what
 * stripe-node's SubtleCryptoProvider does; the tests check against it).
 * Several v1 entries appear while an endpoint secret is being rolled, so one
 * match is enough; other schemes (v0 …) are ignored.
 *
 * Stricter than stripe-node in one respect: a timestamp too far in the future
 * is refused as well as one too old, so a signature made on a host with a
 * skewed clock cannot be stockpiled and replayed later.
 */
import { PaymentConfigurationError, WebhookSignatureError } from "./provider.ts";

/** Stripe's default: how far a signed timestamp may be from now, either way. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const SCHEME = "v1";
const encoder = new TextEncoder();

/** A `t=…,v1=…` header for `rawBody`, as Stripe would send it. */
export async function signPayload(rawBody: string, secret: string, timestampSeconds: number): Promise<string> {
	if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0)
		throw new RangeError("timestampSeconds must be a non-negative integer");
	return `t=${timestampSeconds},${SCHEME}=${await hmacHex(secret, `${timestampSeconds}.${rawBody}`)}`;
}

export interface VerifyOptions {
	/** The receiving clock, ms since the epoch; Date.now() by default. */
	nowMs?: number;
	toleranceSeconds?: number;
}

/**
 * Checks `header` against `rawBody` (the exact bytes received, before any JSON
 * parsing) and returns the signed timestamp. Throws WebhookSignatureError,
 * with `reason` saying why, for anything short of a matching, timely signature.
 */
export async function verifySignature(
	rawBody: string,
	header: string | null | undefined,
	secret: string,
	options: VerifyOptions = {},
): Promise<{ timestampSeconds: number }> {
	if (!header) throw new WebhookSignatureError("signature header is missing", "missing");
	const { timestampSeconds, signatures } = parseSignatureHeader(header);
	const expected = await hmacHex(secret, `${timestampSeconds}.${rawBody}`);
	let matched = false;
	for (const candidate of signatures) matched = constantTimeEqual(expected, candidate) || matched;
	if (!matched) throw new WebhookSignatureError("no signature matches the payload", "mismatch");
	// Checked after the signature, so a timestamp complaint is only ever made about an authentic payload.
	const nowSeconds = Math.floor((options.nowMs ?? Date.now()) / 1000);
	const tolerance = options.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS;
	if (Math.abs(nowSeconds - timestampSeconds) > tolerance) {
		throw new WebhookSignatureError("signature timestamp is outside the tolerance", "timestamp");
	}
	return { timestampSeconds };
}

/** Splits a signature header; exactly one numeric `t` and at least one `v1` are required. */
export function parseSignatureHeader(header: string): { timestampSeconds: number; signatures: string[] } {
	let timestampSeconds: number | undefined;
	let seenTimestamp = false;
	const signatures: string[] = [];
	for (const item of header.split(",")) {
		const eq = item.indexOf("=");
		if (eq <= 0) continue;
		const key = item.slice(0, eq);
		const value = item.slice(eq + 1);
		if (key === "t") {
			if (seenTimestamp) throw new WebhookSignatureError("signature header has more than one timestamp", "malformed");
			seenTimestamp = true;
			timestampSeconds = /^\d{1,12}$/.test(value) ? Number(value) : undefined;
		} else if (key === SCHEME) {
			signatures.push(value);
		}
	}
	if (timestampSeconds === undefined) throw new WebhookSignatureError("signature header has no valid timestamp", "malformed");
	if (signatures.length === 0) throw new WebhookSignatureError(`signature header has no ${SCHEME} signature`, "malformed");
	return { timestampSeconds, signatures };
}

async function hmacHex(secret: string, message: string): Promise<string> {
	// An empty key would verify signatures anyone can compute.
	if (!secret) throw new PaymentConfigurationError("webhook signing secret is empty");
	const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
	let hex = "";
	for (const byte of mac) hex += byte.toString(16).padStart(2, "0");
	return hex;
}

/** Compares in time that depends only on the length, which is public (64 hex digits). */
function constantTimeEqual(expected: string, candidate: string): boolean {
	if (candidate.length !== expected.length) return false;
	let diff = 0;
	for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ candidate.charCodeAt(i);
	return diff === 0;
}
