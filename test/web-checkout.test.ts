import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { orders, products } from "../workers/db/schema.ts";
import { PERSONAL_PAGE_CACHE } from "../workers/web/layout.tsx";
import { makeAdmin, registerShopper } from "./accounts-helpers.ts";
import { withDb } from "./helpers.ts";
import { available, headersFor, newSku, stock } from "./orders-helpers.ts";
import { Browser, CHECKOUT_FORM, fieldValue, redirectOf } from "./web-helpers.ts";

async function product(priceMinor: number, units: number) {
	const { sku, productId } = await newSku(priceMinor);
	if (units > 0) await stock(sku, units);
	const [row] = await withDb((db) => db.primary.select().from(products).where(eq(products.id, productId)));
	if (!row) throw new Error("test product vanished");
	return { sku, slug: row.slug, title: row.title };
}

/** Adds through the product page's form, as a shopper without JavaScript would. */
async function addToCart(browser: Browser, item: { sku: string; slug: string }, quantity: number): Promise<Response> {
	return browser.post("/cart/items", { product: item.slug, sku: item.sku, quantity: String(quantity) });
}

async function placeOrder(browser: Browser, form: Record<string, string> = CHECKOUT_FORM): Promise<{ res: Response; key: string }> {
	const key = fieldValue(await browser.page("/checkout"), "idempotency_key");
	return { res: await browser.post("/checkout", { ...form, idempotency_key: key }), key };
}

const orderIdOf = (location: string) => /^\/orders\/(ord_[0-9a-z]{20})\/pay$/.exec(location)?.[1] as string;

describe("cart pages", () => {
	it("adds to the cart with a form post: 303 to the product with ?added, a guest cart cookie, and the confirmation", async () => {
		const item = await product(1250, 10);
		const browser = new Browser();
		const res = await addToCart(browser, item, 2);
		expect(redirectOf(res)).toBe(`/p/${item.slug}?added=${item.sku}`);
		expect(browser.cookies.get("ec_cart")).toMatch(/^cart_[0-9a-z]{20}\./);
		expect(res.headers.get("set-cookie")).toMatch(/ec_cart=[^;]+;.*HttpOnly/i);

		const confirmation = await browser.get(`/p/${item.slug}?added=${item.sku}`);
		expect(confirmation.headers.get("cache-control")).toBe(PERSONAL_PAGE_CACHE);
		const page = await confirmation.text();
		expect(page).toMatch(/<div class="alert ok" role="status">Added to your cart\. <a href="\/cart">View cart<\/a><\/div>/);

		const cart = await browser.get("/cart");
		expect(cart.status).toBe(200);
		expect(cart.headers.get("cache-control")).toBe(PERSONAL_PAGE_CACHE);
		const cartPage = await cart.text();
		expect(cartPage).toContain(item.title);
		expect(cartPage).toContain(`<label for="qty-${item.sku}">Quantity<span class="visually-hidden"> for ${item.title}</span></label>`);
		expect(cartPage).toMatch(new RegExp(`id="qty-${item.sku}"[^>]*value="2"`));
		expect(cartPage).toContain("€25.00");
		expect(cartPage).toContain('<a class="button" href="/checkout">Checkout</a>');
		expect(cartPage).toContain('<span class="cart-count">2</span>');
	});

	it("updates a line's quantity, refuses nonsense, and removes lines", async () => {
		const [first, second] = [await product(500, 10), await product(700, 10)];
		const browser = new Browser();
		await addToCart(browser, first, 1);
		await addToCart(browser, second, 1);

		expect(redirectOf(await browser.post(`/cart/items/${first.sku}`, { quantity: "4" }))).toBe("/cart?notice=updated");
		let page = await browser.page("/cart?notice=updated");
		expect(page).toContain('role="status">Your cart was updated.');
		expect(page).toMatch(new RegExp(`id="qty-${first.sku}"[^>]*value="4"`));
		expect(page).toContain("€27.00");

		const refused = await browser.post(`/cart/items/${first.sku}`, { quantity: "100" });
		expect(refused.status).toBe(422);
		expect(await refused.text()).toMatch(/role="alert">Enter a quantity from 0 to 99\./);

		expect(redirectOf(await browser.post(`/cart/items/${second.sku}/remove`))).toBe("/cart?notice=removed");
		page = await browser.page("/cart");
		expect(page).not.toContain(second.title);
		expect(page).toContain(first.title);
		// Quantity 0 removes too.
		await browser.post(`/cart/items/${first.sku}`, { quantity: "0" });
		expect(await browser.page("/cart")).toContain("Your cart is empty.");
	});

	it("refuses to add more than MAX_UNITS_PER_SKU (10) of an item, on the product page with role=alert", async () => {
		const item = await product(100, 200);
		const browser = new Browser();
		await addToCart(browser, item, 6);
		const res = await addToCart(browser, item, 6);
		expect(res.status).toBe(422);
		expect(res.headers.get("cache-control")).toBe(PERSONAL_PAGE_CACHE);
		expect(await res.text()).toContain('role="alert">You can have at most 10 of one item in your cart.');
	});
});

describe("checkout and payment pages", () => {
	it("renders the checkout form with every labelled field, a fresh key per render and DE by default", async () => {
		const item = await product(1000, 5);
		const browser = new Browser();
		await addToCart(browser, item, 1);
		const page = await browser.page("/checkout");
		for (const label of [
			"Email",
			"Full name",
			"Address",
			"Address line 2",
			"City",
			"Region",
			"Postal code",
			"Country",
			"Phone",
			"Discount code",
		]) {
			expect(page).toMatch(new RegExp(`<label for="field-[a-z0-9_]+">${label}</label>`));
		}
		expect(page).toContain('<option value="DE" selected="">Germany</option>');
		expect(page).toContain("Place order</button>");
		expect(fieldValue(page, "idempotency_key")).not.toBe(fieldValue(await browser.page("/checkout"), "idempotency_key"));
	});

	it("places one order for a double submit, sends a guest to pay, and the paid order page says Paid", async () => {
		const item = await product(2000, 5);
		const browser = new Browser();
		await addToCart(browser, item, 2);
		const key = fieldValue(await browser.page("/checkout"), "idempotency_key");
		const form = { ...CHECKOUT_FORM, idempotency_key: key };
		const [first, second] = await Promise.all([browser.post("/checkout", form), browser.post("/checkout", form)]);
		const orderId = orderIdOf(redirectOf(first));
		expect(orderId).toBeDefined();
		expect(redirectOf(second)).toBe(`/orders/${orderId}/pay`);
		expect(browser.cookies.get("ec_orders")).toContain(orderId);
		const cartId = (browser.cookies.get("ec_cart") ?? "").split(".")[0] as string;
		const placed = await withDb((db) => db.primary.select({ id: orders.id }).from(orders).where(eq(orders.cartId, cartId)));
		expect(placed.map((row) => row.id)).toEqual([orderId]);
		expect((await available(item.sku)).reserved).toBe(2);

		const pay = await browser.get(`/orders/${orderId}/pay`);
		expect(pay.status).toBe(200);
		expect(pay.headers.get("cache-control")).toBe(PERSONAL_PAGE_CACHE);
		const payPage = await pay.text();
		expect(payPage).toContain("Pay now</button>");
		expect(payPage).toContain("Simulate failed payment</button>");
		expect(payPage).toContain("€40.00");

		const paid = await browser.post(`/orders/${orderId}/pay`, { outcome: "succeeded" });
		expect(redirectOf(paid)).toBe(`/orders/${orderId}`);
		expect(browser.bus.orders.types()).toContain("payment.event");

		const waiting = await browser.page(`/orders/${orderId}`);
		expect(waiting).toContain('<meta http-equiv="refresh" content="2"/>');
		expect(waiting).toContain("Confirming your payment…");
		expect(waiting).toMatch(/class="badge status-badge warn" data-status="pending_payment">Awaiting payment</);

		await browser.bus.pump();
		const done = await browser.page(`/orders/${orderId}`);
		expect(done).toMatch(/data-status="paid">Paid</);
		expect(done).not.toContain("http-equiv");
		expect(done).toContain(`<h1>Order ${orderId.slice(4, 12).toUpperCase()}</h1>`);
		expect(done).toContain(item.title);
		expect(done).toContain("Hauptstraße 1");
		// Paid: the units are sold and the cart gave up exactly the ordered lines.
		expect(await available(item.sku)).toMatchObject({ onHand: 3, reserved: 0 });
		expect(await browser.page("/cart")).toContain("Your cart is empty.");
	});

	it("a resubmitted form for the last units answers with the same order, not out of stock", async () => {
		const item = await product(1500, 1);
		const browser = new Browser();
		await addToCart(browser, item, 1);
		const key = fieldValue(await browser.page("/checkout"), "idempotency_key");
		const form = { ...CHECKOUT_FORM, idempotency_key: key };
		const first = redirectOf(await browser.post("/checkout", form));
		// The order holds the only unit now; the same form again finds its key, not a shortage.
		expect(redirectOf(await browser.post("/checkout", form))).toBe(first);
		// A new render is a new attempt, but the cart's order is still unpaid: it answers that order
		// again rather than place a second one (which would find the only unit taken).
		const again = await placeOrder(browser);
		expect(redirectOf(again.res)).toBe(first);
	});

	it("re-renders the form with role=alert for invalid fields, keeping what was typed", async () => {
		const item = await product(1000, 5);
		const browser = new Browser();
		await addToCart(browser, item, 1);
		const { res } = await placeOrder(browser, { ...CHECKOUT_FORM, email: "not-an-email", city: "" });
		expect(res.status).toBe(422);
		const page = await res.text();
		expect(page).toContain('role="alert"');
		expect(page).toContain("Enter an e-mail address");
		expect(page).toContain("Enter the city.");
		expect(page).toContain('value="Hauptstraße 1"');
		expect(page).toMatch(/id="field-city"[^>]*aria-invalid="true"/);
	});

	it("names the short lines when stock ran out, and a bad discount code at its field", async () => {
		const item = await product(1000, 1);
		const browser = new Browser();
		await addToCart(browser, item, 3);
		const { res } = await placeOrder(browser);
		expect(res.status).toBe(409);
		const page = await res.text();
		expect(page).toContain('role="alert"');
		expect(page).toContain(`${item.title}: you asked for 3, only 1 left.`);
		expect((await available(item.sku)).reserved).toBe(0);

		await browser.post(`/cart/items/${item.sku}`, { quantity: "1" });
		const coded = await placeOrder(browser, { ...CHECKOUT_FORM, discount_code: "NO-SUCH-CODE" });
		expect(coded.res.status).toBe(422);
		const codedPage = await coded.res.text();
		expect(codedPage).toMatch(/id="field-discount_code-error">This discount code does not exist\.</);
		expect((await available(item.sku)).reserved).toBe(0);
	});

	it("a declined test payment keeps the order payable: stock held, the page says so, and paying again pays it", async () => {
		const item = await product(1000, 4);
		const browser = new Browser();
		await addToCart(browser, item, 4);
		const orderId = orderIdOf(redirectOf((await placeOrder(browser)).res));
		await browser.post(`/orders/${orderId}/pay`, { outcome: "failed" });
		await browser.bus.pump();
		const page = await browser.page(`/orders/${orderId}`);
		expect(page).toMatch(/data-status="pending_payment">Awaiting payment</);
		expect(page).toContain("Your payment was declined and nothing was charged.");
		expect(page).toContain(`href="/orders/${orderId}/pay"`);
		expect(page).not.toContain('http-equiv="refresh"');
		expect((await available(item.sku)).available).toBe(0);
		// The pay page takes another attempt, which pays the order.
		expect((await browser.get(`/orders/${orderId}/pay`)).status).toBe(200);
		await browser.post(`/orders/${orderId}/pay`, { outcome: "succeeded" });
		await browser.bus.pump();
		expect(await browser.page(`/orders/${orderId}`)).toMatch(/data-status="paid">Paid</);
	});

	it("shows the tracking number and carrier once the order has shipped", async () => {
		const item = await product(1000, 2);
		const browser = new Browser();
		await addToCart(browser, item, 1);
		const orderId = orderIdOf(redirectOf((await placeOrder(browser)).res));
		await browser.post(`/orders/${orderId}/pay`, { outcome: "succeeded" });
		await browser.bus.pump();
		const admin = await makeAdmin(await registerShopper());
		for (const [action, body] of [
			["fulfil", {}],
			["ship", { tracking_number: "1Z999AA10123456784", carrier: "UPS" }],
		] as const) {
			const res = await browser.bus.request(`/v1/admin/orders/${orderId}/${action}`, {
				method: "POST",
				headers: headersFor({ bearer: admin.access_token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
				body: JSON.stringify(body),
			});
			expect(res.status, action).toBe(200);
		}
		const page = await browser.page(`/orders/${orderId}`);
		expect(page).toMatch(/data-status="shipped">Shipped</);
		expect(page).toContain("<p>Tracking number: 1Z999AA10123456784</p>");
		expect(page).toContain("<p>Carrier: UPS</p>");
	});

	it("keeps one guest's order from another browser", async () => {
		const item = await product(1000, 2);
		const owner = new Browser();
		await addToCart(owner, item, 1);
		const orderId = orderIdOf(redirectOf((await placeOrder(owner)).res));
		const stranger = new Browser();
		expect(redirectOf(await stranger.get(`/orders/${orderId}`))).toBe(`/signin?next=${encodeURIComponent(`/orders/${orderId}`)}`);
		expect(redirectOf(await stranger.post(`/orders/${orderId}/pay`, { outcome: "succeeded" }))).toMatch(/^\/signin/);
		expect(stranger.bus.orders.types()).toEqual([]);
	});
});
