import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { marketList, resolveMarket } from "../workers/catalog/markets.ts";
import { variants } from "../workers/db/schema.ts";
import { convertMinor } from "../workers/domain/money.ts";
import { allocate, discountLines, taxOn } from "../workers/orders/pricing.ts";
import { call, problemOf, withDb } from "./helpers.ts";
import { ADDRESS, Bus, checkoutOk, checkoutRequest, guestCart, headersFor, newSku, stock } from "./orders-helpers.ts";

/**
 * Markets, VAT-inclusive and tax-exclusive prices, and shipping methods
 * (issue 17), against the markets migration 0016 seeds: EU (EUR, VAT
 * included), UK (GBP at 0.86 per euro, VAT included), US (USD at 1.08 per
 * euro, sales tax on top). Every expected figure is worked out by hand in
 * the comment above it.
 */

const GB_ADDRESS = { name: "Amy Pond", line1: "1 Leadworth Rd", city: "Gloucester", postal_code: "GL1 1AA", country: "GB" };
const NY_ADDRESS = { name: "Rory Williams", line1: "350 5th Ave", city: "New York", region: "NY", postal_code: "10118", country: "US" };

async function setWeight(sku: string, grams: number): Promise<void> {
	await withDb((db) => db.primary.update(variants).set({ weightGrams: grams }).where(eq(variants.sku, sku)));
}

describe("pricing rules (orders/pricing.ts)", () => {
	it("takes VAT out of an inclusive amount and adds it to an exclusive one, half up", () => {
		// 39.00 × 19/119 = 6.2269 → 6.23; 4.95 × 19/119 = 0.7903 → 0.79; 0.21 × 19/119 = 0.0335 → 0.03.
		expect(taxOn(3900, 1900, "inclusive")).toBe(623);
		expect(taxOn(495, 1900, "inclusive")).toBe(79);
		expect(taxOn(21, 1900, "inclusive")).toBe(3);
		// 42.12 × 4 % = 1.6848 → 1.68; 0.125 × 100 % → half up: 12.5 → 13 with an amount of 25 at 50 %.
		expect(taxOn(4212, 400, "exclusive")).toBe(168);
		expect(taxOn(25, 5000, "exclusive")).toBe(13);
		expect(taxOn(1000, 0, "inclusive")).toBe(0);
	});

	it("allocates an order discount to lines in proportion, the leftover units to the largest remainders", () => {
		// 100 over 1 : 1 : 1 → 33.33 each: floors 33, 33, 33, one unit left to the first (all remainders equal).
		expect(allocate(100, [500, 500, 500])).toEqual([34, 33, 33]);
		// 10 over 2999 : 1: 9.9967 and 0.0033 → 9 and 0, the unit left to the first.
		expect(allocate(10, [2999, 1])).toEqual([10, 0]);
		expect(allocate(0, [10, 20])).toEqual([0, 0]);
		const { lines, discount } = discountLines(
			[
				{ key: "a", amount: 2500, taxClass: "standard" },
				{ key: "b", amount: 990, taxClass: "reduced" },
			],
			{ kind: "percentage", value: 1000 },
		);
		// 10 % of 34.90 = 3.49, split 25.00 : 9.90 → 2.4999 and 0.9900 → floors 2.49 and 0.99 (sum 3.48), one unit to a.
		expect(discount).toBe(349);
		expect(lines.map((line) => line.discount)).toEqual([250, 99]);
	});

	it("converts between currencies at the market's rate, half up to the minor unit", () => {
		// 39.00 EUR × 0.86 = 33.54 GBP; × 1.08 = 42.12 USD; 0.05 EUR × 0.86 = 0.043 → 0.04; JPY has no minor unit: 39.00 × 160.5 = 6259.5 → 6260.
		expect(convertMinor(3900, "EUR", "GBP", 860_000)).toBe(3354);
		expect(convertMinor(3900, "EUR", "USD", 1_080_000)).toBe(4212);
		expect(convertMinor(5, "EUR", "GBP", 860_000)).toBe(4);
		expect(convertMinor(3900, "EUR", "JPY", 160_500_000)).toBe(6260);
	});
});

describe("markets", () => {
	it("resolves a request's market: ?market=, then ?country=, then the saved choice, then the request's country, then the default", async () => {
		const list = await withDb((db) => marketList(db.primary));
		const of = (choice: Parameters<typeof resolveMarket>[1]) => resolveMarket(list, choice).id;
		expect(of({})).toBe("eu");
		expect(of({ requestCountry: "GB" })).toBe("uk");
		expect(of({ saved: "us", requestCountry: "GB" })).toBe("us");
		expect(of({ country: "gb", saved: "us" })).toBe("uk");
		expect(of({ market: "us", country: "GB" })).toBe("us");
		// A country no market sells to, or a saved market since deleted, falls through to the next rule.
		expect(of({ country: "JP", saved: "gone", requestCountry: "US" })).toBe("us");
		expect(() => of({ market: "gone" })).toThrow(/no market "gone"/);
	});

	it("GET /v1/markets lists the seeded markets, the default first, with their currency and tax mode", async () => {
		const res = await call("/v1/markets");
		expect(res.status).toBe(200);
		const body = (await res.json()) as {
			data: { id: string; currency: string; tax_included: boolean; countries: string[] }[];
			default: string;
		};
		expect(body.default).toBe("eu");
		expect(body.data.map((m) => [m.id, m.currency, m.tax_included])).toEqual(
			expect.arrayContaining([
				["eu", "EUR", true],
				["uk", "GBP", true],
				["us", "USD", false],
			]),
		);
		expect(body.data[0]?.id).toBe("eu");
		expect(body.data.find((m) => m.id === "uk")?.countries).toEqual(["GB"]);
	});
});

describe("markets at checkout", () => {
	it("a German order of a €39.00 skillet with standard shipping totals shelf price + shipping, VAT inside", async () => {
		const bus = new Bus();
		const { sku } = await newSku(3900);
		await stock(sku, 5);
		const placed = await checkoutOk(bus, await guestCart([[sku, 1]]));
		// 39.00 + 4.95 (standard, below 50.00) = 43.95, not 52.30. VAT 19 % inside: 6.23 + 0.79 = 7.02.
		expect(placed.order).toMatchObject({
			market: "eu",
			tax_included: true,
			subtotal: { amount: 3900 },
			shipping: { amount: 495 },
			tax: { amount: 702 },
			total: { amount: 4395, currency: "EUR" },
			shipping_method: { id: "shm_eustandard", kind: "standard" },
			tax_breakdown: [{ rate_bp: 1900, taxable: { amount: 4395 }, tax: { amount: 702 } }],
		});
		expect(placed.order.lines).toMatchObject([{ unit_price: { amount: 3900, currency: "EUR" }, tax: { amount: 623 }, tax_rate_bp: 1900 }]);
	});

	it("a US order adds sales tax on top, with a weight-tier shipping rate", async () => {
		const bus = new Bus();
		const { sku, productId } = await newSku(3900);
		await stock(sku, 10);
		await setWeight(sku, 1500);
		// The shelf price in the US market: 39.00 EUR × 1.08 = 42.12 USD.
		const product = await call(`/v1/products/${productId}?market=us`);
		expect(((await product.json()) as { variants: { price: unknown }[] }).variants[0]?.price).toEqual({ amount: 4212, currency: "USD" });
		const cart = await guestCart([[sku, 1]], "us");
		// 1.5 kg is above the first tier (≤ 1 kg: 5.99) and within the second (≤ 5 kg: 9.99).
		const offered = await call(`/v1/carts/${cart.id}/shipping-methods?country=US`, { headers: headersFor({ token: cart.token }) });
		expect(offered.status).toBe(200);
		const methods = ((await offered.json()) as { methods: { id: string; price: { amount: number; currency: string } }[] }).methods;
		expect(methods.map((m) => [m.id, m.price])).toEqual([
			["shm_usstandard", { amount: 999, currency: "USD" }],
			// Two-day air by subtotal: below 100.00 it is 24.99.
			["shm_usexpress", { amount: 2499, currency: "USD" }],
		]);
		const placed = await checkoutOk(bus, cart, { shipping_address: NY_ADDRESS });
		// NY 4 %, per line then summed: 42.12 × 4 % = 1.6848 → 1.68; shipping 9.99 × 4 % = 0.3996 → 0.40. Total 42.12 + 9.99 + 2.08 = 54.19.
		expect(placed.order).toMatchObject({
			market: "us",
			tax_included: false,
			subtotal: { amount: 4212 },
			shipping: { amount: 999 },
			tax: { amount: 208 },
			total: { amount: 5419, currency: "USD" },
		});

		// Seven units of a 5.00 EUR (5.40 USD) item weighing 1.5 kg: 10.5 kg is past the second tier, so the unbounded
		// third (19.99) applies; 37.80 is below the 75.00 free threshold. Seven skillets (294.84) ship free by the same rule.
		const cheap = await newSku(500);
		await stock(cheap.sku, 10);
		await setWeight(cheap.sku, 1500);
		const offerFor = async (lines: [string, number][]) => {
			const heavy = await guestCart(lines, "us");
			const res = await call(`/v1/carts/${heavy.id}/shipping-methods?country=US`, { headers: headersFor({ token: heavy.token }) });
			return ((await res.json()) as { methods: { id: string; price: { amount: number } }[] }).methods.find((m) => m.id === "shm_usstandard")
				?.price.amount;
		};
		expect(await offerFor([[cheap.sku, 7]])).toBe(1999);
		expect(await offerFor([[sku, 7]])).toBe(0);
	});

	it("a UK shopper pays in pounds, VAT included, for the express method they picked", async () => {
		const bus = new Bus();
		const { sku } = await newSku(3900);
		await stock(sku, 5);
		const cart = await guestCart([[sku, 1]], "uk");
		const placed = await checkoutOk(bus, cart, { shipping_address: GB_ADDRESS, shipping_method: "shm_ukexpress" });
		// 39.00 EUR × 0.86 = 33.54 GBP; express 8.95; VAT 20 % inside: 33.54 × 20/120 = 5.59; 8.95 × 20/120 = 1.4917 → 1.49.
		expect(placed.order).toMatchObject({
			market: "uk",
			subtotal: { amount: 3354 },
			shipping: { amount: 895 },
			tax: { amount: 559 + 149 },
			total: { amount: 3354 + 895, currency: "GBP" },
			shipping_method: { id: "shm_ukexpress", kind: "express", name: "Next working day" },
		});
	});

	it("refuses what a cart's market cannot sell: another currency's product, an address outside it, a method not offered there", async () => {
		const bus = new Bus();
		// Priced in dollars only: the EU market sells euro prices and converts none.
		const dollars = await newSku(2500, "USD");
		const euros = await newSku(1000);
		await stock(dollars.sku, 5);
		await stock(euros.sku, 5);
		const cart = await guestCart([[euros.sku, 1]]);
		const mixed = await call(`/v1/carts/${cart.id}/items`, {
			method: "POST",
			headers: headersFor({ token: cart.token }),
			body: JSON.stringify({ sku: dollars.sku, quantity: 1 }),
		});
		expect(mixed.status).toBe(422);
		expect(await problemOf(mixed)).toMatchObject({ code: "not_sold_in_market", skus: [dollars.sku] });

		const abroad = await checkoutRequest(bus, cart, `key-${crypto.randomUUID()}`, { shipping_address: NY_ADDRESS });
		expect(abroad.status).toBe(422);
		expect(await problemOf(abroad)).toMatchObject({ code: "country_not_in_market", market: "eu", market_for_country: "us" });

		const pickupInPortugal = await checkoutRequest(bus, cart, `key-${crypto.randomUUID()}`, {
			shipping_address: { ...ADDRESS, country: "PT" },
			shipping_method: "shm_depickup",
		});
		expect(pickupInPortugal.status).toBe(422);
		expect((await problemOf(pickupInPortugal)).code).toBe("shipping_unavailable");

		// Moved to the US market, the dollar product can be bought and the euro one is priced in dollars.
		const moved = await call(`/v1/carts/${cart.id}`, {
			method: "PATCH",
			headers: headersFor({ token: cart.token }),
			body: JSON.stringify({ market: "us" }),
		});
		expect(moved.status).toBe(200);
		const view = (await moved.json()) as { market: { id: string }; lines: { unit_price: unknown }[]; subtotal: unknown };
		expect(view.market.id).toBe("us");
		expect(view.lines[0]?.unit_price).toEqual({ amount: 1080, currency: "USD" });
		const added = await call(`/v1/carts/${cart.id}/items`, {
			method: "POST",
			headers: headersFor({ token: cart.token }),
			body: JSON.stringify({ sku: dollars.sku, quantity: 1 }),
		});
		expect(added.status).toBe(200);
		expect(((await added.json()) as { subtotal: unknown }).subtotal).toEqual({ amount: 1080 + 2500, currency: "USD" });
	});

	it("catalog reads price in the market of ?market=, ?country= or the default, and refuse an unknown market", async () => {
		const { productId } = await newSku(3900);
		const priceOf = async (query: string) => {
			const res = await call(`/v1/products/${productId}${query}`);
			return ((await res.json()) as { variants: { price: unknown }[] }).variants[0]?.price;
		};
		expect(await priceOf("")).toEqual({ amount: 3900, currency: "EUR" });
		expect(await priceOf("?market=uk")).toEqual({ amount: 3354, currency: "GBP" });
		expect(await priceOf("?country=US")).toEqual({ amount: 4212, currency: "USD" });
		// A country no market sells to falls back to the default.
		expect(await priceOf("?country=JP")).toEqual({ amount: 3900, currency: "EUR" });
		const unknown = await call(`/v1/products/${productId}?market=mars`);
		expect(unknown.status).toBe(422);
		expect((await problemOf(unknown)).code).toBe("unknown_market");
	});
});
