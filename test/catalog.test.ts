import { env } from "cloudflare:test";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { bumpCatalogVersion } from "../workers/catalog/cache.ts";
import { categories, products, variants } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import worker from "../workers/index.ts";
import { inventoryItem } from "../workers/inventory/reservations.ts";
import { authed, makeAdmin, registerShopper } from "./accounts-helpers.ts";
import { call, callWith, problemOf, withDb } from "./helpers.ts";
import { Bus, stock } from "./orders-helpers.ts";

interface Page {
	data: { id: string; slug: string; title: string; category: string | null; price: { min: number; max: number }; in_stock: boolean }[];
	next_cursor: string | null;
}

/** A made-up word no other product contains, so searches in a shared database are exact. */
function word(): string {
	return Array.from(crypto.getRandomValues(new Uint8Array(10)), (b) => String.fromCharCode(97 + (b % 26))).join("");
}

/** Inserts a product as an admin write would, including the cache-version bump. */
async function addProduct(fields: {
	title: string;
	description?: string;
	status?: "active" | "draft";
	categorySlug?: string;
	prices?: number[];
}) {
	return await withDb(async (db) => {
		const id = newId("prod");
		let categoryId: string | null = null;
		if (fields.categorySlug) {
			const [cat] = await db.primary.select({ id: categories.id }).from(categories).where(eq(categories.slug, fields.categorySlug));
			categoryId = cat?.id ?? null;
		}
		await db.primary.insert(products).values({
			id,
			slug: `${fields.title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${id.slice(5, 11)}`,
			title: fields.title,
			description: fields.description ?? "",
			status: fields.status ?? "active",
			categoryId,
		});
		await db.primary.insert(variants).values(
			(fields.prices ?? [1000]).map((price, i) => ({
				id: newId("var"),
				productId: id,
				sku: `T-${id.slice(5, 15).toUpperCase()}-${i}`,
				title: `Option ${i}`,
				priceMinor: price,
				currency: "EUR",
			})),
		);
		await bumpCatalogVersion(env.CATALOG);
		return id;
	});
}

async function page(query: string): Promise<Page> {
	const res = await call(`/v1/products?${query}`);
	if (res.status !== 200) throw new Error(`GET /v1/products?${query} answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as Page;
}

describe("search", () => {
	it("finds products by words in the title and the description, exact title matches first", async () => {
		const w = word();
		const exact = await addProduct({ title: `${w} lamp` });
		// Repeating the words ranks this one higher by text alone; the exact title must still win.
		const longer = await addProduct({ title: `${w} lamp shade for a ${w} lamp`, description: `Linen shade, ${w} lamp.` });
		const inDescription = await addProduct({ title: "Reading light", description: `A warm ${w} lamp for the bedside table.` });
		const unrelated = await addProduct({ title: "Garden hose", description: "Twenty metres." });

		const found = await page(`q=${encodeURIComponent(`${w} lamp`)}`);
		const ids = found.data.map((p) => p.id);
		expect(ids[0]).toBe(exact);
		expect(ids).toContain(longer);
		expect(ids).toContain(inDescription);
		expect(ids).not.toContain(unrelated);
		// Title words outrank description words.
		expect(ids.indexOf(longer)).toBeLessThan(ids.indexOf(inDescription));
	});

	it("combines search with category (including sub-categories), price and sort", async () => {
		const w = word();
		const cheapShirt = await addProduct({ title: `${w} tee`, categorySlug: "t-shirts", prices: [1500, 1900] });
		const dearShirt = await addProduct({ title: `${w} polo`, categorySlug: "t-shirts", prices: [5900] });
		const mug = await addProduct({ title: `${w} mug`, categorySlug: "tableware", prices: [1200] });

		const apparel = await page(`q=${w}&category=apparel`);
		expect(apparel.data.map((p) => p.id).sort()).toEqual([cheapShirt, dearShirt].sort());
		const cheap = await page(`q=${w}&max_price=2000`);
		expect(cheap.data.map((p) => p.id).sort()).toEqual([cheapShirt, mug].sort());
		const byPrice = await page(`q=${w}&sort=price_desc`);
		expect(byPrice.data.map((p) => p.id)).toEqual([dearShirt, cheapShirt, mug]);
		expect(byPrice.data[1]?.price).toMatchObject({ min: 1500, max: 1900 });
	});

	it("shows only active products", async () => {
		const w = word();
		const draft = await addProduct({ title: `${w} prototype`, status: "draft" });
		expect((await page(`q=${w}`)).data).toEqual([]);
		expect((await call(`/v1/products/${draft}`)).status).toBe(404);
	});

	it("filters to products in stock by what their InventoryItem objects report through the orders queue", async () => {
		const w = word();
		const stocked = await addProduct({ title: `${w} stocked` });
		const soldOut = await addProduct({ title: `${w} sold out` });
		// +3 received for both, then all 3 of the other held and sold; the consumer applies the objects' events.
		const skus = await withDb((db) =>
			db.primary
				.select({ sku: variants.sku, productId: variants.productId })
				.from(variants)
				.where(sql`${variants.productId} in (${stocked}, ${soldOut})`),
		);
		const skuOf = (id: string) => skus.find((v) => v.productId === id)?.sku as string;
		const bus = new Bus();
		await bus.watch(skuOf(stocked), skuOf(soldOut));
		await stock(skuOf(stocked), 3);
		await stock(skuOf(soldOut), 3);
		const item = inventoryItem(env, skuOf(soldOut));
		expect((await item.reserve(skuOf(soldOut), `hold-${w}`, 3, 60_000)).ok).toBe(true);
		expect((await item.commit(skuOf(soldOut), `hold-${w}`)).ok).toBe(true);
		await bus.pump();
		const inStock = await page(`q=${w}&in_stock=true`);
		expect(inStock.data.map((p) => p.id)).toEqual([stocked]);
		const all = await page(`q=${w}&sort=newest`);
		expect(Object.fromEntries(all.data.map((p) => [p.id, p.in_stock]))).toEqual({ [stocked]: true, [soldOut]: false });
	});
});

describe("cursor pagination", () => {
	for (const sort of ["newest", "price_asc", "price_desc"]) {
		it(`returns every active product exactly once (${sort}), even when one is added between pages`, async () => {
			const before = await withDb(async (db) => {
				const rows = await db.primary
					.select({ id: products.id })
					.from(products)
					.where(
						and(
							eq(products.status, "active"),
							// Sold in the default market (EUR): its base price is in euros, or it has a price in its list.
							sql`exists (select 1 from variants v where v.product_id = ${products.id} and v.archived_at is null
								and (v.currency = 'EUR' or exists (select 1 from market_prices mp where mp.variant_id = v.id and mp.market_id = 'eu')))`,
						),
					);
				return rows.map((r) => r.id);
			});
			const seen: string[] = [];
			let cursor: string | null = null;
			let pages = 0;
			do {
				const current: Page = await page(`sort=${sort}&limit=7${cursor ? `&cursor=${cursor}` : ""}`);
				seen.push(...current.data.map((p) => p.id));
				cursor = current.next_cursor;
				if (pages++ === 0) await addProduct({ title: `Arrival ${word()}`, prices: [1] });
			} while (cursor && pages < 1000);
			expect(new Set(seen).size).toBe(seen.length);
			for (const id of before) expect(seen).toContain(id);
		});
	}

	it("refuses a cursor from another query, a forged cursor and an oversized page", async () => {
		const first = await page("sort=newest&limit=2");
		const foreign = await call(`/v1/products?sort=price_asc&limit=2&cursor=${first.next_cursor}`);
		expect(foreign.status).toBe(400);
		expect((await problemOf(foreign)).code).toBe("invalid_cursor");
		expect((await call("/v1/products?cursor=bm9wZQ")).status).toBe(400);
		// A forged cursor with the right fingerprint but a value SQL cannot cast is still a 400, not a 500.
		const fingerprint = JSON.parse(atob((first.next_cursor as string).replaceAll("-", "+").replaceAll("_", "/"))).f;
		for (const v of ["not-a-time", 42, "2026-01-01T00:00:00Z'); drop table products; --"]) {
			const forged = btoa(JSON.stringify({ f: fingerprint, v, i: "prod_abc" }))
				.replaceAll("+", "-")
				.replaceAll("/", "_")
				.replace(/=+$/, "");
			const res = await call(`/v1/products?sort=newest&limit=2&cursor=${forged}`);
			expect(res.status, String(v)).toBe(400);
		}
		const big = await call("/v1/products?limit=101");
		expect(big.status).toBe(400);
		expect((await problemOf(big)).code).toBe("validation_failed");
		expect((await call("/v1/products?sort=relevance")).status).toBe(400);
		expect((await call("/v1/products?min_price=500&max_price=100")).status).toBe(400);
		expect((await call("/v1/products?unknown=1")).status).toBe(400);
	});
});

describe("caching", () => {
	it("serves 304 for an unchanged product and a new body and ETag after an edit", async () => {
		const id = await addProduct({ title: `Kettle ${word()}` });
		const first = await call(`/v1/products/${id}`);
		expect(first.status).toBe(200);
		const etag = first.headers.get("etag") as string;
		expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
		expect(first.headers.get("cache-control")).toContain("public");

		// With a cart cookie the edge cache lets the request through (test/edge-cache.test.ts): the catalog's own cache answers.
		const again = await call(`/v1/products/${id}`, { headers: { "if-none-match": etag, cookie: "ec_cart=behind-the-edge" } });
		expect(again.status).toBe(304);
		expect(["memory", "kv"]).toContain(again.headers.get("x-catalog-cache"));

		await withDb((db) => db.primary.update(products).set({ title: "Kettle, renamed" }).where(eq(products.id, id)));
		await bumpCatalogVersion(env.CATALOG);
		const edited = await call(`/v1/products/${id}`, { headers: { "if-none-match": etag } });
		expect(edited.status).toBe(200);
		expect(((await edited.json()) as { title: string }).title).toBe("Kettle, renamed");
		expect(edited.headers.get("etag")).not.toBe(etag);
	});

	it("shows an admin's edit on the very next read, through the admin route", async () => {
		const admin = await makeAdmin(await registerShopper());
		const id = await addProduct({ title: `Grinder ${word()}`, prices: [4500] });
		const before = await call(`/v1/products/${id}`);
		const etag = before.headers.get("etag") as string;
		const [variant] = ((await before.json()) as { variants: { sku: string }[] }).variants;
		const patch = await call(
			`/v1/admin/products/${id}`,
			authed(admin.access_token, {
				method: "PATCH",
				body: JSON.stringify({ title: "Grinder, burr", variants: [{ sku: variant?.sku, price_minor: 3900 }] }),
			}),
		);
		expect(patch.status).toBe(200);
		const after = await call(`/v1/products/${id}`, { headers: { "if-none-match": etag } });
		expect(after.status).toBe(200);
		const body = (await after.json()) as { title: string; variants: { price: { amount: number } }[] };
		expect(body.title).toBe("Grinder, burr");
		expect(body.variants[0]?.price.amount).toBe(3900);
		const listed = await page(`q=${encodeURIComponent("Grinder burr")}`);
		expect(listed.data.find((p) => p.id === id)?.price.min).toBe(3900);
	});

	it("reads by slug and by id, with variants and prices", async () => {
		const id = await addProduct({ title: `Teapot ${word()}`, prices: [2500, 3100] });
		const byId = (await (await call(`/v1/products/${id}`)).json()) as { slug: string; variants: { price: { amount: number } }[] };
		expect(byId.variants.map((v) => v.price.amount)).toEqual([2500, 3100]);
		const bySlug = await call(`/v1/products/${byId.slug}`);
		expect(bySlug.status).toBe(200);
	});

	it("falls back to Postgres when KV fails", async () => {
		const id = await addProduct({ title: `Whisk ${word()}` });
		const broken = {
			get: () => Promise.reject(new Error("kv down")),
			put: () => Promise.reject(new Error("kv down")),
		} as unknown as KVNamespace;
		const res = await callWith(worker, `/v1/products/${id}`, {}, { CATALOG: broken });
		expect(res.status).toBe(200);
		const list = await callWith(worker, "/v1/products?limit=3", {}, { CATALOG: broken });
		expect(list.status).toBe(200);
	});

	it("returns the category tree with sub-categories", async () => {
		const res = await call("/v1/categories");
		expect(res.status).toBe(200);
		const tree = (await res.json()) as { data: { slug: string; children: { slug: string }[] }[] };
		const apparel = tree.data.find((c) => c.slug === "apparel");
		expect(apparel?.children.map((c) => c.slug)).toEqual(expect.arrayContaining(["t-shirts", "knitwear"]));
	});
});
