import { env } from "cloudflare:test";
import { eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { MAX_PRICE_MINOR } from "../workers/catalog/admin.schemas.ts";
import { orderLines, orders, payments, refunds, testProviderPayments } from "../workers/db/schema.ts";
import { reconcilePayments } from "../workers/orders/reconciliation.ts";
import { authed, makeAdmin, randomIp, registerShopper, uniqueEmail } from "./accounts-helpers.ts";
import { problemOf, withDb } from "./helpers.ts";
import { ADDRESS, available, Bus, type CheckoutAnswer, confirm, headersFor, newSku, orderStatus, stock } from "./orders-helpers.ts";
import { Browser, CHECKOUT_FORM } from "./web-helpers.ts";

/** The largest value a Postgres `integer` holds: the money columns' old ceiling. */
const INT32_MAX = 2 ** 31 - 1;
/** Room for the orders of the first tests, which go past INT32_MAX (the default maximum is 100,000,000). */
const LARGE_SHOP: Partial<Env> = { MAX_ORDER_TOTAL_MINOR: "10000000000", MAX_HELD_UNITS_PER_CLIENT: "30" };

type Cart = { id: string; token: string };

/**
 * A guest at an address of its own, so the per-client limits count only this
 * shopper's requests. A cart keeps at most 10 units of a SKU, so the large
 * orders below are made of several SKUs at the highest price.
 */
class Shopper {
	readonly ip = randomIp();
	readonly email = uniqueEmail("big-spender");
	readonly bus: Bus;

	constructor(bus: Bus) {
		this.bus = bus;
	}

	headers(cart?: Cart, extra: Record<string, string> = {}): Record<string, string> {
		return headersFor({ token: cart?.token }, { "cf-connecting-ip": this.ip, ...extra });
	}

	async cart(lines: [string, number][]): Promise<Cart> {
		const res = await this.bus.request("/v1/carts", { method: "POST", headers: this.headers() });
		if (res.status !== 201) throw new Error(`cart create answered ${res.status}: ${await res.text()}`);
		const cart = (await res.json()) as Cart;
		for (const [sku, quantity] of lines) {
			const added = await this.bus.request(`/v1/carts/${cart.id}/items`, {
				method: "POST",
				headers: this.headers(cart),
				body: JSON.stringify({ sku, quantity }),
			});
			if (added.status !== 200) throw new Error(`cart add answered ${added.status}: ${await added.text()}`);
		}
		return cart;
	}

	hold(cart: Cart): Promise<Response> {
		return this.bus.request(`/v1/carts/${cart.id}/hold`, { method: "POST", headers: this.headers(cart) });
	}

	checkout(cart: Cart, key = `key-${crypto.randomUUID()}`): Promise<Response> {
		return this.bus.request("/v1/checkout", {
			method: "POST",
			headers: this.headers(cart, { "idempotency-key": key }),
			body: JSON.stringify({ cart_id: cart.id, email: this.email, shipping_address: ADDRESS }),
		});
	}

	async checkoutOk(cart: Cart): Promise<CheckoutAnswer> {
		const res = await this.checkout(cart);
		if (res.status !== 201) throw new Error(`checkout answered ${res.status}: ${await res.text()}`);
		return (await res.json()) as CheckoutAnswer;
	}
}

/** Three SKUs at the highest price, 10 units each on hand. */
async function dearSkus(): Promise<[string, string, string]> {
	const [a, b, c] = [(await newSku(MAX_PRICE_MINOR)).sku, (await newSku(MAX_PRICE_MINOR)).sku, (await newSku(MAX_PRICE_MINOR)).sku];
	await stock(a, 10);
	await stock(b, 10);
	await stock(c, 10);
	return [a, b, c];
}

/** The large order: 10 + 10 + 3 units at 1,000,000.00, VAT included, shipping free: €23,000,000.00, past INT32_MAX minor units. */
const LARGE_LINES = (a: string, b: string, c: string): [string, number][] => [
	[a, 10],
	[b, 10],
	[c, 3],
];
const LARGE_TOTAL = 23 * MAX_PRICE_MINOR;
/** DE's 19 % inside each line, half up: 1,000,000,000 × 19/119 = 159,663,865.55 → …866 (twice); 300,000,000 × 19/119 = 47,899,159.66 → …160. */
const LARGE_TAX = 2 * 159_663_866 + 47_899_160;

/** The order, its lines and its payment as Postgres holds them, for the cart. */
async function storedFor(cartId: string) {
	return withDb(async (db) => {
		const rows = await db.primary.select().from(orders).where(eq(orders.cartId, cartId));
		const ids = rows.map((row) => row.id);
		const [lines, pays] =
			ids.length === 0
				? [[], []]
				: await Promise.all([
						db.primary.select().from(orderLines).where(inArray(orderLines.orderId, ids)).orderBy(orderLines.id),
						db.primary.select().from(payments).where(inArray(payments.orderId, ids)),
					]);
		return { orders: rows, lines, payments: pays };
	});
}

describe("money past 2^31 minor units (I5: totals are exact)", () => {
	it("checks out 19 units at the highest price, €22,610,000.00, and every stored figure reads back as the exact number", async () => {
		const shopper = new Shopper(new Bus(LARGE_SHOP));
		const [a, b, c] = await dearSkus();
		const cart = await shopper.cart(LARGE_LINES(a, b, c));

		const placed = await shopper.checkoutOk(cart);
		expect(LARGE_TOTAL).toBeGreaterThan(INT32_MAX);
		expect(placed.order.subtotal.amount).toBe(LARGE_TOTAL);
		expect(placed.order.shipping.amount).toBe(0);
		expect(placed.order.tax.amount).toBe(LARGE_TAX);
		expect(placed.order.total).toEqual({ amount: LARGE_TOTAL, currency: "EUR" });

		const stored = await storedFor(cart.id);
		expect(stored.orders).toHaveLength(1);
		const [order] = stored.orders;
		expect(order).toMatchObject({ subtotalMinor: LARGE_TOTAL, discountMinor: 0, taxMinor: LARGE_TAX, totalMinor: LARGE_TOTAL });
		expect(typeof order?.totalMinor).toBe("number");
		expect(stored.lines.map((line) => [line.sku, line.unitPriceMinor, line.lineTotalMinor])).toEqual([
			[a, MAX_PRICE_MINOR, 1_000_000_000],
			[b, MAX_PRICE_MINOR, 1_000_000_000],
			[c, MAX_PRICE_MINOR, 300_000_000],
		]);
		expect(stored.lines.every((line) => typeof line.unitPriceMinor === "number" && typeof line.lineTotalMinor === "number")).toBe(true);
		expect(stored.payments).toMatchObject([{ amountMinor: LARGE_TOTAL, refundedMinor: 0 }]);
		expect(typeof stored.payments[0]?.amountMinor).toBe("number");
	});

	it("pays, refunds in part and in full, and lists such an order: the provider's record, refunds and listings all give exact numbers", async () => {
		const bus = new Bus(LARGE_SHOP);
		const shopper = new Shopper(bus);
		const admin = await makeAdmin(await registerShopper());
		const [a, b, c] = await dearSkus();
		const placed = await shopper.checkoutOk(await shopper.cart(LARGE_LINES(a, b, c)));
		const paymentId = placed.payment?.id as string;
		expect((await confirm(bus, paymentId, "succeeded")).status).toBe(202);
		await bus.pump();
		const [ledger] = await withDb((db) =>
			db.primary.select().from(testProviderPayments).where(eq(testProviderPayments.providerPaymentId, paymentId)),
		);
		expect(ledger?.amountMinor).toBe(LARGE_TOTAL);
		// Paid, not held for review: the provider's amount and ours compared equal.
		expect(await orderStatus(placed.order.id)).toEqual(["place:pending_payment", "pay:paid"]);

		const refund = (body: unknown) =>
			bus.request(`/v1/admin/orders/${placed.order.id}/refund`, {
				method: "POST",
				headers: headersFor({ bearer: admin.access_token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
				body: JSON.stringify(body),
			});
		const part = await refund({ lines: [{ sku: a, quantity: 10 }] });
		expect(part.status).toBe(200);
		expect(((await part.json()) as CheckoutAnswer["order"]).payment?.refunded).toEqual({ amount: 1_000_000_000, currency: "EUR" });
		const rest = await refund({ amount: LARGE_TOTAL - 1_000_000_000 });
		expect(rest.status).toBe(200);
		const after = (await rest.json()) as CheckoutAnswer["order"];
		expect(after.status).toBe("refunded");
		expect(after.payment?.refunded.amount).toBe(LARGE_TOTAL);
		const recorded = await withDb((db) => db.primary.select().from(refunds).where(eq(refunds.orderId, placed.order.id)));
		expect(recorded.map((row) => row.amountMinor).sort((x, y) => x - y)).toEqual([1_000_000_000, LARGE_TOTAL - 1_000_000_000]);

		const listed = await bus.request(
			`/v1/admin/orders?email=${encodeURIComponent(shopper.email)}`,
			authed(admin.access_token, { headers: { "cf-connecting-ip": randomIp() } }),
		);
		expect(listed.status).toBe(200);
		const page = (await listed.json()) as { data: CheckoutAnswer["order"][] };
		expect(page.data.map((order) => [order.total.amount, order.payment?.refunded.amount])).toEqual([[LARGE_TOTAL, LARGE_TOTAL]]);
	});

	it("reconciliation pays such an order from the provider's record when its webhook never arrived", async () => {
		// A test-provider account of its own, so the run lists only this test's payments.
		const secret = `whsec_money_${crypto.randomUUID().replaceAll("-", "")}`;
		const bus = new Bus({ ...LARGE_SHOP, TEST_PAYMENT_WEBHOOK_SECRET: secret });
		const shopper = new Shopper(bus);
		const [a, b, c] = await dearSkus();
		const placed = await shopper.checkoutOk(await shopper.cart(LARGE_LINES(a, b, c)));
		expect((await confirm(bus, placed.payment?.id as string, "succeeded")).status).toBe(202);
		expect(bus.orders.take((s) => s.body.type === "payment.event")).toHaveLength(1);

		const run = await withDb((db) => reconcilePayments({ ...env, ...bus.env } as Env, db));
		expect(run).toMatchObject({ status: "succeeded", applied: 1, unmatched: 0, errors: [] });
		expect(await orderStatus(placed.order.id)).toEqual(["place:pending_payment", "pay:paid"]);
	});

	it("the catalog shows and filters a product at the highest price with its price as a number", async () => {
		const bus = new Bus();
		const { sku, productId } = await newSku(MAX_PRICE_MINOR);
		const word = sku.slice("TST-".length).toLowerCase();
		const detail = await bus.request(`/v1/products/${productId}`, { headers: { "cf-connecting-ip": randomIp() } });
		expect(detail.status).toBe(200);
		expect(((await detail.json()) as { variants: { price: unknown }[] }).variants[0]?.price).toEqual({
			amount: MAX_PRICE_MINOR,
			currency: "EUR",
		});
		const listed = await bus.request(`/v1/products?q=${word}&min_price=${MAX_PRICE_MINOR}&sort=price_desc`, {
			headers: { "cf-connecting-ip": randomIp() },
		});
		expect(listed.status).toBe(200);
		expect(((await listed.json()) as { data: { id: string; price: unknown }[] }).data).toEqual([
			expect.objectContaining({ id: productId, price: { min: MAX_PRICE_MINOR, max: MAX_PRICE_MINOR, currency: "EUR" } }),
		]);
	});
});

describe("the maximum order total (MAX_ORDER_TOTAL_MINOR)", () => {
	for (const held of [false, true]) {
		it(`refuses an order above it with 422 order_too_large, keeping no order and no payment, its stock all available again${held ? " (stock held by the cart)" : ""}`, async () => {
			const shopper = new Shopper(new Bus());
			const { sku } = await newSku(60_000_000);
			await stock(sku, 5);
			const cart = await shopper.cart([[sku, 2]]);
			if (held) {
				expect((await shopper.hold(cart)).status).toBe(201);
				expect(await available(sku)).toMatchObject({ available: 3, reserved: 2 });
			}

			const res = await shopper.checkout(cart);
			expect(res.status).toBe(422);
			const problem = await problemOf(res);
			expect(problem).toMatchObject({
				code: "order_too_large",
				max_total: { amount: 99_999_999, currency: "EUR" },
				// 2 × 600,000.00, VAT included, shipping free.
				total: { amount: 120_000_000, currency: "EUR" },
			});
			expect(problem.detail).toContain("€999,999.99");
			expect(await storedFor(cart.id)).toEqual({ orders: [], lines: [], payments: [] });
			expect(await available(sku)).toMatchObject({ available: 5, onHand: 5, reserved: 0 });
		});
	}

	it("accepts a total exactly at the maximum and refuses one minor unit above it", async () => {
		const { sku } = await newSku(1000);
		await stock(sku, 5);
		// 10.00 + 4.95 shipping, VAT included: 14.95.
		const at = new Shopper(new Bus({ MAX_ORDER_TOTAL_MINOR: "1495" }));
		expect((await at.checkoutOk(await at.cart([[sku, 1]]))).order.total.amount).toBe(1495);
		const above = new Shopper(new Bus({ MAX_ORDER_TOTAL_MINOR: "1494" }));
		const refused = await above.checkout(await above.cart([[sku, 1]]));
		expect(refused.status).toBe(422);
		expect((await problemOf(refused)).code).toBe("order_too_large");
		expect(await available(sku)).toMatchObject({ available: 4, reserved: 1 });
	});

	it("the storefront's checkout form answers the refusal with a page that states the maximum, and places nothing", async () => {
		const { sku } = await newSku(60_000_000);
		await stock(sku, 5);
		const browser = new Browser();
		const slug = `test-${sku.slice("TST-".length).toLowerCase()}`;
		const added = await browser.post("/cart/items", { product: slug, sku, quantity: "2" });
		expect(added.status).toBe(303);
		const cartId = (browser.cookies.get("ec_cart") ?? "").split(".")[0] as string;
		// The checkout page already says so, instead of a form that cannot succeed.
		const form = await browser.get("/checkout");
		expect(form.status).toBe(422);
		expect(await form.text()).toContain("An order may total at most €999,999.99");

		const res = await browser.post("/checkout", { ...CHECKOUT_FORM, idempotency_key: `web-${crypto.randomUUID()}` });
		expect(res.status).toBe(422);
		expect(res.headers.get("content-type")).toMatch(/^text\/html/);
		const page = await res.text();
		expect(page).toContain("An order may total at most €999,999.99");
		expect(await storedFor(cartId)).toEqual({ orders: [], lines: [], payments: [] });
		expect(await available(sku)).toMatchObject({ available: 5, reserved: 0 });
	});
});
