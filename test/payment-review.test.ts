import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { notifications, orderEvents } from "../workers/db/schema.ts";
import { releaseAll } from "../workers/inventory/reservations.ts";
import { consumeQueueBatch } from "../workers/queues/index.ts";
import { makeAdmin, registerShopper } from "./accounts-helpers.ts";
import { problemOf, withDb } from "./helpers.ts";
import { available, Bus, type CheckoutAnswer, checkoutOk, guestCart, headersFor, newSku, orderStatus, stock } from "./orders-helpers.ts";

/** The test provider's confirm step with a payment of another amount or currency than the order's. */
function pay(bus: Bus, paymentId: string, overrides: { amount?: number; currency?: string } = {}) {
	return bus.request(`/v1/payments/test/${paymentId}/confirm`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ outcome: "succeeded", ...overrides }),
	});
}

async function placed(bus: Bus, units: number, onHand: number) {
	const { sku } = await newSku(2500);
	await stock(sku, onHand);
	const answer = await checkoutOk(bus, await guestCart([[sku, units]]));
	return { sku, order: answer, paymentId: answer.payment?.id as string };
}

function adminPost(bus: Bus, token: string, path: string, body?: unknown) {
	return bus.request(path, {
		method: "POST",
		headers: headersFor({ bearer: token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
		body: body === undefined ? undefined : JSON.stringify(body),
	});
}

async function notifyAdmins(bus: Bus): Promise<void> {
	const sent = bus.notifications.take((s) => s.body.type === "order.payment_review");
	expect(sent).toHaveLength(1);
	const batch = createMessageBatch(
		"notifications",
		sent.map((s, i) => ({ id: `n${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body: s.body })),
	);
	const ctx = createExecutionContext();
	await consumeQueueBatch(batch, { ...env, ...bus.env } as Env, ctx);
	expect((await getQueueResult(batch, ctx)).retryMessages).toEqual([]);
}

describe("verified payments (I8)", () => {
	it("a payment 1 minor unit short puts the order under review: nothing committed, admins told; an admin accepts it and the stock is sold", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { sku, order, paymentId } = await placed(bus, 2, 5);
		const total = order.order.total.amount;

		expect((await pay(bus, paymentId, { amount: total - 1 })).status).toBe(202);
		await bus.pump();
		expect(await orderStatus(order.order.id)).toEqual(["place:pending_payment", "review:payment_review"]);
		// Nothing committed: the units are still only held, on hand unchanged, no confirmation.
		expect(await available(sku)).toMatchObject({ onHand: 5, reserved: 2 });
		expect(bus.notifications.types()).not.toContain("order.confirmation");
		const review = bus.notifications.sent.find((s) => s.body.type === "order.payment_review");
		expect(review?.body.data).toMatchObject({
			order_id: order.order.id,
			expected: { amount: total, currency: "EUR" },
			received: { amount: total - 1, currency: "EUR" },
			mismatch: ["amount"],
		});
		await notifyAdmins(bus);
		const mails = await withDb((db) =>
			db.primary
				.select({ to: notifications.recipient, kind: notifications.kind })
				.from(notifications)
				.where(and(eq(notifications.kind, "payment_review"), eq(notifications.recipient, admin.user.email))),
		);
		expect(mails).toHaveLength(1);

		// The same event again changes nothing; the shopper cannot cancel an order under review.
		expect((await pay(bus, paymentId, { amount: total - 1 })).status).toBe(202);
		await bus.pump();
		expect(await orderStatus(order.order.id)).toEqual(["place:pending_payment", "review:payment_review"]);
		const cancel = await bus.request(`/v1/orders/${order.order.id}/cancel`, {
			method: "POST",
			headers: headersFor({ orderToken: order.order_token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
		});
		expect(cancel.status).toBe(409);

		const customer = await registerShopper();
		expect((await adminPost(bus, customer.access_token, `/v1/admin/orders/${order.order.id}/accept-payment`)).status).toBe(403);
		const accepted = await adminPost(bus, admin.access_token, `/v1/admin/orders/${order.order.id}/accept-payment`);
		expect(accepted.status).toBe(200);
		expect(((await accepted.json()) as CheckoutAnswer["order"]).status).toBe("paid");
		expect(await available(sku)).toMatchObject({ onHand: 3, reserved: 0 });
		expect(await orderStatus(order.order.id)).toEqual(["place:pending_payment", "review:payment_review", "accept:paid"]);
		expect(bus.notifications.types()).toContain("order.confirmation");
		const again = await adminPost(bus, admin.access_token, `/v1/admin/orders/${order.order.id}/accept-payment`);
		expect(again.status).toBe(409);
		expect((await problemOf(again)).code).toBe("invalid_transition");
	});

	it("a payment in another currency goes to review; an admin refunds exactly what arrived and nothing is sold", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { sku, order, paymentId } = await placed(bus, 1, 3);
		const total = order.order.total.amount;
		await pay(bus, paymentId, { currency: "USD" });
		await bus.pump();
		expect(await orderStatus(order.order.id)).toEqual(["place:pending_payment", "review:payment_review"]);

		const refunded = await adminPost(bus, admin.access_token, `/v1/admin/orders/${order.order.id}/refund`, { reason: "wrong currency" });
		expect(refunded.status).toBe(200);
		const view = (await refunded.json()) as CheckoutAnswer["order"];
		expect(view.status).toBe("refunded");
		expect(view.payment?.refunded.amount).toBe(total);
		expect(await available(sku)).toMatchObject({ onHand: 3 });
		const refund = bus.notifications.sent.find((s) => s.body.type === "order.refunded");
		expect(refund?.body.data).toMatchObject({ amount: { amount: total, currency: "USD" } });
		const events = await withDb((db) =>
			db.primary.select({ type: orderEvents.type }).from(orderEvents).where(eq(orderEvents.orderId, order.order.id)),
		);
		expect(events.map((e) => e.type)).toEqual(["place", "review", "refund"]);
	});

	it("accepting a reviewed payment whose stock sold out meanwhile is a 409 and leaves the order under review", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { sku, order, paymentId } = await placed(bus, 1, 1);
		await pay(bus, paymentId, { amount: order.order.total.amount + 100 });
		await bus.pump();
		// The hold is given back (as its expiry would) and another shopper buys the unit.
		await releaseAll(env, order.order.id, [{ sku, quantity: 1 }]);
		const other = await checkoutOk(bus, await guestCart([[sku, 1]]));
		expect(other.order.status).toBe("pending_payment");

		const refused = await adminPost(bus, admin.access_token, `/v1/admin/orders/${order.order.id}/accept-payment`);
		expect(refused.status).toBe(409);
		expect((await problemOf(refused)).code).toBe("out_of_stock");
		expect(await orderStatus(order.order.id)).toEqual(["place:pending_payment", "review:payment_review"]);
		expect(await available(sku)).toMatchObject({ onHand: 1, reserved: 1, available: 0 });
	});
});
