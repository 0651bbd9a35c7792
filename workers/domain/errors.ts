/**
 * Domain errors: what services throw when a request cannot be carried out.
 *
 * An error has a stable machine `code` from the one registry below (a closed
 * union: a new code is added here, with its kind and title, or it does not
 * compile), a `kind` that says what went wrong in words any surface can map
 * (the API turns kinds into HTTP statuses in `api/lib/problem.ts`; the
 * storefront into pages), an optional `detail` for people and `extensions`
 * for clients (the short lines of an out-of-stock answer, say). Nothing here
 * knows about HTTP: services import this module, never a surface.
 */

import type { z } from "zod";

/** What went wrong, independent of any protocol. */
export type ErrorKind =
	/** The request itself is malformed or fails validation. */
	| "invalid"
	/** The caller did not prove who they are, or the proof is invalid. */
	| "unauthenticated"
	/** The caller is known and not allowed. */
	| "forbidden"
	/** Missing, or not the caller's to see (the same answer on purpose). */
	| "not_found"
	/** The request clashes with the current state; another request may succeed. */
	| "conflict"
	/** The body is larger than accepted. */
	| "too_large"
	/** The body's media type is not accepted. */
	| "unsupported_media"
	/** A byte range outside the resource. */
	| "unsatisfiable"
	/** Well-formed, but the business rules refuse it. */
	| "unprocessable"
	/** Only a WebSocket upgrade is served here. */
	| "upgrade_required"
	/** Too many attempts; retry later. */
	| "rate_limited"
	/** A provider we depend on failed or answered nonsense. */
	| "upstream_failed"
	/** A dependency of ours (database, queue, Durable Object) is down; retry later. */
	| "unavailable"
	/** This runtime cannot do it at all (a platform feature the local runtime lacks); retrying will not help. */
	| "not_implemented";

/** Every error code, with its kind and the title shown with it. */
const REGISTRY = {
	validation_failed: ["invalid", "Request validation failed"],
	malformed_request: ["invalid", "Malformed request"],
	malformed_event: ["invalid", "Malformed event"],
	invalid_signature: ["invalid", "Invalid signature"],
	invalid_token: ["invalid", "Invalid token"],
	invalid_cursor: ["invalid", "Invalid cursor"],
	idempotency_key_required: ["invalid", "Idempotency-Key required"],

	unauthorized: ["unauthenticated", "Authentication required"],
	invalid_credentials: ["unauthenticated", "Invalid credentials"],
	invalid_carrier_signature: ["unauthenticated", "Invalid signature"],
	invalid_refresh_token: ["unauthenticated", "Invalid refresh token"],
	refresh_token_reused: ["unauthenticated", "Refresh token reused"],

	forbidden: ["forbidden", "Forbidden"],
	cross_site_post: ["forbidden", "Forbidden"],

	not_found: ["not_found", "Not found"],
	line_not_found: ["not_found", "Not found"],

	out_of_stock: ["conflict", "Out of stock"],
	below_reserved: ["conflict", "Stock below reservations"],
	cart_exists: ["conflict", "Conflict"],
	cart_changed: ["conflict", "Cart changed"],
	slug_taken: ["conflict", "Slug taken"],
	sku_taken: ["conflict", "SKU taken"],
	affiliate_code_taken: ["conflict", "Affiliate code taken"],
	email_taken: ["conflict", "E-mail already registered"],
	address_limit: ["conflict", "Too many addresses"],
	invalid_transition: ["conflict", "Invalid order transition"],
	idempotency_in_progress: ["conflict", "Request in progress"],
	already_replayed: ["conflict", "Already replayed"],
	restore_conflict: ["conflict", "Object changed during restore"],
	restore_incomplete: ["conflict", "Restore incomplete"],
	unknown_queue: ["conflict", "Unknown queue"],
	refund_refused: ["conflict", "Refund refused"],
	invalid_return_transition: ["conflict", "Invalid return transition"],
	hold_time_exhausted: ["conflict", "Hold time exhausted"],
	promotion_changed: ["conflict", "Promotion changed"],
	category_not_empty: ["conflict", "Category not empty"],
	market_id_taken: ["conflict", "Market id taken"],
	country_taken: ["conflict", "Country in another market"],
	country_in_zone: ["conflict", "Country in a shipping zone"],
	default_market: ["conflict", "Default market"],
	market_in_use: ["conflict", "Market has orders"],
	market_currency_locked: ["conflict", "Market currency locked"],
	promotion_code_taken: ["conflict", "Promotion code taken"],
	promotion_used: ["conflict", "Promotion was used"],
	max_uses_below_used: ["conflict", "Maximum uses below uses"],
	reconciliation_running: ["conflict", "Reconciliation running"],
	drift_resolved: ["conflict", "Drift already resolved"],

	payload_too_large: ["too_large", "Request body too large"],
	unsupported_media_type: ["unsupported_media", "Unsupported media type"],
	range_not_satisfiable: ["unsatisfiable", "Range not satisfiable"],

	idempotency_key_reused: ["unprocessable", "Idempotency-Key reused"],
	restore_refused: ["unprocessable", "Restore refused"],
	unknown_sku: ["unprocessable", "Unknown SKU"],
	unknown_category: ["unprocessable", "Unknown category"],
	too_many_variants: ["unprocessable", "Too many variants"],
	currency_mismatch: ["unprocessable", "Mixed currencies"],
	quantity_limit: ["unprocessable", "Quantity limit"],
	line_limit: ["unprocessable", "Line limit"],
	cart_empty: ["unprocessable", "Cart is empty"],
	items_unavailable: ["unprocessable", "Items no longer on sale"],
	mixed_currency: ["unprocessable", "Mixed currencies"],
	currency_not_supported: ["unprocessable", "Currency not supported"],
	unknown_market: ["unprocessable", "Unknown market"],
	not_sold_in_market: ["unprocessable", "Not sold in this market"],
	country_not_in_market: ["unprocessable", "Country outside the cart's market"],
	shipping_unavailable: ["unprocessable", "Shipping method unavailable"],
	invalid_discount_code: ["unprocessable", "Invalid discount code"],
	payment_rejected: ["unprocessable", "Payment rejected"],
	url_refused: ["unprocessable", "URL refused"],
	order_too_large: ["unprocessable", "Order too large"],
	return_not_allowed: ["unprocessable", "Return not allowed"],
	return_window_closed: ["unprocessable", "Return window closed"],
	return_quantity_exceeded: ["unprocessable", "Return quantity exceeded"],
	category_cycle: ["unprocessable", "Category cycle"],
	zone_country_not_in_market: ["unprocessable", "Country outside the zone's market"],
	invalid_shipping_rate: ["unprocessable", "Invalid shipping rate"],
	invalid_promotion: ["unprocessable", "Invalid promotion"],
	unknown_promotion_target: ["unprocessable", "Unknown promotion target"],
	image_too_large: ["unprocessable", "Image too large"],
	image_unreadable: ["unprocessable", "Image unreadable"],
	drift_not_ledger: ["unprocessable", "Not a ledger drift"],

	upgrade_required: ["upgrade_required", "WebSocket required"],
	rate_limited: ["rate_limited", "Too many attempts"],
	hold_limit: ["rate_limited", "Too much stock held"],

	payment_provider_unavailable: ["upstream_failed", "Payment provider unavailable"],
	tax_provider_failed: ["upstream_failed", "Tax provider failed"],

	database_unavailable: ["unavailable", "Service temporarily unavailable"],
	queue_unavailable: ["unavailable", "Service temporarily unavailable"],
	inventory_unavailable: ["unavailable", "Service temporarily unavailable"],
	auth_unavailable: ["unavailable", "Service temporarily unavailable"],
	not_ready: ["unavailable", "Service not ready"],
	restore_unsupported: ["not_implemented", "Point-in-time recovery not available"],
	tax_unavailable: ["unavailable", "Tax unavailable"],
} as const satisfies Record<string, readonly [ErrorKind, string]>;

/** The closed set of machine codes clients may rely on. */
export type ErrorCode = keyof typeof REGISTRY;

/** Every registered code, for documentation and tests. */
export const ERROR_CODES = Object.keys(REGISTRY) as ErrorCode[];

export interface DomainErrorOptions {
	/** For people: what happened and what to do. Never carries secrets or personal data. */
	detail?: string | undefined;
	/** For clients: structured facts about the refusal (merged into the problem document). */
	extensions?: Record<string, unknown>;
	/** For outages and limits: when a retry may succeed. */
	retryAfterSeconds?: number;
	/** For a refusal by a limit: which policy refused, what it allows, and when it resets. */
	rateLimit?: RateLimitState;
	cause?: unknown;
}

/** One limit's state as the IETF RateLimit headers report it: `limit` per `period` seconds, `remaining` until `resetSeconds`. */
export interface RateLimitState {
	policy: string;
	limit: number;
	period: number;
	remaining: number;
	resetSeconds: number;
}

/** A failure the caller can act on, or an outage to retry later. */
export class DomainError extends Error {
	readonly code: ErrorCode;
	readonly kind: ErrorKind;
	readonly title: string;
	readonly detail: string | undefined;
	readonly extensions: Record<string, unknown>;
	readonly retryAfterSeconds: number | undefined;
	readonly rateLimit: RateLimitState | undefined;

	constructor(code: ErrorCode, options: DomainErrorOptions = {}) {
		const [kind, title] = REGISTRY[code];
		super(options.detail ?? title, options.cause === undefined ? undefined : { cause: options.cause });
		this.name = "DomainError";
		this.code = code;
		this.kind = kind;
		this.title = title;
		this.detail = options.detail;
		this.extensions = options.extensions ?? {};
		this.retryAfterSeconds = options.retryAfterSeconds;
		this.rateLimit = options.rateLimit;
	}
}

/** True for a domain error, optionally of one of `codes`. */
export function isDomainError(err: unknown, ...codes: ErrorCode[]): err is DomainError {
	return err instanceof DomainError && (codes.length === 0 || codes.includes(err.code));
}

/** The one not-found: missing and not-yours answer alike, so ids cannot be probed. */
export function notFound(detail: string): DomainError {
	return new DomainError("not_found", { detail });
}

/** One failed field of a validation error, with its JSON path. */
export interface FieldError {
	path: string;
	message: string;
}

/** Turns zod issues into field errors with dotted paths (`lines.0.quantity`). */
/** At most this many field errors are listed: a huge malformed body must not make a huge answer. */
export const MAX_FIELD_ERRORS = 100;

export function fieldErrors(issues: readonly z.core.$ZodIssue[], prefix?: string): FieldError[] {
	return issues.slice(0, MAX_FIELD_ERRORS).map((issue) => {
		const parts = issue.path.map(String);
		const path = [prefix, ...parts].filter(Boolean).join(".");
		if (issue.code === "unrecognized_keys") {
			return { path: path || "(root)", message: `Unknown field(s): ${issue.keys.join(", ")}` };
		}
		return { path: path || "(root)", message: issue.message };
	});
}
