import assert from "node:assert/strict";
import type { WebSocket as PageSocket } from "playwright-core";
import {
	addToCart,
	buyableVariants,
	cartQuantity,
	guestAddress,
	openProduct,
	payNow,
	placeOrder,
	searchFromHeader,
	stockText,
	waitForOrderStatus,
} from "./flows.ts";
import { browserTest } from "./harness.ts";

browserTest("a guest searches, buys two variants, pays with the test provider and sees the order paid", async (session) => {
	const page = await session.person();
	await page.goto("/");
	await searchFromHeader(page, "organic cotton");
	await openProduct(page, "Organic Cotton Crew Tee");
	await session.screenshot("product-page");

	const [first, second] = await buyableVariants(page, 2, 2);
	assert.ok(first && second);
	await addToCart(page, first, 1);
	await addToCart(page, second, 2);

	await Promise.all([page.waitForURL(/\/cart$/), page.getByRole("link", { name: "View cart" }).click()]);
	await page.getByRole("heading", { level: 1, name: "Your cart" }).waitFor();
	assert.equal(await cartQuantity(page, `Organic Cotton Crew Tee — ${first.title}`).inputValue(), "1");
	assert.equal(await cartQuantity(page, `Organic Cotton Crew Tee — ${second.title}`).inputValue(), "2");

	await Promise.all([page.waitForURL(/\/checkout$/), page.getByRole("link", { name: "Checkout", exact: true }).click()]);
	const orderId = await placeOrder(page, guestAddress("search"));
	await payNow(page, orderId);
	await waitForOrderStatus(page, "Paid");
	await page.getByText("Reference").filter({ hasText: orderId }).waitFor();
});

browserTest("a second shopper's stock badge drops without a reload when another shopper checks out that SKU", async (session) => {
	const watcher = await session.person();
	// Frames the page's live-stock sockets received, by SKU: the badge must be live before the checkout.
	const frames = new Map<string, number>();
	watcher.on("websocket", (socket: PageSocket) => {
		socket.on("framereceived", ({ payload }) => {
			try {
				const data = JSON.parse(String(payload)) as { sku?: string };
				if (data.sku) frames.set(data.sku, (frames.get(data.sku) ?? 0) + 1);
			} catch {
				// not a stock message
			}
		});
	});
	await watcher.goto("/p/hand-thrown-ceramic-mug");
	const [option] = await buyableVariants(watcher, 1, 2);
	assert.ok(option);
	const socketOpen = Date.now() + 20_000;
	while (!frames.has(option.sku)) {
		assert.ok(Date.now() < socketOpen, `the product page's live-stock socket for ${option.sku} answered within 20 s`);
		await watcher.waitForTimeout(100);
	}
	const before = Number(await option.badge.getAttribute("data-available"));
	await watcher.evaluate(() => {
		(window as unknown as { sameDocument: boolean }).sameDocument = true;
	});

	const buyer = await session.person();
	await buyer.goto("/p/hand-thrown-ceramic-mug");
	const [same] = (await buyableVariants(buyer, 1, 2)).filter((candidate) => candidate.sku === option.sku);
	assert.ok(same, `the buyer sees ${option.sku} in stock`);
	await addToCart(buyer, same, 2);
	await buyer.goto("/checkout");
	await placeOrder(buyer, guestAddress("live"));

	session.show(watcher);
	const expected = stockText(before - 2);
	await watcher.locator(`[data-live-sku="${option.sku}"]`, { hasText: new RegExp(`^${expected}$`) }).waitFor({ timeout: 20_000 });
	assert.equal(
		await watcher.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument),
		true,
		"the watcher's page was not reloaded",
	);
});
