import type { EmailMessage } from "./email-schemas.ts";
import { type RenderedEmail, type RenderOptions, renderEmail } from "./templates.ts";

/**
 * What the shop keeps of a message never holds a live secret (invariant
 * I10): the stored copy of an e-mail (`notifications`) and a dead letter's
 * body show `[redacted]` where the secret was, so an admin who reads them
 * cannot use another customer's link. Only the provider gets the real one.
 *
 * The secrets are found by field, the same rule for an e-mail message and a
 * queue body: a field named `token` or `…_token` (a verification or reset
 * link's token, a guest's order token), `secret` or `…_secret` (a payment's
 * client secret, should one ever ride a queue), and the query values and
 * fragment of an `order_url` (where a guest's order link carries its access
 * token). Its path and parameter names stay, so the copy shows where it led.
 */
export const REDACTED = "[redacted]";

/**
 * Rendered in place of every secret, then swapped for REDACTED: letters and
 * digits only, so it comes through URL encoding, HTML escaping and the URL
 * parser unchanged, wherever a template puts the secret.
 */
const PLACEHOLDER = "REDACTEDbf27c0e94d1a";

const SECRET_FIELD = /(^|_)(token|secret)$/i;
const LINK_FIELD = "order_url";
/** A shorter value (`?page=2`) would turn up in unrelated text; no secret of ours is this short. */
const MIN_SECRET_LENGTH = 8;

/** `/orders/ord_1?access=tok#x` → `/orders/ord_1?access=[redacted]#[redacted]`. */
export function redactLink(link: string, replacement: string = REDACTED): string {
	const hashAt = link.indexOf("#");
	const beforeHash = hashAt === -1 ? link : link.slice(0, hashAt);
	const queryAt = beforeHash.indexOf("?");
	const path = queryAt === -1 ? beforeHash : beforeHash.slice(0, queryAt);
	const query =
		queryAt === -1
			? ""
			: `?${beforeHash
					.slice(queryAt + 1)
					.split("&")
					.map((pair) => {
						const eq = pair.indexOf("=");
						if (eq === -1) return pair === "" ? pair : replacement;
						return `${pair.slice(0, eq + 1)}${replacement}`;
					})
					.join("&")}`;
	const fragment = hashAt === -1 ? "" : `#${hashAt === link.length - 1 ? "" : replacement}`;
	return `${path}${query}${fragment}`;
}

/** The secret parts of a link: its query values and its fragment. */
function linkSecrets(link: string): string[] {
	const hashAt = link.indexOf("#");
	const beforeHash = hashAt === -1 ? link : link.slice(0, hashAt);
	const queryAt = beforeHash.indexOf("?");
	const values =
		queryAt === -1
			? []
			: beforeHash
					.slice(queryAt + 1)
					.split("&")
					.map((pair) => pair.slice(pair.indexOf("=") + 1));
	return hashAt === -1 ? values : [...values, link.slice(hashAt + 1)];
}

/**
 * `value` with every secret field replaced by `replacement` (REDACTED unless
 * told), at any depth; everything else as it was. For a queue body before
 * the dead-letter store writes it, and for a message before its stored copy
 * is rendered.
 */
export function redactSecrets<T>(value: T, replacement: string = REDACTED): T {
	return redactWithin(value, replacement, new Set()) as T;
}

/**
 * Copies arrays and plain objects only, so a Date or a byte array in a v8
 * body stays what it was; a cycle is left as it is (the dead-letter store
 * then keeps `[unserializable]`, as it would have anyway).
 */
function redactWithin(value: unknown, replacement: string, ancestors: Set<object>): unknown {
	if (typeof value !== "object" || value === null || ancestors.has(value)) return value;
	const prototype = Object.getPrototypeOf(value);
	if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) return value;
	ancestors.add(value);
	const copy = Array.isArray(value)
		? value.map((item) => redactWithin(item, replacement, ancestors))
		: Object.fromEntries(
				Object.entries(value).map(([key, field]) => {
					if (typeof field === "string" && SECRET_FIELD.test(key)) return [key, replacement];
					if (typeof field === "string" && key === LINK_FIELD) return [key, redactLink(field, replacement)];
					return [key, redactWithin(field, replacement, ancestors)];
				}),
			);
	ancestors.delete(value);
	return copy;
}

/** The secret values `value` carries, for scrubbing text that might quote one (a provider's error message). */
export function secretsOf(value: unknown): string[] {
	if (Array.isArray(value)) return value.flatMap(secretsOf);
	if (typeof value !== "object" || value === null) return [];
	return Object.entries(value)
		.flatMap(([key, field]) => {
			if (typeof field === "string" && SECRET_FIELD.test(key)) return [field];
			if (typeof field === "string" && key === LINK_FIELD) return linkSecrets(field);
			return secretsOf(field);
		})
		.filter((secret) => secret.length >= MIN_SECRET_LENGTH && secret !== REDACTED);
}

/**
 * Whether a secret of the message was redacted before it got here: a
 * replayed dead letter (queues/dead-letters.ts). Its link cannot work, so it
 * must not be sent.
 */
export function hasRedactedSecret(message: EmailMessage): boolean {
	return Object.entries(message).some(
		([key, field]) => typeof field === "string" && (SECRET_FIELD.test(key) || key === LINK_FIELD) && field.includes(REDACTED),
	);
}

/** `text` with each of `secrets` replaced by REDACTED. */
export function scrub(text: string, secrets: readonly string[]): string {
	return secrets.reduce((out, secret) => out.replaceAll(secret, REDACTED), text);
}

/**
 * The copy of an e-mail the shop stores: the same rendering as the one sent,
 * with REDACTED where each secret was. Rendered from the message with its
 * secrets already replaced, so the real ones never reach the copy, however a
 * template encodes them.
 */
export function storedCopy(message: EmailMessage, options: RenderOptions): RenderedEmail {
	const rendered = renderEmail(redactSecrets(message, PLACEHOLDER), options);
	const swap = (text: string) => text.replaceAll(PLACEHOLDER, REDACTED);
	return { subject: swap(rendered.subject), html: swap(rendered.html), text: swap(rendered.text) };
}
