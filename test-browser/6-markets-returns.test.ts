import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { addToCart, buyableVariants, payNow, QUEUE_TIMEOUT_MS, signIn, waitForOrderStatus } from "./flows.ts";
import { browserTest, harness } from "./harness.ts";

/** A 10 % code, made through the admin API as a merchant would in the console. */
async function newCode(): Promise<string> {
	const { baseUrl, admin } = harness();
	const login = await fetch(`${baseUrl}/v1/auth/login`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ email: admin.email, password: admin.password }),
	});
	assert.equal(login.status, 200, "the admin signs in through the API");
	const { access_token: token } = (await login.json()) as { access_token: string };
	const code = `UK${Date.now().toString(36).toUpperCase()}`;
	const created = await fetch(`${baseUrl}/v1/admin/promotions`, {
		method: "POST",
		headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
		body: JSON.stringify({ code, name: "Ten per cent off", kind: "percentage", value: 1000 }),
	});
	assert.equal(created.status, 201, `the code is created (${await created.clone().text()})`);
	return code;
}

/** The admin console's order page, by the order's id. */
async function openAdminOrder(admin: Page, orderId: string): Promise<void> {
	await admin.goto(`/admin/orders/${orderId}`);
	await admin.getByRole("heading", { level: 1, name: `Order ${orderId}` }).waitFor();
}

browserTest(
	"a UK shopper pays in pounds with VAT included, by express, with a code, returns one line; the admin approves, receives and refunds it",
	async (session) => {
		const code = await newCode();
		const shopper = await session.person();

		// The "Ship to" picker: the United Kingdom prices everything in pounds, VAT included.
		await shopper.goto("/p/organic-cotton-crew-tee?market=uk");
		await shopper.getByLabel("Ship to").waitFor();
		assert.equal(await shopper.getByLabel("Ship to").inputValue(), "uk");
		await shopper.locator(".product-page .price.lead").filter({ hasText: "£" }).waitFor();
		await shopper.getByText("incl. VAT").first().waitFor();
		const [first, second] = await buyableVariants(shopper, 2);
		assert.ok(first && second);
		await addToCart(shopper, first);
		await addToCart(shopper, second);

		await shopper.goto("/cart");
		await shopper.getByText("Prices include VAT.").waitFor();
		await shopper.locator(".cart-summary").getByText("£").first().waitFor();
		await shopper.goto("/checkout");
		await shopper.getByRole("heading", { level: 1, name: "Checkout" }).waitFor();
		const country = shopper.getByLabel("Country", { exact: true });
		assert.equal(await country.inputValue(), "GB", "a UK cart ships to the United Kingdom");
		const email = `uk.shopper.${Date.now()}@example.test`;
		await shopper.getByLabel("Email", { exact: true }).fill(email);
		await shopper.getByLabel("Full name", { exact: true }).fill("Amy Pond");
		await shopper.getByLabel("Address", { exact: true }).fill("1 Leadworth Road");
		await shopper.getByLabel("City", { exact: true }).fill("Gloucester");
		await shopper.getByLabel("Postal code", { exact: true }).fill("GL1 1AA");
		await shopper.getByLabel(/Next working day/).check();
		await shopper.getByLabel("Discount code", { exact: true }).fill(code.toLowerCase());
		await session.screenshot("uk-checkout", shopper);
		await Promise.all([shopper.waitForURL(/\/orders\/ord_[0-9a-z]+\/pay$/), shopper.getByRole("button", { name: "Place order" }).click()]);
		const orderId = /\/orders\/(ord_[0-9a-z]+)\/pay$/.exec(shopper.url())?.[1];
		assert.ok(orderId);
		await payNow(shopper, orderId);
		await waitForOrderStatus(shopper, "Paid");
		await shopper.getByText("Shipping (Next working day)").waitFor();
		await shopper.getByText("Includes VAT 20 %").waitFor();
		await shopper.getByText(`Discount (${code})`).waitFor();

		// The merchant ships it.
		const admin = await session.person();
		await signIn(admin, harness().admin.email, harness().admin.password, `/admin/orders/${orderId}`);
		await openAdminOrder(admin, orderId);
		await admin.getByRole("button", { name: "Mark fulfilled" }).click();
		await admin.getByLabel("Tracking number", { exact: true }).waitFor();
		await admin.getByLabel("Tracking number", { exact: true }).fill(`GB${Date.now()}`);
		await admin.getByLabel("Carrier", { exact: true }).fill("Royal Mail");
		await admin.getByRole("button", { name: "Mark shipped" }).click();
		await admin.getByText("Shipped", { exact: true }).first().waitFor();

		// The shopper sends one line back.
		session.show(shopper);
		await shopper.reload();
		await waitForOrderStatus(shopper, "Shipped");
		await shopper.getByRole("heading", { name: "Return items" }).waitFor();
		await shopper.locator(`#return-${first.sku}`).fill("1");
		await shopper.getByLabel("Reason").fill("Too small");
		await Promise.all([shopper.waitForURL(/return=/), shopper.getByRole("button", { name: "Return items" }).click()]);
		await shopper.getByText("Your return request was sent.").waitFor();

		// The admin approves it, receives the parcel and refunds the line, restocking it.
		session.show(admin);
		await admin.goto("/admin/returns?status=requested");
		await admin.getByRole("heading", { level: 1, name: "Returns" }).waitFor();
		const row = admin.locator("tr").filter({ hasText: email });
		await Promise.all([admin.waitForURL(/\/admin\/returns\/ret_/), row.getByRole("link").first().click()]);
		await admin.getByLabel("Instructions for the customer").fill("Post it to 1 Shop Street, Berlin, with the order number.");
		await admin.getByRole("button", { name: "Approve return" }).click();
		await admin.getByRole("button", { name: "Mark received" }).click();
		// The refund form asks for confirmation first (data-confirm).
		admin.once("dialog", (dialog) => void dialog.accept());
		await admin.getByRole("button", { name: "Refund return" }).click();
		await admin.getByText("No actions are possible for a return that is refunded.").waitFor();
		await session.screenshot("admin-return-refunded", admin);

		// The shopper's order page shows the refund.
		session.show(shopper);
		await shopper.reload();
		// The tee is €29.00 at 0.86: £24.94 a unit. The code's 10 % of £49.88 is £4.99, split over the two lines
		// as £2.50 and £2.49 (the leftover penny to the first): the returned line paid £24.94 − £2.50 = £22.44.
		await shopper.getByText("Refunded £22.44").waitFor({ timeout: QUEUE_TIMEOUT_MS });
		await shopper.getByText("Partly refunded", { exact: true }).first().waitFor({ timeout: QUEUE_TIMEOUT_MS });
	},
	{ timeout: 240_000 },
);
