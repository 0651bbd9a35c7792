import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { orders, payments, products } from "../workers/db/schema.ts";
import { assets } from "../workers/web/assets.ts";
import { PAGE_CSP, STRIPE_PAY_PAGE_CSP } from "../workers/web/csp.ts";
import { money } from "../workers/web/layout.tsx";
import { BASE, withDb } from "./helpers.ts";
import { available, Bus, newSku, stock } from "./orders-helpers.ts";
import { Browser, CHECKOUT_FORM, fieldValue, redirectOf } from "./web-helpers.ts";

/*
 * The storefront of a shop that takes cards with Stripe. The Worker's calls
 * to Stripe's API reach the suite's local stand-in (scripts/lib/fake-stripe.ts,
 * STRIPE_API_BASE); Stripe's webhooks are built here and signed with the
 * stripe package, as Stripe signs them.
 */
const PUBLISHABLE_KEY = "pk_test_51PzQ4rLkJ8hG2fD6webStripeSuite";
const WEBHOOK_SECRET = "whsec_web_stripe_suite_0123456789abcdef";
const STRIPE_SHOP = {
	PAYMENT_PROVIDER: "stripe",
	STRIPE_PUBLISHABLE_KEY: PUBLISHABLE_KEY,
	STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
} as Partial<Env>;

interface Intent {
	id: string;
	amount: number;
	currency: string;
	status: string;
	client_secret: string;
	metadata: Record<string, string>;
}

/** A guest of the Stripe shop with one item in the cart, sent to the pay page of the order it placed. */
async function placedOrder(units = 1, onHand = 5) {
	const { sku, productId } = await newSku(2450);
	await stock(sku, onHand);
	const [product] = await withDb((db) => db.primary.select().from(products).where(eq(products.id, productId)));
	const browser = new Browser(new Bus(STRIPE_SHOP));
	await browser.post("/cart/items", { product: product?.slug ?? "", sku, quantity: String(units) });
	const key = fieldValue(await browser.page("/checkout"), "idempotency_key");
	const location = redirectOf(await browser.post("/checkout", { ...CHECKOUT_FORM, idempotency_key: key }));
	const orderId = /^\/orders\/(ord_[0-9a-z]{20})\/pay$/.exec(location)?.[1];
	if (!orderId) throw new Error(`checkout did not lead to a pay page: ${location}`);
	return { browser, orderId, sku, slug: product?.slug ?? "" };
}

/** The order's PaymentIntent, read back from the Stripe API stand-in with the shop's secret key. */
async function intentOf(orderId: string): Promise<Intent> {
	const [payment] = await withDb((db) => db.primary.select().from(payments).where(eq(payments.orderId, orderId)));
	if (payment?.provider !== "stripe" || !payment.providerPaymentId) throw new Error(`order ${orderId} has no Stripe payment`);
	const res = await fetch(`${env.STRIPE_API_BASE}/v1/payment_intents/${payment.providerPaymentId}`, {
		headers: { authorization: `Bearer ${env.STRIPE_SECRET_KEY}` },
	});
	if (res.status !== 200) throw new Error(`retrieving the PaymentIntent answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as Intent;
}

/** Delivers a Stripe event about `intent` to the webhook route, signed as Stripe signs it. */
async function stripeWebhook(bus: Bus, type: Stripe.Event.Type, intent: Intent & Record<string, unknown>): Promise<Response> {
	const now = Math.floor(Date.now() / 1000);
	const body = JSON.stringify(
		{
			id: `evt_${crypto.randomUUID().replaceAll("-", "")}`,
			object: "event",
			api_version: "2026-10-28.endive",
			created: now,
			livemode: false,
			pending_webhooks: 1,
			request: { id: null, idempotency_key: null },
			type,
			data: { object: { object: "payment_intent", ...intent } },
		},
		null,
		2,
	);
	const signature = await Stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret: WEBHOOK_SECRET, timestamp: now });
	return bus.request("/v1/webhooks/payments/stripe", {
		method: "POST",
		headers: { "content-type": "application/json", "stripe-signature": signature },
		body,
	});
}

/** Stripe's return to the order page after `confirmPayment`, with the query it appends. */
function returnPath(orderId: string, intent: Intent, redirectStatus: "succeeded" | "failed" = "succeeded"): string {
	const query = new URLSearchParams({
		payment_intent: intent.id,
		payment_intent_client_secret: intent.client_secret,
		redirect_status: redirectStatus,
	});
	return `/orders/${orderId}?${query}`;
}

async function orderStatus(orderId: string): Promise<string | undefined> {
	const [row] = await withDb((db) => db.primary.select({ status: orders.status }).from(orders).where(eq(orders.id, orderId)));
	return row?.status;
}

describe("card payments with Stripe's Payment Element", () => {
	it("the pay page loads Stripe.js from js.stripe.com and our card script, hands them the key, the client secret and the return URL, and only it allows Stripe in its CSP", async () => {
		const { browser, orderId, slug } = await placedOrder();
		const intent = await intentOf(orderId);
		const [order] = await withDb((db) => db.primary.select().from(orders).where(eq(orders.id, orderId)));
		const total = order?.totalMinor ?? 0;
		expect(intent).toMatchObject({ amount: total, currency: "eur", status: "requires_payment_method", metadata: { order_id: orderId } });

		const res = await browser.get(`/orders/${orderId}/pay`);
		expect(res.status).toBe(200);
		expect(res.headers.get("content-security-policy")).toBe(STRIPE_PAY_PAGE_CSP);
		const page = await res.text();
		// Stripe.js from Stripe (never bundled), then ours, both deferred so they run in this order.
		const stripeJs = page.indexOf('<script src="https://js.stripe.com/v3" defer=""></script>');
		const ours = page.indexOf(`<script src="${assets["stripe-payment.js"]}" defer=""></script>`);
		expect(stripeJs).toBeGreaterThan(0);
		expect(ours).toBeGreaterThan(stripeJs);
		expect(page).toContain(`data-stripe-publishable-key="${PUBLISHABLE_KEY}"`);
		expect(page).toContain(`data-stripe-client-secret="${intent.client_secret}"`);
		expect(page).toContain(`data-return-url="${BASE}/orders/${orderId}"`);
		expect(page).toContain('<div class="payment-element" data-payment-element="true"></div>');
		expect(page).toContain(`<button type="submit" class="wide" disabled="">Pay ${money(total, "EUR")}</button>`);
		expect(page).not.toContain("Pay now</button>");
		expect(page).not.toContain("<script>");

		// Reopened, the page gets the same PaymentIntent back (the order id is its idempotency key), not a second one.
		expect(await browser.page(`/orders/${orderId}/pay`)).toContain(`data-stripe-client-secret="${intent.client_secret}"`);
		expect((await intentOf(orderId)).id).toBe(intent.id);

		const csp = res.headers.get("content-security-policy") ?? "";
		expect(csp).toMatch(/(?:^|; )script-src 'self' https:\/\/js\.stripe\.com https:\/\/\*\.js\.stripe\.com(?:;|$)/);
		expect(csp).toMatch(
			/(?:^|; )frame-src 'self' https:\/\/js\.stripe\.com https:\/\/\*\.js\.stripe\.com https:\/\/hooks\.stripe\.com(?:;|$)/,
		);
		expect(csp).toMatch(/(?:^|; )connect-src 'self' https:\/\/api\.stripe\.com(?:;|$)/);
		expect(csp).not.toContain("unsafe-inline");
		// Everything else keeps the shop's own-origin policy: the order page, a product page.
		for (const path of [`/orders/${orderId}`, `/p/${slug}`]) {
			const other = await browser.get(path);
			expect(other.status, path).toBe(200);
			expect(other.headers.get("content-security-policy"), path).toBe(PAGE_CSP);
			expect(await other.text(), path).not.toContain("js.stripe.com");
		}
		expect(PAGE_CSP).not.toContain("stripe");
	});

	it("back from Stripe with redirect_status=succeeded, the order page says the payment is being processed, not Paid, until Stripe's webhook pays it", async () => {
		const { browser, orderId, sku } = await placedOrder(2);
		const intent = await intentOf(orderId);

		const waiting = await browser.page(returnPath(orderId, intent));
		expect(waiting).toMatch(/data-status="pending_payment">Awaiting payment</);
		expect(waiting).toContain("Your payment is being processed.");
		expect(waiting).toContain('<meta http-equiv="refresh" content="2"/>');
		expect(waiting).not.toMatch(/>Paid</);
		expect(waiting).not.toContain("Go to payment");
		// Another order's PaymentIntent in the query is not a return from paying this one.
		const foreign = await browser.page(returnPath(orderId, { ...intent, id: "pi_3QKx7sLkJ8hG2fD6NotThisOrder" }));
		expect(foreign).not.toContain("being processed");
		expect(foreign).not.toContain("http-equiv");
		expect(foreign).toContain("Go to payment");

		const res = await stripeWebhook(browser.bus, "payment_intent.succeeded", {
			...intent,
			status: "succeeded",
			amount_received: intent.amount,
		});
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ received: true, queued: true });
		await browser.bus.pump();
		const paid = await browser.page(returnPath(orderId, intent));
		expect(paid).toMatch(/data-status="paid">Paid</);
		expect(paid).toContain("Thank you! Your payment was received.");
		expect(paid).not.toContain("http-equiv");
		expect(await available(sku)).toMatchObject({ onHand: 3, reserved: 0 });
	});

	it("a declined card leaves the order awaiting payment with its stock held, and the pay page takes another attempt", async () => {
		const { browser, orderId, sku } = await placedOrder(1, 3);
		const intent = await intentOf(orderId);

		// What Stripe sends for a declined attempt; the PaymentIntent stays open for the next one.
		const declined = await stripeWebhook(browser.bus, "payment_intent.payment_failed", {
			...intent,
			status: "requires_payment_method",
			last_payment_error: {
				type: "card_error",
				code: "card_declined",
				decline_code: "generic_decline",
				message: "Your card was declined.",
			},
		});
		expect(declined.status).toBe(200);
		// Queued and applied like any payment event: the order hears of the decline, and stays payable.
		expect(await declined.json()).toEqual({ received: true, queued: true });
		await browser.bus.pump();
		expect(await orderStatus(orderId)).toBe("pending_payment");
		expect(await available(sku)).toMatchObject({ onHand: 3, reserved: 1 });

		// Stripe's redirect after an attempt that failed on its side (a bank page, 3-D Secure): nothing is waited for.
		const back = await browser.page(returnPath(orderId, intent, "failed"));
		expect(back).toMatch(/data-status="pending_payment">Awaiting payment</);
		expect(back).toContain("Your payment was not completed and nothing was charged.");
		expect(back).not.toContain("http-equiv");
		expect(back).toContain(`<a class="button" href="/orders/${orderId}/pay">Go to payment</a>`);
		const pay = await browser.get(`/orders/${orderId}/pay`);
		expect(pay.status).toBe(200);
		expect(await pay.text()).toContain(`data-stripe-client-secret="${intent.client_secret}"`);

		// The next card goes through: the same order is paid.
		await stripeWebhook(browser.bus, "payment_intent.succeeded", { ...intent, status: "succeeded", amount_received: intent.amount });
		await browser.bus.pump();
		expect(await orderStatus(orderId)).toBe("paid");
	});

	it("without a publishable key the pay page offers no card form, loads no Stripe.js and keeps the shop's own CSP", async () => {
		const { orderId, browser } = await placedOrder();
		const unconfigured = new Browser(new Bus({ ...STRIPE_SHOP, STRIPE_PUBLISHABLE_KEY: "" }));
		for (const [name, value] of browser.cookies) unconfigured.cookies.set(name, value);
		const res = await unconfigured.get(`/orders/${orderId}/pay`);
		expect(res.status).toBe(200);
		expect(res.headers.get("content-security-policy")).toBe(PAGE_CSP);
		const page = await res.text();
		expect(page).toContain("The payment could not be prepared just now.");
		expect(page).not.toContain("js.stripe.com");
		expect(page).not.toContain("data-stripe-client-secret");
	});

	it("the test provider's pay page keeps its two buttons and the shop's own CSP", async () => {
		const { sku, productId } = await newSku(1000);
		await stock(sku, 2);
		const [product] = await withDb((db) => db.primary.select().from(products).where(eq(products.id, productId)));
		const browser = new Browser();
		await browser.post("/cart/items", { product: product?.slug ?? "", sku, quantity: "1" });
		const key = fieldValue(await browser.page("/checkout"), "idempotency_key");
		const pay = await browser.get(redirectOf(await browser.post("/checkout", { ...CHECKOUT_FORM, idempotency_key: key })));
		expect(pay.headers.get("content-security-policy")).toBe(PAGE_CSP);
		const page = await pay.text();
		expect(page).toContain("Pay now</button>");
		expect(page).toContain("Simulate failed payment</button>");
		expect(page).not.toContain("stripe");
	});
});
