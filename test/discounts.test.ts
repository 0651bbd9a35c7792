import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { orderEvents, orders, promotionRedemptions, promotions } from "../workers/db/schema.ts";
import { registerShopper } from "./accounts-helpers.ts";
import { problemOf, withDb } from "./helpers.ts";
import {
	available,
	Bus,
	type CheckoutAnswer,
	checkoutOk,
	checkoutRequest,
	confirm,
	guestCart,
	guestCarts,
	newPromotion,
	newSku,
	stock,
} from "./orders-helpers.ts";

const newCode = () => `ONCE${crypto.randomUUID().replaceAll("-", "").slice(0, 10).toUpperCase()}`;

async function codeRow(code: string) {
	const [row] = await withDb((db) => db.primary.select().from(promotions).where(eq(promotions.code, code)));
	return row;
}

/** As if the order's reservation had run out a second ago (its expiry check then cancels it). */
async function runOutOfTime(orderId: string): Promise<void> {
	await withDb((db) =>
		db.primary
			.update(orders)
			.set({ reservationExpiresAt: new Date(Date.now() - 1000) })
			.where(eq(orders.id, orderId)),
	);
}

async function uses(code: string) {
	const row = await codeRow(code);
	return withDb((db) =>
		db.primary
			.select()
			.from(promotionRedemptions)
			.where(eq(promotionRedemptions.promotionId, row?.id ?? "")),
	);
}

describe("discount codes: per customer, held only while the order can be paid", () => {
	it("20 concurrent checkouts by one customer with a once-per-customer code: exactly one is discounted", async () => {
		const bus = new Bus();
		const { sku } = await newSku(3000);
		await stock(sku, 100);
		const code = newCode();
		await newPromotion({ code, kind: "percentage", value: 1000, maxUsesPerCustomer: 1 });
		// One customer by e-mail, twenty guest carts: a guest's uses count against the address.
		const carts = await guestCarts(20, () => [[sku, 1]]);
		const answers = await Promise.all(
			carts.map((cart) =>
				checkoutRequest(bus, cart, `key-${crypto.randomUUID()}`, { discount_code: code, email: "Once.Only@example.com" }),
			),
		);
		const statuses = answers.map((res) => res.status);
		expect(statuses.filter((s) => s === 201)).toHaveLength(1);
		expect(statuses.filter((s) => s === 422)).toHaveLength(19);
		for (const res of answers.filter((r) => r.status === 422)) expect((await problemOf(res)).code).toBe("invalid_discount_code");
		expect((await codeRow(code))?.usedCount).toBe(1);
		expect(await uses(code)).toEqual([expect.objectContaining({ customer: "email:once.only@example.com" })]);
		// The refused checkouts gave their units back: only the discounted order holds one.
		expect(await available(sku)).toMatchObject({ reserved: 1 });
		// Another customer may still use it.
		const other = await checkoutOk(bus, await guestCart([[sku, 1]]), { discount_code: code, email: "someone@example.com" });
		expect(other.order.discount.amount).toBe(300);
	});

	it("a signed-in customer's limit holds across e-mail addresses", async () => {
		const bus = new Bus();
		const shopper = await registerShopper();
		const { sku } = await newSku(3000);
		await stock(sku, 10);
		const code = newCode();
		await newPromotion({ code, kind: "percentage", value: 1000, maxUsesPerCustomer: 1 });
		const userCart = async () => {
			const res = await bus.request("/v1/carts", { method: "POST", headers: { authorization: `Bearer ${shopper.access_token}` } });
			const { id } = (await res.json()) as { id: string };
			await bus.request(`/v1/carts/${id}/items`, {
				method: "POST",
				headers: { authorization: `Bearer ${shopper.access_token}`, "content-type": "application/json" },
				body: JSON.stringify({ sku, quantity: 1 }),
			});
			return { id };
		};
		const as = { bearer: shopper.access_token };
		const first = await checkoutOk(bus, await userCart(), { discount_code: code, email: "a@example.com" }, as);
		expect(first.order.discount.amount).toBe(300);
		const second = await checkoutRequest(
			bus,
			await userCart(),
			`key-${crypto.randomUUID()}`,
			{ discount_code: code, email: "b@example.com" },
			as,
		);
		expect(second.status).toBe(422);
		expect((await problemOf(second)).detail).toBe("You have already used this discount code.");
	});

	it("an unpaid order holds its use only while its reservation lives: expiry gives it back once, and a late payment takes it again", async () => {
		const bus = new Bus();
		const { sku } = await newSku(3000);
		await stock(sku, 5);
		const code = newCode();
		await newPromotion({ code, kind: "percentage", value: 1000, maxUses: 1 });
		const placed = await checkoutOk(bus, await guestCart([[sku, 1]]), { discount_code: code });
		expect((await codeRow(code))?.usedCount).toBe(1);
		await runOutOfTime(placed.order.id);
		const checks = bus.orders.take((s) => s.body.type === "order.expiry_check").map((s) => s.body);
		await bus.deliver(checks);
		await bus.deliver(checks);
		expect((await codeRow(code))?.usedCount).toBe(0);
		expect(await uses(code)).toEqual([]);

		await confirm(bus, placed.payment?.id as string, "succeeded");
		await bus.pump();
		const [row] = await withDb((db) => db.primary.select().from(orders).where(eq(orders.id, placed.order.id)));
		expect(row?.status).toBe("paid");
		expect((await codeRow(code))?.usedCount).toBe(1);
		expect((await uses(code)).map((use) => use.orderId)).toEqual([placed.order.id]);
	});

	it("a late payment of an order whose code was used up meanwhile is revived, and the over-use is recorded instead of counted past the limit", async () => {
		const bus = new Bus();
		const { sku } = await newSku(3000);
		await stock(sku, 5);
		const code = newCode();
		await newPromotion({ code, kind: "percentage", value: 1000, maxUses: 1 });
		const late = await checkoutOk(bus, await guestCart([[sku, 1]]), { discount_code: code });
		await runOutOfTime(late.order.id);
		await bus.deliver(bus.orders.take((s) => s.body.type === "order.expiry_check").map((s) => s.body));
		// Someone else takes the freed use.
		const taker = (await checkoutOk(bus, await guestCart([[sku, 1]]), {
			discount_code: code,
			email: "taker@example.com",
		})) as CheckoutAnswer;
		expect(taker.order.discount.amount).toBe(300);

		await confirm(bus, late.payment?.id as string, "succeeded");
		await bus.pump();
		const [row] = await withDb((db) => db.primary.select().from(orders).where(eq(orders.id, late.order.id)));
		expect(row?.status).toBe("paid");
		expect((await codeRow(code))?.usedCount).toBe(1);
		const overUse = await withDb((db) =>
			db.primary
				.select()
				.from(orderEvents)
				.where(and(eq(orderEvents.orderId, late.order.id), eq(orderEvents.type, "discount_over_limit"))),
		);
		expect(overUse).toHaveLength(1);
		expect(overUse[0]?.data).toMatchObject({ code });
	});
});
