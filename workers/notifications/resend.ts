/**
 * Resend's send-email API over plain fetch; the SDK would add its React
 * rendering path to the bundle for one POST. The documented shapes followed:
 *
 * - `POST https://api.resend.com/emails` with a JSON body
 *   `{ from, to: string[], subject, html, text, tags: [{ name, value }] }`,
 *   answered `200 { "id": "…" }` (https://resend.com/docs/api-reference/emails/send-email).
 * - `Authorization: Bearer re_…`, and a `User-Agent`: requests without one are
 *   refused with 403 before they reach the API (https://resend.com/docs/api-reference/introduction).
 * - `Idempotency-Key`, 1–256 characters, remembered for 24 hours: a repeat
 *   returns the first answer instead of sending again
 *   (https://resend.com/docs/dashboard/emails/idempotency-keys).
 * - Errors as `{ statusCode, name, message }`, e.g. `validation_error` 400/403/422,
 *   `missing_api_key` 401, `invalid_api_key` 403, `concurrent_idempotent_requests` 409,
 *   `rate_limit_exceeded` / `daily_quota_exceeded` 429, `application_error` /
 *   `internal_server_error` 500 (https://resend.com/docs/api-reference/errors, and
 *   `ErrorResponse` / `RESEND_ERROR_CODES_BY_KEY` in the resend-node SDK).
 * - Tag names and values: ASCII letters, digits, `_` and `-` (https://resend.com/docs/dashboard/emails/tags).
 */
import { type EmailProvider, EmailProviderError, type EmailProviderErrorKind, type OutgoingEmail } from "./email-provider.ts";

export interface ResendProviderOptions {
	/** `re_…`; a sending-access key is enough. */
	apiKey: string;
	apiBase?: string;
	fetch?: typeof fetch;
	/** Per request, body included. */
	timeoutMs?: number;
	userAgent?: string;
}

/** The fields of Resend's error body we read. */
interface ResendErrorBody {
	statusCode?: number;
	name?: string;
	message?: string;
}

const TAG_PART = /^[A-Za-z0-9_-]{1,256}$/;
const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

export function createResendProvider(options: ResendProviderOptions): EmailProvider {
	const { apiKey, timeoutMs = 10_000, userAgent = "edge-commerce-notifications/1" } = options;
	if (!/^re_\S+$/.test(apiKey)) {
		throw new EmailProviderError("the Resend API key must be an re_… key", "permanent", { code: "invalid_configuration" });
	}
	const apiBase = (options.apiBase ?? "https://api.resend.com").replace(/\/+$/, "");
	// Looked up per call, not captured, so the runtime's fetch is always the one used.
	const fetchImpl: typeof fetch = options.fetch ?? ((input, init) => fetch(input, init));

	return {
		name: "resend",

		async send(msg: OutgoingEmail): Promise<{ providerMessageId: string }> {
			const body = JSON.stringify(requestBody(msg));
			let response: Response;
			let text: string;
			try {
				response = await fetchImpl(`${apiBase}/emails`, {
					method: "POST",
					headers: {
						authorization: `Bearer ${apiKey}`,
						"content-type": "application/json",
						"idempotency-key": msg.idempotencyKey,
						"user-agent": userAgent,
					},
					body,
					// Covers the body too: an answer that stalls mid-stream is also cut off.
					signal: AbortSignal.timeout(timeoutMs),
				});
				text = await response.text();
			} catch (err) {
				// The e-mail may have been accepted; a retry with the same Idempotency-Key gets the same answer back.
				const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
				throw new EmailProviderError(
					timedOut ? `Resend did not answer within ${timeoutMs} ms` : "Resend could not be reached",
					"retryable",
					{
						code: timedOut ? "timeout" : "network_error",
						cause: err,
					},
				);
			}
			const json = parseJsonObject(text);
			if (response.ok) {
				const id = json?.id;
				// Accepted but unreadable: retrying with the same key returns the same id without sending twice.
				if (typeof id !== "string" || id === "") {
					throw new EmailProviderError(`Resend answered ${response.status} without an email id`, "retryable", { status: response.status });
				}
				return { providerMessageId: id };
			}
			const error = (json ?? {}) as ResendErrorBody;
			const name = typeof error.name === "string" ? error.name : undefined;
			const detail = typeof error.message === "string" ? error.message : "no error message";
			const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"));
			throw new EmailProviderError(
				redact(`Resend answered ${response.status}${name ? ` ${name}` : ""}: ${detail}`, apiKey),
				errorKind(response.status, name),
				{ status: response.status, ...(name ? { code: name } : {}), ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) },
			);
		},
	};
}

/**
 * Refuses, before any network call, what Resend would refuse with a 4xx, so
 * the error names our mistake instead of echoing the provider's wording.
 */
function requestBody(msg: OutgoingEmail): Record<string, unknown> {
	const invalid = (message: string) => new EmailProviderError(message, "permanent", { code: "invalid_request" });
	if (msg.idempotencyKey.length === 0 || msg.idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
		throw invalid(`the idempotency key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
	}
	const tags = Object.entries(msg.tags ?? {}).map(([name, value]) => {
		if (!TAG_PART.test(name) || !TAG_PART.test(value)) {
			throw invalid(`tag ${JSON.stringify(name)} must use only ASCII letters, digits, _ and - in its name and value`);
		}
		return { name, value };
	});
	return {
		from: msg.from,
		to: [msg.to],
		subject: msg.subject,
		html: msg.html,
		// Always sent: left out, Resend would derive its own text from the HTML.
		text: msg.text,
		...(tags.length > 0 ? { tags } : {}),
	};
}

/**
 * 5xx and 429 (a rate limit or the daily quota) are worth retrying, and so is
 * `concurrent_idempotent_requests` (409): an earlier attempt with the same key
 * is still in flight, and Resend's advice is to try again later. A missing or
 * wrong API key (`missing_api_key`, `invalid_api_key`, `restricted_api_key`)
 * is our outage, not the recipient's fault: retried, so the messages wait in
 * the dead-letter queue for a replay once the key is fixed instead of being
 * marked failed. Every other 4xx (a bad address) fails the same way next time.
 */
function errorKind(status: number, name: string | undefined): EmailProviderErrorKind {
	if (status >= 500 || status === 429) return "retryable";
	if (status === 409 && name === "concurrent_idempotent_requests") return "retryable";
	if (name === "missing_api_key" || name === "invalid_api_key" || name === "restricted_api_key") return "retryable";
	if (status >= 400) return "permanent";
	return "retryable";
}

/** Seconds, or an HTTP date; anything else is ignored. */
function parseRetryAfter(header: string | null): number | undefined {
	if (!header) return undefined;
	if (/^\d{1,9}$/.test(header.trim())) return Number(header.trim());
	const at = Date.parse(header);
	return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** Resend does not echo keys, but a proxy's error page might. */
function redact(message: string, apiKey: string): string {
	return message.replaceAll(apiKey, "[redacted]").replace(/\bre_[0-9A-Za-z_]+/g, "re_[redacted]");
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
	try {
		const value: unknown = JSON.parse(text);
		return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
	} catch {
		return undefined;
	}
}
