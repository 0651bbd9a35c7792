import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { Page, Response } from "playwright-core";
import { addToCart, buyableVariants, signIn } from "./flows.ts";
import { browserTest, harness } from "./harness.ts";

/** Most JS and most CSS one page may load, compressed, in bytes (50 KB). */
export const PAGE_WEIGHT_BUDGET = 50 * 1024;

interface Asset {
	url: string;
	/** Body bytes as served, decoded. */
	raw: number;
	/**
	 * The body gzipped here (level 9). What crossed the wire is not used:
	 * wrangler dev may or may not compress, and Chromium's encoded sizes are
	 * not reliable for a body it decoded; the edge compresses at least this well
	 * (brotli for browsers that offer it).
	 */
	compressed: number;
	/** Content-Encoding the local server sent, for the record. */
	encoding: string | null;
}

export interface PageWeight {
	page: string;
	path: string;
	js: { files: number; raw_bytes: number; compressed_bytes: number };
	css: { files: number; raw_bytes: number; compressed_bytes: number };
	assets: (Asset & { type: "script" | "stylesheet" })[];
}

async function assetOf(response: Response): Promise<Asset> {
	const [body, headers] = await Promise.all([response.body(), response.allHeaders()]);
	const encoding = headers["content-encoding"] ?? null;
	return { url: response.url(), raw: body.length, compressed: gzipSync(body, { level: 9 }).length, encoding };
}

/** Loads `path` with the browser cache off and sums the scripts and stylesheets it fetched. */
async function weigh(page: Page, name: string, pathname: string): Promise<PageWeight> {
	const pending: Promise<Asset & { type: "script" | "stylesheet" }>[] = [];
	const onResponse = (response: Response) => {
		const type = response.request().resourceType();
		if (type === "script" || type === "stylesheet") pending.push(assetOf(response).then((asset) => ({ ...asset, type })));
	};
	page.on("response", onResponse);
	try {
		const answer = await page.goto(pathname, { waitUntil: "load" });
		assert.equal(answer?.status(), 200, `${pathname} answers 200`);
	} finally {
		page.off("response", onResponse);
	}
	const assets = await Promise.all(pending);
	const sum = (type: "script" | "stylesheet") => {
		const of = assets.filter((asset) => asset.type === type);
		return {
			files: of.length,
			raw_bytes: of.reduce((n, asset) => n + asset.raw, 0),
			compressed_bytes: of.reduce((n, asset) => n + asset.compressed, 0),
		};
	};
	return { page: name, path: pathname, js: sum("script"), css: sum("stylesheet"), assets };
}

browserTest("storefront and admin pages each load at most 50 KB of JS and 50 KB of CSS, compressed", async (session) => {
	const page = await session.person();
	const product = "/p/rechargeable-headlamp";
	// A cart with a line, so cart and checkout render the pages a shopper pays with, not their empty states.
	await page.goto(product);
	const [option] = await buyableVariants(page, 1);
	assert.ok(option);
	await addToCart(page, option);

	const cdp = await page.context().newCDPSession(page);
	await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
	const pages: PageWeight[] = [];
	for (const [name, pathname] of [
		["home", "/"],
		["product", product],
		["cart", "/cart"],
		["checkout", "/checkout"],
	] as const) {
		pages.push(await weigh(page, name, pathname));
	}

	// The admin console adds its own stylesheet and script on top of the shop's.
	const admin = await session.person();
	await signIn(admin, harness().admin.email, harness().admin.password, "/admin/orders");
	const adminCdp = await admin.context().newCDPSession(admin);
	await adminCdp.send("Network.setCacheDisabled", { cacheDisabled: true });
	for (const [name, pathname] of [
		["admin orders", "/admin/orders"],
		["admin products", "/admin/products"],
	] as const) {
		pages.push(await weigh(admin, name, pathname));
	}
	session.show(page);

	const { resultsDir } = harness();
	writeFileSync(
		path.join(resultsDir, "page-weight.json"),
		`${JSON.stringify({ at: new Date().toISOString(), budget_bytes: { js: PAGE_WEIGHT_BUDGET, css: PAGE_WEIGHT_BUDGET }, pages }, null, 2)}\n`,
	);
	for (const weight of pages) {
		// Nothing counted at all would mean the measurement missed the page's assets, not that it has none.
		assert.ok(weight.js.files + weight.css.files > 0, `${weight.page}: its scripts and stylesheets were seen`);
		assert.ok(
			weight.js.compressed_bytes <= PAGE_WEIGHT_BUDGET,
			`${weight.page}: ${weight.js.compressed_bytes} B of JS, budget ${PAGE_WEIGHT_BUDGET}`,
		);
		assert.ok(
			weight.css.compressed_bytes <= PAGE_WEIGHT_BUDGET,
			`${weight.page}: ${weight.css.compressed_bytes} B of CSS, budget ${PAGE_WEIGHT_BUDGET}`,
		);
	}
});
