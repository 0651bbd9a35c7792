import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { orders, payments } from "../workers/db/schema.ts";
import { withDb } from "./helpers.ts";
import { available, Bus, checkoutOk, confirm, guestCart, headersFor, newSku, orderStatus, stock } from "./orders-helpers.ts";

/** The PaymentIntent as the Stripe stand-in (test/global-setup.ts) holds it. */
async function stripeIntent(id: string): Promise<Record<string, unknown>> {
	const res = await fetch(`${env.STRIPE_API_BASE}/v1/payment_intents/${id}`, {
		headers: { authorization: `Bearer ${env.STRIPE_SECRET_KEY}` },
	});
	expect(res.status).toBe(200);
	return (await res.json()) as Record<string, unknown>;
}

async function state(orderId: string) {
	return withDb(async (db) => {
		const [order] = await db.primary.select().from(orders).where(eq(orders.id, orderId));
		const [payment] = await db.primary.select().from(payments).where(eq(payments.orderId, orderId));
		return { status: order?.status, reason: order?.cancelReason, payment: payment?.status, refunded: payment?.refundedMinor };
	});
}

describe("one rule for unwanted money", () => {
	it("a payment that arrives after the customer's own cancel is refunded and the order stays cancelled", async () => {
		const bus = new Bus();
		const { sku } = await newSku(1800);
		await stock(sku, 4);
		const placed = await checkoutOk(bus, await guestCart([[sku, 2]]));
		const cancel = await bus.request(`/v1/orders/${placed.order.id}/cancel`, {
			method: "POST",
			headers: headersFor({ orderToken: placed.order_token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
		});
		expect(cancel.status).toBe(200);
		await confirm(bus, placed.payment?.id as string, "succeeded");
		await bus.pump();
		expect(await state(placed.order.id)).toEqual({
			status: "cancelled",
			reason: "customer",
			payment: "refunded",
			refunded: placed.order.total.amount,
		});
		expect(await orderStatus(placed.order.id)).toEqual(["place:pending_payment", "cancel:cancelled", "refund_unwanted:cancelled"]);
		expect(await available(sku)).toMatchObject({ onHand: 4, reserved: 0, available: 4 });
		// Delivered again, the payment is refunded no second time.
		await confirm(bus, placed.payment?.id as string, "succeeded");
		await bus.pump();
		expect((await state(placed.order.id)).refunded).toBe(placed.order.total.amount);
	});

	it("a customer's cancel racing a late payment: whichever lands first, the order ends cancelled, refunded once, every unit back", async () => {
		for (let round = 0; round < 6; round++) {
			const bus = new Bus();
			const { sku } = await newSku(1800);
			await stock(sku, 3);
			const placed = await checkoutOk(bus, await guestCart([[sku, 1]]));
			const paid = (async () => {
				await confirm(bus, placed.payment?.id as string, "succeeded");
				await bus.pump();
			})();
			const cancelled = bus.request(`/v1/orders/${placed.order.id}/cancel`, {
				method: "POST",
				headers: headersFor({ orderToken: placed.order_token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
			});
			const [, answer] = await Promise.all([paid, cancelled]);
			// Either the unpaid order was cancelled (200), or it was paid first and its cancel refunds it (200);
			// a cancel that met the order mid-payment may be refused (409) and is then sent again.
			if (answer.status === 409) {
				const retry = await bus.request(`/v1/orders/${placed.order.id}/cancel`, {
					method: "POST",
					headers: headersFor({ orderToken: placed.order_token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
				});
				expect(retry.status).toBe(200);
			} else expect(answer.status).toBe(200);
			await bus.pump();
			const after = await state(placed.order.id);
			expect(after).toMatchObject({ status: "cancelled", payment: "refunded", refunded: placed.order.total.amount });
			expect(await available(sku)).toMatchObject({ onHand: 3, reserved: 0, available: 3 });
		}
	});
});

describe("cancelling an unpaid order cancels its provider payment", () => {
	it("a customer's cancel of an unpaid Stripe order cancels its PaymentIntent at Stripe, once", async () => {
		const bus = new Bus({ PAYMENT_PROVIDER: "stripe", STRIPE_WEBHOOK_SECRET: "whsec_cancel_test_0123456789" } as Partial<Env>);
		const { sku } = await newSku(1800);
		await stock(sku, 2);
		const placed = await checkoutOk(bus, await guestCart([[sku, 1]]));
		expect(placed.payment?.provider).toBe("stripe");
		const intentId = placed.payment?.id as string;
		const cancel = await bus.request(`/v1/orders/${placed.order.id}/cancel`, {
			method: "POST",
			headers: headersFor({ orderToken: placed.order_token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
		});
		expect(cancel.status).toBe(200);
		const queued = bus.orders.sent.filter((s) => s.body.type === "payment.cancel");
		expect(queued.map((s) => s.body.data)).toEqual([{ order_id: placed.order.id, provider: "stripe", provider_payment_id: intentId }]);
		await bus.pump();
		const intent = await stripeIntent(intentId);
		expect(intent).toMatchObject({ id: intentId, status: "canceled", cancellation_reason: "abandoned" });
		// Delivered again, Stripe says it is past cancelling: no retry, nothing else happens.
		const again = await bus.deliver(queued.map((s) => s.body));
		expect(again.retryMessages).toEqual([]);
		expect(await available(sku)).toMatchObject({ onHand: 2, reserved: 0 });
	});
});
