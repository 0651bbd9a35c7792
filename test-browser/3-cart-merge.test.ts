import assert from "node:assert/strict";
import { addToCart, buyableVariants, cartQuantity, signIn } from "./flows.ts";
import { browserTest } from "./harness.ts";

browserTest("a guest's cart survives creating an account and signing in", async (session) => {
	const page = await session.person();
	await page.goto("/p/merino-hiking-socks");
	const [socks] = await buyableVariants(page, 1);
	assert.ok(socks);
	await addToCart(page, socks);

	const email = `shopper.${Date.now()}@example.test`;
	const password = "correct horse battery staple";
	await page.goto("/register");
	await page.getByLabel("Name", { exact: true }).fill("Max Mustermann");
	await page.getByLabel("Email", { exact: true }).fill(email);
	await page.getByLabel("Password", { exact: true }).fill(password);
	await Promise.all([page.waitForURL(/\/account$/), page.getByRole("button", { name: "Create account" }).click()]);
	await page.getByText(`Signed in as ${email}`).waitFor();

	await page.goto("/cart");
	assert.equal(await cartQuantity(page, `Merino Hiking Socks — ${socks.title}`).inputValue(), "1", "registering kept the guest's line");

	await page.goto("/account");
	await Promise.all([page.waitForURL((url) => url.pathname !== "/account"), page.getByRole("button", { name: "Sign out" }).click()]);
	await page.goto("/p/braided-usb-c-cable");
	const [cable] = await buyableVariants(page, 1);
	assert.ok(cable);
	await addToCart(page, cable);

	await signIn(page, email, password);
	await page.goto("/cart");
	assert.equal(await cartQuantity(page, `Merino Hiking Socks — ${socks.title}`).inputValue(), "1", "the account's own line is still there");
	assert.equal(await cartQuantity(page, `Braided USB-C Cable — ${cable.title}`).inputValue(), "1", "signing in merged the guest's line");
});
