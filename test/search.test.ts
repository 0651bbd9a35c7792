import { env } from "cloudflare:test";
import { type SQL, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { bumpCatalogVersion } from "../workers/catalog/cache.ts";
import { categories, products, variants } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { call, problemOf, withDb } from "./helpers.ts";

/**
 * Search (issue 18): typo tolerance, facets and suggestions. Every test makes
 * products of its own under made-up words and categories, so parallel test
 * files adding products never change a count here.
 */

interface Facets {
	categories: { slug: string; name: string; count: number }[];
	prices: { currency: string; buckets: { min: number; max: number | null; count: number }[] };
	brands: { value: string; count: number }[];
	options: { name: string; values: { value: string; count: number }[] }[];
}

interface Page {
	data: { id: string; slug: string; title: string; price: { min: number; max: number; currency: string } }[];
	next_cursor: string | null;
	total: number;
	fuzzy: boolean;
	facets: Facets;
}

/** A made-up word no other product contains. */
function word(length = 10): string {
	return Array.from(crypto.getRandomValues(new Uint8Array(length)), (b) => String.fromCharCode(97 + (b % 26))).join("");
}

/** The word with one letter in its middle replaced: a typo. */
function typo(text: string): string {
	const at = Math.floor(text.length / 2);
	const replacement = text[at] === "q" ? "x" : "q";
	return `${text.slice(0, at)}${replacement}${text.slice(at + 1)}`;
}

interface VariantSpec {
	options?: Record<string, string>;
	price: number;
	currency?: string;
	archived?: boolean;
}

interface ProductSpec {
	title: string;
	categoryId?: string | null;
	brand?: string;
	status?: "active" | "draft";
	variants?: VariantSpec[];
}

/** Inserts products with their variants, then bumps the catalog version as an admin write does. */
async function addProducts(specs: ProductSpec[]): Promise<string[]> {
	const ids = await withDb(async (db) => {
		const made: string[] = [];
		for (const spec of specs) {
			const id = newId("prod");
			await db.primary.insert(products).values({
				id,
				slug: `${spec.title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${id.slice(5, 11)}`,
				title: spec.title,
				status: spec.status ?? "active",
				categoryId: spec.categoryId ?? null,
				attributes: spec.brand ? { brand: spec.brand } : {},
			});
			await db.primary.insert(variants).values(
				(spec.variants ?? [{ price: 1000 }]).map((variant, i) => ({
					id: newId("var"),
					productId: id,
					sku: `S-${id.slice(5, 17).toUpperCase()}-${i}`,
					title: Object.values(variant.options ?? {}).join(" / "),
					options: variant.options ?? {},
					priceMinor: variant.price,
					currency: variant.currency ?? "EUR",
					archivedAt: variant.archived ? new Date() : null,
				})),
			);
			made.push(id);
		}
		return made;
	});
	await bumpCatalogVersion(env.CATALOG);
	return ids;
}

async function addCategory(slug: string, parentId: string | null = null): Promise<string> {
	const id = newId("cat");
	await withDb((db) => db.primary.insert(categories).values({ id, slug, name: `Category ${slug}`, parentId }));
	return id;
}

async function page(query: string): Promise<Page> {
	const res = await call(`/v1/products?${query}`);
	if (res.status !== 200) throw new Error(`GET /v1/products?${query} answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as Page;
}

async function suggest(query: string): Promise<{ id: string; slug: string; title: string }[]> {
	const res = await call(`/v1/search/suggest?${query}`);
	if (res.status !== 200) throw new Error(`GET /v1/search/suggest?${query} answered ${res.status}: ${await res.text()}`);
	return ((await res.json()) as { data: { id: string; slug: string; title: string }[] }).data;
}

/** Every page of a query, following next_cursor. */
async function allPages(query: string): Promise<Page[]> {
	const pages: Page[] = [];
	let cursor: string | null = null;
	for (let n = 0; n < 100; n++) {
		const current: Page = await page(`${query}${cursor ? `&cursor=${cursor}` : ""}`);
		pages.push(current);
		cursor = current.next_cursor;
		if (!cursor) return pages;
	}
	throw new Error("more than 100 pages");
}

describe("typo tolerance", () => {
	it("finds the Merino Base Layer Tee for “merrino”, which full text does not know", async () => {
		const found = await page("q=merrino");
		expect(found.fuzzy).toBe(true);
		expect(found.data.map((p) => p.slug)).toContain("merino-base-layer-tee");
		expect(found.data.find((p) => p.slug === "merino-base-layer-tee")?.title).toBe("Merino Base Layer Tee");
		expect(found.total).toBe(found.data.length);
	});

	it("finds a product by a misspelt word of its title, after every full-text match", async () => {
		const w = word();
		const [exact, misspelt] = await addProducts([{ title: `${w} lamp` }, { title: `${typo(w)} lantern` }]);
		// Only one full-text match: similar titles join, ranked below it.
		const found = await page(`q=${w}`);
		expect(found.fuzzy).toBe(true);
		expect(found.data.map((p) => p.id)).toEqual([exact, misspelt]);
		expect(found.total).toBe(2);
		// The typo alone: no full-text match at all, the similar title is found.
		const byTypo = await page(`q=${typo(w)}x`);
		expect(byTypo.fuzzy).toBe(true);
		expect(byTypo.data.map((p) => p.id)).toContain(misspelt);
	});

	it("leaves similar titles out when full text finds enough", async () => {
		const w = word();
		const hits = await addProducts([{ title: `${w} one` }, { title: `${w} two` }, { title: `${w} three` }]);
		await addProducts([{ title: `${typo(w)} four` }]);
		const found = await page(`q=${w}`);
		expect(found.fuzzy).toBe(false);
		expect(found.data.map((p) => p.id).sort()).toEqual([...hits].sort());
		expect(found.total).toBe(3);
	});

	it("keeps a query's mode across its pages, even when a product added meanwhile would change it", async () => {
		const w = word();
		const [hit] = await addProducts([{ title: `${w} anchor` }]);
		const similar = await addProducts(["a", "b", "c", "d", "e"].map((letter) => ({ title: `${typo(w)} ${letter}` })));
		const first = await page(`q=${w}&limit=2`);
		expect(first.fuzzy).toBe(true);
		expect(first.data[0]?.id).toBe(hit);
		// Two more full-text matches: a new first page would leave similar titles out; this query's pages keep them.
		await addProducts([{ title: `${w} second` }, { title: `${w} third` }]);
		const seen = [...first.data];
		let cursor = first.next_cursor;
		while (cursor) {
			const next = await page(`q=${w}&limit=2&cursor=${cursor}`);
			expect(next.fuzzy).toBe(true);
			seen.push(...next.data);
			cursor = next.next_cursor;
		}
		const ids = seen.map((p) => p.id);
		expect(new Set(ids).size).toBe(ids.length);
		for (const id of [hit, ...similar]) expect(ids).toContain(id);
		expect((await page(`q=${w}`)).fuzzy).toBe(false);
	});

	it("refuses a cursor whose mode was changed", async () => {
		const w = word();
		await addProducts([{ title: `${w} a` }, { title: `${typo(w)} b` }, { title: `${typo(w)} c` }]);
		const first = await page(`q=${w}&limit=1`);
		const cursor = JSON.parse(atob((first.next_cursor as string).replaceAll("-", "+").replaceAll("_", "/")));
		expect(cursor.m).toBe("fuzzy");
		const forged = btoa(JSON.stringify({ ...cursor, m: "text" }))
			.replaceAll("+", "-")
			.replaceAll("/", "_")
			.replace(/=+$/, "");
		const res = await call(`/v1/products?q=${w}&limit=1&cursor=${forged}`);
		expect(res.status).toBe(400);
		expect((await problemOf(res)).code).toBe("invalid_cursor");
	});
});

/**
 * Facets over a catalog of its own: eight products under one made-up word in a
 * made-up category tree (root, with children a and b).
 */
describe("facets: each count is what the same query finds with that value as its group's only filter", () => {
	const w = word();
	const ids: Record<string, string> = {};
	const tree: Record<"root" | "a" | "b", { id: string; slug: string }> = {
		root: { id: "", slug: `${w}-root` },
		a: { id: "", slug: `${w}-a` },
		b: { id: "", slug: `${w}-b` },
	};
	/** Category slug → the category ids it covers (itself and below). */
	const covers = (slug: string) =>
		slug === tree.root.slug ? [tree.root.id, tree.a.id, tree.b.id] : [Object.values(tree).find((c) => c.slug === slug)?.id as string];

	beforeAll(async () => {
		tree.root.id = await addCategory(tree.root.slug);
		tree.a.id = await addCategory(tree.a.slug, tree.root.id);
		tree.b.id = await addCategory(tree.b.slug, tree.root.id);
		const made = await addProducts([
			{
				title: `${w} anorak`,
				categoryId: tree.a.id,
				brand: "Acme",
				variants: [
					{ options: { colour: "Black", size: "M" }, price: 1500 },
					{ options: { colour: "White", size: "L" }, price: 3000 },
				],
			},
			{ title: `${w} beanie`, categoryId: tree.a.id, brand: "Acme", variants: [{ options: { colour: "Black", size: "L" }, price: 6000 }] },
			{
				title: `${w} cagoule`,
				categoryId: tree.b.id,
				brand: "Borealis",
				variants: [
					{ options: { colour: "Red", size: "M" }, price: 12000 },
					{ options: { colour: "Black", size: "S" }, price: 25000 },
				],
			},
			{ title: `${w} duffel`, categoryId: tree.b.id, variants: [{ price: 800 }] },
			{
				title: `${w} easel`,
				categoryId: tree.root.id,
				brand: "Borealis",
				variants: [
					{ options: { colour: "White", size: "M" }, price: 4000 },
					// Archived: neither its colour nor its price counts anywhere.
					{ options: { colour: "Green", size: "XL" }, price: 100, archived: true },
				],
			},
			// Priced in dollars only: sold in the US market, not in the EU one.
			{
				title: `${w} fleece`,
				categoryId: tree.a.id,
				brand: "Acme",
				variants: [{ options: { colour: "Black", size: "M" }, price: 2000, currency: "USD" }],
			},
			{
				title: `${w} gilet`,
				categoryId: tree.a.id,
				brand: "Acme",
				status: "draft",
				variants: [{ options: { colour: "Black", size: "M" }, price: 1000 }],
			},
			// €29.00 is in the 25–50 bucket in euros, but £24.94 in the UK market.
			{ title: `${w} hat`, categoryId: tree.a.id, brand: "Cirrus", variants: [{ options: { colour: "Black", size: "M" }, price: 2900 }] },
		]);
		["anorak", "beanie", "cagoule", "duffel", "easel", "fleece", "gilet", "hat"].forEach((name, i) => {
			ids[name] = made[i] as string;
		});
	});

	interface Filters {
		category?: string;
		brand?: string[];
		option?: Record<string, string[]>;
		min?: number;
		max?: number;
	}

	function queryOf(filters: Filters): string {
		const query = new URLSearchParams({ q: w, limit: "100" });
		if (filters.category) query.set("category", filters.category);
		for (const brand of filters.brand ?? []) query.append("brand", brand);
		for (const [name, values] of Object.entries(filters.option ?? {}))
			for (const value of values) query.append("option", `${name}:${value}`);
		if (filters.min !== undefined) query.set("min_price", String(filters.min));
		if (filters.max !== undefined) query.set("max_price", String(filters.max));
		return query.toString();
	}

	/** The number of this catalog's products the filters select in the EU market, by plain SQL of its own. */
	async function sqlCount(filters: Filters): Promise<number> {
		const euro = sql`v.archived_at is null and v.currency = 'EUR'`;
		const conditions: SQL[] = [
			sql`p.id in ${Object.values(ids)}`,
			sql`p.status = 'active'`,
			sql`exists (select 1 from variants v where v.product_id = p.id and ${euro})`,
		];
		if (filters.category) conditions.push(sql`p.category_id in ${covers(filters.category)}`);
		if (filters.brand) conditions.push(sql`p.attributes->>'brand' in ${filters.brand}`);
		if (filters.min !== undefined || filters.max !== undefined) {
			conditions.push(
				sql`exists (select 1 from variants v where v.product_id = p.id and ${euro} and v.price_minor between ${filters.min ?? 0} and ${filters.max ?? 1e12})`,
			);
		}
		const options = Object.entries(filters.option ?? {});
		if (options.length > 0) {
			conditions.push(
				sql`exists (select 1 from variants v where v.product_id = p.id and ${euro} and ${sql.join(
					options.map(([name, values]) => sql`v.options->>${name} in ${values}`),
					sql` and `,
				)})`,
			);
		}
		const rows = await withDb((db) =>
			db.primary.execute<{ n: number }>(sql`select count(*)::int as n from products p where ${sql.join(conditions, sql` and `)}`),
		);
		return Number(rows.rows[0]?.n);
	}

	/** Checks every facet value of `filters`' page against the API's own total and SQL's count for that value alone. */
	async function checkFacets(filters: Filters): Promise<Page> {
		const result = await page(queryOf(filters));
		expect(result.total).toBe(await sqlCount(filters));
		expect(result.data).toHaveLength(result.total);
		const checks: { label: string; count: number; filters: Filters }[] = [
			...result.facets.categories.map((c) => ({ label: `category ${c.slug}`, count: c.count, filters: { ...filters, category: c.slug } })),
			...result.facets.brands.map((b) => ({ label: `brand ${b.value}`, count: b.count, filters: { ...filters, brand: [b.value] } })),
			...result.facets.prices.buckets.map((b) => ({
				label: `price ${b.min}–${b.max}`,
				count: b.count,
				filters: { ...filters, min: b.min, ...(b.max === null ? { max: undefined } : { max: b.max }) },
			})),
			...result.facets.options.flatMap((o) =>
				o.values.map((v) => ({
					label: `option ${o.name}:${v.value}`,
					count: v.count,
					filters: { ...filters, option: { ...filters.option, [o.name]: [v.value] } },
				})),
			),
		];
		expect(checks.length).toBeGreaterThan(0);
		await Promise.all(
			checks.map(async (check) => {
				expect(check.count, `${check.label} against SQL`).toBe(await sqlCount(check.filters));
				expect(check.count, `${check.label} against the filtered list`).toBe((await page(queryOf(check.filters))).total);
			}),
		);
		return result;
	}

	it("counts categories (with sub-categories), price buckets, brands and option values of the whole result", async () => {
		const result = await checkFacets({});
		expect(result.total).toBe(6);
		expect(result.fuzzy).toBe(false);
		expect(result.facets.categories).toEqual([
			{ slug: tree.root.slug, name: `Category ${tree.root.slug}`, count: 6 },
			{ slug: tree.a.slug, name: `Category ${tree.a.slug}`, count: 3 },
			{ slug: tree.b.slug, name: `Category ${tree.b.slug}`, count: 2 },
		]);
		expect(result.facets.prices).toEqual({
			currency: "EUR",
			buckets: [
				{ min: 0, max: 2499, count: 2 },
				{ min: 2500, max: 4999, count: 3 },
				{ min: 5000, max: 9999, count: 1 },
				{ min: 10000, max: 19999, count: 1 },
				{ min: 20000, max: null, count: 1 },
			],
		});
		expect(result.facets.brands).toEqual([
			{ value: "Acme", count: 2 },
			{ value: "Borealis", count: 2 },
			{ value: "Cirrus", count: 1 },
		]);
		expect(result.facets.options).toEqual([
			{
				name: "colour",
				values: [
					{ value: "Black", count: 4 },
					{ value: "White", count: 2 },
					{ value: "Red", count: 1 },
				],
			},
			{
				name: "size",
				values: [
					{ value: "M", count: 4 },
					{ value: "L", count: 2 },
					{ value: "S", count: 1 },
				],
			},
		]);
	});

	it("matches option filters on one variant, and counts each option without its own filter", async () => {
		const result = await checkFacets({ option: { colour: ["Black"], size: ["M"] } });
		// The cagoule is black (size S) and comes in M (in red): no one variant is both.
		expect(result.data.map((p) => p.id).sort()).toEqual([ids.anorak, ids.hat].sort());
		expect(result.facets.options).toEqual([
			{
				name: "colour",
				values: [
					{ value: "Black", count: 2 },
					{ value: "Red", count: 1 },
					{ value: "White", count: 1 },
				],
			},
			{
				name: "size",
				values: [
					{ value: "M", count: 2 },
					{ value: "L", count: 1 },
					{ value: "S", count: 1 },
				],
			},
		]);
		expect(result.facets.brands).toEqual([
			{ value: "Acme", count: 1 },
			{ value: "Cirrus", count: 1 },
		]);
	});

	it("keeps the counts exact for other combinations of filters", async () => {
		const brands = await checkFacets({ brand: ["Acme", "Borealis"] });
		expect(brands.total).toBe(4);
		// Brands are alternatives: the brand facet still counts Cirrus, which the filter leaves out.
		expect(brands.facets.brands.map((b) => b.value)).toEqual(["Acme", "Borealis", "Cirrus"]);
		const ranged = await checkFacets({ category: tree.a.slug, min: 2500, max: 9999 });
		expect(ranged.data.map((p) => p.id).sort()).toEqual([ids.anorak, ids.beanie, ids.hat].sort());
		await checkFacets({ brand: ["Acme"], option: { colour: ["White", "Red"] } });
		await checkFacets({ category: tree.b.slug, option: { size: ["S", "M"] }, min: 10000 });
	});

	it("counts and filters in the market's currency, without products it does not sell", async () => {
		const uk = await page(`${queryOf({})}&market=uk`);
		expect(uk.total).toBe(6);
		expect(uk.facets.prices).toEqual({
			currency: "GBP",
			buckets: [
				// £12.90 (anorak), £6.88 (duffel), £24.94 (hat).
				{ min: 0, max: 2499, count: 3 },
				{ min: 2500, max: 4999, count: 2 },
				{ min: 5000, max: 9999, count: 1 },
				{ min: 10000, max: 19999, count: 1 },
				{ min: 20000, max: null, count: 1 },
			],
		});
		expect((await page(`${queryOf({ max: 2499 })}&market=uk`)).total).toBe(3);
		const us = await page(`${queryOf({ brand: ["Acme"] })}&market=us`);
		expect(us.data.map((p) => p.id).sort()).toEqual([ids.anorak, ids.beanie, ids.fleece].sort());
		expect(us.facets.brands.find((b) => b.value === "Acme")?.count).toBe(3);
		expect((await page(queryOf({ brand: ["Acme"] }))).data.map((p) => p.id)).not.toContain(ids.fleece);
	});

	it("pages through facet filters with each product once, in any order of the repeated values", async () => {
		const filters: Filters = { option: { colour: ["Black", "White"] }, brand: ["Cirrus", "Acme", "Borealis"] };
		const expected = await sqlCount(filters);
		expect(expected).toBe(5);
		const whole = await page(queryOf(filters));
		for (const sort of ["newest", "price_asc", "price_desc", "relevance"]) {
			const pages = await allPages(`${queryOf(filters).replace("limit=100", "limit=2")}&sort=${sort}`);
			expect(pages).toHaveLength(3);
			const seenIds = pages.flatMap((p) => p.data.map((product) => product.id));
			expect(new Set(seenIds).size, sort).toBe(seenIds.length);
			expect(seenIds, sort).toHaveLength(expected);
			// Every page describes the whole result, the same way.
			for (const each of pages) {
				expect(each.total, sort).toBe(expected);
				expect(each.facets, sort).toEqual(whole.facets);
			}
		}
		// The same values in another order are the same query: its cursors carry over.
		const first = await page(`q=${w}&limit=2&brand=Acme&brand=Borealis`);
		const next = await call(`/v1/products?q=${w}&limit=2&brand=Borealis&brand=Acme&cursor=${first.next_cursor}`);
		expect(next.status).toBe(200);
		const other = await call(`/v1/products?q=${w}&limit=2&brand=Acme&cursor=${first.next_cursor}`);
		expect(other.status).toBe(400);
	});
});

describe("query validation", () => {
	it("refuses malformed facet filters and suggestion queries with a 400", async () => {
		for (const bad of [
			"brand=",
			"option=colour",
			"option=:Black",
			"option=colour:",
			`brand=${"x".repeat(501)}`,
			`option=colour:${"x".repeat(201)}`,
			Array.from({ length: 21 }, (_, i) => `brand=b${i}`).join("&"),
			"colour=Black",
		]) {
			const res = await call(`/v1/products?${bad}`);
			expect(res.status, bad).toBe(400);
			expect((await problemOf(res)).code, bad).toBe("validation_failed");
		}
		for (const bad of ["", "q=", "q=%20%20", `q=${"m".repeat(101)}`, "q=mer&limit=5"]) {
			const res = await call(`/v1/search/suggest?${bad}`);
			expect(res.status, bad).toBe(400);
			expect((await problemOf(res)).code, bad).toBe("validation_failed");
		}
	});
});

describe("suggestions", () => {
	it("lists titles that start with the text, then titles with a word that does, then similar titles", async () => {
		const w = word();
		const [beta, alpha, inside, similar] = await addProducts([
			{ title: `${w} Beta` },
			{ title: `${w} Alpha` },
			{ title: `Big ${w} Gamma` },
			{ title: `${typo(w)} Delta` },
		]);
		const found = await suggest(`q=${w}`);
		expect(found.map((s) => s.id)).toEqual([alpha, beta, inside, similar]);
		expect(found[0]).toEqual({ id: alpha, slug: expect.stringMatching(/^[a-z0-9-]+$/), title: `${w} Alpha` });
		// Case is ignored, and a shorter prefix still finds the titles that start with it, first.
		expect((await suggest(`q=${w.slice(0, 6).toUpperCase()}`)).slice(0, 2).map((s) => s.id)).toEqual([alpha, beta]);
	});

	it("answers at most 10, only active products the market sells, cacheably", async () => {
		const w = word();
		await addProducts(Array.from({ length: 12 }, (_, i) => ({ title: `${w} item ${String(i).padStart(2, "0")}` })));
		const [dollars, draft] = await addProducts([
			{ title: `${w} dollars`, variants: [{ price: 1000, currency: "USD" }] },
			{ title: `${w} draft`, status: "draft" },
		]);
		const found = await suggest(`q=${w}`);
		expect(found).toHaveLength(10);
		expect(found.map((s) => s.title)).toEqual(Array.from({ length: 10 }, (_, i) => `${w} item ${String(i).padStart(2, "0")}`));
		const dear = await suggest(`q=${encodeURIComponent(`${w} d`)}`);
		expect(dear.map((s) => s.id)).not.toContain(dollars);
		expect(dear.map((s) => s.id)).not.toContain(draft);
		// In dollars it is sold, and its title starts with the text: it comes before the similar titles.
		expect((await suggest(`q=${encodeURIComponent(`${w} d`)}&market=us`))[0]?.id).toBe(dollars);

		const first = await call(`/v1/search/suggest?q=${w}`);
		// Cached as a product list is.
		expect(first.headers.get("cache-control")).toBe((await call(`/v1/products?q=${w}`)).headers.get("cache-control"));
		const etag = first.headers.get("etag") as string;
		expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
		const again = await call(`/v1/search/suggest?q=${w.toUpperCase()}`, { headers: { "if-none-match": etag } });
		expect(again.status).toBe(304);
		expect(["memory", "kv"]).toContain(again.headers.get("x-catalog-cache"));
	});
});
