import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { categories, products, promotionRedemptions, promotions } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { applyPromotions, type PromotionRow } from "../workers/orders/promotions.ts";
import { call, problemOf, withDb } from "./helpers.ts";
import {
	available,
	Bus,
	type CheckoutAnswer,
	checkoutOk,
	checkoutRequest,
	guestCart,
	guestCarts,
	headersFor,
	newPromotion,
	newSku,
	stock,
} from "./orders-helpers.ts";

/**
 * Promotions and the stacking rule of orders/promotions.ts, with hand-computed
 * totals. Automatic promotions apply to every order in the database, and
 * other test files run at the same time, so each one here is scoped to
 * products this test made, or to subtotals no other test reaches.
 */

/** A category under a new parent, and the product of `sku` moved into it. */
async function inNewCategory(productId: string): Promise<{ parent: string; child: string }> {
	const suffix = crypto.randomUUID().slice(0, 8);
	const parent = `cat_p${suffix}`;
	const child = `cat_c${suffix}`;
	await withDb(async (db) => {
		await db.primary.insert(categories).values({ id: parent, slug: `promo-parent-${suffix}`, name: "Promo parent" });
		await db.primary.insert(categories).values({ id: child, parentId: parent, slug: `promo-child-${suffix}`, name: "Promo child" });
		await db.primary.update(products).set({ categoryId: child }).where(eq(products.id, productId));
	});
	return { parent, child };
}

async function usedCount(id: string): Promise<number> {
	const [row] = await withDb((db) => db.primary.select({ n: promotions.usedCount }).from(promotions).where(eq(promotions.id, id)));
	return row?.n ?? -1;
}

function rule(values: Partial<PromotionRow> & Pick<PromotionRow, "kind">): PromotionRow {
	return {
		id: newId("prm"),
		code: null,
		name: "rule",
		value: 0,
		currency: null,
		target: "order",
		targetIds: [],
		buyQuantity: null,
		getQuantity: null,
		minSubtotalMinor: 0,
		startsAt: null,
		endsAt: null,
		maxUses: null,
		maxUsesPerCustomer: null,
		usedCount: 0,
		active: true,
		createdAt: new Date(),
		updatedAt: new Date(),
		...values,
	};
}

describe("the stacking rule (pure)", () => {
	const lines = [
		{ productId: "prod_a", categories: ["cat_x"], unitPrice: 1500, quantity: 2 },
		{ productId: "prod_b", categories: [], unitPrice: 1000, quantity: 1 },
	];

	it("gives each line the largest single product saving, then the best order promotion on what is left", () => {
		const tenOffA = rule({ kind: "percentage", value: 1000, target: "products", targetIds: ["prod_a"] });
		const twentyOffCategory = rule({ kind: "percentage", value: 2000, target: "categories", targetIds: ["cat_x"] });
		const fiveOff = rule({ kind: "fixed", value: 500, currency: "EUR" });
		const tenPercent = rule({ kind: "percentage", value: 1000 });
		const outcome = applyPromotions([tenOffA, twentyOffCategory, fiveOff, tenPercent], lines, "EUR");
		// Line a: 10 % = 3.00 or 20 % = 6.00: 6.00 wins, alone. Left: 40.00 − 6.00 = 34.00; 10 % = 3.40 beats 5.00? No: 5.00 wins.
		expect(outcome.lineDiscounts).toEqual([600, 0]);
		expect(outcome.linePromotion.map((row) => row?.id ?? null)).toEqual([twentyOffCategory.id, null]);
		expect(outcome.order?.promotion.id).toBe(fiveOff.id);
	});

	it("buy 2 get 1: of every three targeted units the cheapest is free", () => {
		const b2g1 = rule({
			kind: "buy_x_get_y",
			value: 10000,
			target: "products",
			targetIds: ["prod_a", "prod_b"],
			buyQuantity: 2,
			getQuantity: 1,
		});
		// Units by price: 15.00, 15.00, 10.00: one group, its cheapest (10.00, line b) free.
		expect(applyPromotions([b2g1], lines, "EUR").lineDiscounts).toEqual([0, 1000]);
		// Five units: one full group only; the two left over pay.
		const five = [{ productId: "prod_a", categories: [], unitPrice: 1500, quantity: 5 }];
		expect(applyPromotions([b2g1], five, "EUR").lineDiscounts).toEqual([1500]);
	});

	it("a code beaten in its class is reported, not used; a code's currency and minimum are respected", () => {
		const code = rule({ kind: "fixed", value: 100, currency: "EUR", code: "SMALL" });
		const better = rule({ kind: "percentage", value: 1000 });
		expect(applyPromotions([better, code], lines, "EUR", code.id)).toMatchObject({
			codeNotApplied: true,
			order: { promotion: { id: better.id } },
		});
		const pounds = rule({ kind: "fixed", value: 100, currency: "GBP" });
		expect(applyPromotions([pounds], lines, "EUR").order).toBeNull();
		const minimum = rule({ kind: "free_shipping", currency: "EUR", minSubtotalMinor: 4001 });
		expect(applyPromotions([minimum], lines, "EUR").freeShipping).toBeNull();
		expect(applyPromotions([{ ...minimum, minSubtotalMinor: 4000 }], lines, "EUR").freeShipping?.id).toBe(minimum.id);
	});
});

describe("promotions at checkout", () => {
	it("buy 2 get 1 on two products: the cheapest unit is free, VAT computed on what is paid", async () => {
		const bus = new Bus();
		const a = await newSku(1500);
		const b = await newSku(1000);
		await stock(a.sku, 5);
		await stock(b.sku, 5);
		await newPromotion({
			code: null,
			name: "Buy 2, get 1 free",
			kind: "buy_x_get_y",
			value: 10000,
			target: "products",
			targetIds: [a.productId, b.productId],
			buyQuantity: 2,
			getQuantity: 1,
		});
		const cart = await guestCart([
			[a.sku, 2],
			[b.sku, 1],
		]);
		const view = await call(`/v1/carts/${cart.id}`, { headers: headersFor({ token: cart.token }) });
		// The cart shows what applies and the saving before checkout.
		expect(await view.json()).toMatchObject({
			subtotal: { amount: 4000 },
			discount: { amount: 1000, currency: "EUR" },
			promotions: [{ name: "Buy 2, get 1 free", saving: { amount: 1000, currency: "EUR" } }],
		});
		const placed = await checkoutOk(bus, cart);
		// 2 × 15.00 + 10.00 = 40.00, the 10.00 unit free: 30.00 + 4.95 shipping (below 50.00) = 34.95.
		// VAT 19 % inside, per line: 30.00 → 4.79; 0.00 → 0; shipping 4.95 → 0.79: 5.58.
		expect(placed.order).toMatchObject({
			subtotal: { amount: 4000 },
			discount: { amount: 1000 },
			shipping: { amount: 495 },
			tax: { amount: 479 + 79 },
			total: { amount: 3495 },
		});
		expect(placed.order.lines.map((line) => [line.sku, line.discount.amount, line.tax.amount])).toEqual([
			[a.sku, 0, 479],
			[b.sku, 1000, 0],
		]);
	});

	it("a category promotion covers its sub-categories, and stacks with a free-shipping code", async () => {
		const bus = new Bus();
		const a = await newSku(2500);
		const other = await newSku(2500);
		await stock(a.sku, 5);
		await stock(other.sku, 5);
		const { parent } = await inNewCategory(a.productId);
		await newPromotion({
			code: null,
			name: "20 % off the category",
			kind: "percentage",
			value: 2000,
			target: "categories",
			targetIds: [parent],
		});
		const code = `SHIP${crypto.randomUUID().slice(0, 6).toUpperCase()}`;
		const shipping = await newPromotion({ code, kind: "free_shipping" });
		const placed = await checkoutOk(
			bus,
			await guestCart([
				[a.sku, 1],
				[other.sku, 1],
			]),
			{ discount_code: code },
		);
		// 25.00 − 20 % = 20.00, and 25.00: 45.00; shipping (4.95) free by the code. VAT: 20.00 → 3.19; 25.00 → 3.99.
		expect(placed.order).toMatchObject({
			subtotal: { amount: 5000 },
			discount: { amount: 500 },
			shipping: { amount: 0 },
			tax: { amount: 319 + 399 },
			total: { amount: 4500 },
			discount_code: code,
		});
		const stored = await withDb((db) =>
			db.primary.select().from(promotionRedemptions).where(eq(promotionRedemptions.orderId, placed.order.id)),
		);
		expect(stored.map((row) => row.promotionId).sort()).toHaveLength(2);
		expect(await usedCount(shipping.id)).toBe(1);
	});

	it("an automatic promotion with one use per customer, ten concurrent checkouts by that customer: exactly one gets it", async () => {
		const bus = new Bus();
		const { sku, productId } = await newSku(2000);
		await stock(sku, 50);
		const once = await newPromotion({
			code: null,
			name: "Welcome: 25 % off",
			kind: "percentage",
			value: 2500,
			target: "products",
			targetIds: [productId],
			maxUsesPerCustomer: 1,
		});
		const carts = await guestCarts(10, () => [[sku, 1]]);
		const answers = await Promise.all(
			carts.map((cart) => checkoutRequest(bus, cart, `key-${crypto.randomUUID()}`, { email: "welcome.once@example.com" })),
		);
		const placed = (await Promise.all(answers.filter((r) => r.status === 201).map((r) => r.json()))) as CheckoutAnswer[];
		const refused = answers.filter((r) => r.status !== 201);
		// The use is taken once. A checkout priced before it was recorded is refused to re-price (409); one priced
		// after it (sessions that ran later) is placed at the full price. Either way, no second discount.
		const discounted = placed.filter((answer) => answer.order.discount.amount === 500);
		expect(discounted).toHaveLength(1);
		expect(placed.filter((answer) => answer.order.discount.amount === 0)).toHaveLength(placed.length - 1);
		expect(placed.length + refused.length).toBe(10);
		for (const res of refused) expect((await problemOf(res)).code).toBe("promotion_changed");
		expect(await usedCount(once.id)).toBe(1);
		// The refused checkouts gave their units back: only the placed orders hold one each.
		expect(await available(sku)).toMatchObject({ reserved: placed.length });
		// Retried, a refused checkout is priced without the spent promotion.
		const refusedAt = answers.findIndex((r) => r.status !== 201);
		if (refusedAt >= 0) {
			const retried = await checkoutOk(bus, carts[refusedAt] as { id: string; token: string }, { email: "welcome.once@example.com" });
			expect(retried.order.discount.amount).toBe(0);
		}
	});

	it("an automatic promotion outside its window does not apply", async () => {
		const bus = new Bus();
		const { sku, productId } = await newSku(2000);
		await stock(sku, 5);
		const hour = 3_600_000;
		await newPromotion({
			code: null,
			name: "Ended",
			kind: "fixed",
			value: 500,
			currency: "EUR",
			target: "products",
			targetIds: [productId],
			endsAt: new Date(Date.now() - hour),
		});
		await newPromotion({
			code: null,
			name: "Not yet",
			kind: "fixed",
			value: 700,
			currency: "EUR",
			target: "products",
			targetIds: [productId],
			startsAt: new Date(Date.now() + hour),
		});
		const placed = await checkoutOk(bus, await guestCart([[sku, 1]]));
		expect(placed.order.discount.amount).toBe(0);
		expect(placed.order.total.amount).toBe(2000 + 495);
	});
});
