import { and, asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, orders } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { formatMoney } from "../workers/domain/money.ts";
import { authed, makeAdmin, registerShopper, type Session } from "./accounts-helpers.ts";
import { BASE, call, withDb } from "./helpers.ts";
import { newSku } from "./orders-helpers.ts";
import { Browser } from "./web-helpers.ts";

/**
 * The console's markets, tax-rate and shipping pages: each renders, each form
 * posts and answers 303 back to a page that shows the change, and refusals
 * come back as the page with the reason. The database is shared with every
 * other test file: test markets sell to ISO 3166's user-assigned codes
 * QM–QZ, which no real address and no other test uses.
 */

const tag = () => crypto.randomUUID().slice(0, 8);
const spareCountries = "MNOPQRSTUVWXYZ".split("").map((letter) => `Q${letter}`);
function countries(n: number): string[] {
	const taken = spareCountries.splice(0, n);
	if (taken.length < n) throw new Error("out of spare country codes");
	return taken;
}

/** The console shows amounts as the storefront does (web/layout.tsx `money`). */
const shown = (amount: number, currency: string) => formatMoney({ amount, currency }, "en-IE");

const SAME_ORIGIN = { origin: BASE, "sec-fetch-site": "same-origin" };

async function signedIn(session: Session): Promise<Browser> {
	const browser = new Browser();
	browser.cookies.set("ec_at", session.access_token);
	browser.cookies.set("ec_rt", session.refresh_token);
	return browser;
}

async function adminBrowser(): Promise<{ browser: Browser; admin: Session }> {
	const admin = await makeAdmin(await registerShopper());
	return { browser: await signedIn(admin), admin };
}

const post = (browser: Browser, path: string, form: Record<string, string>) => browser.post(path, form, SAME_ORIGIN);

/** The 303 of a form post, and the page it points at. */
async function followed(browser: Browser, res: Response): Promise<{ location: string; html: string }> {
	if (res.status !== 303) throw new Error(`expected 303, got ${res.status}: ${(await res.text()).slice(0, 800)}`);
	const location = res.headers.get("location") as string;
	return { location, html: await browser.page(location) };
}

/** The text of the page's `role="status"` or `role="alert"` box. */
function message(html: string, role: "status" | "alert"): string | undefined {
	const match = new RegExp(`role="${role}"[^>]*>([\\s\\S]*?)</div>`).exec(html);
	return match?.[1]
		?.replace(/<[^>]+>/g, " ")
		.replace(/&#39;|&#x27;/g, "'")
		.replace(/\s+/g, " ")
		.trim();
}

async function api<T>(admin: Session, method: string, path: string, body?: unknown): Promise<T> {
	const res = await call(path, authed(admin.access_token, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));
	if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as T;
}

interface Market {
	id: string;
	name: string;
	currency: string;
	convert_from: string | null;
	rate_micros: number | null;
	countries: string[];
	is_default: boolean;
}

const marketOf = async (admin: Session, id: string) =>
	(await api<{ data: Market[] }>(admin, "GET", "/v1/admin/markets")).data.find((market) => market.id === id);

const priceOf = async (admin: Session, marketId: string, sku: string) =>
	(
		await api<{ data: { sku: string; list_price_minor: number | null; price_minor: number | null }[] }>(
			admin,
			"GET",
			`/v1/admin/markets/${marketId}/prices?q=${sku}`,
		)
	).data[0];

describe("console: markets", () => {
	it("links the new sections from the navigation", async () => {
		const { browser } = await adminBrowser();
		const html = await browser.page("/admin");
		for (const [href, label] of [
			["/admin/markets", "Markets"],
			["/admin/tax-rates", "Tax rates"],
			["/admin/shipping", "Shipping"],
		]) {
			expect(html).toMatch(new RegExp(`<a href="${href}"[^>]*>${label}</a>`));
		}
		const markets = await browser.page("/admin/markets");
		expect(markets).toMatch(/<a href="\/admin\/markets" aria-current="page">Markets<\/a>/);
		expect(markets).toContain('<a href="/admin/markets/eu">European Union</a>');
	});

	it("creates a market, changes its settings and deletes it, each form answered 303 and the change shown", async () => {
		const { browser, admin } = await adminBrowser();
		const [a, b, c] = countries(3);
		const id = `w-${tag()}`;
		const created = await post(browser, "/admin/markets", {
			id,
			name: "Suisse",
			currency: "CHF",
			tax_mode: "inclusive",
			convert_from: "EUR",
			rate: "0,95",
			countries: `${a?.toLowerCase()}, ${b}`,
			position: "",
		});
		const page = await followed(browser, created);
		expect(page.location).toBe(`/admin/markets/${id}?notice=market_created`);
		expect(message(page.html, "status")).toContain("Market created.");
		expect(page.html).toContain("<h1>Suisse</h1>");
		expect(page.html).toContain(`value="${a}, ${b}"`);
		expect(page.html).toContain('value="0.95"');
		expect(await marketOf(admin, id)).toMatchObject({
			name: "Suisse",
			currency: "CHF",
			convert_from: "EUR",
			rate_micros: 950_000,
			countries: [a, b],
		});

		const saved = await post(browser, `/admin/markets/${id}`, {
			name: "Schweiz",
			currency: "CHF",
			tax_mode: "exclusive",
			convert_from: "",
			rate: "",
			countries: `${a} ${c}`,
			position: "7",
		});
		const after = await followed(browser, saved);
		expect(after.location).toBe(`/admin/markets/${id}?notice=market_saved`);
		expect(after.html).toContain("<h1>Schweiz</h1>");
		expect(after.html).toContain("Tax added at checkout");
		expect(await marketOf(admin, id)).toMatchObject({ name: "Schweiz", convert_from: null, rate_micros: null, countries: [a, c] });

		// Germany is the EU's: the page comes back with the reason and nothing changes.
		const refused = await post(browser, `/admin/markets/${id}`, {
			name: "Schweiz",
			currency: "CHF",
			tax_mode: "exclusive",
			countries: "DE",
		});
		expect(refused.status).toBe(409);
		const refusedHtml = await refused.text();
		expect(message(refusedHtml, "alert")).toContain("DE belongs to market eu");
		expect(refusedHtml).toContain('value="DE"');
		expect((await marketOf(admin, id))?.countries).toEqual([a, c]);

		const badRate = await post(browser, "/admin/markets", {
			id: `w-${tag()}`,
			name: "X",
			currency: "CHF",
			tax_mode: "inclusive",
			convert_from: "EUR",
			rate: "lots",
		});
		expect(badRate.status).toBe(400);
		expect(message(await badRate.text(), "alert")).toContain("Rate: write how many units");

		const deleted = await followed(browser, await post(browser, `/admin/markets/${id}/delete`, {}));
		expect(deleted.location).toBe("/admin/markets?notice=market_deleted");
		expect(deleted.html).not.toContain(`/admin/markets/${id}"`);
		expect(await marketOf(admin, id)).toBeUndefined();

		const audit = await withDb((db) =>
			db.primary
				.select({ action: auditLog.action, actor: auditLog.actorId })
				.from(auditLog)
				.where(and(eq(auditLog.entityType, "market"), eq(auditLog.entityId, id)))
				.orderBy(asc(auditLog.id)),
		);
		expect(audit).toEqual([
			{ action: "market.create", actor: admin.user.id },
			{ action: "market.update", actor: admin.user.id },
			{ action: "market.delete", actor: admin.user.id },
		]);
	});

	// Not the default market: admin-markets.test.ts moves the default for a moment, and these files run side by side.
	it("refuses to delete a market orders were placed in, showing why", async () => {
		const { browser, admin } = await adminBrowser();
		const market = await api<Market>(admin, "POST", "/v1/admin/markets", {
			id: `w-${tag()}`,
			name: "Busy",
			currency: "CHF",
			tax_mode: "inclusive",
		});
		const orderId = newId("ord");
		await withDb((db) =>
			db.primary.insert(orders).values({
				id: orderId,
				email: "console.market.order@example.test",
				currency: "CHF",
				subtotalMinor: 1000,
				shippingMinor: 0,
				taxMinor: 0,
				totalMinor: 1000,
				marketId: market.id,
				shippingAddress: { name: "A", line1: "B", city: "C", postal_code: "1", country: "QZ" },
				cartId: newId("cart"),
				reservationExpiresAt: new Date(Date.now() + 60_000),
			}),
		);
		try {
			expect(await browser.page(`/admin/markets/${market.id}`)).toContain(`action="/admin/markets/${market.id}/delete"`);
			const refused = await post(browser, `/admin/markets/${market.id}/delete`, {});
			expect(refused.status).toBe(409);
			expect(message(await refused.text(), "alert")).toContain(`1 order was placed in market ${market.id}`);
			expect(await marketOf(admin, market.id)).toMatchObject({ name: "Busy" });
		} finally {
			await withDb((db) => db.primary.delete(orders).where(eq(orders.id, orderId)));
		}
	});

	it("edits a list price per row, pastes a price list and removes a price; an unknown SKU writes nothing", async () => {
		const { browser, admin } = await adminBrowser();
		const market = await api<Market>(admin, "POST", "/v1/admin/markets", {
			id: `w-${tag()}`,
			name: "Prices",
			currency: "CHF",
			tax_mode: "inclusive",
			convert_from: "EUR",
			rate_micros: 950_000,
		});
		const one = await newSku(1500);
		const two = await newSku(2000);
		const base = `/admin/markets/${market.id}`;

		const list = await browser.page(`${base}?q=${one.sku}`);
		expect(list).toContain(`<code>${one.sku}</code>`);
		expect(list).toContain(shown(1500, "EUR"));
		expect(list).toContain(shown(1425, "CHF"));
		expect(list).toContain(`action="${base}/prices/${one.sku}"`);

		const saved = await followed(browser, await post(browser, `${base}/prices/${one.sku}`, { amount: "13,90", q: one.sku }));
		expect(saved.location).toBe(`${base}?q=${one.sku}&notice=price_saved`);
		expect(saved.html).toContain('value="13.90"');
		expect(saved.html).toContain(shown(1390, "CHF"));
		expect(await priceOf(admin, market.id, one.sku)).toMatchObject({ list_price_minor: 1390, price_minor: 1390 });

		const pasted = await followed(
			browser,
			await post(browser, `${base}/prices`, { prices: `${one.sku},12.50\n\n${two.sku.toLowerCase()};19,90\n` }),
		);
		expect(pasted.location).toBe(`${base}?notice=prices_saved`);
		expect(message(pasted.html, "status")).toContain("List prices saved.");
		expect(await priceOf(admin, market.id, one.sku)).toMatchObject({ list_price_minor: 1250 });
		expect(await priceOf(admin, market.id, two.sku)).toMatchObject({ list_price_minor: 1990 });

		const unknown = `NOPE-${tag().toUpperCase()}`;
		const refused = await post(browser, `${base}/prices`, { prices: `${one.sku},1.00\n${unknown},2.00` });
		expect(refused.status).toBe(422);
		const refusedHtml = await refused.text();
		expect(message(refusedHtml, "alert")).toContain(unknown);
		expect(refusedHtml).toContain(`${one.sku},1.00`);
		expect(await priceOf(admin, market.id, one.sku)).toMatchObject({ list_price_minor: 1250 });

		const malformed = await post(browser, `${base}/prices`, { prices: `${one.sku} 1.00` });
		expect(malformed.status).toBe(400);
		expect(message(await malformed.text(), "alert")).toContain("Line 1");

		const removed = await followed(browser, await post(browser, `${base}/prices/${one.sku}/delete`, { q: "" }));
		expect(removed.location).toBe(`${base}?notice=price_removed`);
		expect(await priceOf(admin, market.id, one.sku)).toMatchObject({ list_price_minor: null, price_minor: 1425 });
	});
});

describe("console: tax rates", () => {
	it("adds, edits and deletes a rate from the grouped table", async () => {
		const { browser, admin } = await adminBrowser();
		const [country] = countries(1);
		const page = await browser.page("/admin/tax-rates");
		expect(page).toContain('<h2 id="tax-DE">DE</h2>');
		expect(page).toContain('action="/admin/tax-rates/DE/standard"');
		expect(page).toContain('value="19"');

		const added = await followed(
			browser,
			await post(browser, "/admin/tax-rates", { country: country?.toLowerCase() as string, region: "", tax_class: "reduced", rate: "7,5" }),
		);
		expect(added.location).toBe("/admin/tax-rates?notice=tax_rate_saved");
		expect(added.html).toContain(`<h2 id="tax-${country}">${country}</h2>`);
		expect(added.html).toContain('value="7.5"');
		const rates = async () =>
			(
				await api<{ data: { region: string; tax_class: string; rate_bp: number }[] }>(
					admin,
					"GET",
					`/v1/admin/tax-rates?country=${country}`,
				)
			).data.map((row) => [row.region, row.tax_class, row.rate_bp]);
		expect(await rates()).toEqual([["", "reduced", 750]]);

		const edited = await followed(browser, await post(browser, `/admin/tax-rates/${country}/reduced`, { region: "", rate: "8" }));
		expect(edited.location).toBe("/admin/tax-rates?notice=tax_rate_saved");
		expect(await rates()).toEqual([["", "reduced", 800]]);

		const tooHigh = await post(browser, `/admin/tax-rates/${country}/reduced`, { region: "", rate: "101" });
		expect(tooHigh.status).toBe(400);
		expect(message(await tooHigh.text(), "alert")).toContain("Rate: write a percentage");
		expect(await rates()).toEqual([["", "reduced", 800]]);

		const deleted = await followed(browser, await post(browser, `/admin/tax-rates/${country}/reduced/delete`, { region: "" }));
		expect(deleted.location).toBe("/admin/tax-rates?notice=tax_rate_deleted");
		expect(deleted.html).not.toContain(`id="tax-${country}"`);
		expect(await rates()).toEqual([]);

		const audit = await withDb((db) =>
			db.primary
				.select({ action: auditLog.action, actor: auditLog.actorId })
				.from(auditLog)
				.where(and(eq(auditLog.entityType, "tax_rates"), eq(auditLog.entityId, country as string)))
				.orderBy(asc(auditLog.id)),
		);
		expect(audit).toEqual([
			{ action: "tax_rates.upsert", actor: admin.user.id },
			{ action: "tax_rates.upsert", actor: admin.user.id },
			{ action: "tax_rate.delete", actor: admin.user.id },
		]);
	});
});

describe("console: shipping", () => {
	it("adds and edits zones and methods with weight tiers typed as text, refusing descending tiers", async () => {
		const { browser, admin } = await adminBrowser();
		const [a, b] = countries(2);
		const market = await api<Market>(admin, "POST", "/v1/admin/markets", {
			id: `w-${tag()}`,
			name: "Shipping test",
			currency: "CHF",
			tax_mode: "inclusive",
			countries: [a, b],
		});
		type Zone = {
			id: string;
			name: string;
			countries: string[];
			methods: { id: string; name: string; rate: unknown; free_from_minor: number | null; active: boolean; tax_class: string }[];
		};
		const zones = async () => (await api<{ data: Zone[] }>(admin, "GET", `/v1/admin/shipping-zones?market=${market.id}`)).data;

		const overview = await browser.page("/admin/shipping");
		expect(overview).toContain("Standard (3–5 working days)");
		expect(overview).toContain(shown(495, "EUR"));
		expect(overview).toContain(`up to 1000 g: ${shown(599, "USD")}`);

		const created = await followed(
			browser,
			await post(browser, "/admin/shipping/zones", { market_id: market.id, name: "Lakes", countries: a?.toLowerCase() as string }),
		);
		expect(created.location).toBe(`/admin/shipping?market=${market.id}&notice=zone_created`);
		expect(created.html).toContain(`Lakes <span class="muted">(${a})</span>`);
		const [zone] = await zones();
		expect(zone).toMatchObject({ name: "Lakes", countries: [a], methods: [] });
		const zoneId = zone?.id as string;

		const methodForm = {
			name: "Post",
			kind: "standard",
			tax_class: "reduced",
			position: "",
			rate_type: "weight",
			amount: "",
			tiers: "1000:5,99\r\n*:12.00",
			free_from: "60",
			active: "on",
		};
		const added = await followed(browser, await post(browser, `/admin/shipping/zones/${zoneId}/methods`, methodForm));
		expect(added.location).toBe(`/admin/shipping?market=${market.id}&notice=method_created`);
		expect(added.html).toContain(`up to 1000 g: ${shown(599, "CHF")} · heavier: ${shown(1200, "CHF")}`);
		const [method] = (await zones())[0]?.methods ?? [];
		expect(method).toMatchObject({
			name: "Post",
			tax_class: "reduced",
			active: true,
			free_from_minor: 6000,
			rate: {
				type: "weight",
				tiers: [
					{ up_to_grams: 1000, amount: 599 },
					{ up_to_grams: null, amount: 1200 },
				],
			},
		});
		expect(added.html).toContain(`action="/admin/shipping/methods/${method?.id}"`);

		const descending = await post(browser, `/admin/shipping/zones/${zoneId}/methods`, {
			...methodForm,
			name: "Backwards",
			tiers: "5000:9.99\n1000:5.99",
		});
		expect(descending.status).toBe(422);
		expect(message(await descending.text(), "alert")).toContain("weight tiers ascend by up_to_grams");
		expect((await zones())[0]?.methods.map((row) => row.name)).toEqual(["Post"]);

		const unreadable = await post(browser, `/admin/shipping/zones/${zoneId}/methods`, { ...methodForm, tiers: "heavy:5" });
		expect(unreadable.status).toBe(400);
		expect(message(await unreadable.text(), "alert")).toContain("Tier 1");

		// No "active" field: the box was unticked.
		const { active: _ticked, ...unticked } = { ...methodForm, rate_type: "flat", amount: "4.95", tiers: "", free_from: "" };
		const edited = await followed(browser, await post(browser, `/admin/shipping/methods/${method?.id}`, unticked));
		expect(edited.location).toBe(`/admin/shipping?market=${market.id}&notice=method_saved`);
		expect(edited.html).toContain('<span class="badge">Inactive</span>');
		expect((await zones())[0]?.methods[0]).toMatchObject({ rate: { type: "flat", amount: 495 }, free_from_minor: null, active: false });

		const zoneSaved = await followed(
			browser,
			await post(browser, `/admin/shipping/zones/${zoneId}`, { name: "Lakes and hills", countries: `${a}, ${b}` }),
		);
		expect(zoneSaved.location).toBe(`/admin/shipping?market=${market.id}&notice=zone_saved`);
		expect((await zones())[0]).toMatchObject({ name: "Lakes and hills", countries: [a, b] });
		const outside = await post(browser, `/admin/shipping/zones/${zoneId}`, { name: "Lakes", countries: "FR" });
		expect(outside.status).toBe(422);
		expect(message(await outside.text(), "alert")).toContain("does not sell to FR");

		await followed(browser, await post(browser, `/admin/shipping/methods/${method?.id}/delete`, {}));
		expect((await zones())[0]?.methods).toEqual([]);
		const zoneDeleted = await followed(browser, await post(browser, `/admin/shipping/zones/${zoneId}/delete`, {}));
		expect(zoneDeleted.location).toBe(`/admin/shipping?market=${market.id}&notice=zone_deleted`);
		expect(await zones()).toEqual([]);
	});
});

describe("console: product tax class and weight", () => {
	it("saves a product's tax class and a variant's weight from the product page", async () => {
		const { browser, admin } = await adminBrowser();
		const t = tag();
		const product = await api<{ id: string; slug: string; variants: { sku: string }[] }>(admin, "POST", "/v1/admin/products", {
			title: `Atlas ${t}`,
			variants: [{ sku: `ATL-${t.toUpperCase()}`, title: "Hardback", price_minor: 3900, currency: "EUR" }],
		});
		const sku = product.variants[0]?.sku as string;
		const page = await browser.page(`/admin/products/${product.id}`);
		expect(page).toMatch(/<select id="tax-class" name="tax_class">/);
		expect(page).toContain(`id="v-${sku}-weight" name="weight"`);

		await followed(
			browser,
			await post(browser, `/admin/products/${product.id}`, {
				title: `Atlas ${t}`,
				slug: product.slug,
				description: "",
				status: "draft",
				category_id: "",
				tax_class: "reduced",
			}),
		);
		await followed(
			browser,
			await post(browser, `/admin/products/${product.id}/variants/${sku}`, {
				title: "Hardback",
				price: "39.00",
				options: "",
				weight: "1250",
			}),
		);
		const after = await api<{ data: { tax_class: string; variants: { weight_grams: number }[] }[] }>(
			admin,
			"GET",
			`/v1/admin/products?q=${product.slug}`,
		);
		expect(after.data.map((row) => [row.tax_class, row.variants.map((variant) => variant.weight_grams)])).toEqual([["reduced", [1250]]]);
		const reloaded = await browser.page(`/admin/products/${product.id}`);
		expect(reloaded).toMatch(/<option value="reduced" selected="">Reduced<\/option>/);
		expect(reloaded).toContain(`id="v-${sku}-weight" name="weight" inputmode="numeric" size="6" value="1250"`);

		const badWeight = await post(browser, `/admin/products/${product.id}/variants/${sku}`, {
			title: "Hardback",
			price: "39.00",
			options: "",
			weight: "heavy",
		});
		expect(badWeight.status).toBe(400);
		expect(message(await badWeight.text(), "alert")).toContain(`Weight of ${sku}`);
	});
});

describe("console: access", () => {
	it("answers a signed-in customer with 403 on every new page and form, changing nothing", async () => {
		const customer = await registerShopper();
		const browser = await signedIn(customer);
		for (const path of ["/admin/markets", "/admin/markets/eu", "/admin/tax-rates", "/admin/shipping"]) {
			const res = await browser.get(path);
			expect(res.status, path).toBe(403);
			expect(await res.text()).toContain("Admins only");
		}
		for (const path of [
			"/admin/markets/eu/delete",
			"/admin/tax-rates/DE/standard/delete",
			"/admin/shipping/methods/shm_eustandard/delete",
		]) {
			expect((await post(browser, path, { region: "" })).status, path).toBe(403);
		}
		const admin = await makeAdmin(await registerShopper());
		expect((await marketOf(admin, "eu"))?.countries).toContain("DE");
		const germany = await api<{ data: { tax_class: string }[] }>(admin, "GET", "/v1/admin/tax-rates?country=DE");
		expect(germany.data.map((row) => row.tax_class)).toEqual(["standard", "reduced", "zero"]);
		const eu = (await api<{ data: { id: string; methods: { id: string }[] }[] }>(admin, "GET", "/v1/admin/shipping-zones?market=eu")).data;
		expect(eu.flatMap((zone) => zone.methods.map((method) => method.id))).toContain("shm_eustandard");
	});
});
