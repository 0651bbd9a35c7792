/**
 * The steps shoppers and admins take, written against the UI contract
 * (docs/storefront-contract.md) with role and label locators, so a control
 * that loses its label or role fails here as it would fail a screen reader.
 */
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";

/** How long the order page may take to show a payment the orders queue confirms (wrangler dev batches every 2 s). */
export const QUEUE_TIMEOUT_MS = 45_000;

/** Stock badge texts, exactly as the contract (and app.js) write them. */
export function stockText(available: number): string {
	if (available <= 0) return "Out of stock";
	return available <= 5 ? `Only ${available} left` : `${available} in stock`;
}

function escapeRegExp(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Types into the header's search box and submits it. */
export async function searchFromHeader(page: Page, query: string): Promise<void> {
	await page.getByRole("searchbox", { name: "Search products" }).fill(query);
	await Promise.all([page.waitForURL(/\/search\?/), page.getByRole("button", { name: "Search", exact: true }).click()]);
	await page.getByRole("heading", { level: 1, name: `Results for “${query}”` }).waitFor();
}

/** Opens a product from a grid of results by its title, and waits for its page. */
export async function openProduct(page: Page, title: string): Promise<void> {
	await Promise.all([page.waitForURL(/\/p\/[^/?]+$/), page.getByRole("link", { name: title }).first().click()]);
	await page.getByRole("heading", { level: 1, name: title }).waitFor();
}

export interface VariantOption {
	sku: string;
	/** The variant's title, the start of its radio's accessible name. */
	title: string;
	available: number;
	radio: Locator;
	badge: Locator;
}

/**
 * The product form's variants: one radio per variant named by its label
 * (title, price, stock), each with its live badge `[data-live-sku]`.
 */
export async function variantOptions(page: Page): Promise<VariantOption[]> {
	const form = page.locator("form[action='/cart/items']");
	const values = await form
		.locator("input[type=radio][name=sku]")
		.evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value));
	const options: VariantOption[] = [];
	for (const sku of values) {
		const title = (await form.locator(`label[for="variant-${sku}"] .variant-title`).innerText()).trim();
		const badge = page.locator(`[data-live-sku="${sku}"]`);
		const available = Number(await badge.getAttribute("data-available"));
		const radio = page.getByRole("radio", { name: new RegExp(`^${escapeRegExp(title)}(?![\\w])`) });
		assert.equal(await radio.count(), 1, `one radio named "${title}…" for ${sku}`);
		assert.equal(await radio.getAttribute("value"), sku, `the radio named "${title}…" submits ${sku}`);
		assert.equal((await badge.innerText()).trim(), stockText(available), `the badge of ${sku} says "${stockText(available)}"`);
		options.push({ sku, title, available, radio, badge });
	}
	return options;
}

/** Variants that can be bought `quantity` at a time, in page order. */
export async function buyableVariants(page: Page, count: number, quantity = 1): Promise<VariantOption[]> {
	const buyable = (await variantOptions(page)).filter((option) => option.available >= quantity);
	assert.ok(buyable.length >= count, `the product page offers ${count} variant(s) with ${quantity} in stock (found ${buyable.length})`);
	return buyable.slice(0, count);
}

/** Chooses a variant by its radio, sets the quantity and submits the product form; waits for "Added to your cart." */
export async function addToCart(page: Page, option: VariantOption, quantity = 1): Promise<void> {
	await option.radio.check();
	await page.getByLabel("Quantity", { exact: true }).fill(String(quantity));
	await Promise.all([
		page.waitForURL((url) => url.searchParams.get("added") === option.sku),
		page.getByRole("button", { name: "Add to cart" }).click(),
	]);
	const status = page.getByRole("status").filter({ hasText: "Added to your cart." });
	await status.waitFor();
	await status.getByRole("link", { name: "View cart" }).waitFor();
}

/** The cart page's line for a cart line title ("Product — Variant"), found by its quantity field's label. */
export function cartQuantity(page: Page, lineTitle: string): Locator {
	return page.getByRole("spinbutton", { name: `Quantity for ${lineTitle}`, exact: true });
}

export interface Address {
	email: string;
	name: string;
	line1: string;
	city: string;
	postalCode: string;
	/** ISO code of the Country select; the contract's default is DE. */
	country?: string;
}

export function guestAddress(tag: string): Address {
	return {
		email: `guest.${tag}.${Date.now()}@example.test`,
		name: "Erika Mustermann",
		line1: "Torstraße 1",
		city: "Berlin",
		postalCode: "10119",
	};
}

/** Fills the checkout form by its labels and places the order; returns the order id from the pay page's address. */
export async function placeOrder(page: Page, address: Address): Promise<string> {
	await page.getByRole("heading", { level: 1, name: "Checkout" }).waitFor();
	await page.getByLabel("Email", { exact: true }).fill(address.email);
	await page.getByLabel("Full name", { exact: true }).fill(address.name);
	await page.getByLabel("Address", { exact: true }).fill(address.line1);
	await page.getByLabel("City", { exact: true }).fill(address.city);
	await page.getByLabel("Postal code", { exact: true }).fill(address.postalCode);
	const country = page.getByLabel("Country", { exact: true });
	assert.equal(await country.inputValue(), "DE", "the Country select defaults to DE");
	if (address.country) await country.selectOption(address.country);
	await Promise.all([page.waitForURL(/\/orders\/ord_[0-9a-z]+\/pay$/), page.getByRole("button", { name: "Place order" }).click()]);
	const id = /\/orders\/(ord_[0-9a-z]+)\/pay$/.exec(page.url())?.[1];
	assert.ok(id, `the pay page's address names the order (${page.url()})`);
	return id;
}

/** Pays with the test provider ("Pay now") and lands on the order page. */
export async function payNow(page: Page, orderId: string): Promise<void> {
	await page.getByRole("heading", { level: 1, name: /^Pay for order / }).waitFor();
	await Promise.all([page.waitForURL(new RegExp(`/orders/${orderId}$`)), page.getByRole("button", { name: "Pay now" }).click()]);
}

/**
 * Waits until the order page shows `status` (one of the contract's status
 * texts), across the page's own refreshes while a payment is confirmed.
 */
export async function waitForOrderStatus(page: Page, status: string, timeout = QUEUE_TIMEOUT_MS): Promise<void> {
	await page.getByRole("heading", { level: 1, name: /^Order [0-9A-Z]{8}$/ }).waitFor({ timeout });
	await page.getByText(status, { exact: true }).first().waitFor({ timeout });
}

/** Signs in through /signin and waits for the page `next` leads to (the account page by default). */
export async function signIn(page: Page, email: string, password: string, next?: string): Promise<void> {
	await page.goto(next ? `/signin?next=${encodeURIComponent(next)}` : "/signin");
	await page.getByLabel("Email", { exact: true }).fill(email);
	await page.getByLabel("Password", { exact: true }).fill(password);
	await Promise.all([page.waitForURL((url) => url.pathname !== "/signin"), page.getByRole("button", { name: "Sign in" }).click()]);
}
