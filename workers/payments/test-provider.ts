/**
 * A payment provider for development and tests that behaves like Stripe where
 * the order code can tell: payments start in `requires_action`, a retried
 * create returns the same payment, and outcomes arrive only as signed
 * webhooks. A "confirm" route stands in for the shopper paying: it calls
 * `buildWebhook` and posts the result to the webhook endpoint, which verifies
 * it exactly as it would verify Stripe's.
 *
 * Webhooks are signed with Stripe's scheme (signature.ts) under their own
 * header, `Test-Signature`, so a log or a proxy never mistakes one for a real
 * Stripe delivery. The body is the normalised PaymentEvent as JSON.
 *
 * Like Stripe, it keeps its own record of the payments that succeeded, so
 * reconciliation can ask it: `settle` writes each `payment.succeeded` event
 * to a ledger (test-ledger.ts keeps it in Postgres) before signing it, and
 * `listSucceededPayments` reads them back through the webhook's normaliser.
 * Its account is its webhook secret: payment ids are HMACs under it, so a
 * provider lists only the payments whose ids it derived itself, as a Stripe
 * key lists only its own account's events.
 */
import { newId } from "../domain/ids.ts";
import {
	assertPaymentInput,
	type CreatedPayment,
	type CreatePaymentInput,
	PAYMENT_EVENT_TYPES,
	PaymentConfigurationError,
	type PaymentEvent,
	type PaymentEventType,
	type PaymentProvider,
	PaymentProviderError,
	type RefundResult,
	type SucceededPaymentsPage,
	type SucceededPaymentsQuery,
	WebhookPayloadError,
} from "./provider.ts";
import { signPayload, verifySignature } from "./signature.ts";

export const TEST_SIGNATURE_HEADER = "test-signature";

/** What the confirm route knows about the payment it settles. */
export interface TestWebhookInput {
	/** Pass one to re-send the same event (a redelivery); a fresh id is made otherwise. */
	id?: string;
	type: PaymentEventType;
	providerPaymentId: string;
	orderId: string | null;
	amount: number;
	currency: string;
	refundId?: string;
}

export interface TestWebhook {
	body: string;
	headers: Record<string, string>;
}

/**
 * Where the test provider keeps the payments it confirmed, its stand-in for
 * Stripe's own records. Entries are stored as their webhook bodies' events.
 */
export interface TestPaymentLedger {
	/** Keeps a `payment.succeeded` event; the same event id twice is kept once. */
	record(event: PaymentEvent): Promise<void>;
	/**
	 * Stored events of the window, newest first, `limit` at most, and the
	 * cursor of the next page (the last entry's event id) when more remain.
	 */
	list(query: SucceededPaymentsQuery): Promise<{ entries: unknown[]; nextCursor: string | null }>;
}

export interface TestPaymentProvider extends PaymentProvider {
	readonly name: "test";
	/** A signed webhook delivery for `event`, timestamped `nowMs`. Records nothing: tests forge deliveries with it. */
	buildWebhook(event: TestWebhookInput, nowMs?: number): Promise<TestWebhook>;
	/**
	 * The shopper's payment as the confirm step simulates it: a succeeded
	 * payment is written to the ledger first (the provider has the money
	 * whatever happens to the webhook), then its signed webhook is returned
	 * for delivery. Needs the ledger for `payment.succeeded`.
	 */
	settle(event: TestWebhookInput, nowMs?: number): Promise<TestWebhook>;
}

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const encoder = new TextEncoder();

export interface TestProviderOptions {
	webhookSecret: string;
	/** Needed by `settle` for succeeded payments and by `listSucceededPayments`. */
	ledger?: TestPaymentLedger | undefined;
}

export function createTestProvider({ webhookSecret, ledger }: TestProviderOptions): TestPaymentProvider {
	if (!webhookSecret) throw new PaymentConfigurationError("the test provider needs a webhook secret");
	let key: Promise<CryptoKey> | undefined;

	/**
	 * Ids are an HMAC of what makes them unique, under the webhook secret: the
	 * same order always gets the same payment (Stripe's Idempotency-Key, for
	 * free), yet nobody without the secret can work out a payment id from an
	 * order id and confirm someone else's order.
	 */
	async function derive(prefix: string, purpose: string, value: string): Promise<string> {
		key ??= crypto.subtle.importKey("raw", encoder.encode(webhookSecret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
		const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await key, encoder.encode(`${purpose}\n${value}`)));
		let out = "";
		for (const byte of mac.subarray(0, 20)) out += ALPHABET[byte & 31];
		return `${prefix}_${out}`;
	}

	const paymentIdOf = (orderId: string) => derive("tpi", "payment", orderId);

	function requireLedger(): TestPaymentLedger {
		if (!ledger) throw new PaymentConfigurationError("the test provider keeps and lists payments only with a ledger");
		return ledger;
	}

	function eventOf(input: TestWebhookInput, nowMs: number): PaymentEvent {
		const event: PaymentEvent = {
			id: input.id ?? newId("tevt"),
			type: input.type,
			provider: "test",
			providerPaymentId: input.providerPaymentId,
			orderId: input.orderId,
			amount: input.amount,
			currency: input.currency,
			occurredAt: nowMs,
			...(input.refundId ? { refundId: input.refundId } : {}),
		};
		// Refuse to sign or keep what parseWebhook would refuse to read.
		assertTestEvent(event);
		return event;
	}

	async function sign(event: PaymentEvent, nowMs: number): Promise<TestWebhook> {
		const body = JSON.stringify(event);
		const signature = await signPayload(body, webhookSecret, Math.floor(nowMs / 1000));
		return { body, headers: { "content-type": "application/json", [TEST_SIGNATURE_HEADER]: signature } };
	}

	return {
		name: "test",

		async createPayment(input: CreatePaymentInput): Promise<CreatedPayment> {
			assertPaymentInput(input);
			const providerPaymentId = await paymentIdOf(input.orderId);
			const secret = (await derive("secret", "client_secret", providerPaymentId)).slice("secret_".length);
			return { provider: "test", providerPaymentId, status: "requires_action", clientSecret: `${providerPaymentId}_secret_${secret}` };
		},

		async refund(providerPaymentId: string, amount: number, idempotencyKey: string): Promise<RefundResult> {
			if (!providerPaymentId.startsWith("tpi_")) {
				throw new PaymentProviderError(`no test payment ${providerPaymentId}`, "rejected", 404, "resource_missing");
			}
			if (!Number.isSafeInteger(amount) || amount <= 0) {
				throw new PaymentProviderError("refund amount must be a positive integer in minor units", "rejected", 400, "invalid_amount");
			}
			return { refundId: await derive("tre", "refund", idempotencyKey), status: "succeeded" };
		},

		/** Nothing to stop here: the test provider pays only when its confirm step is sent, which it may still simulate. */
		async cancelPayment(providerPaymentId: string): Promise<"canceled" | "not_cancelable"> {
			if (!providerPaymentId.startsWith("tpi_")) {
				throw new PaymentProviderError(`no test payment ${providerPaymentId}`, "rejected", 404, "resource_missing");
			}
			return "canceled";
		},

		async parseWebhook(rawBody: string, headers: Headers, nowMs?: number): Promise<PaymentEvent | null> {
			await verifySignature(rawBody, headers.get(TEST_SIGNATURE_HEADER), webhookSecret, nowMs === undefined ? {} : { nowMs });
			return readTestEvent(rawBody);
		},

		async buildWebhook(input: TestWebhookInput, nowMs = Date.now()): Promise<TestWebhook> {
			return sign(eventOf(input, nowMs), nowMs);
		},

		async settle(input: TestWebhookInput, nowMs = Date.now()): Promise<TestWebhook> {
			const event = eventOf(input, nowMs);
			if (event.type === "payment.succeeded") await requireLedger().record(event);
			return sign(event, nowMs);
		},

		async listSucceededPayments(query: SucceededPaymentsQuery): Promise<SucceededPaymentsPage> {
			const { entries, nextCursor } = await requireLedger().list(query);
			const events: PaymentEvent[] = [];
			for (const entry of entries) {
				const event = readTestEventObject(entry);
				if (event?.type !== "payment.succeeded" || !event.orderId) continue;
				// Another secret's payments share the table (tests, several dev setups), not this account.
				if ((await paymentIdOf(event.orderId)) !== event.providerPaymentId) continue;
				events.push(event);
			}
			return { events, nextCursor };
		},
	};
}

/** An authentic test webhook body → its event, or null for a type we do not handle. */
function readTestEvent(rawBody: string): PaymentEvent | null {
	let value: unknown;
	try {
		value = JSON.parse(rawBody);
	} catch {
		throw new WebhookPayloadError("test webhook body is not JSON");
	}
	return readTestEventObject(value);
}

/** An event object of this provider (a webhook body's, or a ledger entry) → its event, or null for a type we do not handle. */
function readTestEventObject(value: unknown): PaymentEvent | null {
	if (typeof value !== "object" || value === null) throw new WebhookPayloadError("test webhook body is not an object");
	if (!PAYMENT_EVENT_TYPES.includes((value as { type?: unknown }).type as PaymentEventType)) return null;
	assertTestEvent(value);
	// Rebuilt field by field, so nothing else in the body travels on.
	const { id, type, providerPaymentId, orderId, amount, currency, occurredAt, refundId } = value;
	return { id, type, provider: "test", providerPaymentId, orderId, amount, currency, occurredAt, ...(refundId ? { refundId } : {}) };
}

/** Throws WebhookPayloadError unless `value` has every field of an event from this provider, well-formed. */
function assertTestEvent(value: object): asserts value is PaymentEvent {
	const e = value as Record<string, unknown>;
	const problems: string[] = [];
	if (typeof e.id !== "string" || e.id === "") problems.push("id");
	if (!PAYMENT_EVENT_TYPES.includes(e.type as PaymentEventType)) problems.push("type");
	if (e.provider !== "test") problems.push("provider");
	if (typeof e.providerPaymentId !== "string" || e.providerPaymentId === "") problems.push("providerPaymentId");
	if (e.orderId !== null && (typeof e.orderId !== "string" || e.orderId === "")) problems.push("orderId");
	if (!Number.isSafeInteger(e.amount) || (e.amount as number) < 0) problems.push("amount");
	if (typeof e.currency !== "string" || !/^[A-Z]{3}$/.test(e.currency)) problems.push("currency");
	if (!Number.isSafeInteger(e.occurredAt)) problems.push("occurredAt");
	if (e.refundId !== undefined && (typeof e.refundId !== "string" || e.refundId === "")) problems.push("refundId");
	if (problems.length > 0) throw new WebhookPayloadError(`test webhook event has invalid ${problems.join(", ")}`);
}
