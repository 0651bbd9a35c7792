/**
 * The payment-provider boundary. Checkout and the order lifecycle speak only
 * these types; Stripe (stripe.ts) and the development provider
 * (test-provider.ts) translate to and from them, so neither leaks its wire
 * format into the order code. Amounts are integer minor units, currencies
 * ISO-4217 upper case on this side of the boundary.
 */

export type ProviderName = "stripe" | "test";

export interface CreatePaymentInput {
	orderId: string;
	/** Minor units (cents), a positive integer. */
	amount: number;
	/** ISO-4217, upper case. */
	currency: string;
	email: string;
	description?: string;
}

export interface CreatedPayment {
	provider: ProviderName;
	providerPaymentId: string;
	status: "requires_action" | "processing" | "succeeded";
	/** What the client needs to complete the payment (Stripe's PaymentIntent client secret). */
	clientSecret?: string;
}

export type PaymentEventType = "payment.succeeded" | "payment.failed" | "payment.canceled" | "refund.succeeded" | "refund.failed";

export const PAYMENT_EVENT_TYPES: readonly PaymentEventType[] = [
	"payment.succeeded",
	"payment.failed",
	"payment.canceled",
	"refund.succeeded",
	"refund.failed",
];

export interface PaymentEvent {
	/** The provider's event id: the de-duplication key. */
	id: string;
	type: PaymentEventType;
	provider: ProviderName;
	providerPaymentId: string;
	/** From the payment's (or refund's) metadata; null when the provider did not carry it. */
	orderId: string | null;
	/**
	 * Minor units: what was received for `payment.succeeded`, what was asked
	 * for other payment events, the refund's own amount for refund events.
	 */
	amount: number;
	/** ISO-4217, upper case. */
	currency: string;
	/** When the provider created the event, in ms since the epoch. */
	occurredAt: number;
	/**
	 * The refund an event is about. A provider may report one refund several
	 * times under different event ids (Stripe sends `refund.created` and then
	 * `refund.updated`), so this, not `id`, says whether a refund is new.
	 */
	refundId?: string;
}

/** A window of succeeded payments to list, and where in it a page starts. */
export interface SucceededPaymentsQuery {
	/** Payments that succeeded at or after this instant, ms since the epoch. */
	since: number;
	/** …and at or before this one. */
	until: number;
	/** `nextCursor` of the previous page; absent for the first (newest) page. */
	cursor?: string | undefined;
	/** Page size, 1 to 100. */
	limit?: number | undefined;
}

/** One page of succeeded payments, newest first, as the provider lists them. */
export interface SucceededPaymentsPage {
	/** Each one as the webhook for it reports it (`payment.succeeded`, the same event id). */
	events: PaymentEvent[];
	/** Where the next, older, page starts; null on the last page. */
	nextCursor: string | null;
}

export interface RefundResult {
	refundId: string;
	status: "pending" | "succeeded" | "failed";
}

export interface PaymentProvider {
	readonly name: ProviderName;
	/**
	 * Starts a payment for an order. Idempotent per `orderId`: a retried call
	 * returns the same payment instead of creating a second one.
	 */
	createPayment(input: CreatePaymentInput): Promise<CreatedPayment>;
	/**
	 * Refunds `amount` of a payment. A repeated call with the same
	 * `idempotencyKey` refunds once. `orderId`, when given, is attached to the
	 * refund so its webhook events carry it.
	 */
	refund(providerPaymentId: string, amount: number, idempotencyKey: string, orderId?: string): Promise<RefundResult>;
	/**
	 * Cancels a payment that has not succeeded, so it can never be paid (an
	 * unpaid order was cancelled or expired). Idempotent per `idempotencyKey`.
	 * `not_cancelable` when the provider says it is past that (succeeded, or
	 * canceled already): a success then arrives as an event and is refunded.
	 */
	cancelPayment(providerPaymentId: string, idempotencyKey: string): Promise<"canceled" | "not_cancelable">;
	/**
	 * Verifies the signature on the raw body and returns the normalised event,
	 * or null for an event type we ignore. Throws WebhookSignatureError when
	 * the signature is missing, malformed, wrong or outside the tolerance, and
	 * WebhookPayloadError when a correctly signed body is not an event we can read.
	 */
	parseWebhook(rawBody: string, headers: Headers, nowMs?: number): Promise<PaymentEvent | null>;
	/**
	 * The payments that succeeded in a window, from the provider's own record,
	 * one page at a time: what reconciliation compares our orders with. Each
	 * event is normalised by the same code as its webhook, so both paths
	 * report one payment identically. Throws PaymentProviderError when the
	 * provider cannot be asked now, WebhookPayloadError when it lists an
	 * event we cannot read.
	 */
	listSucceededPayments(query: SucceededPaymentsQuery): Promise<SucceededPaymentsPage>;
}

export type WebhookSignatureFailure = "missing" | "malformed" | "mismatch" | "timestamp";

/** The webhook is not provably from the provider: answer 400 and do nothing. */
export class WebhookSignatureError extends Error {
	override name = "WebhookSignatureError";
	readonly reason: WebhookSignatureFailure;

	constructor(message: string, reason: WebhookSignatureFailure) {
		super(message);
		this.reason = reason;
	}
}

/**
 * The webhook is authentic but its body is not an event we can read (not
 * JSON, or a known type without the fields it must have). Worth an alert: the
 * provider changed its format, or our test provider has a bug.
 */
export class WebhookPayloadError extends Error {
	override name = "WebhookPayloadError";
}

/**
 * - `unavailable`: network error, timeout, 5xx, 429, 409, or the provider refused
 *   our credentials. Not the shopper's fault; the API answers 502/503, and
 *   retrying later may work.
 * - `rejected`: the provider refused this request (card declined, invalid
 *   parameters). Retrying the same request will fail the same way.
 */
export type PaymentProviderErrorKind = "unavailable" | "rejected";

export class PaymentProviderError extends Error {
	override name = "PaymentProviderError";
	readonly kind: PaymentProviderErrorKind;
	/** The provider's HTTP status, when it answered. */
	readonly status: number | undefined;
	/** The provider's error code (`card_declined`, `timeout` …). */
	readonly code: string | undefined;

	constructor(message: string, kind: PaymentProviderErrorKind, status?: number, code?: string, options?: ErrorOptions) {
		super(message, options);
		this.kind = kind;
		this.status = status;
		this.code = code;
	}
}

/** A provider cannot be built from the configuration (unknown name, missing or wrong secret). */
export class PaymentConfigurationError extends Error {
	override name = "PaymentConfigurationError";
}

/**
 * Refuses input no provider would accept (a non-integer or non-positive
 * amount, a currency that is not three letters) before anything is sent, so
 * both providers fail the same way and Stripe is not asked at all.
 */
export function assertPaymentInput(input: CreatePaymentInput): void {
	if (!Number.isSafeInteger(input.amount) || input.amount <= 0) {
		throw new PaymentProviderError("amount must be a positive integer in minor units", "rejected", undefined, "invalid_amount");
	}
	if (!/^[A-Z]{3}$/.test(input.currency)) {
		throw new PaymentProviderError("currency must be an upper-case ISO-4217 code", "rejected", undefined, "invalid_currency");
	}
	if (!input.orderId) throw new PaymentProviderError("orderId is required", "rejected", undefined, "invalid_order_id");
}
