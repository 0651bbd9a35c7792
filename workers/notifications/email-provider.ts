/**
 * The e-mail provider boundary. The notifications consumer renders a message
 * (templates.ts) and hands it to an EmailProvider; Resend (resend.ts) is one
 * implementation, and a test double is a plain object with the same shape.
 * Providers translate their wire format and their errors into these types,
 * so the consumer decides between "retry later" and "give up" without
 * knowing which provider answered.
 */

export interface OutgoingEmail {
	/** One recipient address. */
	to: string;
	/** `Shop <orders@shop.example>` or a bare address on a verified domain. */
	from: string;
	subject: string;
	html: string;
	text: string;
	/**
	 * The same key for every attempt at the same e-mail (e.g. `order_confirmation/ord_…`),
	 * so a retry after a timeout never sends it twice.
	 */
	idempotencyKey: string;
	/** Carried through to the provider's delivery events; keys and values are ASCII letters, digits, `_` and `-`. */
	tags?: Record<string, string>;
}

export interface EmailProvider {
	readonly name: string;
	/** Resolves with the provider's id for the accepted message; rejects with EmailProviderError. */
	send(msg: OutgoingEmail): Promise<{ providerMessageId: string }>;
}

/**
 * - `retryable`: the provider was unreachable, timed out, rate-limited us or
 *   failed on its side. The same request, with the same idempotency key, may
 *   succeed later.
 * - `permanent`: the provider refused this request (invalid address,
 *   unverified sender domain, wrong API key). Retrying it unchanged fails the
 *   same way; dead-letter it and alert.
 */
export type EmailProviderErrorKind = "retryable" | "permanent";

export interface EmailProviderErrorDetails {
	/** The provider's HTTP status, when it answered. */
	status?: number;
	/** The provider's error name (`validation_error`, `rate_limit_exceeded` …) or ours (`timeout`, `network_error`). */
	code?: string;
	/** How long the provider asked us to wait (`Retry-After`), in seconds. */
	retryAfterSeconds?: number;
	cause?: unknown;
}

export class EmailProviderError extends Error {
	override name = "EmailProviderError";
	readonly kind: EmailProviderErrorKind;
	readonly status: number | undefined;
	readonly code: string | undefined;
	readonly retryAfterSeconds: number | undefined;

	constructor(message: string, kind: EmailProviderErrorKind, details: EmailProviderErrorDetails = {}) {
		super(message, details.cause === undefined ? undefined : { cause: details.cause });
		this.kind = kind;
		this.status = details.status;
		this.code = details.code;
		this.retryAfterSeconds = details.retryAfterSeconds;
	}
}
