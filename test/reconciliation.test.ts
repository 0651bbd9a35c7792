import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { and, desc, eq } from "drizzle-orm";
import Stripe from "stripe";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Database } from "../workers/db/client.ts";
import { deadLetters, orderEvents, orders, paymentReconciliationRuns, processedEvents } from "../workers/db/schema.ts";
import { type ReconcileOptions, type ReconciliationRunView, reconcilePayments } from "../workers/orders/reconciliation.ts";
import { type PaymentEvent, type PaymentProvider, PaymentProviderError, type SucceededPaymentsPage } from "../workers/payments/provider.ts";
import { createStripeProvider } from "../workers/payments/stripe.ts";
import { postgresTestLedger } from "../workers/payments/test-ledger.ts";
import { createTestProvider } from "../workers/payments/test-provider.ts";
import type { Envelope } from "../workers/queues/envelope.ts";
import { consumeQueueBatch } from "../workers/queues/index.ts";
import { authed, makeAdmin, registerShopper } from "./accounts-helpers.ts";
import { call, withDb } from "./helpers.ts";
import { available, Bus, checkoutOk, confirm, guestCart, newSku, stock } from "./orders-helpers.ts";

const DOWN = { DATABASE_URL: "postgres://nobody@127.0.0.1:9/none" };
const MINUTE = 60_000;

/**
 * A shop with a test-provider account of its own: payment ids are HMACs
 * under the secret, so reconciliation in this test sees only this shop's
 * payments, never those other test files leave in the shared ledger.
 */
class Shop extends Bus {
	readonly secret = `whsec_recon_${crypto.randomUUID().replaceAll("-", "")}`;

	override get env(): Partial<Env> {
		return { ...super.env, TEST_PAYMENT_WEBHOOK_SECRET: this.secret };
	}

	/** The test provider of this account, keeping its payments in `db`. */
	provider(db: Database) {
		return createTestProvider({ webhookSecret: this.secret, ledger: postgresTestLedger(db.primary) });
	}

	reconcile(options: ReconcileOptions = {}): Promise<ReconciliationRunView | null> {
		return withDb((db) => reconcilePayments({ ...env, ...this.env } as Env, db, options));
	}
}

/** Delivers bodies to a queue's consumer as the platform would on their `attempts`-th try. */
async function deliverAttempt(
	shop: Shop,
	queue: string,
	bodies: readonly { id: string; body: unknown }[],
	attempts: number,
	overrides = {},
) {
	const batch = createMessageBatch(
		queue,
		bodies.map(({ id, body }) => ({ id, timestamp: new Date(), attempts, body })),
	);
	// The plugin's record leaves out a whole-batch retry's delay; kept here.
	let batchDelaySeconds: number | undefined;
	const retryAll = batch.retryAll.bind(batch);
	batch.retryAll = (options) => {
		batchDelaySeconds = options?.delaySeconds;
		retryAll(options);
	};
	const ctx = createExecutionContext();
	await consumeQueueBatch(batch, { ...env, ...shop.env, ...overrides } as Env, ctx);
	return { ...(await getQueueResult(batch, ctx)), batchDelaySeconds };
}

async function placeOrder(shop: Shop, units: number, onHand: number) {
	const { sku } = await newSku(1800);
	await stock(sku, onHand);
	const placed = await checkoutOk(shop, await guestCart([[sku, units]]));
	if (!placed.payment) throw new Error("checkout made no payment");
	return { sku, orderId: placed.order.id, paymentId: placed.payment.id, total: placed.order.total };
}

/** What the order's history and our event record say happened, and the SKU's stock. */
async function effects(orderId: string, eventId: string, sku: string) {
	return withDb(async (db) => {
		const [order] = await db.primary.select({ status: orders.status }).from(orders).where(eq(orders.id, orderId));
		const pays = await db.primary
			.select()
			.from(orderEvents)
			.where(and(eq(orderEvents.orderId, orderId), eq(orderEvents.type, "pay")));
		const processed = await db.primary
			.select()
			.from(processedEvents)
			.where(and(eq(processedEvents.source, "payment:test"), eq(processedEvents.eventId, eventId)));
		const { available: free, onHand, reserved } = await available(sku);
		return { status: order?.status, pays: pays.length, processed: processed.length, stock: { available: free, onHand, reserved } };
	});
}

function confirmations(shop: Shop, orderId: string): number {
	return shop.notifications.sent.filter((s) => s.body.type === "order.confirmation" && s.body.data.order_id === orderId).length;
}

afterEach(() => {
	vi.restoreAllMocks();
});

describe("the dead-letter path never drops (I4)", () => {
	it("a batch Postgres refuses is retried, never acked, with a delay that grows to an hour and an alert line of counts without bodies", async () => {
		const shop = new Shop();
		const logged = vi.spyOn(console, "log");
		const body = {
			id: "evt_dlq_private",
			type: "order.confirmation",
			occurred_at: new Date().toISOString(),
			data: { email: "ana@private.test" },
		};
		const letters = [
			{ id: `dl-${crypto.randomUUID()}`, body },
			{ id: `dl-${crypto.randomUUID()}`, body },
		];
		const first = await deliverAttempt(shop, "notifications-dlq", letters, 1, DOWN);
		expect(first.ackAll).toBe(false);
		expect(first.explicitAcks).toEqual([]);
		expect(first.retryBatch.retry).toBe(true);
		expect(first.batchDelaySeconds).toBeGreaterThanOrEqual(15);
		expect(first.batchDelaySeconds).toBeLessThanOrEqual(30);
		// Deep into an outage the delay is capped at an hour, so 100 retries span days, not minutes.
		const late = await deliverAttempt(shop, "notifications-dlq", letters, 60, DOWN);
		expect(late.batchDelaySeconds).toBeGreaterThanOrEqual(1800);
		expect(late.batchDelaySeconds).toBeLessThanOrEqual(3600);

		const alerts = logged.mock.calls.map(([line]) => String(line)).filter((line) => line.includes("dead_letter_store_failed"));
		expect(alerts).toHaveLength(2);
		for (const line of alerts) {
			expect(line).not.toContain("ana@private.test");
			expect(line).not.toContain("evt_dlq_private");
		}
		expect(JSON.parse(alerts[0] as string)).toMatchObject({
			level: "error",
			msg: "dead_letter_store_failed",
			queue: "notifications-dlq",
			count: 2,
			stored: 0,
			unstored: 2,
		});
		const rows = await withDb((db) =>
			db.primary
				.select()
				.from(deadLetters)
				.where(eq(deadLetters.messageId, letters[0]?.id as string)),
		);
		expect(rows).toEqual([]);
	});

	it("a body Postgres cannot hold does not hold back its batch: every letter is stored and acked, that one as its JSON text", async () => {
		const shop = new Shop();
		const good = { id: `dl-${crypto.randomUUID()}`, body: { id: "evt_ok", type: "order.shipped", data: { order_id: "ord_1" } } };
		// jsonb refuses the NUL character; the queue carried it happily.
		const bad = { id: `dl-${crypto.randomUUID()}`, body: { id: "evt_nul", type: "order.shipped", data: { note: "a\u0000b" } } };
		const result = await deliverAttempt(shop, "orders-dlq", [good, bad], 3);
		expect(result.ackAll || result.explicitAcks.length === 2).toBe(true);
		expect(result.retryBatch.retry).toBe(false);
		expect(result.retryMessages).toEqual([]);
		const stored = await withDb(async (db) => ({
			good: (await db.primary.select().from(deadLetters).where(eq(deadLetters.messageId, good.id)))[0],
			bad: (await db.primary.select().from(deadLetters).where(eq(deadLetters.messageId, bad.id)))[0],
		}));
		expect(stored.good).toMatchObject({ queue: "orders", body: good.body, attempts: 3 });
		expect(stored.bad).toMatchObject({ queue: "orders", attempts: 3 });
		const text = (stored.bad?.body as { unstorable_body?: string } | undefined)?.unstorable_body;
		if (text === undefined) throw new Error("the refused body was not kept as text");
		expect(JSON.parse(text)).toEqual(bad.body);
	});
});

describe("payment reconciliation (I8: every payment the provider holds is reflected here)", () => {
	it("Postgres refusing for longer than every retry, then back: the next run pays the order once, and a second run changes nothing", async () => {
		const shop = new Shop();
		const logged = vi.spyOn(console, "log");
		const { sku, orderId, paymentId, total } = await placeOrder(shop, 2, 3);
		// The shopper pays: the provider has the money and sends its webhook while our database is unreachable.
		const webhook = await withDb((db) =>
			shop
				.provider(db)
				.settle({ type: "payment.succeeded", providerPaymentId: paymentId, orderId, amount: total.amount, currency: total.currency }),
		);
		const eventId = (JSON.parse(webhook.body) as PaymentEvent).id;
		const accepted = await shop.request(
			"/v1/webhooks/payments/test",
			{ method: "POST", headers: webhook.headers, body: webhook.body },
			DOWN,
		);
		expect(accepted.status).toBe(200);
		const [queued] = shop.orders.take((s) => s.body.type === "payment.event");
		if (!queued) throw new Error("the webhook queued nothing");
		const message = { id: `msg-${crypto.randomUUID()}`, body: queued.body };

		// The orders queue tries its 1 + 5 times, then the dead-letter consumer cannot store it either.
		for (let attempt = 1; attempt <= 6; attempt++) {
			const result = await deliverAttempt(shop, "orders", [message], attempt, DOWN);
			expect(result.retryMessages.map((m) => m.msgId)).toEqual([message.id]);
			expect(result.explicitAcks).toEqual([]);
		}
		for (let attempt = 1; attempt <= 3; attempt++) {
			const result = await deliverAttempt(shop, "orders-dlq", [message], attempt, DOWN);
			expect(result.retryBatch.retry).toBe(true);
			expect(result.ackAll).toBe(false);
		}
		expect(logged.mock.calls.some(([line]) => String(line).includes('"msg":"dead_letter_store_failed"'))).toBe(true);
		// The platform gave up on it: the event is gone, and the order still waits.
		expect(await effects(orderId, eventId, sku)).toMatchObject({ status: "pending_payment", pays: 0, processed: 0 });
		expect(await withDb((db) => db.primary.select().from(deadLetters).where(eq(deadLetters.messageId, message.id)))).toEqual([]);

		const run = await shop.reconcile();
		expect(run).toMatchObject({ provider: "test", status: "succeeded", applied: 1, unmatched: 0, errors: [] });
		expect(run?.checked).toBeGreaterThanOrEqual(1);
		expect(run?.checkpoint).toBe(run?.window.to);
		const after = await effects(orderId, eventId, sku);
		expect(after).toEqual({ status: "paid", pays: 1, processed: 1, stock: { available: 1, onHand: 1, reserved: 0 } });
		expect(confirmations(shop, orderId)).toBe(1);

		const again = await shop.reconcile();
		expect(again).toMatchObject({ status: "succeeded", applied: 0, unmatched: 0, errors: [] });
		// The overlap lists the same payment again; it is recognised as applied.
		expect(again?.checked).toBeGreaterThanOrEqual(1);
		expect(Date.parse(again?.window.from as string)).toBeLessThan(Date.parse(run?.window.to as string));
		expect(await effects(orderId, eventId, sku)).toEqual(after);
		expect(confirmations(shop, orderId)).toBe(1);
	});

	it("a payment seen by both the webhook and reconciliation is applied once, whichever comes first and when they race", async () => {
		const shop = new Shop();
		const settled = async (units: number) => {
			const order = await placeOrder(shop, units, 5);
			expect((await confirm(shop, order.paymentId, "succeeded")).status).toBe(202);
			const [queued] = shop.orders.take((s) => s.body.type === "payment.event" && s.body.data.orderId === order.orderId);
			if (!queued) throw new Error("confirm queued nothing");
			return { ...order, message: queued.body as Envelope, eventId: String(queued.body.data.id) };
		};
		const webhookFirst = await settled(1);
		const reconciledFirst = await settled(2);

		expect((await shop.deliver([webhookFirst.message])).explicitAcks).toHaveLength(1);
		const run = await shop.reconcile();
		// Only the payment whose webhook has not applied yet is new to us.
		expect(run).toMatchObject({ status: "succeeded", applied: 1, errors: [] });
		expect(run?.checked).toBeGreaterThanOrEqual(2);
		expect((await shop.deliver([reconciledFirst.message])).explicitAcks).toHaveLength(1);

		const racing = await settled(3);
		const [raced] = await Promise.all([shop.deliver([racing.message]), shop.reconcile()]);
		expect(raced.explicitAcks).toHaveLength(1);

		for (const { orderId, eventId, sku, units } of [
			{ ...webhookFirst, units: 1 },
			{ ...reconciledFirst, units: 2 },
			{ ...racing, units: 3 },
		]) {
			expect(await effects(orderId, eventId, sku)).toEqual({
				status: "paid",
				pays: 1,
				processed: 1,
				stock: { available: 5 - units, onHand: 5 - units, reserved: 0 },
			});
			expect(confirmations(shop, orderId)).toBe(1);
		}
	});

	it("the test provider lists what it settled under its own secret, newest first and page by page, through the webhook's normaliser", async () => {
		const mine = new Shop();
		const theirs = new Shop();
		const t = Date.now() - 5 * MINUTE;
		const { settledMine, settledTheirs } = await withDb(async (db) => {
			const settle = async (
				shop: Shop,
				orderId: string,
				at: number,
				type: "payment.succeeded" | "payment.failed" = "payment.succeeded",
			) => {
				const provider = shop.provider(db);
				const created = await provider.createPayment({ orderId, amount: 1000, currency: "EUR", email: "ana@example.com" });
				const webhook = await provider.settle(
					{ type, providerPaymentId: created.providerPaymentId, orderId, amount: 1000, currency: "EUR" },
					at,
				);
				return provider.parseWebhook(webhook.body, new Headers(webhook.headers), at);
			};
			return {
				settledMine: [
					await settle(mine, "ord_list_1", t),
					await settle(mine, "ord_list_2", t + 1000),
					await settle(mine, "ord_list_3", t + 2000),
				],
				settledTheirs: [await settle(theirs, "ord_list_4", t + 1500), await settle(mine, "ord_list_5", t + 2500, "payment.failed")],
			};
		});
		const { pages, narrow } = await withDb(async (db) => {
			const provider = mine.provider(db);
			const pages: SucceededPaymentsPage[] = [];
			let cursor: string | undefined;
			do {
				const page = await provider.listSucceededPayments({ since: t, until: t + MINUTE, limit: 2, cursor });
				pages.push(page);
				cursor = page.nextCursor ?? undefined;
			} while (cursor && pages.length < 10);
			return { pages, narrow: await provider.listSucceededPayments({ since: t + 500, until: t + 1500 }) };
		});
		const [one, two, three] = settledMine;
		// Another secret's payment shares the ledger's pages (a page may come out short) but never a listing.
		expect(pages.flatMap((page) => page.events)).toEqual([three, two, one]);
		expect(pages.length).toBeGreaterThanOrEqual(2);
		for (const page of pages) expect(page.events.length).toBeLessThanOrEqual(2);
		expect(pages.at(-1)?.nextCursor).toBeNull();
		expect(narrow.events).toEqual([two]);
		const listed = pages.flatMap((page) => page.events).map((e) => e.id);
		for (const other of settledTheirs) expect(listed).not.toContain(other?.id);
	});

	it("with Stripe: the window starts at the checkpoint less the overlap, which no failure moves past, and a payment no order matches is left alone", async () => {
		const shop = new Shop();
		const stripeEnv = { PAYMENT_PROVIDER: "stripe", STRIPE_SECRET_KEY: SECRET_KEY, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } as Partial<Env>;
		const reconcile = (provider: PaymentProvider, nowMs: number) =>
			withDb((db) => reconcilePayments({ ...env, ...shop.env, ...stripeEnv } as Env, db, { provider, nowMs }));
		const previous = await withDb(async (db) => {
			const [last] = await db.primary
				.select({ checkpoint: paymentReconciliationRuns.checkpoint })
				.from(paymentReconciliationRuns)
				.where(eq(paymentReconciliationRuns.provider, "stripe"))
				.orderBy(desc(paymentReconciliationRuns.id))
				.limit(1);
			return last?.checkpoint?.getTime();
		});
		const t0 = Math.max(Date.now(), (previous ?? 0) + 10 * MINUTE);
		const notOurs = stripeEventJson("evt_recon_not_ours", intentJson({ metadata: { order_id: "ord_not_a_real_order" } }), t0 - MINUTE);

		const ok = fakeFetch(() => json({ object: "list", url: "/v1/events", has_more: false, data: [notOurs] }));
		const first = await reconcile(stripeProvider(ok.fetch), t0);
		expect(first).toMatchObject({ provider: "stripe", status: "succeeded", checked: 1, applied: 0, unmatched: 1, errors: [] });
		const firstFrom = previous === undefined ? t0 - 3 * 24 * 60 * MINUTE : previous - 10 * MINUTE;
		expect(Date.parse(first?.window.from as string)).toBe(firstFrom);
		expect(new URL(ok.requests[0]?.url as string).searchParams.get("created[gte]")).toBe(String(Math.floor(firstFrom / 1000)));
		expect(first?.checkpoint).toBe(new Date(t0).toISOString());

		const down = fakeFetch(() => json({ error: { type: "api_error", message: "Something went wrong on Stripe's end." } }, 503));
		const failed = await reconcile(stripeProvider(down.fetch), t0 + MINUTE);
		expect(failed).toMatchObject({ status: "failed", checked: 0, applied: 0 });
		expect(failed?.errors).toEqual([{ event_id: null, code: "provider_unavailable", message: expect.stringContaining("503") }]);
		expect(failed?.window.from).toBe(new Date(t0 - 10 * MINUTE).toISOString());
		expect(failed?.checkpoint).toBe(new Date(t0).toISOString());

		// A payment that cannot be applied (here: an amount no order could have) holds the checkpoint at its time.
		const broken: PaymentEvent = {
			id: "evt_recon_broken",
			type: "payment.succeeded",
			provider: "stripe",
			providerPaymentId: "pi_recon_broken",
			orderId: null,
			amount: 12.5,
			currency: "EUR",
			occurredAt: t0 + 30_000,
		};
		const stub: PaymentProvider = {
			...stripeProvider(ok.fetch),
			listSucceededPayments: async (query) => {
				expect(query.since).toBe(t0 - 10 * MINUTE);
				return { events: [broken], nextCursor: null };
			},
		};
		const stuck = await reconcile(stub, t0 + 2 * MINUTE);
		expect(stuck).toMatchObject({ status: "failed", checked: 1, applied: 0 });
		expect(stuck?.errors.map((e) => [e.event_id, e.code])).toEqual([["evt_recon_broken", "ZodError"]]);
		expect(stuck?.checkpoint).toBe(new Date(t0 + 30_000).toISOString());

		const empty = fakeFetch(() => json({ object: "list", url: "/v1/events", has_more: false, data: [] }));
		const next = await reconcile(stripeProvider(empty.fetch), t0 + 3 * MINUTE);
		expect(next).toMatchObject({ status: "succeeded", checked: 0 });
		expect(next?.window.from).toBe(new Date(t0 + 30_000 - 10 * MINUTE).toISOString());
		expect(next?.checkpoint).toBe(new Date(t0 + 3 * MINUTE).toISOString());
	});
});

const WEBHOOK_SECRET = "whsec_6Qe2x0Q8rWm1nH3kT9pL4vZ7cB5dF2gJ";
const SECRET_KEY = "sk_test_51PzQ4rLkJ8hG2fD6sA0mN3bV7cX9zQ1wE5rT8yU2iO4pA6sD";

type IntentJson = Pick<
	Stripe.PaymentIntent,
	"id" | "object" | "amount" | "amount_received" | "currency" | "status" | "metadata" | "created"
>;
type EventJson = Pick<Stripe.Event, "id" | "object" | "api_version" | "created" | "livemode" | "pending_webhooks" | "request" | "type"> & {
	data: { object: object };
};

function intentJson(overrides: Partial<IntentJson> = {}): IntentJson {
	return {
		id: "pi_3QKx7sLkJ8hG2fD61a2b3c4d",
		object: "payment_intent",
		amount: 4990,
		amount_received: 4990,
		currency: "eur",
		status: "succeeded",
		metadata: { order_id: "ord_8k2m4n6p8r0t2v4x6z8a" },
		created: 1_793_613_000,
		...overrides,
	};
}

/** A `payment_intent.succeeded` Event object as Stripe's Events list and its webhooks carry it. */
function stripeEventJson(id: string, object: IntentJson, createdMs: number): EventJson {
	return {
		id,
		object: "event",
		api_version: "2026-10-28.endive",
		created: Math.floor(createdMs / 1000),
		data: { object },
		livemode: false,
		pending_webhooks: 0,
		request: { id: "req_Zt5yU7iO9pA1sD", idempotency_key: null },
		type: "payment_intent.succeeded",
	};
}

interface RecordedRequest {
	url: string;
	method: string;
	headers: Record<string, string>;
	body: string;
}

/** A fetch that records each request as it would go on the wire and answers with `respond`. */
function fakeFetch(respond: (request: RecordedRequest) => Response | Promise<Response>) {
	const requests: RecordedRequest[] = [];
	const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
		const request = new Request(input, init);
		const body = new TextDecoder().decode(await request.arrayBuffer());
		const recorded = { url: request.url, method: request.method, headers: Object.fromEntries(request.headers), body };
		requests.push(recorded);
		return await respond(recorded);
	};
	return { requests, fetch: fetch as typeof globalThis.fetch };
}

const json = (body: unknown, status = 200) =>
	new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const stripeProvider = (fetch: typeof globalThis.fetch) =>
	createStripeProvider({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET, fetch });

describe("Stripe's Events list, on the wire", () => {
	const since = Date.UTC(2026, 10, 1, 9, 50, 0, 250);
	const until = Date.UTC(2026, 10, 2, 10, 0, 0, 750);

	it("asks GET /v1/events for succeeded PaymentIntents of the window, pages with starting_after while has_more, and reads each event as its webhook", async () => {
		const newest = stripeEventJson("evt_3QKx7sLkJ8hG2fD61newest", intentJson({ id: "pi_newest" }), until - 1000);
		const middle = stripeEventJson("evt_3QKx7sLkJ8hG2fD61middle", intentJson({ id: "pi_middle", amount_received: 1200 }), until - 2000);
		const oldest = stripeEventJson("evt_3QKx7sLkJ8hG2fD61oldest", intentJson({ id: "pi_oldest", metadata: {} }), since + 1000);
		const api = fakeFetch((request) =>
			new URL(request.url).searchParams.has("starting_after")
				? json({ object: "list", url: "/v1/events", has_more: false, data: [oldest] })
				: json({ object: "list", url: "/v1/events", has_more: true, data: [newest, middle] }),
		);
		const provider = stripeProvider(api.fetch);
		const first = await provider.listSucceededPayments({ since, until, limit: 2 });
		const second = await provider.listSucceededPayments({ since, until, limit: 2, cursor: first.nextCursor ?? undefined });

		expect(api.requests).toHaveLength(2);
		const [one, two] = api.requests as [RecordedRequest, RecordedRequest];
		const gte = Math.floor(since / 1000);
		const lte = Math.ceil(until / 1000);
		expect(one.method).toBe("GET");
		expect(one.url).toBe(`https://api.stripe.com/v1/events?type=payment_intent.succeeded&created[gte]=${gte}&created[lte]=${lte}&limit=2`);
		expect(two.url).toBe(`${one.url}&starting_after=evt_3QKx7sLkJ8hG2fD61middle`);
		for (const request of [one, two]) {
			expect(request.headers).toMatchObject({ authorization: `Bearer ${SECRET_KEY}`, "stripe-version": "2026-10-28.endive" });
			// A read: no body, no form type, no idempotency key.
			expect(request.headers["content-type"]).toBeUndefined();
			expect(request.headers["idempotency-key"]).toBeUndefined();
			expect(request.body).toBe("");
		}
		expect(first.nextCursor).toBe("evt_3QKx7sLkJ8hG2fD61middle");
		expect(second.nextCursor).toBeNull();

		// Each listed event is exactly what the same event would give as a signed webhook.
		const viaWebhook = async (event: EventJson) => {
			const body = JSON.stringify(event, null, 2);
			const timestamp = Math.floor(Date.now() / 1000);
			const header = await Stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret: WEBHOOK_SECRET, timestamp });
			return provider.parseWebhook(body, new Headers({ "stripe-signature": header }));
		};
		expect([...first.events, ...second.events]).toEqual([await viaWebhook(newest), await viaWebhook(middle), await viaWebhook(oldest)]);
		expect(first.events[1]).toMatchObject({ type: "payment.succeeded", providerPaymentId: "pi_middle", amount: 1200, currency: "EUR" });
		expect(second.events[0]?.orderId).toBeNull();
	});

	it("treats a refused key, a 5xx and a body that is not a list as the provider being unavailable, without the key in the message", async () => {
		for (const response of [
			() => json({ error: { type: "invalid_request_error", message: `Invalid API Key provided: ${SECRET_KEY}` } }, 401),
			() => json({ error: { type: "api_error", message: "Something went wrong" } }, 500),
			() => json({ object: "event", id: "evt_1" }),
		]) {
			const api = fakeFetch(response);
			const err = await stripeProvider(api.fetch)
				.listSucceededPayments({ since, until })
				.then(
					() => undefined,
					(e: unknown) => e,
				);
			expect(err).toBeInstanceOf(PaymentProviderError);
			expect((err as PaymentProviderError).kind).toBe("unavailable");
			expect((err as PaymentProviderError).message).not.toContain(SECRET_KEY);
			expect(new URL(api.requests[0]?.url as string).searchParams.get("limit")).toBe("100");
		}
	});
});

describe("GET /v1/admin/payments/reconciliation", () => {
	it("lists runs newest first, a page at a time, to admins only", async () => {
		const shop = new Shop();
		const idle: PaymentProvider = {
			...createTestProvider({ webhookSecret: shop.secret }),
			listSucceededPayments: async () => ({ events: [], nextCursor: null }),
		};
		const older = await shop.reconcile({ provider: idle });
		const newer = await shop.reconcile({ provider: idle });
		if (!older || !newer) throw new Error("a run was skipped");

		expect((await call("/v1/admin/payments/reconciliation")).status).toBe(401);
		const customer = await registerShopper();
		expect((await call("/v1/admin/payments/reconciliation", authed(customer.access_token))).status).toBe(403);

		const admin = await makeAdmin(await registerShopper());
		const res = await call("/v1/admin/payments/reconciliation?limit=100", authed(admin.access_token));
		expect(res.status).toBe(200);
		expect(res.headers.get("cache-control")).toContain("no-store");
		const page = (await res.json()) as { data: ReconciliationRunView[]; next_cursor: number | null };
		const ids = page.data.map((run) => run.id);
		expect(ids).toEqual([...ids].sort((a, b) => b - a));
		expect(ids.indexOf(newer.id)).toBeLessThan(ids.indexOf(older.id));
		expect(page.data.find((run) => run.id === newer.id)).toEqual(newer);

		const firstPage = (await (await call("/v1/admin/payments/reconciliation?limit=1", authed(admin.access_token))).json()) as {
			data: ReconciliationRunView[];
			next_cursor: number;
		};
		expect(firstPage.data).toHaveLength(1);
		const nextPage = (await (
			await call(`/v1/admin/payments/reconciliation?limit=1&cursor=${firstPage.next_cursor}`, authed(admin.access_token))
		).json()) as { data: ReconciliationRunView[] };
		expect(nextPage.data[0]?.id).toBeLessThan(firstPage.data[0]?.id as number);
		expect((await call("/v1/admin/payments/reconciliation?limit=0", authed(admin.access_token))).status).toBe(400);
	});

	it("is described in the OpenAPI document with its run schema", async () => {
		const doc = (await (await call("/openapi.json")).json()) as {
			paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>;
			components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
		};
		const operation = doc.paths["/v1/admin/payments/reconciliation"]?.get;
		expect(Object.keys(operation?.responses ?? {}).sort()).toEqual(["200", "400", "401", "403", "500", "503"]);
		expect(operation?.security).toEqual([{ adminBearerAuth: [] }]);
		expect(Object.keys(doc.components.schemas.ReconciliationRun?.properties ?? {}).sort()).toEqual(
			["applied", "checked", "checkpoint", "errors", "finished_at", "id", "provider", "started_at", "status", "unmatched", "window"].sort(),
		);
		expect(doc.components.schemas.ReconciliationRunError).toBeDefined();
	});
});
