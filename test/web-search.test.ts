import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { bumpCatalogVersion } from "../workers/catalog/cache.ts";
import { products, variants } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { assets } from "../workers/web/assets.ts";
import { withDb } from "./helpers.ts";
import { Browser } from "./web-helpers.ts";

/** The storefront's search page with facets (issue 18): plain GET forms and links, no script needed. */

function word(): string {
	return Array.from(crypto.getRandomValues(new Uint8Array(10)), (b) => String.fromCharCode(97 + (b % 26))).join("");
}

/** Three products of their own under `w`: two brands, colours, prices €15, €30 and €60. */
async function catalog(w: string): Promise<void> {
	await withDb(async (db) => {
		const specs = [
			{ title: `${w} anorak`, brand: "Acme", colour: "Black", price: 1500 },
			{ title: `${w} beanie`, brand: "Acme", colour: "Red", price: 3000 },
			{ title: `${w} cagoule`, brand: "Borealis & Co", colour: "Black", price: 6000 },
		];
		for (const spec of specs) {
			const id = newId("prod");
			await db.primary.insert(products).values({
				id,
				slug: `${spec.title.replace(" ", "-")}-${id.slice(5, 11)}`,
				title: spec.title,
				status: "active",
				attributes: { brand: spec.brand },
			});
			await db.primary.insert(variants).values({
				id: newId("var"),
				productId: id,
				sku: `WS-${id.slice(5, 17).toUpperCase()}`,
				title: spec.colour,
				options: { colour: spec.colour },
				priceMinor: spec.price,
				currency: "EUR",
			});
		}
	});
	await bumpCatalogVersion(env.CATALOG);
}

function titles(page: string): string[] {
	return [...page.matchAll(/<h3>([^<]+)<\/h3>/g)].map((match) => match[1] as string);
}

/** The checkbox of a facet value, and its label's text. */
function choice(page: string, name: string, value: string): { checked: boolean; label: string } | undefined {
	const escaped = value.replaceAll("&", "&amp;").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
	const match = new RegExp(
		`<input id="([^"]+)" type="checkbox" name="${name}" value="${escaped}"( checked="")?/><label for="\\1">([^<]+) <span class="facet-count">\\((\\d+)\\)</span>`,
	).exec(page);
	return match ? { checked: Boolean(match[2]), label: `${match[3]} (${match[4]})` } : undefined;
}

describe("search page facets", () => {
	it("shows brand and option values as checkboxes with counts, and price ranges as links", async () => {
		const w = word();
		await catalog(w);
		const page = await new Browser().page(`/search?q=${w}`);
		expect(titles(page).sort()).toEqual([`${w} anorak`, `${w} beanie`, `${w} cagoule`]);
		expect(page).toContain("3 products, sorted by best match.");
		expect(choice(page, "brand", "Acme")).toEqual({ checked: false, label: "Acme (2)" });
		expect(choice(page, "brand", "Borealis & Co")).toEqual({ checked: false, label: "Borealis &amp; Co (1)" });
		expect(page).toContain("<legend>Colour</legend>");
		expect(choice(page, "option", "colour:Black")).toEqual({ checked: false, label: "Black (2)" });
		expect(choice(page, "option", "colour:Red")).toEqual({ checked: false, label: "Red (1)" });
		// Each range link keeps the words and sets the price boxes, in euros.
		expect(page).toContain(
			`<a href="/search?q=${w}&amp;min_price=25&amp;max_price=49.99">€25.00 – €49.99 <span class="facet-count">(1)</span></a>`,
		);
		expect(page).toContain(
			`<a href="/search?q=${w}&amp;min_price=0&amp;max_price=24.99">Under €25.00 <span class="facet-count">(1)</span></a>`,
		);
	});

	it("filters by ticked values through the plain GET form, keeping them checked and in the page links", async () => {
		const w = word();
		await catalog(w);
		const browser = new Browser();
		const acme = await browser.page(`/search?q=${w}&brand=Acme`);
		expect(titles(acme).sort()).toEqual([`${w} anorak`, `${w} beanie`]);
		// Brands are alternatives: the other one still shows what ticking it would add.
		expect(choice(acme, "brand", "Acme")).toEqual({ checked: true, label: "Acme (2)" });
		expect(choice(acme, "brand", "Borealis & Co")).toEqual({ checked: false, label: "Borealis &amp; Co (1)" });
		expect(choice(acme, "option", "colour:Black")).toEqual({ checked: false, label: "Black (1)" });
		const black = await browser.page(`/search?q=${w}&brand=Acme&option=colour%3ABlack`);
		expect(titles(black)).toEqual([`${w} anorak`]);
		expect(choice(black, "option", "colour:Black")?.checked).toBe(true);
		expect(black).toContain(`href="/search?q=${w}&amp;min_price=0&amp;max_price=24.99&amp;brand=Acme&amp;option=colour%3ABlack"`);
		// A value that matches nothing any more stays listed, ticked, so it can be unticked.
		const gone = await browser.page(`/search?q=${w}&brand=Nobody`);
		expect(titles(gone)).toEqual([]);
		expect(choice(gone, "brand", "Nobody")).toEqual({ checked: true, label: "Nobody (0)" });
	});

	it("drops malformed facet values instead of failing, and notes when similar titles are shown", async () => {
		const w = word();
		await catalog(w);
		const browser = new Browser();
		const lenient = await browser.page(`/search?q=${w}&option=colour&brand=${"x".repeat(600)}`);
		expect(titles(lenient)).toHaveLength(3);
		const typo = await browser.page(`/search?q=${w.slice(0, 5)}q${w.slice(6)}`);
		expect(typo).toContain("so similar titles are shown too.");
		expect(titles(typo).length).toBeGreaterThan(0);
	});

	it("offers suggestions under the header's box through app.js, and a plain form without it", async () => {
		const page = await new Browser().page("/search?q=merino");
		expect(page).toContain('<form action="/search" method="get" data-suggest="eu">');
		expect(page).toContain(
			'<input id="site-search" type="search" name="q" value="merino" placeholder="Search products" autocomplete="off"/>',
		);
		expect(page).toContain('<ul class="suggestions" id="site-search-suggestions" aria-label="Suggestions" hidden=""></ul>');
		const script = await env.ASSETS.fetch(new Request(`https://shop.test${assets["app.js"]}`));
		expect(await script.text()).toContain("/v1/search/suggest?");
	});
});
