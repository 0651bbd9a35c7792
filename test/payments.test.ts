import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { isTestProvider, paymentProvider } from "../workers/payments/index.ts";
import {
	PaymentConfigurationError,
	type PaymentEvent,
	PaymentProviderError,
	WebhookPayloadError,
	WebhookSignatureError,
	type WebhookSignatureFailure,
} from "../workers/payments/provider.ts";
import { signPayload } from "../workers/payments/signature.ts";
import { createStripeProvider } from "../workers/payments/stripe.ts";
import { createTestProvider } from "../workers/payments/test-provider.ts";

const WEBHOOK_SECRET = "whsec_6Qe2x0Q8rWm1nH3kT9pL4vZ7cB5dF2gJ";
const SECRET_KEY = "sk_test_51PzQ4rLkJ8hG2fD6sA0mN3bV7cX9zQ1wE5rT8yU2iO4pA6sD";
/** A fixed signing time (2026-11-02T10:00:00Z); verification is told "now" relative to it. */
const T = 1_793_613_600;
const NOW = T * 1000;

/*
 * Stripe JSON as the API documents it, typed against the stripe package's own
 * definitions so a misspelt or mistyped field fails the typecheck.
 */
type IntentJson = Pick<
	Stripe.PaymentIntent,
	| "id"
	| "object"
	| "amount"
	| "amount_received"
	| "currency"
	| "status"
	| "client_secret"
	| "metadata"
	| "created"
	| "livemode"
	| "description"
>;
type RefundJson = Pick<
	Stripe.Refund,
	"id" | "object" | "amount" | "currency" | "status" | "payment_intent" | "charge" | "metadata" | "created" | "reason"
>;
type EventJson = Pick<Stripe.Event, "id" | "object" | "api_version" | "created" | "livemode" | "pending_webhooks" | "request" | "type"> & {
	data: { object: object };
};

function intent(overrides: Partial<IntentJson> = {}): IntentJson {
	return {
		id: "pi_3QKx7sLkJ8hG2fD61a2b3c4d",
		object: "payment_intent",
		amount: 4990,
		amount_received: 0,
		currency: "eur",
		status: "requires_payment_method",
		client_secret: "pi_3QKx7sLkJ8hG2fD61a2b3c4d_secret_Vn8sK2pQ4rT6yU8iO0pA2sD4f",
		metadata: { order_id: "ord_8k2m4n6p8r0t2v4x6z8a" },
		created: T - 60,
		livemode: false,
		description: "Order ord_8k2m4n6p8r0t2v4x6z8a",
		...overrides,
	};
}

function refund(overrides: Partial<RefundJson> = {}): RefundJson {
	return {
		id: "re_3QKx7sLkJ8hG2fD61h7j9k0m",
		object: "refund",
		amount: 1500,
		currency: "eur",
		status: "succeeded",
		payment_intent: "pi_3QKx7sLkJ8hG2fD61a2b3c4d",
		charge: "ch_3QKx7sLkJ8hG2fD61q2w3e4r",
		metadata: {},
		created: T - 30,
		reason: "requested_by_customer",
		...overrides,
	};
}

function stripeEvent(type: Stripe.Event.Type, object: object, id = "evt_3QKx7sLkJ8hG2fD61z9y8x7w"): string {
	const event: EventJson = {
		id,
		object: "event",
		api_version: "2026-10-28.endive",
		created: T - 2,
		data: { object },
		livemode: false,
		pending_webhooks: 1,
		request: { id: "req_Zt5yU7iO9pA1sD", idempotency_key: "ord_8k2m4n6p8r0t2v4x6z8a" },
		type,
	};
	// Stripe sends pretty-printed JSON; whitespace is part of what is signed.
	return JSON.stringify(event, null, 2);
}

/** The Stripe-Signature header exactly as the official stripe package computes it. */
async function stripeHeader(body: string, options: { secret?: string; timestamp?: number } = {}): Promise<string> {
	return await Stripe.webhooks.generateTestHeaderStringAsync({
		payload: body,
		secret: options.secret ?? WEBHOOK_SECRET,
		timestamp: options.timestamp ?? T,
	});
}

const stripeProvider = (overrides: Partial<Parameters<typeof createStripeProvider>[0]> = {}) =>
	createStripeProvider({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET, ...overrides });

async function expectSignatureFailure(promise: Promise<unknown>, reason: WebhookSignatureFailure) {
	const err = await promise.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(err).toBeInstanceOf(WebhookSignatureError);
	expect((err as WebhookSignatureError).reason).toBe(reason);
}

describe("Stripe webhook signatures", () => {
	const body = stripeEvent("payment_intent.succeeded", intent({ status: "succeeded", amount_received: 4990 }));

	it("produces the same header as the stripe package for the same payload, secret and time", async () => {
		expect(await signPayload(body, WEBHOOK_SECRET, T)).toBe(await stripeHeader(body));
	});

	it("signs headers the stripe package's own verifier accepts", async () => {
		const header = await signPayload(body, WEBHOOK_SECRET, T);
		const event = await Stripe.webhooks.constructEventAsync(body, header, WEBHOOK_SECRET, 300, undefined, NOW);
		expect(event.id).toBe("evt_3QKx7sLkJ8hG2fD61z9y8x7w");
	});

	it("accepts an event signed by the stripe package and maps it", async () => {
		const headers = new Headers({ "stripe-signature": await stripeHeader(body) });
		expect(await stripeProvider().parseWebhook(body, headers, NOW + 10_000)).toEqual({
			id: "evt_3QKx7sLkJ8hG2fD61z9y8x7w",
			type: "payment.succeeded",
			provider: "stripe",
			providerPaymentId: "pi_3QKx7sLkJ8hG2fD61a2b3c4d",
			orderId: "ord_8k2m4n6p8r0t2v4x6z8a",
			amount: 4990,
			currency: "EUR",
			occurredAt: (T - 2) * 1000,
		} satisfies PaymentEvent);
	});

	it("refuses a body changed after signing", async () => {
		const headers = new Headers({ "stripe-signature": await stripeHeader(body) });
		const tampered = body.replace('"amount_received": 4990', '"amount_received": 4991');
		expect(tampered).not.toBe(body);
		await expectSignatureFailure(stripeProvider().parseWebhook(tampered, headers, NOW), "mismatch");
	});

	it("refuses a signature made with another endpoint's secret", async () => {
		const headers = new Headers({ "stripe-signature": await stripeHeader(body, { secret: "whsec_another_endpoint_secret_0000" }) });
		await expectSignatureFailure(stripeProvider().parseWebhook(body, headers, NOW), "mismatch");
	});

	it("keys the HMAC with the whole whsec_ string, as Stripe does", async () => {
		const withoutPrefix = WEBHOOK_SECRET.slice("whsec_".length);
		const headers = new Headers({ "stripe-signature": await stripeHeader(body, { secret: withoutPrefix }) });
		await expectSignatureFailure(stripeProvider().parseWebhook(body, headers, NOW), "mismatch");
	});

	it("refuses a request without the Stripe-Signature header", async () => {
		await expectSignatureFailure(stripeProvider().parseWebhook(body, new Headers(), NOW), "missing");
		await expectSignatureFailure(stripeProvider().parseWebhook(body, new Headers({ "stripe-signature": "" }), NOW), "missing");
	});

	it("refuses malformed headers", async () => {
		const valid = await stripeHeader(body);
		const v1 = valid.split(",v1=")[1] as string;
		for (const header of [
			"garbage",
			`v1=${v1}`,
			`t=${T}`,
			`t=soon,v1=${v1}`,
			`t=${T}.5,v1=${v1}`,
			`t=${T},t=${T + 1},v1=${v1}`,
			`t=${T},v0=${v1}`,
		]) {
			await expectSignatureFailure(stripeProvider().parseWebhook(body, new Headers({ "stripe-signature": header }), NOW), "malformed");
		}
	});

	it("refuses a timestamp more than 300 s old, and accepts one exactly 300 s old", async () => {
		const headers = new Headers({ "stripe-signature": await stripeHeader(body) });
		await expectSignatureFailure(stripeProvider().parseWebhook(body, headers, NOW + 301_000), "timestamp");
		expect(await stripeProvider().parseWebhook(body, headers, NOW + 300_000)).not.toBeNull();
	});

	it("refuses a timestamp more than 300 s in the future, and accepts one exactly 300 s ahead", async () => {
		const headers = new Headers({ "stripe-signature": await stripeHeader(body) });
		await expectSignatureFailure(stripeProvider().parseWebhook(body, headers, NOW - 301_000), "timestamp");
		expect(await stripeProvider().parseWebhook(body, headers, NOW - 300_000)).not.toBeNull();
	});

	it("accepts a header with several v1 signatures when one matches (secret roll-over)", async () => {
		const v1 = (await stripeHeader(body)).split(",v1=")[1] as string;
		const old = (await stripeHeader(body, { secret: "whsec_previous_secret_being_rolled" })).split(",v1=")[1] as string;
		for (const header of [`t=${T},v1=${old},v1=${v1}`, `t=${T},v1=${v1},v1=${old},v0=${old}`]) {
			const event = await stripeProvider().parseWebhook(body, new Headers({ "stripe-signature": header }), NOW);
			expect(event?.type).toBe("payment.succeeded");
		}
		await expectSignatureFailure(
			stripeProvider().parseWebhook(body, new Headers({ "stripe-signature": `t=${T},v1=${old},v1=${old.toUpperCase()}` }), NOW),
			"mismatch",
		);
	});

	it("does not let a valid signature carry a different timestamp", async () => {
		const v1 = (await stripeHeader(body)).split(",v1=")[1] as string;
		const headers = new Headers({ "stripe-signature": `t=${T + 100},v1=${v1}` });
		await expectSignatureFailure(stripeProvider().parseWebhook(body, headers, NOW), "mismatch");
	});
});

describe("Stripe webhook events", () => {
	async function parse(body: string) {
		return await stripeProvider().parseWebhook(body, new Headers({ "stripe-signature": await stripeHeader(body) }), NOW);
	}

	it("maps failed and canceled PaymentIntents with the amount asked for", async () => {
		const failed = await parse(stripeEvent("payment_intent.payment_failed", intent({ status: "requires_payment_method" })));
		expect(failed).toMatchObject({ type: "payment.failed", amount: 4990, orderId: "ord_8k2m4n6p8r0t2v4x6z8a" });
		const canceled = await parse(stripeEvent("payment_intent.canceled", intent({ status: "canceled", currency: "usd" })));
		expect(canceled).toMatchObject({ type: "payment.canceled", amount: 4990, currency: "USD" });
	});

	it("reports what was received on success, and a null order id when the metadata lacks one", async () => {
		const event = await parse(
			stripeEvent("payment_intent.succeeded", intent({ status: "succeeded", amount_received: 4000, metadata: {} })),
		);
		expect(event).toMatchObject({ type: "payment.succeeded", amount: 4000, orderId: null });
	});

	it("maps refunds by their status, with the refund id, and waits on pending ones", async () => {
		const created = await parse(stripeEvent("refund.created", refund({ metadata: { order_id: "ord_8k2m4n6p8r0t2v4x6z8a" } }), "evt_r1"));
		expect(created).toEqual({
			id: "evt_r1",
			type: "refund.succeeded",
			provider: "stripe",
			providerPaymentId: "pi_3QKx7sLkJ8hG2fD61a2b3c4d",
			orderId: "ord_8k2m4n6p8r0t2v4x6z8a",
			amount: 1500,
			currency: "EUR",
			occurredAt: (T - 2) * 1000,
			refundId: "re_3QKx7sLkJ8hG2fD61h7j9k0m",
		} satisfies PaymentEvent);
		expect(await parse(stripeEvent("refund.created", refund({ status: "pending" })))).toBeNull();
		expect(await parse(stripeEvent("refund.updated", refund({ status: "succeeded" })))).toMatchObject({
			type: "refund.succeeded",
			orderId: null,
		});
		expect(await parse(stripeEvent("refund.updated", refund({ status: "failed" })))).toMatchObject({ type: "refund.failed" });
		expect(await parse(stripeEvent("refund.updated", refund({ status: "canceled" })))).toMatchObject({ type: "refund.failed" });
		expect(await parse(stripeEvent("refund.failed", refund({ status: "failed" })))).toMatchObject({ type: "refund.failed", amount: 1500 });
		expect(await parse(stripeEvent("refund.created", refund({ payment_intent: null })))).toBeNull();
	});

	it("ignores event types it does not handle, charge.refunded included", async () => {
		expect(await parse(stripeEvent("customer.created", { id: "cus_R5tY7uI9oP1aS3", object: "customer" }))).toBeNull();
		expect(await parse(stripeEvent("payment_intent.created", intent()))).toBeNull();
		expect(
			await parse(
				stripeEvent("charge.refunded", {
					id: "ch_1",
					object: "charge",
					amount_refunded: 1500,
					payment_intent: "pi_3QKx7sLkJ8hG2fD61a2b3c4d",
				}),
			),
		).toBeNull();
	});

	it("reports an authentic body it cannot read as WebhookPayloadError", async () => {
		await expect(parse("not json")).rejects.toBeInstanceOf(WebhookPayloadError);
		await expect(parse(stripeEvent("payment_intent.succeeded", { ...intent(), amount_received: "4990" }))).rejects.toBeInstanceOf(
			WebhookPayloadError,
		);
		await expect(parse(JSON.stringify({ id: "evt_1", type: "payment_intent.succeeded", created: T }))).rejects.toBeInstanceOf(
			WebhookPayloadError,
		);
	});
});

interface RecordedRequest {
	url: string;
	method: string;
	headers: Record<string, string>;
	body: string;
}

/** A fetch that records each request as it would go on the wire and answers with `respond`. */
function fakeFetch(respond: (request: RecordedRequest, init: RequestInit | undefined) => Response | Promise<Response>) {
	const requests: RecordedRequest[] = [];
	const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
		const request = new Request(input, init);
		// Decoded by hand: workerd warns when .text() is called on a form-encoded body.
		const body = new TextDecoder().decode(await request.arrayBuffer());
		const recorded = { url: request.url, method: request.method, headers: Object.fromEntries(request.headers), body };
		requests.push(recorded);
		return await respond(recorded, init);
	};
	return { requests, fetch: fetch as typeof globalThis.fetch };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
	new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

const order = {
	orderId: "ord_8k2m4n6p8r0t2v4x6z8a",
	amount: 4990,
	currency: "EUR",
	email: "ana@shop.test",
	description: "Order ord_8k2m4n6p8r0t2v4x6z8a",
};

async function failureOf(promise: Promise<unknown>): Promise<PaymentProviderError> {
	const err = await promise.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(err).toBeInstanceOf(PaymentProviderError);
	return err as PaymentProviderError;
}

describe("Stripe API adapter", () => {
	it("creates a PaymentIntent with the exact wire format Stripe expects", async () => {
		const api = fakeFetch(() => json(intent()));
		const created = await stripeProvider({ fetch: api.fetch }).createPayment(order);

		expect(api.requests).toHaveLength(1);
		const [request] = api.requests as [RecordedRequest];
		expect(request.url).toBe("https://api.stripe.com/v1/payment_intents");
		expect(request.method).toBe("POST");
		expect(request.headers).toMatchObject({
			authorization: `Bearer ${SECRET_KEY}`,
			"content-type": "application/x-www-form-urlencoded",
			"idempotency-key": "ord_8k2m4n6p8r0t2v4x6z8a",
			"stripe-version": "2026-10-28.endive",
		});
		expect(request.body).toBe(
			"amount=4990&currency=eur&automatic_payment_methods[enabled]=true&description=Order%20ord_8k2m4n6p8r0t2v4x6z8a&metadata[order_id]=ord_8k2m4n6p8r0t2v4x6z8a",
		);
		expect(created).toEqual({
			provider: "stripe",
			providerPaymentId: "pi_3QKx7sLkJ8hG2fD61a2b3c4d",
			status: "requires_action",
			clientSecret: "pi_3QKx7sLkJ8hG2fD61a2b3c4d_secret_Vn8sK2pQ4rT6yU8iO0pA2sD4f",
		});
	});

	it("encodes reserved characters so Stripe decodes the same text", async () => {
		const api = fakeFetch(() => json(intent()));
		const description = "Order #12 (gift) & 50% off: ü/€ a+b=c 'quoted' *star*";
		await stripeProvider({ fetch: api.fetch, apiBase: "https://stripe.internal:12111" }).createPayment({ ...order, description });
		const [request] = api.requests as [RecordedRequest];
		expect(request.url).toBe("https://stripe.internal:12111/v1/payment_intents");
		expect(new URLSearchParams(request.body).get("description")).toBe(description);
		expect(request.body).toContain(
			"&description=Order%20%2312%20%28gift%29%20%26%2050%25%20off%3A%20%C3%BC%2F%E2%82%AC%20a%2Bb%3Dc%20%27quoted%27%20%2Astar%2A&",
		);
	});

	it("sends receipt_email only when Stripe receipts are turned on", async () => {
		const api = fakeFetch(() => json(intent()));
		await stripeProvider({ fetch: api.fetch }).createPayment(order);
		await stripeProvider({ fetch: api.fetch, sendStripeReceipts: true }).createPayment(order);
		expect(new URLSearchParams(api.requests[0]?.body).has("receipt_email")).toBe(false);
		expect(new URLSearchParams(api.requests[1]?.body).get("receipt_email")).toBe("ana@shop.test");
	});

	it("reports the status a PaymentIntent was created in", async () => {
		for (const [status, expected] of [
			["requires_payment_method", "requires_action"],
			["requires_action", "requires_action"],
			["processing", "processing"],
			["succeeded", "succeeded"],
		] as const) {
			const api = fakeFetch(() => json(intent({ status })));
			expect((await stripeProvider({ fetch: api.fetch }).createPayment(order)).status).toBe(expected);
		}
	});

	it("refunds through POST /v1/refunds with the caller's idempotency key", async () => {
		const api = fakeFetch(() => json(refund()));
		const result = await stripeProvider({ fetch: api.fetch }).refund(
			"pi_3QKx7sLkJ8hG2fD61a2b3c4d",
			1500,
			"refund:ord_8k2m4n6p8r0t2v4x6z8a",
			"ord_8k2m4n6p8r0t2v4x6z8a",
		);
		const [request] = api.requests as [RecordedRequest];
		expect(request.url).toBe("https://api.stripe.com/v1/refunds");
		expect(request.method).toBe("POST");
		expect(request.headers).toMatchObject({
			authorization: `Bearer ${SECRET_KEY}`,
			"content-type": "application/x-www-form-urlencoded",
			"idempotency-key": "refund:ord_8k2m4n6p8r0t2v4x6z8a",
			"stripe-version": "2026-10-28.endive",
		});
		expect(request.body).toBe("payment_intent=pi_3QKx7sLkJ8hG2fD61a2b3c4d&amount=1500&metadata[order_id]=ord_8k2m4n6p8r0t2v4x6z8a");
		expect(result).toEqual({ refundId: "re_3QKx7sLkJ8hG2fD61h7j9k0m", status: "succeeded" });

		const pending = fakeFetch(() => json(refund({ status: "pending" })));
		expect(await stripeProvider({ fetch: pending.fetch }).refund("pi_1", 100, "k")).toEqual({
			refundId: "re_3QKx7sLkJ8hG2fD61h7j9k0m",
			status: "pending",
		});
		expect(pending.requests[0]?.body).toBe("payment_intent=pi_1&amount=100");
	});

	it("maps a card decline to a rejected error with Stripe's code and message", async () => {
		const api = fakeFetch(() =>
			json(
				{
					error: {
						type: "card_error",
						code: "card_declined",
						decline_code: "generic_decline",
						message: "Your card was declined.",
						doc_url: "https://docs.stripe.com/error-codes/card-declined",
					},
				},
				402,
			),
		);
		const err = await failureOf(stripeProvider({ fetch: api.fetch }).createPayment(order));
		expect(err).toMatchObject({ kind: "rejected", status: 402, code: "card_declined" });
		expect(err.message).toContain("Your card was declined.");
	});

	it("maps an invalid request to rejected, falling back to the error type when there is no code", async () => {
		const api = fakeFetch(() => json({ error: { type: "invalid_request_error", message: "Invalid currency: xxx" } }, 400));
		expect(await failureOf(stripeProvider({ fetch: api.fetch }).createPayment(order))).toMatchObject({
			kind: "rejected",
			status: 400,
			code: "invalid_request_error",
		});
	});

	it("maps 5xx, 429 and 409 to unavailable", async () => {
		const cases = [
			[500, { error: { type: "api_error", message: "An unknown error occurred" } }, "api_error"],
			[503, { error: { type: "api_error", message: "Service unavailable" } }, "api_error"],
			[
				429,
				{ error: { type: "invalid_request_error", code: "rate_limit", message: "Too many requests hit the API too quickly." } },
				"rate_limit",
			],
			[
				409,
				{ error: { type: "idempotency_error", message: "There is currently another in-progress request using this Idempotent Key" } },
				"idempotency_error",
			],
		] as const;
		for (const [status, body, code] of cases) {
			const api = fakeFetch(() => json(body, status));
			expect(await failureOf(stripeProvider({ fetch: api.fetch }).refund("pi_1", 100, "k"))).toMatchObject({
				kind: "unavailable",
				status,
				code,
			});
		}
		const html = fakeFetch(() => new Response("<html>Bad gateway</html>", { status: 502 }));
		expect(await failureOf(stripeProvider({ fetch: html.fetch }).createPayment(order))).toMatchObject({ kind: "unavailable", status: 502 });
	});

	it("treats Stripe-Should-Retry: true as unavailable even on a 400", async () => {
		const api = fakeFetch(() =>
			json({ error: { type: "api_error", code: "lock_timeout", message: "..." } }, 400, { "stripe-should-retry": "true" }),
		);
		expect(await failureOf(stripeProvider({ fetch: api.fetch }).createPayment(order))).toMatchObject({
			kind: "unavailable",
			code: "lock_timeout",
		});
	});

	it("treats a refused API key as an outage and never puts the key in the message", async () => {
		const api = fakeFetch(() =>
			json({ error: { type: "invalid_request_error", code: "api_key_expired", message: `Expired API Key provided: ${SECRET_KEY}` } }, 401),
		);
		const err = await failureOf(stripeProvider({ fetch: api.fetch }).createPayment(order));
		expect(err).toMatchObject({ kind: "unavailable", status: 401, code: "api_key_expired" });
		expect(err.message).toContain("Expired API Key provided");
		expect(err.message).not.toContain(SECRET_KEY);
		expect(err.message).not.toContain(SECRET_KEY.slice(8));
	});

	it("maps a network failure to unavailable", async () => {
		const api = fakeFetch(() => {
			throw new TypeError("Network connection lost.");
		});
		const err = await failureOf(stripeProvider({ fetch: api.fetch }).createPayment(order));
		expect(err).toMatchObject({ kind: "unavailable", status: undefined, code: "network_error" });
		expect(err.message).not.toContain(SECRET_KEY);
	});

	it("gives up after timeoutMs and reports unavailable", async () => {
		const api = fakeFetch(
			(_request, init) =>
				new Promise<Response>((_resolve, reject) => {
					init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
				}),
		);
		const started = Date.now();
		const err = await failureOf(stripeProvider({ fetch: api.fetch, timeoutMs: 50 }).createPayment(order));
		expect(err).toMatchObject({ kind: "unavailable", code: "timeout" });
		expect(Date.now() - started).toBeLessThan(5_000);
	});

	it("refuses amounts and currencies Stripe would refuse without calling it", async () => {
		const api = fakeFetch(() => json(intent()));
		const provider = stripeProvider({ fetch: api.fetch });
		for (const input of [
			{ ...order, amount: 0 },
			{ ...order, amount: 49.9 },
			{ ...order, currency: "eur" },
		]) {
			expect(await failureOf(provider.createPayment(input))).toMatchObject({ kind: "rejected" });
		}
		expect(await failureOf(provider.refund("pi_1", -5, "k"))).toMatchObject({ kind: "rejected", code: "invalid_amount" });
		expect(api.requests).toHaveLength(0);
	});

	it("refuses keys that are not secret keys or signing secrets", () => {
		expect(() => createStripeProvider({ secretKey: "pk_test_123", webhookSecret: WEBHOOK_SECRET })).toThrow(PaymentConfigurationError);
		expect(() => createStripeProvider({ secretKey: SECRET_KEY, webhookSecret: "not-a-secret" })).toThrow(PaymentConfigurationError);
	});
});

describe("test provider", () => {
	const provider = createTestProvider({ webhookSecret: "whsec_development_only" });
	const settle = {
		type: "payment.succeeded",
		providerPaymentId: "tpi_x",
		orderId: "ord_8k2m4n6p8r0t2v4x6z8a",
		amount: 4990,
		currency: "EUR",
	} as const;

	it("creates a payment waiting for the shopper, with the same id for a retried order", async () => {
		const first = await provider.createPayment(order);
		expect(first).toMatchObject({ provider: "test", status: "requires_action" });
		expect(first.providerPaymentId).toMatch(/^tpi_[0-9a-z]{20}$/);
		expect(first.clientSecret).toMatch(new RegExp(`^${first.providerPaymentId}_secret_[0-9a-z]{20}$`));
		expect(await provider.createPayment(order)).toEqual(first);
		expect((await provider.createPayment({ ...order, orderId: "ord_other" })).providerPaymentId).not.toBe(first.providerPaymentId);
		const elsewhere = createTestProvider({ webhookSecret: "whsec_another_deployment" });
		expect((await elsewhere.createPayment(order)).providerPaymentId).not.toBe(first.providerPaymentId);
	});

	it("builds webhooks its own parseWebhook accepts", async () => {
		const payment = await provider.createPayment(order);
		const webhook = await provider.buildWebhook({ ...settle, providerPaymentId: payment.providerPaymentId }, NOW);
		expect(webhook.headers["content-type"]).toBe("application/json");
		expect(webhook.headers["test-signature"]).toMatch(new RegExp(`^t=${T},v1=[0-9a-f]{64}$`));
		const event = await provider.parseWebhook(webhook.body, new Headers(webhook.headers), NOW + 1000);
		expect(event).toEqual({
			id: expect.stringMatching(/^tevt_/),
			type: "payment.succeeded",
			provider: "test",
			providerPaymentId: payment.providerPaymentId,
			orderId: "ord_8k2m4n6p8r0t2v4x6z8a",
			amount: 4990,
			currency: "EUR",
			occurredAt: NOW,
		} satisfies PaymentEvent);
		// The header is what a fetch would send: it survives a round trip through Request.
		const request = new Request("https://api.test/v1/payments/webhooks/test", {
			method: "POST",
			body: webhook.body,
			headers: webhook.headers,
		});
		expect(await provider.parseWebhook(await request.text(), request.headers, NOW)).toEqual(event);
	});

	it("refuses a tampered, expired, foreign or Stripe-named webhook", async () => {
		const webhook = await provider.buildWebhook(settle, NOW);
		const headers = new Headers(webhook.headers);
		await expectSignatureFailure(provider.parseWebhook(webhook.body.replace('"amount":4990', '"amount":1'), headers, NOW), "mismatch");
		await expectSignatureFailure(provider.parseWebhook(webhook.body, headers, NOW + 301_000), "timestamp");
		const foreign = createTestProvider({ webhookSecret: "whsec_another_deployment" });
		await expectSignatureFailure(foreign.parseWebhook(webhook.body, headers, NOW), "mismatch");
		const asStripe = new Headers({ "stripe-signature": webhook.headers["test-signature"] as string });
		await expectSignatureFailure(provider.parseWebhook(webhook.body, asStripe, NOW), "missing");
	});

	it("gives every event a fresh id unless one is passed, which is kept", async () => {
		const a = await provider.buildWebhook(settle, NOW);
		const b = await provider.buildWebhook(settle, NOW);
		const idOf = (body: string) => (JSON.parse(body) as PaymentEvent).id;
		expect(idOf(a.body)).not.toBe(idOf(b.body));
		const again = await provider.buildWebhook({ ...settle, id: "tevt_redelivered" }, NOW + 5000);
		expect((await provider.parseWebhook(again.body, new Headers(again.headers), NOW + 5000))?.id).toBe("tevt_redelivered");
	});

	it("carries refund ids and refuses to sign events parseWebhook could not read", async () => {
		const refunded = await provider.buildWebhook({ ...settle, type: "refund.succeeded", refundId: "tre_1" }, NOW);
		expect(await provider.parseWebhook(refunded.body, new Headers(refunded.headers), NOW)).toMatchObject({
			type: "refund.succeeded",
			refundId: "tre_1",
		});
		await expect(provider.buildWebhook({ ...settle, currency: "eur" }, NOW)).rejects.toBeInstanceOf(WebhookPayloadError);
		await expect(provider.buildWebhook({ ...settle, amount: 1.5 }, NOW)).rejects.toBeInstanceOf(WebhookPayloadError);
	});

	it("returns null for a signed event of a type it does not handle", async () => {
		const body = JSON.stringify({ id: "tevt_1", type: "payment.disputed", provider: "test" });
		const headers = new Headers({ "test-signature": await signPayload(body, "whsec_development_only", T) });
		expect(await provider.parseWebhook(body, headers, NOW)).toBeNull();
	});

	it("refunds once per idempotency key, and only its own payments", async () => {
		const payment = await provider.createPayment(order);
		const first = await provider.refund(payment.providerPaymentId, 4990, "refund:ord_1");
		expect(first).toEqual({ refundId: expect.stringMatching(/^tre_[0-9a-z]{20}$/), status: "succeeded" });
		expect(await provider.refund(payment.providerPaymentId, 4990, "refund:ord_1")).toEqual(first);
		expect((await provider.refund(payment.providerPaymentId, 4990, "refund:ord_2")).refundId).not.toBe(first.refundId);
		expect(await failureOf(provider.refund("pi_3QKx7sLkJ8hG2fD61a2b3c4d", 100, "k"))).toMatchObject({
			kind: "rejected",
			code: "resource_missing",
		});
		expect(await failureOf(provider.refund(payment.providerPaymentId, 0, "k"))).toMatchObject({ kind: "rejected" });
	});
});

describe("provider selection", () => {
	it("builds the provider PAYMENT_PROVIDER names", () => {
		const stripe = paymentProvider({ provider: "stripe", stripeSecretKey: SECRET_KEY, stripeWebhookSecret: WEBHOOK_SECRET });
		expect(stripe.name).toBe("stripe");
		expect(isTestProvider(stripe)).toBe(false);
		const test = paymentProvider({ provider: "test", testWebhookSecret: "whsec_development_only" });
		expect(test.name).toBe("test");
		expect(isTestProvider(test)).toBe(true);
	});

	it("names the missing setting, counting empty secrets as missing", () => {
		expect(() => paymentProvider({ provider: "stripe", stripeSecretKey: "", stripeWebhookSecret: WEBHOOK_SECRET })).toThrow(
			/STRIPE_SECRET_KEY is not set/,
		);
		expect(() => paymentProvider({ provider: "stripe", stripeSecretKey: SECRET_KEY })).toThrow(/STRIPE_WEBHOOK_SECRET is not set/);
		expect(() => paymentProvider({ provider: "test", testWebhookSecret: "" })).toThrow(/TEST_PAYMENT_WEBHOOK_SECRET is not set/);
		expect(() => paymentProvider({ provider: "test" })).toThrow(PaymentConfigurationError);
	});

	it("refuses unknown providers, and the test provider in production", () => {
		expect(() => paymentProvider({ provider: "paypal" })).toThrow(/PAYMENT_PROVIDER must be "stripe" or "test", not "paypal"/);
		expect(() => paymentProvider({ provider: "", testWebhookSecret: "whsec_x" })).toThrow(PaymentConfigurationError);
		expect(() => paymentProvider({ provider: "test", testWebhookSecret: "whsec_x", appEnv: "production" })).toThrow(
			/not allowed in production/,
		);
		expect(paymentProvider({ provider: "test", testWebhookSecret: "whsec_x", appEnv: "staging" }).name).toBe("test");
	});
});
