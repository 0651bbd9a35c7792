import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { products, variants } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import worker from "../workers/index.ts";
import { CATALOG_PAGE_CACHE } from "../workers/web/layout.tsx";
import { call, callWith, problemOf, withDb } from "./helpers.ts";
import { newSku, stock } from "./orders-helpers.ts";
import { Browser } from "./web-helpers.ts";

const html = { accept: "text/html" };

/** A product of its own with the given price and units, and its page's slug and title. */
async function product(priceMinor: number, units: number) {
	const { sku, productId } = await newSku(priceMinor);
	if (units > 0) await stock(sku, units);
	const [row] = await withDb((db) => db.primary.select().from(products).where(eq(products.id, productId)));
	if (!row) throw new Error("test product vanished");
	return { sku, slug: row.slug, title: row.title, word: row.title.split(" ").at(-1) as string };
}

/** The product titles a listing page shows, in order. */
function titles(page: string): string[] {
	return [...page.matchAll(/<h3>([^<]+)<\/h3>/g)].map((match) =>
		(match[1] as string).replaceAll("&#39;", "'").replaceAll("&quot;", '"').replaceAll("&amp;", "&"),
	);
}

/** The product slugs a listing page links to, in order. */
function slugs(page: string): string[] {
	return [...page.matchAll(/<article class="product-card"><a href="\/p\/([^"]+)">/g)].map((match) => match[1] as string);
}

function nextHref(page: string): string | undefined {
	return /<a class="button secondary" href="([^"]+)" rel="next">Next page<\/a>/.exec(page)?.[1]?.replaceAll("&amp;", "&");
}

describe("search and category pages", () => {
	it("finds a product by its words, links its card to /p/{slug}, and is cacheable with nothing personal", async () => {
		const item = await product(1500, 0);
		const res = await call(`/search?q=${item.word}`, { headers: { ...html, cookie: "ec_at=not-a-token; ec_cart=cart_x" } });
		expect(res.status).toBe(200);
		expect(res.headers.get("cache-control")).toBe(CATALOG_PAGE_CACHE);
		// A catalog page never reads the session, so it never sets a cookie either.
		expect(res.headers.get("set-cookie")).toBeNull();
		const page = await res.text();
		expect(page).toContain(`<h1>Results for “${item.word}”</h1>`);
		expect(page).toMatch(new RegExp(`<article class="product-card"><a href="/p/${item.slug}">[\\s\\S]*?<h3>${item.title}</h3>`));
		expect(page).toContain('<label for="filter-q">Keywords</label>');
	});

	it("filters by price in major units (converted to cents) and by stock", async () => {
		const item = await product(1999, 0);
		const browser = new Browser();
		expect(titles(await browser.page(`/search?q=${item.word}&min_price=19.99&max_price=20`))).toEqual([item.title]);
		expect(titles(await browser.page(`/search?q=${item.word}&min_price=20`))).toEqual([]);
		expect(titles(await browser.page(`/search?q=${item.word}&max_price=19,98`))).toEqual([]);
		// No stock recorded in the ledger: the in-stock filter leaves it out.
		expect(titles(await browser.page(`/search?q=${item.word}&in_stock=1`))).toEqual([]);
		const typo = await browser.page(`/search?q=${item.word}&min_price=ten`);
		expect(typo).toContain('role="alert"');
		expect(typo).toContain("Enter prices as numbers");
		expect(titles(typo)).toEqual([item.title]);
	});

	it("pages with Next page links through every match once, in the same order as the API", async () => {
		// Thirty products of its own, with price ties, so the keyset's id tie-break is exercised too.
		const tag = `pager${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
		await withDb(async (db) => {
			for (let i = 0; i < 30; i++) {
				const productId = newId("prod");
				await db.primary.insert(products).values({ id: productId, slug: `${tag}-${i}`, title: `${tag} item ${i}`, status: "active" });
				await db.primary.insert(variants).values({
					id: newId("var"),
					productId,
					sku: `${tag.toUpperCase()}-${i}`,
					title: "",
					priceMinor: 100 * (i % 7) + 500,
					currency: "EUR",
				});
			}
		});
		const browser = new Browser();
		let href: string | undefined = `/search?q=${tag}&sort=price_asc`;
		const seen: string[] = [];
		let pages = 0;
		for (; href && pages < 5; pages++) {
			const page = await browser.page(href);
			seen.push(...slugs(page));
			href = nextHref(page);
		}
		expect(pages).toBe(2);
		expect(seen).toHaveLength(30);
		expect(new Set(seen).size).toBe(30);
		const api = (await (await call(`/v1/products?q=${tag}&sort=price_asc&limit=100`)).json()) as { data: { slug: string }[] };
		expect(seen).toEqual(api.data.map((row) => row.slug));
	});

	it("answers a stale cursor with the first page and a note, not an error", async () => {
		const res = await call("/search?cursor=bm9wZQ", { headers: html });
		expect(res.status).toBe(200);
		expect(await res.text()).toContain("That page link had expired");
	});

	it("shows a category with its sub-categories, and a 404 page for an unknown one", async () => {
		const tree = (await (await call("/v1/categories")).json()) as { data: { slug: string; name: string; children: { slug: string }[] }[] };
		const parent = tree.data.find((category) => category.children.length > 0) ?? tree.data[0];
		if (!parent) throw new Error("the seeded catalog has no categories");
		const res = await call(`/c/${parent.slug}`, { headers: html });
		expect(res.status).toBe(200);
		expect(res.headers.get("cache-control")).toBe(CATALOG_PAGE_CACHE);
		const page = await res.text();
		expect(page).toContain(`<h1>${parent.name}</h1>`);
		for (const child of parent.children) expect(page).toContain(`href="/c/${child.slug}"`);
		const missing = await call("/c/no-such-category", { headers: html });
		expect(missing.status).toBe(404);
		expect(await missing.text()).toContain("Page not found");
	});
});

describe("product page", () => {
	it("offers each live variant as a radio with its price and a stock badge read from the InventoryItem", async () => {
		const plenty = await product(2500, 12);
		const res = await call(`/p/${plenty.slug}`, { headers: html });
		expect(res.status).toBe(200);
		expect(res.headers.get("cache-control")).toBe(CATALOG_PAGE_CACHE);
		const page = await res.text();
		expect(page).toContain(`<h1>${plenty.title}</h1>`);
		expect(page).toContain('<form class="card buy-box" action="/cart/items" method="post" data-stock-form="true">');
		expect(page).toMatch(new RegExp(`<input id="variant-${plenty.sku}" type="radio" name="sku" value="${plenty.sku}" checked=""`));
		expect(page).toMatch(/€25\.00/);
		expect(page).toContain(`data-live-sku="${plenty.sku}" data-available="12" data-level="ok">12 in stock</span>`);
		expect(page).toContain('<label for="quantity">Quantity</label>');
		expect(page).toMatch(/name="quantity" min="1" max="10" step="1" value="1"/);
		expect(page).toContain('<button type="submit" class="wide">Add to cart</button>');

		const few = await product(900, 3);
		expect(await (await call(`/p/${few.slug}`, { headers: html })).text()).toContain(">Only 3 left</span>");

		const none = await product(900, 0);
		const soldOut = await (await call(`/p/${none.slug}`, { headers: html })).text();
		expect(soldOut).toContain(">Out of stock</span>");
		expect(soldOut).toMatch(new RegExp(`value="${none.sku}"[^>]*disabled=""`));
	});

	it("answers an unknown product with the HTML 404 page", async () => {
		const res = await call("/p/no-such-product", { headers: html });
		expect(res.status).toBe(404);
		expect(res.headers.get("content-type")).toMatch(/^text\/html/);
		expect(await res.text()).toContain("Page not found");
	});
});

describe("page errors", () => {
	it("serves an HTML 404 page to browsers for unknown pages, and problem+json to API clients and under /v1", async () => {
		const page = await call("/no/such/page", { headers: html });
		expect(page.status).toBe(404);
		expect(page.headers.get("content-type")).toMatch(/^text\/html/);
		expect(page.headers.get("cache-control")).toBe("private, no-store");
		const text = await page.text();
		expect(text).toContain("Page not found");
		expect(text).toContain('href="/search"');

		const api = await call("/no/such/page");
		expect(api.status).toBe(404);
		expect((await problemOf(api)).code).toBe("not_found");
		const v1 = await call("/v1/no-such-route", { headers: html });
		expect(v1.status).toBe(404);
		expect((await problemOf(v1)).code).toBe("not_found");
	});

	it("shows a 503 page with Retry-After, and no details, when the database is down", async () => {
		const res = await callWith(worker, "/search?q=anything", { headers: html }, { DATABASE_URL: "postgres://nobody@127.0.0.1:9/none" });
		expect(res.status).toBe(503);
		expect(res.headers.get("retry-after")).toBe("5");
		expect(res.headers.get("content-type")).toMatch(/^text\/html/);
		const page = await res.text();
		expect(page).toContain("We’ll be right back");
		expect(page).not.toMatch(/127\.0\.0\.1|postgres|Error:|at \w+ \(/);
	});
});
