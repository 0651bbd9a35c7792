import assert from "node:assert/strict";
import { addToCart, buyableVariants, guestAddress, payNow, placeOrder, signIn, waitForOrderStatus } from "./flows.ts";
import { browserTest, harness } from "./harness.ts";

browserTest("an admin fulfils and ships a paid order and the shopper's order page shows the tracking number", async (session) => {
	const shopper = await session.person();
	await shopper.goto("/p/carbon-steel-wok");
	const [option] = await buyableVariants(shopper, 1);
	assert.ok(option);
	await addToCart(shopper, option);
	await shopper.goto("/checkout");
	const address = guestAddress("admin");
	const orderId = await placeOrder(shopper, address);
	await payNow(shopper, orderId);
	await waitForOrderStatus(shopper, "Paid");

	const admin = await session.person();
	const { email, password } = harness().admin;
	await signIn(admin, email, password, "/admin/orders");
	await admin.getByRole("heading", { level: 1, name: "Orders" }).waitFor();
	await admin.getByRole("navigation").getByRole("link", { name: "Orders", exact: true }).waitFor();
	await session.screenshot("admin-orders", admin);

	await admin.getByLabel("Email", { exact: true }).fill(address.email);
	await Promise.all([admin.waitForURL(/\/admin\/orders\?/), admin.getByRole("button", { name: "Filter" }).click()]);
	await Promise.all([
		admin.waitForURL(new RegExp(`/admin/orders/${orderId}$`)),
		admin.getByRole("link", { name: orderId, exact: true }).click(),
	]);
	await admin.getByRole("heading", { level: 1, name: `Order ${orderId}` }).waitFor();

	await Promise.all([admin.waitForURL(/notice=/), admin.getByRole("button", { name: "Mark fulfilled" }).click()]);
	await admin.getByRole("status").waitFor();
	await admin.getByText("Fulfilled", { exact: true }).first().waitFor();

	const tracking = `1Z${Date.now()}`;
	await admin.getByLabel("Tracking number", { exact: true }).fill(tracking);
	await admin.getByLabel("Carrier", { exact: true }).fill("DHL");
	await Promise.all([admin.waitForURL(/notice=shipped|notice=/), admin.getByRole("button", { name: "Mark shipped" }).click()]);
	await admin.getByRole("status").waitFor();
	await admin.getByText("Shipped", { exact: true }).first().waitFor();

	session.show(shopper);
	await shopper.reload();
	await waitForOrderStatus(shopper, "Shipped");
	await shopper.getByText(`Tracking number: ${tracking}`, { exact: true }).waitFor();
});
