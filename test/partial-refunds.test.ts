import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { payments, refunds } from "../workers/db/schema.ts";
import { makeAdmin, registerShopper } from "./accounts-helpers.ts";
import { problemOf, withDb } from "./helpers.ts";
import {
	available,
	Bus,
	type CheckoutAnswer,
	checkoutOk,
	confirm,
	guestCart,
	headersFor,
	newSku,
	orderStatus,
	stock,
} from "./orders-helpers.ts";

/** A paid order of two lines: 2 × A at 10.00 and 1 × B at 25.00. */
async function paidOrder(bus: Bus) {
	const a = (await newSku(1000)).sku;
	const b = (await newSku(2500)).sku;
	await stock(a, 5);
	await stock(b, 5);
	const placed = await checkoutOk(
		bus,
		await guestCart([
			[a, 2],
			[b, 1],
		]),
	);
	await confirm(bus, placed.payment?.id as string, "succeeded");
	await bus.pump();
	return { a, b, placed };
}

function refund(bus: Bus, token: string, orderId: string, body: unknown) {
	return bus.request(`/v1/admin/orders/${orderId}/refund`, {
		method: "POST",
		headers: headersFor({ bearer: token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
		body: JSON.stringify(body),
	});
}

async function refundedMinor(orderId: string): Promise<number | undefined> {
	const [row] = await withDb((db) => db.primary.select().from(payments).where(eq(payments.orderId, orderId)));
	return row?.refundedMinor;
}

describe("partial refunds", () => {
	it("refunds one line with restock: its price back, its units on hand again, the order partly refunded, the shopper told the amount", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { a, b, placed } = await paidOrder(bus);
		expect(await available(a)).toMatchObject({ onHand: 3, available: 3 });

		const res = await refund(bus, admin.access_token, placed.order.id, {
			lines: [{ sku: a, quantity: 2 }],
			restock: true,
			reason: "returned",
		});
		expect(res.status).toBe(200);
		const view = (await res.json()) as CheckoutAnswer["order"];
		expect(view.status).toBe("partially_refunded");
		expect(view.payment?.refunded.amount).toBe(2000);
		await bus.pump();
		expect(await available(a)).toMatchObject({ onHand: 5, available: 5 });
		expect(await available(b)).toMatchObject({ onHand: 4 });
		const mail = bus.notifications.sent.find((s) => s.body.type === "order.refunded");
		expect(mail?.body.data).toMatchObject({ order_id: placed.order.id, amount: { amount: 2000, currency: "EUR" } });

		// The same line cannot be refunded again; the rest of the capture can, and then the order is refunded.
		const again = await refund(bus, admin.access_token, placed.order.id, { lines: [{ sku: a, quantity: 1 }] });
		expect(again.status).toBe(409);
		expect((await problemOf(again)).code).toBe("refund_refused");
		const rest = await refund(bus, admin.access_token, placed.order.id, {});
		expect(rest.status).toBe(200);
		expect(((await rest.json()) as CheckoutAnswer["order"]).status).toBe("refunded");
		expect(await refundedMinor(placed.order.id)).toBe(placed.order.total.amount);
		expect(await orderStatus(placed.order.id)).toEqual([
			"place:pending_payment",
			"pay:paid",
			"refund_part:partially_refunded",
			"refund:refunded",
		]);
	});

	it("two concurrent refunds of 60 % each: one succeeds, the other is refused, and no more than the capture goes back", async () => {
		for (let round = 0; round < 3; round++) {
			const bus = new Bus();
			const admin = await makeAdmin(await registerShopper());
			const { placed } = await paidOrder(bus);
			const amount = Math.ceil(placed.order.total.amount * 0.6);
			const answers = await Promise.all([
				refund(bus, admin.access_token, placed.order.id, { amount }),
				refund(bus, admin.access_token, placed.order.id, { amount }),
			]);
			expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
			const loser = answers.find((r) => r.status === 409);
			expect((await problemOf(loser as Response)).code).toBe("refund_refused");
			expect(await refundedMinor(placed.order.id)).toBe(amount);
			const rows = await withDb((db) => db.primary.select().from(refunds).where(eq(refunds.orderId, placed.order.id)));
			expect(rows.map((row) => [row.amountMinor, row.status])).toEqual([[amount, "succeeded"]]);
		}
	});

	it("refuses an amount above the capture, a line the order does not have, and an unpaid order, changing nothing", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { placed } = await paidOrder(bus);
		const over = await refund(bus, admin.access_token, placed.order.id, { amount: placed.order.total.amount + 1 });
		expect(over.status).toBe(409);
		const foreign = await refund(bus, admin.access_token, placed.order.id, { lines: [{ sku: "NO-SUCH-SKU", quantity: 1 }] });
		expect(foreign.status).toBe(409);
		expect(await refundedMinor(placed.order.id)).toBe(0);
		const { sku } = await newSku(1000);
		await stock(sku, 1);
		const unpaid = await checkoutOk(bus, await guestCart([[sku, 1]]));
		const early = await refund(bus, admin.access_token, unpaid.order.id, { amount: 100 });
		expect(early.status).toBe(409);
		expect((await problemOf(early)).code).toBe("invalid_transition");
	});
});
