import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { eq } from "drizzle-orm";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { deadLetters, orderEvents, orders, outbox, payments } from "../workers/db/schema.ts";
import { relayOutbox } from "../workers/orders/outbox.ts";
import { createTestProvider } from "../workers/payments/test-provider.ts";
import { type Envelope, envelope } from "../workers/queues/envelope.ts";
import { consumeQueueBatch } from "../workers/queues/index.ts";
import { makeAdmin, registerShopper } from "./accounts-helpers.ts";
import { problemOf, withDb } from "./helpers.ts";
import {
	available,
	Bus,
	checkoutOk,
	checkoutRequest,
	confirm,
	guestCart,
	headersFor,
	newSku,
	orderStatus,
	stock,
} from "./orders-helpers.ts";

const provider = () => createTestProvider({ webhookSecret: env.TEST_PAYMENT_WEBHOOK_SECRET });

async function placeOrder(bus: Bus, units = 1, onHand = 10) {
	const { sku } = await newSku(2000);
	await stock(sku, onHand);
	const placed = await checkoutOk(bus, await guestCart([[sku, units]]));
	return { sku, placed, paymentId: placed.payment?.id as string };
}

function webhook(bus: Bus, body: string, headers: Record<string, string>) {
	return bus.request("/v1/webhooks/payments/test", { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}

async function orderRow(orderId: string) {
	const [row] = await withDb((db) => db.primary.select().from(orders).where(eq(orders.id, orderId)));
	return row;
}

describe("payment webhooks", () => {
	it("the same event delivered three times, and a stale failure after it, make one state change", async () => {
		const bus = new Bus();
		const { sku, placed, paymentId } = await placeOrder(bus, 2);
		const base = { providerPaymentId: paymentId, orderId: placed.order.id, amount: placed.order.total.amount, currency: "EUR" };
		const succeeded = await provider().buildWebhook({ ...base, id: "evt_same_1", type: "payment.succeeded" });
		const failed = await provider().buildWebhook({ ...base, id: "evt_late_failure", type: "payment.failed" });
		for (let i = 0; i < 3; i++) expect((await webhook(bus, succeeded.body, succeeded.headers)).status).toBe(200);
		expect((await webhook(bus, failed.body, failed.headers)).status).toBe(200);
		const queued = bus.orders.take((s) => s.body.type === "payment.event").map((s) => s.body);
		expect(queued).toHaveLength(4);
		const [first, second, third, failure] = queued as [Envelope, Envelope, Envelope, Envelope];
		// Out of order and split across batches: a copy, the stale failure, then the other two copies.
		await bus.deliver([second]);
		await bus.deliver([failure, first]);
		await bus.deliver([third]);
		await bus.pump();
		expect((await orderRow(placed.order.id))?.status).toBe("paid");
		expect(await orderStatus(placed.order.id)).toEqual(["place:pending_payment", "pay:paid"]);
		expect(await available(sku)).toMatchObject({ onHand: 8, reserved: 0 });
		expect(bus.notifications.sent.filter((s) => s.body.type === "order.confirmation")).toHaveLength(1);
	});

	it("a tampered, expired, unsigned or foreign-secret webhook is a 400 and changes nothing", async () => {
		const bus = new Bus();
		const { placed, paymentId } = await placeOrder(bus);
		const base = { providerPaymentId: paymentId, orderId: placed.order.id, amount: placed.order.total.amount, currency: "EUR" };
		const good = await provider().buildWebhook({ ...base, type: "payment.succeeded" });
		const tampered = good.body.replace(String(placed.order.total.amount), "1");
		expect(tampered).not.toBe(good.body);
		const old = await provider().buildWebhook({ ...base, type: "payment.succeeded" }, Date.now() - 10 * 60 * 1000);
		const foreign = await createTestProvider({ webhookSecret: "whsec_someone_else" }).buildWebhook({ ...base, type: "payment.succeeded" });
		for (const [body, headers] of [
			[tampered, good.headers],
			[old.body, old.headers],
			[good.body, {}],
			[foreign.body, foreign.headers],
		] as const) {
			const res = await webhook(bus, body, headers);
			expect(res.status).toBe(400);
			expect((await problemOf(res)).code).toBe("invalid_signature");
		}
		expect(bus.orders.sent.filter((s) => s.body.type === "payment.event")).toEqual([]);
		expect((await orderRow(placed.order.id))?.status).toBe("pending_payment");
		// Another provider's path is not ours.
		expect((await bus.request("/v1/webhooks/payments/stripe", { method: "POST", headers: good.headers, body: good.body })).status).toBe(
			404,
		);
	});

	it("webhooks are accepted while Postgres is down and applied once it is back", async () => {
		const bus = new Bus();
		const { placed, paymentId } = await placeOrder(bus);
		const event = await provider().buildWebhook({
			type: "payment.succeeded",
			providerPaymentId: paymentId,
			orderId: placed.order.id,
			amount: placed.order.total.amount,
			currency: "EUR",
		});
		const down = { DATABASE_URL: "postgres://nobody@127.0.0.1:9/none" };
		const res = await bus.request("/v1/webhooks/payments/test", { method: "POST", headers: event.headers, body: event.body }, down);
		expect(res.status).toBe(200);
		// The consumer fails while the database is down (retried with backoff), and applies once it is back.
		const queued = bus.orders.take((s) => s.body.type === "payment.event").map((s) => s.body);
		const failing = await bus.deliver(queued, down);
		expect(failing.retryMessages).toHaveLength(1);
		await bus.deliver(queued);
		expect((await orderRow(placed.order.id))?.status).toBe("paid");
	});

	it("a queue that refuses the event makes the webhook answer 503 so the provider retries", async () => {
		const bus = new Bus();
		const { placed, paymentId } = await placeOrder(bus);
		bus.orders.failing = true;
		const res = await confirm(bus, paymentId, "succeeded");
		expect(res.status).toBe(503);
		expect(res.headers.get("retry-after")).toBeTruthy();
		expect((await orderRow(placed.order.id))?.status).toBe("pending_payment");
	});
});

describe("Stripe webhooks through the route", () => {
	it("a payment_intent.succeeded signed by the official stripe package is verified, queued and pays the order", async () => {
		const bus = new Bus();
		const { placed, sku } = await placeOrder(bus, 1, 3);
		// As if the order had been placed with Stripe: its payment is the PaymentIntent the event reports (I8).
		await withDb((db) =>
			db.primary
				.update(payments)
				.set({ provider: "stripe", providerPaymentId: "pi_route_test_0001" })
				.where(eq(payments.orderId, placed.order.id)),
		);
		const secret = "whsec_route_test_secret_0123456789";
		const stripeEnv = { PAYMENT_PROVIDER: "stripe", STRIPE_SECRET_KEY: "sk_test_route", STRIPE_WEBHOOK_SECRET: secret } as Partial<Env>;
		const now = Math.floor(Date.now() / 1000);
		const body = JSON.stringify(
			{
				id: `evt_${crypto.randomUUID().replaceAll("-", "")}`,
				object: "event",
				api_version: "2026-10-28.endive",
				created: now,
				livemode: false,
				pending_webhooks: 1,
				request: { id: null, idempotency_key: placed.order.id },
				type: "payment_intent.succeeded",
				data: {
					object: {
						id: "pi_route_test_0001",
						object: "payment_intent",
						amount: placed.order.total.amount,
						amount_received: placed.order.total.amount,
						currency: "eur",
						status: "succeeded",
						metadata: { order_id: placed.order.id },
						created: now - 60,
					},
				},
			},
			null,
			2,
		);
		const header = await Stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret, timestamp: now });
		const post = (payload: string, signature: string) =>
			bus.request(
				"/v1/webhooks/payments/stripe",
				{ method: "POST", headers: { "content-type": "application/json", "stripe-signature": signature }, body: payload },
				stripeEnv,
			);
		expect((await post(body.replace('"succeeded"', '"canceled"'), header)).status).toBe(400);
		const res = await post(body, header);
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ received: true, queued: true });
		// The test provider's path refuses the Stripe event, and vice versa: one provider per deployment.
		expect(
			(
				await bus.request(
					"/v1/webhooks/payments/test",
					{ method: "POST", headers: { "content-type": "application/json" }, body },
					stripeEnv,
				)
			).status,
		).toBe(404);
		await bus.deliver(
			bus.orders.take((m) => m.body.type === "payment.event").map((m) => m.body),
			stripeEnv,
		);
		expect((await orderRow(placed.order.id))?.status).toBe("paid");
		expect(await available(sku)).toMatchObject({ onHand: 2, reserved: 0 });
	});
});

describe("the orders consumer", () => {
	it("crashing after the commit but before the ack: the redelivery changes nothing", async () => {
		const bus = new Bus();
		const { sku, placed, paymentId } = await placeOrder(bus, 3);
		await confirm(bus, paymentId, "succeeded");
		const [message] = bus.orders.take((s) => s.body.type === "payment.event");
		if (!message) throw new Error("no payment event");
		// First delivery applies; pretend the ack was lost and deliver the same message again, twice.
		await bus.deliver([message.body]);
		const events = await orderStatus(placed.order.id);
		const level = await available(sku);
		const again = await bus.deliver([message.body, message.body]);
		expect(again.explicitAcks).toHaveLength(2);
		expect(await orderStatus(placed.order.id)).toEqual(events);
		expect(await available(sku)).toEqual(level);
		expect(bus.notifications.sent.filter((s) => s.body.type === "order.confirmation")).toHaveLength(1);
	});

	it("a message that always fails is retried, then dead-lettered, and an admin can replay it", async () => {
		const poison = envelope("payment:test:evt_poison", "payment.event", { id: "evt_poison", type: "payment.succeeded" });
		const batch = createMessageBatch("orders", [{ id: "poison-1", timestamp: new Date(), attempts: 5, body: poison }]);
		const ctx = createExecutionContext();
		await consumeQueueBatch(batch, env, ctx);
		const result = await getQueueResult(batch, ctx);
		expect(result.retryMessages.map((m) => m.msgId)).toEqual(["poison-1"]);
		// After max_retries the platform moves it to orders-dlq, whose consumer stores it for admins.
		const dlq = createMessageBatch("orders-dlq", [{ id: "poison-1", timestamp: new Date(), attempts: 6, body: poison }]);
		const dlqCtx = createExecutionContext();
		await consumeQueueBatch(dlq, env, dlqCtx);
		expect((await getQueueResult(dlq, dlqCtx)).ackAll).toBe(true);
		const [row] = await withDb((db) => db.primary.select().from(deadLetters).where(eq(deadLetters.messageId, "poison-1")));
		expect(row?.queue).toBe("orders");
		const admin = await makeAdmin(await registerShopper());
		const bus = new Bus();
		const replay = await bus.request(`/v1/admin/dead-letters/${row?.id}/replay`, {
			method: "POST",
			headers: headersFor({ bearer: admin.access_token }),
		});
		expect(replay.status).toBeLessThan(300);
		expect(bus.orders.sent.map((s) => s.body.id)).toContain("payment:test:evt_poison");
	});

	it("an unpaid order expires: cancelled once, stock and discount use back, and a late payment revives it while stock lasts", async () => {
		const bus = new Bus();
		const { sku, placed, paymentId } = await placeOrder(bus, 2, 2);
		// The reservation runs out (as the InventoryItem's alarm would decide) …
		await withDb((db) =>
			db.primary
				.update(orders)
				.set({ reservationExpiresAt: new Date(Date.now() - 1000) })
				.where(eq(orders.id, placed.order.id)),
		);
		const check = bus.orders.take((s) => s.body.type === "order.expiry_check");
		expect(check).toHaveLength(1);
		await bus.deliver(check.map((s) => s.body));
		await bus.deliver(check.map((s) => s.body));
		expect((await orderRow(placed.order.id))?.status).toBe("cancelled");
		expect(await orderStatus(placed.order.id)).toEqual(["place:pending_payment", "expire:cancelled"]);
		expect((await available(sku)).available).toBe(2);
		// … and the payment lands afterwards: the stock is still there, so the order is paid after all.
		await confirm(bus, paymentId, "succeeded");
		await bus.pump();
		expect((await orderRow(placed.order.id))?.status).toBe("paid");
		expect(await available(sku)).toMatchObject({ onHand: 0, reserved: 0 });
	});

	it("a payment that lands after the stock was sold to someone else is refunded automatically", async () => {
		const bus = new Bus();
		const { sku, placed, paymentId } = await placeOrder(bus, 1, 1);
		await withDb((db) =>
			db.primary
				.update(orders)
				.set({ reservationExpiresAt: new Date(Date.now() - 1000) })
				.where(eq(orders.id, placed.order.id)),
		);
		await bus.deliver(bus.orders.take((s) => s.body.type === "order.expiry_check").map((s) => s.body));
		// Someone else buys the last unit.
		const other = await checkoutOk(bus, await guestCart([[sku, 1]]));
		expect(other.order.status).toBe("pending_payment");
		await confirm(bus, paymentId, "succeeded");
		await bus.pump();
		const row = await orderRow(placed.order.id);
		expect(row?.status).toBe("refunded");
		const [payment] = await withDb((db) => db.primary.select().from(payments).where(eq(payments.orderId, placed.order.id)));
		expect(payment?.refundedMinor).toBe(placed.order.total.amount);
		expect(bus.notifications.types()).toContain("order.refunded");
		expect(await available(sku)).toMatchObject({ onHand: 1, reserved: 1 });
	});

	it("the scheduled relay publishes outbox rows whose writer died before sending them", async () => {
		const bus = new Bus();
		await withDb((db) =>
			db.primary.insert(outbox).values({
				queue: "notifications",
				body: envelope("relay-test", "order.shipped", { order_id: "ord_x" }) as unknown as Record<string, unknown>,
				createdAt: new Date(Date.now() - 60_000),
			}),
		);
		const sent = await withDb((db) => relayOutbox({ ...env, ...bus.env } as Env, db.primary, { olderThanSeconds: 30 }));
		expect(sent).toBeGreaterThanOrEqual(1);
		expect(bus.notifications.sent.map((s) => s.body.id)).toContain("relay-test");
		const again = await withDb((db) => relayOutbox({ ...env, ...bus.env } as Env, db.primary, { olderThanSeconds: 30 }));
		expect(bus.notifications.sent.filter((s) => s.body.id === "relay-test")).toHaveLength(1);
		expect(again).toBe(0);
	});
});

describe("checkout when things fail (I4)", () => {
	it("Postgres down: 503 with Retry-After, nothing reserved, cart intact", async () => {
		const bus = new Bus();
		const { sku } = await newSku();
		await stock(sku, 3);
		const cart = await guestCart([[sku, 1]]);
		const res = await bus.request(
			"/v1/checkout",
			{
				method: "POST",
				headers: headersFor({ token: cart.token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
				body: JSON.stringify({
					cart_id: cart.id,
					email: "a@example.com",
					shipping_address: { name: "A", line1: "B", city: "C", postal_code: "1", country: "PT" },
				}),
			},
			{ DATABASE_URL: "postgres://nobody@127.0.0.1:9/none" },
		);
		expect(res.status).toBe(503);
		expect(res.headers.get("retry-after")).toBeTruthy();
		expect(await available(sku)).toMatchObject({ available: 3, reserved: 0 });
		const again = await checkoutRequest(bus, cart, `key-${crypto.randomUUID()}`);
		expect(again.status).toBe(201);
	});
});

describe("admin order transitions", () => {
	it("fulfil, ship with tracking (the shopper sees it), illegal transitions 409, refund through the provider", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const shopper = await registerShopper();
		const as = { bearer: admin.access_token };
		const { placed, paymentId } = await placeOrder(bus);
		const post = (path: string, body?: unknown, key = `key-${crypto.randomUUID()}`) =>
			bus.request(path, {
				method: "POST",
				headers: headersFor(as, { "idempotency-key": key }),
				body: body === undefined ? undefined : JSON.stringify(body),
			});

		const early = await post(`/v1/admin/orders/${placed.order.id}/ship`, { tracking_number: "1Z999" });
		expect(early.status).toBe(409);
		expect((await problemOf(early)).code).toBe("invalid_transition");
		expect((await post(`/v1/admin/orders/${placed.order.id}/refund`, {})).status).toBe(409);
		// A shopper is no admin.
		const forbidden = await bus.request(`/v1/admin/orders/${placed.order.id}/fulfil`, {
			method: "POST",
			headers: headersFor({ bearer: shopper.access_token }, { "idempotency-key": "key-forbidden-1" }),
		});
		expect(forbidden.status).toBe(403);

		await confirm(bus, paymentId, "succeeded");
		await bus.pump();
		expect((await post(`/v1/admin/orders/${placed.order.id}/fulfil`)).status).toBe(200);
		const shipped = await post(`/v1/admin/orders/${placed.order.id}/ship`, { tracking_number: "1Z999", carrier: "UPS" });
		expect(shipped.status).toBe(200);
		const guestView = await bus.request(`/v1/orders/${placed.order.id}`, { headers: headersFor({ orderToken: placed.order_token }) });
		expect(((await guestView.json()) as { tracking: unknown }).tracking).toEqual({ carrier: "UPS", number: "1Z999" });
		expect(bus.notifications.types()).toContain("order.shipped");

		const list = await bus.request(`/v1/admin/orders?status=shipped&email=ana%40example.com&limit=100`, { headers: headersFor(as) });
		expect(((await list.json()) as { data: { id: string }[] }).data.map((o) => o.id)).toContain(placed.order.id);

		const refunded = await post(`/v1/admin/orders/${placed.order.id}/refund`, { reason: "damaged" });
		expect(refunded.status).toBe(200);
		expect(((await refunded.json()) as { status: string; payment: { refunded: { amount: number } } }).payment.refunded.amount).toBe(
			placed.order.total.amount,
		);
		expect(await orderStatus(placed.order.id)).toEqual([
			"place:pending_payment",
			"pay:paid",
			"fulfil:fulfilled",
			"ship:shipped",
			"refund:refunded",
		]);
		const events = await withDb((db) => db.primary.select().from(orderEvents).where(eq(orderEvents.orderId, placed.order.id)));
		expect(events.at(-1)?.actor).toBe(admin.user.id);
	});

	it("marks a shipped order delivered, once; not before it ships, and not for a shopper", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const shopper = await registerShopper();
		const { placed, paymentId } = await placeOrder(bus);
		const post = (path: string, body?: unknown, bearer = admin.access_token) =>
			bus.request(path, {
				method: "POST",
				headers: headersFor({ bearer }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
				body: body === undefined ? undefined : JSON.stringify(body),
			});
		const deliver = (bearer?: string) => post(`/v1/admin/orders/${placed.order.id}/deliver`, undefined, bearer);

		await confirm(bus, paymentId, "succeeded");
		await bus.pump();
		expect((await post(`/v1/admin/orders/${placed.order.id}/fulfil`)).status).toBe(200);
		const early = await deliver();
		expect(early.status).toBe(409);
		expect((await problemOf(early)).code).toBe("invalid_transition");
		expect((await post(`/v1/admin/orders/${placed.order.id}/ship`, { tracking_number: "1Z1" })).status).toBe(200);
		expect((await deliver(shopper.access_token)).status).toBe(403);
		const delivered = await deliver();
		expect(delivered.status).toBe(200);
		expect(((await delivered.json()) as { status: string }).status).toBe("delivered");
		expect((await deliver()).status).toBe(409);
		expect(await orderStatus(placed.order.id)).toEqual([
			"place:pending_payment",
			"pay:paid",
			"fulfil:fulfilled",
			"ship:shipped",
			"deliver:delivered",
		]);
		// Still refundable once delivered.
		expect((await post(`/v1/admin/orders/${placed.order.id}/refund`, { reason: "returned" })).status).toBe(200);
	});

	it("a shopper cancels a paid, unfulfilled order: refunded through the provider, units back on hand", async () => {
		const bus = new Bus();
		const { sku, placed, paymentId } = await placeOrder(bus, 2, 5);
		await confirm(bus, paymentId, "succeeded");
		await bus.pump();
		expect(await available(sku)).toMatchObject({ onHand: 3 });
		const res = await bus.request(`/v1/orders/${placed.order.id}/cancel`, {
			method: "POST",
			headers: headersFor({ orderToken: placed.order_token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
		});
		expect(res.status).toBe(200);
		const body = (await res.json()) as { status: string; payment: { status: string } };
		expect(body).toMatchObject({ status: "cancelled", payment: { status: "refunded" } });
		await bus.pump();
		expect(await available(sku)).toMatchObject({ onHand: 5, available: 5 });
		// Fulfilled orders cannot be cancelled any more.
		const second = await placeOrder(bus);
		await confirm(bus, second.paymentId, "succeeded");
		await bus.pump();
		await withDb((db) => db.primary.update(orders).set({ status: "fulfilled" }).where(eq(orders.id, second.placed.order.id)));
		const late = await bus.request(`/v1/orders/${second.placed.order.id}/cancel`, {
			method: "POST",
			headers: headersFor({ orderToken: second.placed.order_token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
		});
		expect(late.status).toBe(409);
	});
});
