import assert from "node:assert/strict";
import type { Response } from "playwright-core";
import Stripe from "stripe";
import { STRIPE_API_VERSION } from "../workers/payments/stripe.ts";
import { addToCart, buyableVariants, guestAddress, placeOrder, waitForOrderStatus } from "./flows.ts";
import { browserTest, harness } from "./harness.ts";
import { type StripeJsCall, standInStripeJs } from "./stripe-js.ts";

/*
 * Runs against the Worker configured for Stripe (scripts/test-browser.ts):
 * its PaymentIntents are created on the local stand-in for Stripe's API,
 * Stripe.js is stood in for in the page (stripe-js.ts), and Stripe's
 * webhooks are sent from here, signed with the stripe package's test helper.
 */

function stripeShop() {
	const { stripe } = harness();
	assert.ok(stripe, "this file runs against the Stripe shop that `npm run test:browser` starts for files named *stripe*");
	return stripe;
}

/** The stripe package, pointed at the stand-in for Stripe's API that the Worker uses. */
function stripeApi(shop: ReturnType<typeof stripeShop>): Stripe {
	const url = new URL(shop.apiBase);
	return new Stripe(shop.secretKey, { host: url.hostname, port: url.port, protocol: "http" });
}

/** Posts a Stripe event about `intent` to the shop's webhook route, signed as Stripe signs it. */
async function stripeWebhook(
	type: Stripe.Event.Type,
	intent: Stripe.PaymentIntent,
	changes: Partial<Stripe.PaymentIntent>,
): Promise<{ status: number; body: unknown }> {
	const { baseUrl } = harness();
	const created = Math.floor(Date.now() / 1000);
	const { lastResponse: _response, ...object } = intent as Stripe.Response<Stripe.PaymentIntent>;
	const payload = JSON.stringify(
		{
			id: `evt_${crypto.randomUUID().replaceAll("-", "")}`,
			object: "event",
			api_version: STRIPE_API_VERSION,
			created,
			livemode: false,
			pending_webhooks: 1,
			request: { id: null, idempotency_key: null },
			type,
			data: { object: { ...object, ...changes } },
		},
		null,
		2,
	);
	const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: stripeShop().webhookSecret, timestamp: created });
	const res = await fetch(`${baseUrl}/v1/webhooks/payments/stripe`, {
		method: "POST",
		headers: { "content-type": "application/json", "stripe-signature": signature },
		body: payload,
	});
	return { status: res.status, body: await res.json() };
}

/** The sources a CSP directive allows. */
function sources(csp: string, directive: string): string[] {
	const found = csp
		.split(";")
		.map((part) => part.trim().split(/\s+/))
		.find(([name]) => name === directive);
	return found?.slice(1) ?? [];
}

function callsOf<T extends StripeJsCall["call"]>(calls: StripeJsCall[], name: T): Extract<StripeJsCall, { call: T }>[] {
	return calls.filter((call): call is Extract<StripeJsCall, { call: T }> => call.call === name);
}

browserTest(
	"a guest pays by card in Stripe's Payment Element: declined, tried again, sent back by Stripe, and paid by Stripe's webhook",
	async (session) => {
		const shop = stripeShop();
		const { baseUrl } = harness();
		const page = await session.person();
		const calls = await standInStripeJs(page, { declines: 1 });
		const refused: string[] = [];
		page.on("console", (message) => {
			if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
		});

		const product = await page.goto("/p/hand-thrown-ceramic-mug");
		const catalogCsp = product?.headers()["content-security-policy"] ?? "";
		assert.deepEqual(sources(catalogCsp, "script-src"), ["'self'"], "a catalog page runs our own scripts only");
		assert.doesNotMatch(catalogCsp, /stripe/, "a catalog page's CSP names no Stripe source");
		const [option] = await buyableVariants(page, 1);
		assert.ok(option);
		await addToCart(page, option);
		await page.goto("/checkout");

		const payPage = page.waitForResponse(
			(response: Response) =>
				/^\/orders\/ord_[0-9a-z]+\/pay$/.test(new URL(response.url()).pathname) && response.request().method() === "GET",
		);
		const orderId = await placeOrder(page, guestAddress("stripe"));
		const payCsp = (await payPage).headers()["content-security-policy"] ?? "";
		for (const [directive, source] of [
			["script-src", "https://js.stripe.com"],
			["frame-src", "https://js.stripe.com"],
			["frame-src", "https://hooks.stripe.com"],
			["connect-src", "https://api.stripe.com"],
		] as const) {
			assert.ok(sources(payCsp, directive).includes(source), `the pay page's ${directive} allows ${source}: ${payCsp}`);
		}
		assert.doesNotMatch(payCsp, /unsafe-inline|unsafe-eval/, "the pay page allows no inline script");

		// The card form is Stripe's; our button waits until it is ready, then the first card is declined.
		const pay = page.getByRole("button", { name: /^Pay / });
		await pay.click();
		await page.getByRole("alert").filter({ hasText: "Your card was declined." }).waitFor();
		assert.match(new URL(page.url()).pathname, /\/pay$/, "a declined card keeps the shopper on the pay page");

		const [elements] = callsOf(calls, "elements");
		assert.ok(elements, "the page called stripe.elements()");
		const intentId = elements.clientSecret.split("_secret_")[0] ?? "";
		const intent = await stripeApi(shop).paymentIntents.retrieve(intentId);
		assert.equal(intent.client_secret, elements.clientSecret, "Stripe.js got the order's PaymentIntent's client secret");
		assert.equal(intent.metadata.order_id, orderId);
		assert.equal(intent.currency, "eur");
		assert.ok((await pay.innerText()).includes((intent.amount / 100).toFixed(2)), "the PaymentIntent asks for the order's total");
		// What Stripe sends for the declined attempt; the PaymentIntent stays open for another card.
		const declined = await stripeWebhook("payment_intent.payment_failed", intent, {
			status: "requires_payment_method",
			last_payment_error: {
				type: "card_error",
				code: "card_declined",
				decline_code: "generic_decline",
				message: "Your card was declined.",
			},
		});
		assert.equal(declined.status, 200);

		// The second try goes through: Stripe.js leaves for our order page, which waits for the webhook.
		await Promise.all([
			page.waitForURL((url) => url.pathname === `/orders/${orderId}` && url.searchParams.get("redirect_status") === "succeeded"),
			pay.click(),
		]);
		await page.getByText("Your payment is being processed.").waitFor();
		await page.getByText("Awaiting payment", { exact: true }).waitFor();
		assert.equal(await page.getByText("Paid", { exact: true }).count(), 0, "the redirect alone does not make the order paid");

		assert.deepEqual(
			calls.map((call) => call.call),
			["Stripe", "elements", "create", "mount", "confirmPayment", "confirmPayment"],
			"Stripe.js was driven as Stripe documents, once per page and once per attempt",
		);
		assert.deepEqual(callsOf(calls, "Stripe"), [{ call: "Stripe", publishableKey: shop.publishableKey }]);
		assert.deepEqual(callsOf(calls, "create"), [{ call: "create", type: "payment" }]);
		const [mount] = callsOf(calls, "mount");
		assert.ok(
			mount && "data-payment-element" in mount.into.attributes && "data-stripe-payment" in mount.into.formAttributes,
			"mounted in the pay form",
		);
		for (const confirm of callsOf(calls, "confirmPayment")) {
			assert.equal(confirm.returnUrl, `${baseUrl}/orders/${orderId}`, "return_url is the order page's absolute address");
			assert.equal(confirm.sameElements, true, "confirmPayment got the elements the form was mounted with");
		}

		const succeeded = await stripeWebhook("payment_intent.succeeded", intent, { status: "succeeded", amount_received: intent.amount });
		assert.deepEqual(succeeded, { status: 200, body: { received: true, queued: true } });
		await waitForOrderStatus(page, "Paid");
		await page.getByText("Thank you! Your payment was received.").waitFor();
		assert.deepEqual(refused, [], "nothing the pages loaded was refused by their CSP");
	},
);
