/**
 * Stripe over plain fetch: PaymentIntents, refunds, webhook events and the
 * Events list. The SDK is not used at run time; it would add its whole
 * resource tree to the bundle for four calls. Parameters are form-encoded as
 * the SDK encodes them (`metadata[order_id]=…`, `created[gte]=…`), in the body
 * of a POST and the query of a GET; responses are read as the JSON shapes of
 * the API version pinned below (node_modules/stripe/esm/resources/*.d.ts
 * describe them).
 */
import {
	assertPaymentInput,
	type CreatedPayment,
	type CreatePaymentInput,
	PaymentConfigurationError,
	type PaymentEvent,
	type PaymentEventType,
	type PaymentProvider,
	PaymentProviderError,
	type PaymentProviderErrorKind,
	type RefundResult,
	type SucceededPaymentsPage,
	type SucceededPaymentsQuery,
	WebhookPayloadError,
} from "./provider.ts";
import { verifySignature } from "./signature.ts";

/**
 * Sent as `Stripe-Version` on every request: the version stripe@23.1.0 (our
 * devDependency, whose types and test helpers the tests use) is generated for.
 * Webhook payloads follow the version of the webhook endpoint instead, so
 * create the endpoint with this version too. The fields read here (ids,
 * amounts, currency, status, metadata, payment_intent) are the same in every
 * version since 2022-11-15.
 */
export const STRIPE_API_VERSION = "2026-10-28.endive";

export interface StripeProviderOptions {
	/**
	 * `sk_…`, or a restricted `rk_…` key with write access to PaymentIntents
	 * and Refunds and read access to Events (reconciliation lists them).
	 */
	secretKey: string;
	/** The webhook endpoint's signing secret, `whsec_…`. */
	webhookSecret: string;
	apiBase?: string;
	fetch?: typeof fetch;
	/** Per request, body included. */
	timeoutMs?: number;
	/**
	 * Sets `receipt_email` so Stripe mails its own receipt. Off by default: the
	 * shop sends its own order confirmation, and in live mode Stripe sends a
	 * receipt whenever `receipt_email` is set, so the shopper would get two.
	 */
	sendStripeReceipts?: boolean;
}

/** The PaymentIntent fields we read (Stripe.PaymentIntent). */
interface StripePaymentIntent {
	id: string;
	object: "payment_intent";
	amount: number;
	amount_received: number;
	currency: string;
	status: string;
	client_secret: string | null;
	metadata: Record<string, string> | null;
}

/** The Refund fields we read (Stripe.Refund). */
interface StripeRefund {
	id: string;
	object: "refund";
	amount: number;
	currency: string;
	status: string | null;
	payment_intent: string | { id: string } | null;
	metadata: Record<string, string> | null;
}

/** A page of a Stripe list (Stripe.ApiList). */
interface StripeList {
	object: "list";
	data: unknown[];
	has_more: boolean;
}

interface StripeErrorBody {
	error?: { type?: string; code?: string; decline_code?: string; message?: string };
}

type FormValue = string | number | boolean | undefined | { [key: string]: FormValue };

export function createStripeProvider(options: StripeProviderOptions): PaymentProvider {
	const { secretKey, webhookSecret, apiBase = "https://api.stripe.com", timeoutMs = 10_000, sendStripeReceipts = false } = options;
	if (!/^(sk|rk)_\S+$/.test(secretKey)) throw new PaymentConfigurationError("the Stripe secret key must be an sk_… or rk_… key");
	if (!/^whsec_\S+$/.test(webhookSecret)) throw new PaymentConfigurationError("the Stripe webhook secret must be a whsec_… signing secret");
	// Looked up per call, not captured, so the runtime's fetch is always the one used.
	const fetchImpl: typeof fetch = options.fetch ?? ((input, init) => fetch(input, init));

	/**
	 * One API call. A POST carries its parameters as a form body and an
	 * Idempotency-Key; a GET, which changes nothing, carries them in the query.
	 */
	async function request(
		method: "GET" | "POST",
		path: string,
		params: Record<string, FormValue>,
		idempotencyKey?: string,
	): Promise<Record<string, unknown>> {
		let response: Response;
		let text: string;
		const encoded = formEncode(params);
		try {
			response = await fetchImpl(method === "GET" && encoded ? `${apiBase}${path}?${encoded}` : `${apiBase}${path}`, {
				method,
				headers: {
					authorization: `Bearer ${secretKey}`,
					...(method === "POST" ? { "content-type": "application/x-www-form-urlencoded" } : {}),
					...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
					"stripe-version": STRIPE_API_VERSION,
				},
				...(method === "POST" ? { body: encoded } : {}),
				// Covers the body too: a response that stalls mid-stream is also cut off.
				signal: AbortSignal.timeout(timeoutMs),
			});
			text = await response.text();
		} catch (err) {
			// The request may have reached Stripe; a retry with the same Idempotency-Key gets the same object back.
			const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
			throw new PaymentProviderError(
				timedOut ? `Stripe did not answer within ${timeoutMs} ms` : "Stripe could not be reached",
				"unavailable",
				undefined,
				timedOut ? "timeout" : "network_error",
				{ cause: err },
			);
		}
		const body = parseJsonObject(text);
		if (response.ok) {
			if (body) return body;
			throw new PaymentProviderError(`Stripe answered ${response.status} with a body that is not JSON`, "unavailable", response.status);
		}
		const error = (body as StripeErrorBody | undefined)?.error;
		const kind = errorKind(response.status, response.headers.get("stripe-should-retry"));
		const message = redact(`Stripe answered ${response.status}: ${error?.message ?? "no error message"}`, secretKey);
		throw new PaymentProviderError(message, kind, response.status, error?.code ?? error?.type);
	}

	return {
		name: "stripe",

		async createPayment(input: CreatePaymentInput): Promise<CreatedPayment> {
			assertPaymentInput(input);
			const intent = (await request(
				"POST",
				"/v1/payment_intents",
				{
					amount: input.amount,
					currency: input.currency.toLowerCase(),
					automatic_payment_methods: { enabled: true },
					description: input.description,
					metadata: { order_id: input.orderId },
					receipt_email: sendStripeReceipts ? input.email : undefined,
				},
				input.orderId,
			)) as unknown as StripePaymentIntent;
			if (typeof intent.id !== "string") throw new PaymentProviderError("Stripe returned a PaymentIntent without an id", "unavailable");
			return {
				provider: "stripe",
				providerPaymentId: intent.id,
				status: createdStatus(intent),
				...(intent.client_secret ? { clientSecret: intent.client_secret } : {}),
			};
		},

		async refund(providerPaymentId: string, amount: number, idempotencyKey: string, orderId?: string): Promise<RefundResult> {
			if (!Number.isSafeInteger(amount) || amount <= 0) {
				throw new PaymentProviderError("refund amount must be a positive integer in minor units", "rejected", undefined, "invalid_amount");
			}
			const refund = (await request(
				"POST",
				"/v1/refunds",
				{ payment_intent: providerPaymentId, amount, metadata: orderId ? { order_id: orderId } : undefined },
				idempotencyKey,
			)) as unknown as StripeRefund;
			if (typeof refund.id !== "string") throw new PaymentProviderError("Stripe returned a Refund without an id", "unavailable");
			return { refundId: refund.id, status: refundStatus(refund.status) };
		},

		/**
		 * `POST /v1/payment_intents/{id}/cancel` with `cancellation_reason=abandoned`.
		 * Stripe refuses a PaymentIntent that succeeded or was canceled already with
		 * 400 `payment_intent_unexpected_state`: not cancelable, which is no fault.
		 */
		async cancelPayment(providerPaymentId: string, idempotencyKey: string): Promise<"canceled" | "not_cancelable"> {
			if (!/^pi_[A-Za-z0-9_]+$/.test(providerPaymentId)) {
				throw new PaymentProviderError("not a PaymentIntent id", "rejected", undefined, "invalid_payment_id");
			}
			try {
				await request("POST", `/v1/payment_intents/${providerPaymentId}/cancel`, { cancellation_reason: "abandoned" }, idempotencyKey);
				return "canceled";
			} catch (err) {
				if (err instanceof PaymentProviderError && err.code === "payment_intent_unexpected_state") return "not_cancelable";
				throw err;
			}
		},

		async parseWebhook(rawBody: string, headers: Headers, nowMs?: number): Promise<PaymentEvent | null> {
			await verifySignature(rawBody, headers.get("stripe-signature"), webhookSecret, nowMs === undefined ? {} : { nowMs });
			return mapStripeEvent(rawBody);
		},

		/**
		 * `GET /v1/events?type=payment_intent.succeeded&created[gte]=…&created[lte]=…`,
		 * newest first, paged with `starting_after` (the last event id of the
		 * previous page) while `has_more`. Stripe lists events of the last 30
		 * days, each rendered in the API version of its creation, like the
		 * webhook that carried it; the fields read here are the same in all of them.
		 */
		async listSucceededPayments({ since, until, cursor, limit = 100 }: SucceededPaymentsQuery): Promise<SucceededPaymentsPage> {
			if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100) throw new RangeError("limit must be between 1 and 100");
			const page = (await request("GET", "/v1/events", {
				type: "payment_intent.succeeded",
				// Stripe's `created` is whole seconds: rounding both ends outwards keeps every payment of the window.
				created: { gte: Math.floor(since / 1000), lte: Math.ceil(until / 1000) },
				limit,
				starting_after: cursor,
			})) as unknown as StripeList;
			if (page.object !== "list" || !Array.isArray(page.data) || typeof page.has_more !== "boolean") {
				throw new PaymentProviderError("Stripe answered the events list with something that is not a list", "unavailable");
			}
			const events: PaymentEvent[] = [];
			for (const item of page.data) {
				if (typeof item !== "object" || item === null) throw new WebhookPayloadError("Stripe listed an event that is not an object");
				const event = mapStripeEventObject(item as Record<string, unknown>);
				if (event) events.push(event);
			}
			const last = page.data.at(-1) as { id?: unknown } | undefined;
			return { events, nextCursor: page.has_more && typeof last?.id === "string" ? last.id : null };
		},
	};
}

/**
 * Stripe events → ours. Refunds come from `refund.*` events, which Stripe
 * sends for every refund whatever the payment method. `charge.refunded` and
 * `charge.refund.updated` describe the same refunds again (the first with the
 * charge's cumulative `amount_refunded` and, since 2022-11-15, without the
 * refund list), so they are ignored rather than reported twice.
 */
export function mapStripeEvent(rawBody: string): PaymentEvent | null {
	const event = parseJsonObject(rawBody);
	if (!event) throw new WebhookPayloadError("Stripe webhook body is not a JSON object");
	return mapStripeEventObject(event);
}

/**
 * One Stripe Event object → ours: what a webhook body holds, and what each
 * item of the Events list is, so both report a payment the same way.
 */
export function mapStripeEventObject(event: Record<string, unknown>): PaymentEvent | null {
	const id = field(event, "id", "string");
	const type = field(event, "type", "string");
	const created = field(event, "created", "number");
	const data = event.data as { object?: unknown } | undefined;
	const object = data?.object;
	if (typeof object !== "object" || object === null) throw new WebhookPayloadError(`Stripe event ${id} has no data.object`);
	const base = { id, provider: "stripe" as const, occurredAt: created * 1000 };

	const paymentType = PAYMENT_INTENT_EVENTS[type];
	if (paymentType) {
		const intent = object as StripePaymentIntent;
		return {
			...base,
			type: paymentType,
			providerPaymentId: field(intent, "id", "string"),
			orderId: orderIdOf(intent),
			// What actually arrived is what the order is checked against.
			amount: field(intent, paymentType === "payment.succeeded" ? "amount_received" : "amount", "number"),
			currency: field(intent, "currency", "string").toUpperCase(),
		};
	}

	if (type === "refund.created" || type === "refund.updated" || type === "refund.failed") {
		const refund = object as StripeRefund;
		const refundType: PaymentEventType | null =
			type === "refund.failed" || refund.status === "failed" || refund.status === "canceled"
				? "refund.failed"
				: refund.status === "succeeded"
					? "refund.succeeded"
					: null;
		const paymentIntent = typeof refund.payment_intent === "string" ? refund.payment_intent : refund.payment_intent?.id;
		// Pending refunds are reported when they settle; refunds of charges made without a PaymentIntent are not ours.
		if (!refundType || !paymentIntent) return null;
		return {
			...base,
			type: refundType,
			providerPaymentId: paymentIntent,
			orderId: orderIdOf(refund),
			amount: field(refund, "amount", "number"),
			currency: field(refund, "currency", "string").toUpperCase(),
			refundId: field(refund, "id", "string"),
		};
	}
	return null;
}

const PAYMENT_INTENT_EVENTS: Record<string, PaymentEventType | undefined> = {
	"payment_intent.succeeded": "payment.succeeded",
	"payment_intent.payment_failed": "payment.failed",
	"payment_intent.canceled": "payment.canceled",
};

/**
 * A fresh PaymentIntent waits for the shopper (`requires_payment_method`,
 * `requires_confirmation`, `requires_action`); one created with a replayed
 * Idempotency-Key reports the status it had when first created.
 */
function createdStatus(intent: StripePaymentIntent): CreatedPayment["status"] {
	switch (intent.status) {
		case "succeeded":
			return "succeeded";
		case "processing":
		case "requires_capture":
			return "processing";
		case "canceled":
			throw new PaymentProviderError(`Stripe PaymentIntent ${intent.id} is canceled`, "rejected", undefined, "payment_intent_canceled");
		default:
			return "requires_action";
	}
}

/** Stripe refund statuses: pending, requires_action, succeeded, failed, canceled. */
function refundStatus(status: string | null): RefundResult["status"] {
	if (status === "succeeded") return "succeeded";
	if (status === "failed" || status === "canceled") return "failed";
	return "pending";
}

/**
 * Which failures are worth retrying. 409 is a concurrent request with the
 * same Idempotency-Key still in flight; 401/403 mean our key is wrong or
 * lacks a permission, which is an outage for the shop, not the shopper's fault.
 * Stripe may say outright that a retry will work (`Stripe-Should-Retry: true`).
 */
function errorKind(status: number, shouldRetry: string | null): PaymentProviderErrorKind {
	if (shouldRetry === "true") return "unavailable";
	if (status >= 500 || status === 429 || status === 409 || status === 401 || status === 403) return "unavailable";
	return "rejected";
}

/** Stripe masks keys in its messages; this makes sure of it. */
function redact(message: string, secretKey: string): string {
	return message.replaceAll(secretKey, "[redacted]").replace(/\b(sk|rk)_(live|test)_[0-9A-Za-z]+/g, "$1_$2_[redacted]");
}

/**
 * Form encoding with nested keys in brackets, encoded like stripe-node's
 * `stringifyRequestData`: brackets left readable, undefined values left out.
 */
export function formEncode(params: Record<string, FormValue>): string {
	const pairs: string[] = [];
	const add = (key: string, value: FormValue) => {
		if (value === undefined) return;
		if (typeof value === "object") {
			for (const [child, childValue] of Object.entries(value)) add(`${key}[${child}]`, childValue);
			return;
		}
		pairs.push(`${encodeFormComponent(key)}=${encodeFormComponent(String(value))}`);
	};
	for (const [key, value] of Object.entries(params)) add(key, value);
	return pairs.join("&");
}

function encodeFormComponent(text: string): string {
	return encodeURIComponent(text)
		.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
		.replaceAll("%5B", "[")
		.replaceAll("%5D", "]");
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
	try {
		const value: unknown = JSON.parse(text);
		return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
	} catch {
		return undefined;
	}
}

function orderIdOf(object: { metadata: Record<string, string> | null }): string | null {
	const orderId = object.metadata?.order_id;
	return typeof orderId === "string" && orderId !== "" ? orderId : null;
}

function field<T extends "string" | "number">(object: object, key: string, type: T): T extends "string" ? string : number {
	const value = (object as Record<string, unknown>)[key];
	const ok = type === "string" ? typeof value === "string" && value !== "" : Number.isSafeInteger(value);
	if (!ok) throw new WebhookPayloadError(`Stripe event field ${key} is not a ${type === "number" ? "whole number" : "non-empty string"}`);
	return value as T extends "string" ? string : number;
}
