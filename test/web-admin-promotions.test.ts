import { and, asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, categories, promotions } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { makeAdmin, registerShopper, type Session } from "./accounts-helpers.ts";
import { withDb } from "./helpers.ts";
import { Bus, checkoutOk, guestCart, newSku, stock } from "./orders-helpers.ts";
import { Browser, redirectOf } from "./web-helpers.ts";

/**
 * The console's Promotions screen: its forms post (303) through the same
 * service as the API, so what they create is what checkout applies, and
 * their refusals come back as the page with the reason and what was typed.
 */

const tag = () => crypto.randomUUID().replaceAll("-", "").slice(0, 10).toUpperCase();

/** A console browser signed in with an API session, as the session cookies carry it. */
function signedIn(session: Session, bus = new Bus()): Browser {
	const browser = new Browser(bus);
	browser.cookies.set("ec_at", session.access_token);
	browser.cookies.set("ec_rt", session.refresh_token);
	return browser;
}

/** Posts a form with repeated fields (a multiple select) as a browser sends it. */
function postForm(browser: Browser, path: string, entries: [string, string][]): Promise<Response> {
	return browser.send(path, {
		method: "POST",
		headers: { accept: "text/html", "content-type": "application/x-www-form-urlencoded" },
		body: new URLSearchParams(entries).toString(),
	});
}

/** The text of the page's `role="status"` or `role="alert"` box. */
function message(html: string, role: "status" | "alert"): string | undefined {
	const match = new RegExp(`role="${role}"[^>]*>([\\s\\S]*?)</div>`).exec(html);
	return match?.[1]
		?.replace(/<[^>]+>/g, " ")
		.replace(/\s+/g, " ")
		.trim();
}

/** A new-promotion form as the operator fills it in; `overrides` replace or add fields. */
function form(t: string, overrides: Record<string, string> = {}): Record<string, string> {
	return {
		name: `Console ${t}`,
		code: `web-${t.toLowerCase()}`,
		kind: "percentage",
		value: "10",
		currency: "",
		target: "order",
		product_ids: "",
		buy_quantity: "",
		get_quantity: "",
		min_subtotal: "",
		starts_at: "",
		ends_at: "",
		max_uses: "",
		max_uses_per_customer: "",
		active: "on",
		...overrides,
	};
}

async function rowOf(id: string) {
	const [row] = await withDb((db) => db.primary.select().from(promotions).where(eq(promotions.id, id)));
	return row;
}

function auditOf(id: string) {
	return withDb((db) =>
		db.primary
			.select()
			.from(auditLog)
			.where(and(eq(auditLog.entityType, "promotion"), eq(auditLog.entityId, id)))
			.orderBy(asc(auditLog.id)),
	);
}

const idFrom = (location: string) => /^\/admin\/promotions\/(prm_[0-9a-z]{20})\?notice=promotion_created$/.exec(location)?.[1] as string;

describe("the console's Promotions screen", () => {
	it("is in the navigation, explains the stacking rule, and creates and edits promotions with audited writes", async () => {
		const admin = await makeAdmin(await registerShopper());
		const browser = signedIn(admin);
		expect(await browser.page("/admin")).toContain('<a href="/admin/promotions">Promotions</a>');
		const list = await browser.page("/admin/promotions");
		expect(list).toContain('<a href="/admin/promotions" aria-current="page">Promotions</a>');
		expect(list).toContain("How promotions combine");
		expect(list).toContain("at most one promotion of each class");
		expect(list).toContain('<form method="post" action="/admin/promotions">');

		const t = tag();
		const created = await browser.post(
			"/admin/promotions",
			form(t, { value: "12,5", starts_at: "2026-06-01T08:30", ends_at: "2026-09-01T00:00", max_uses: "100", max_uses_per_customer: "1" }),
		);
		const location = redirectOf(created);
		const id = idFrom(location);
		expect(id).toBeDefined();
		const page = await browser.page(location);
		expect(message(page, "status")).toBe("Promotion created.");
		expect(page).toContain(`<code>WEB-${t}</code>`);
		expect(page).toContain("12.5 % off the order");
		expect(page).toMatch(/name="value"[^>]*value="12.5"/);
		expect(page).toMatch(/name="starts_at" value="2026-06-01T08:30"/);
		expect(await rowOf(id)).toMatchObject({
			code: `WEB-${t}`,
			kind: "percentage",
			value: 1250,
			currency: null,
			target: "order",
			startsAt: new Date("2026-06-01T08:30:00Z"),
			endsAt: new Date("2026-09-01T00:00:00Z"),
			maxUses: 100,
			maxUsesPerCustomer: 1,
			active: true,
		});

		// Now 5.00 off each unit of one category's products, from a subtotal of 50, and inactive (the box left unticked).
		const category = newId("cat");
		await withDb((db) => db.primary.insert(categories).values({ id: category, slug: `web-promo-${t.toLowerCase()}`, name: `Promo ${t}` }));
		const { active: _active, ...unticked } = form(t, {
			kind: "fixed",
			value: "5.00",
			currency: "EUR",
			target: "categories",
			min_subtotal: "50",
			buy_quantity: "3",
		});
		const saved = await postForm(browser, `/admin/promotions/${id}`, [...Object.entries(unticked), ["category_ids", category]]);
		expect(redirectOf(saved)).toBe(`/admin/promotions/${id}?notice=promotion_saved`);
		expect(await rowOf(id)).toMatchObject({
			kind: "fixed",
			value: 500,
			currency: "EUR",
			target: "categories",
			targetIds: [category],
			// Quantities belong to buy X get Y only: typed for another kind, they are not sent.
			buyQuantity: null,
			minSubtotalMinor: 5000,
			startsAt: null,
			active: false,
		});
		const edited = await browser.page(`/admin/promotions/${id}`);
		expect(edited).toContain(`off each unit of Promo ${t}`);
		expect(edited).toMatch(new RegExp(`<option value="${category}" selected="">`));

		const audit = await auditOf(id);
		expect(audit.map((entry) => [entry.action, entry.actorId])).toEqual([
			["promotion.create", admin.user.id],
			["promotion.update", admin.user.id],
		]);
		expect(audit[1]?.before).toMatchObject({ kind: "percentage", value: 1250 });
		expect(audit[1]?.after).toMatchObject({ kind: "fixed", value: 500, active: false });

		// The list filters by state, kind and text.
		const inactive = await browser.page(`/admin/promotions?q=${t}&active=false&kind=fixed`);
		expect(inactive).toContain(`data-promotion="${id}"`);
		expect(await browser.page(`/admin/promotions?q=${t}&active=true`)).not.toContain(`data-promotion="${id}"`);
	});

	it("shows a refusal with its reason and what was typed, writing nothing", async () => {
		const admin = await makeAdmin(await registerShopper());
		const browser = signedIn(admin);
		const t = tag();
		const first = idFrom(redirectOf(await browser.post("/admin/promotions", form(t))));

		const noCurrency = await browser.post("/admin/promotions", form(tag(), { kind: "fixed", value: "5.00", name: `No currency ${t}` }));
		expect(noCurrency.status).toBe(422);
		const noCurrencyPage = await noCurrency.text();
		expect(message(noCurrencyPage, "alert")).toBe(
			"These promotion settings do not fit together. Currency: A fixed amount needs the currency it is in.",
		);
		expect(noCurrencyPage).toContain(`value="No currency ${t}"`);

		const badValue = await browser.post("/admin/promotions", form(tag(), { value: "ten" }));
		expect(badValue.status).toBe(400);
		expect(message(await badValue.text(), "alert")).toContain("Value: write a percentage such as 10 or 12.5.");

		const overFull = await browser.post("/admin/promotions", form(tag(), { value: "100.5" }));
		expect(overFull.status).toBe(422);
		expect(message(await overFull.text(), "alert")).toContain("Value: A percentage takes 1 to 10000 basis points off");

		const taken = await browser.post("/admin/promotions", form(t, { name: "Copy" }));
		expect(taken.status).toBe(409);
		expect(message(await taken.text(), "alert")).toBe(`The code WEB-${t} belongs to another promotion; choose another.`);

		const unknown = await browser.post("/admin/promotions", form(tag(), { target: "products", product_ids: "prod_nosuchproduct0000000" }));
		expect(unknown.status).toBe(422);
		expect(message(await unknown.text(), "alert")).toContain("prod_nosuchproduct0000000");

		const backwards = await browser.post(
			`/admin/promotions/${first}`,
			form(t, { starts_at: "2026-06-02T00:00", ends_at: "2026-06-01T00:00" }),
		);
		expect(backwards.status).toBe(422);
		expect(message(await backwards.text(), "alert")).toContain("Ends: The end must come after the start.");

		const rows = await withDb((db) =>
			db.primary
				.select()
				.from(promotions)
				.where(eq(promotions.code, `WEB-${t}`)),
		);
		expect(rows).toHaveLength(1);
		expect(rows[0]?.startsAt).toBeNull();
		expect(await auditOf(first)).toHaveLength(1);
		expect((await browser.get("/admin/promotions/prm_0123456789abcdefghjk")).status).toBe(404);
	});

	it("a code made in the console is applied by checkout; its uses show, and a used promotion is deactivated, never deleted", async () => {
		const admin = await makeAdmin(await registerShopper());
		const bus = new Bus();
		const browser = signedIn(admin, bus);
		const t = tag();
		const id = idFrom(redirectOf(await browser.post("/admin/promotions", form(t, { max_uses: "10" }))));

		const { sku } = await newSku(3000);
		await stock(sku, 3);
		const placed = await checkoutOk(bus, await guestCart([[sku, 1]]), { discount_code: `web-${t.toLowerCase()}` });
		// EU prices include VAT: 10 % of the 30.00 line.
		expect(placed.order.discount.amount).toBe(300);

		const detail = await browser.page(`/admin/promotions/${id}`);
		expect(detail).toContain(`<a href="/admin/orders/${placed.order.id}">`);
		expect(detail).toContain("Used by 1 order of 10 allowed");
		expect(detail).not.toContain(`action="/admin/promotions/${id}/delete"`);
		expect(detail).toContain("Used 1 time so far: the limit cannot be lower.");

		const refused = await browser.post(`/admin/promotions/${id}/delete`);
		expect(redirectOf(refused)).toBe(`/admin/promotions/${id}?error=promotion_used`);
		expect(message(await browser.page(redirectOf(refused)), "alert")).toBe(
			"Orders used this promotion, so it stays for their history; deactivate it instead.",
		);
		const deactivated = await browser.post(`/admin/promotions/${id}/deactivate`);
		expect(redirectOf(deactivated)).toBe(`/admin/promotions/${id}?notice=promotion_deactivated`);
		expect(await rowOf(id)).toMatchObject({ active: false, usedCount: 1 });
		expect((await auditOf(id)).map((entry) => entry.action)).toEqual(["promotion.create", "promotion.deactivate"]);

		// One never used goes, back to the list.
		const unused = idFrom(redirectOf(await browser.post("/admin/promotions", form(tag()))));
		expect(await browser.page(`/admin/promotions/${unused}`)).toContain(`action="/admin/promotions/${unused}/delete"`);
		const deleted = await browser.post(`/admin/promotions/${unused}/delete`);
		expect(redirectOf(deleted)).toBe("/admin/promotions?notice=promotion_deleted");
		expect(await rowOf(unused)).toBeUndefined();
		expect((await auditOf(unused)).map((entry) => entry.action)).toEqual(["promotion.create", "promotion.delete"]);
	});

	it("answers a customer with a 403 page, for the screen and its forms alike", async () => {
		const customer = signedIn(await registerShopper());
		expect((await customer.get("/admin/promotions")).status).toBe(403);
		const t = tag();
		expect((await customer.post("/admin/promotions", form(t))).status).toBe(403);
		expect(
			await withDb((db) =>
				db.primary
					.select()
					.from(promotions)
					.where(eq(promotions.code, `WEB-${t}`)),
			),
		).toEqual([]);
	});
});
