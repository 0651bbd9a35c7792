import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { affiliateCommissions, affiliates, auditLog, orders, products } from "../workers/db/schema.ts";
import { money } from "../workers/web/layout.tsx";
import { makeAdmin, registerShopper, type Session } from "./accounts-helpers.ts";
import { withDb } from "./helpers.ts";
import { Bus, headersFor, newSku, stock } from "./orders-helpers.ts";
import { Browser, CHECKOUT_FORM, fieldValue, redirectOf } from "./web-helpers.ts";

/**
 * Referral links on the storefront (`?ref=CODE` → the first-party `ref`
 * cookie → the order's affiliate) and the console's Affiliates screen.
 */

const freshCode = () => `WEB-${crypto.randomUUID().replaceAll("-", "").slice(0, 10).toUpperCase()}`;

async function newAffiliate(admin: Session, commissionBp: number, extra: Record<string, unknown> = {}) {
	const res = await new Bus().request("/v1/admin/affiliates", {
		method: "POST",
		headers: headersFor({ bearer: admin.access_token }),
		body: JSON.stringify({ code: freshCode(), name: "Ana's travel blog", commission_bp: commissionBp, ...extra }),
	});
	if (res.status !== 201) throw new Error(`affiliate create answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as { id: string; code: string; referral_url: string };
}

/** The `ref` cookie's Set-Cookie line of a response, if any. */
const refCookieOf = (res: Response) => res.headers.getSetCookie().find((line) => line.startsWith("ref="));

/** Puts one item in the browser's cart and places the order through the checkout form; answers the order id. */
async function orderThroughStorefront(browser: Browser): Promise<string> {
	const { sku, productId } = await newSku(1800);
	await stock(sku, 3);
	const [product] = await withDb((db) => db.primary.select().from(products).where(eq(products.id, productId)));
	expect((await browser.post("/cart/items", { product: product?.slug as string, sku, quantity: "1" })).status).toBe(303);
	const key = fieldValue(await browser.page("/checkout"), "idempotency_key");
	const location = redirectOf(await browser.post("/checkout", { ...CHECKOUT_FORM, idempotency_key: key }));
	return /^\/orders\/(ord_[0-9a-z]{20})\/pay$/.exec(location)?.[1] as string;
}

async function affiliateOf(orderId: string): Promise<string | null | undefined> {
	const [row] = await withDb((db) => db.primary.select({ affiliateId: orders.affiliateId }).from(orders).where(eq(orders.id, orderId)));
	return row?.affiliateId;
}

describe("referral links", () => {
	it("?ref= sets the HttpOnly first-party ref cookie for AFFILIATE_COOKIE_DAYS and sends the shopper on without it", async () => {
		const admin = await makeAdmin(await registerShopper());
		const affiliate = await newAffiliate(admin, 1000);
		const browser = new Browser();
		// Typed by hand, in lower case: the same code.
		const res = await browser.get(`/?ref=${affiliate.code.toLowerCase()}`);
		expect(res.status).toBe(302);
		expect(res.headers.get("location")).toBe("/");
		expect(res.headers.get("cache-control")).toBe("private, no-store");
		// 30 days (wrangler.toml) × 86,400 s.
		expect(refCookieOf(res)).toBe(`ref=${affiliate.code}; Max-Age=2592000; Path=/; HttpOnly; Secure; SameSite=Lax`);
		expect(browser.cookies.get("ref")).toBe(affiliate.code);
		// The page itself is the public one: no cookie of its own.
		const home = await browser.get("/");
		expect(home.status).toBe(200);
		expect(refCookieOf(home)).toBeUndefined();

		// Another page, other parameters kept; a shorter window where the operator configures one (7 × 86,400 s).
		const weekly = new Browser(new Bus({ AFFILIATE_COOKIE_DAYS: "7" }));
		const search = await weekly.get(`/search?q=tee&ref=${affiliate.code}&page=2`);
		expect(search.status).toBe(302);
		expect(search.headers.get("location")).toBe("/search?q=tee&page=2");
		expect(refCookieOf(search)).toMatch(/; Max-Age=604800;/);
	});

	it("an unknown, inactive or malformed code sets no cookie, and leaves an earlier referral as it was", async () => {
		const admin = await makeAdmin(await registerShopper());
		const active = await newAffiliate(admin, 1000);
		const inactive = await newAffiliate(admin, 1000, { active: false });
		const browser = new Browser();
		for (const code of [freshCode(), inactive.code, "%3Cscript%3E", "A", ""]) {
			const res = await browser.get(`/p/anything?ref=${code}`);
			expect(res.status, code).toBe(302);
			expect(res.headers.get("location")).toBe("/p/anything");
			expect(refCookieOf(res), code).toBeUndefined();
		}
		expect(browser.cookies.has("ref")).toBe(false);
		await browser.get(`/?ref=${active.code}`);
		const unknown = await browser.get(`/?ref=${freshCode()}`);
		expect(refCookieOf(unknown)).toBeUndefined();
		expect(browser.cookies.get("ref")).toBe(active.code);
	});

	it("last click wins: a later link of another affiliate takes the attribution, and the order records it", async () => {
		const admin = await makeAdmin(await registerShopper());
		const first = await newAffiliate(admin, 1000);
		const second = await newAffiliate(admin, 500);
		const browser = new Browser();
		await browser.get(`/?ref=${first.code}`);
		const later = await browser.get(`/c/anything?ref=${second.code}`);
		expect(refCookieOf(later)).toMatch(new RegExp(`^ref=${second.code};`));
		const orderId = await orderThroughStorefront(browser);
		expect(await affiliateOf(orderId)).toBe(second.id);
	});

	it("an order placed through the storefront with the cookie records its affiliate; one without it records none", async () => {
		const admin = await makeAdmin(await registerShopper());
		const affiliate = await newAffiliate(admin, 1000);
		const referred = new Browser();
		await referred.get(`/?ref=${affiliate.code}`);
		expect(await affiliateOf(await orderThroughStorefront(referred))).toBe(affiliate.id);
		expect(await affiliateOf(await orderThroughStorefront(new Browser()))).toBeNull();

		// Deactivated between the click and the checkout: the order is placed, attributed to no one.
		const late = new Browser();
		await late.get(`/?ref=${affiliate.code}`);
		await withDb((db) => db.primary.update(affiliates).set({ active: false }).where(eq(affiliates.id, affiliate.id)));
		expect(await affiliateOf(await orderThroughStorefront(late))).toBeNull();
	});
});

/** A storefront browser signed in with an API session, as the session cookies carry it. */
function signedIn(session: Session, bus = new Bus()): Browser {
	const browser = new Browser(bus);
	browser.cookies.set("ec_at", session.access_token);
	browser.cookies.set("ec_rt", session.refresh_token);
	return browser;
}

/** The text of the page's `role="status"` or `role="alert"` box. */
function message(html: string, role: "status" | "alert"): string | undefined {
	const match = new RegExp(`role="${role}"[^>]*>([\\s\\S]*?)</div>`).exec(html);
	return match?.[1]
		?.replace(/<[^>]+>/g, " ")
		.replace(/\s+/g, " ")
		.trim();
}

async function auditOf(affiliateId: string) {
	return withDb((db) =>
		db.primary
			.select()
			.from(auditLog)
			.where(and(eq(auditLog.entityType, "affiliate"), eq(auditLog.entityId, affiliateId)))
			.orderBy(auditLog.id),
	);
}

describe("the console's Affiliates screen", () => {
	it("is in the navigation; creates and edits affiliates with audited writes, and shows the referral link", async () => {
		const admin = await makeAdmin(await registerShopper());
		const browser = signedIn(admin);
		const dashboard = await browser.page("/admin");
		expect(dashboard).toContain('<a href="/admin/affiliates">Affiliates</a>');
		const list = await browser.page("/admin/affiliates");
		expect(list).toContain('<a href="/admin/affiliates" aria-current="page">Affiliates</a>');
		expect(list).toContain('<form method="post" action="/admin/affiliates">');

		const code = freshCode();
		const created = await browser.post("/admin/affiliates", { code: code.toLowerCase(), name: "Ana", email: "", rate: "12,5" });
		const location = redirectOf(created);
		const id = /^\/admin\/affiliates\/(aff_[0-9a-z]{20})\?notice=affiliate_created$/.exec(location)?.[1] as string;
		expect(id).toBeDefined();
		const page = await browser.page(location);
		expect(message(page, "status")).toBe("Affiliate created. Hand them the referral link below.");
		expect(page).toContain(`value="http://localhost:8787/?ref=${code}"`);
		expect(page).toMatch(/<input id="rate" name="rate"[^>]*value="12.5"/);
		const [row] = await withDb((db) => db.primary.select().from(affiliates).where(eq(affiliates.id, id)));
		expect(row).toMatchObject({ code, name: "Ana", email: null, commissionBp: 1250, active: true });

		// Deactivated (the box left unticked) at a new rate.
		const saved = await browser.post(`/admin/affiliates/${id}`, { name: "Ana Lima", email: "ana@example.com", rate: "7.5" });
		expect(redirectOf(saved)).toBe(`/admin/affiliates/${id}?notice=affiliate_saved`);
		const [after] = await withDb((db) => db.primary.select().from(affiliates).where(eq(affiliates.id, id)));
		expect(after).toMatchObject({ name: "Ana Lima", email: "ana@example.com", commissionBp: 750, active: false });

		const audit = await auditOf(id);
		expect(audit.map((entry) => [entry.action, entry.actorId])).toEqual([
			["affiliate.create", admin.user.id],
			["affiliate.update", admin.user.id],
		]);
		expect(audit[1]?.before).toMatchObject({ commission_bp: 1250, active: true });
		expect(audit[1]?.after).toMatchObject({ commission_bp: 750, active: false, name: "Ana Lima" });

		// Refusals come back with the reason and what was typed, writing nothing.
		const taken = await browser.post("/admin/affiliates", { code, name: "Copy", email: "", rate: "5" });
		expect(taken.status).toBe(409);
		const takenPage = await taken.text();
		expect(message(takenPage, "alert")).toBe(`The code ${code} belongs to another affiliate; choose another.`);
		expect(takenPage).toContain('value="Copy"');
		const badRate = await browser.post("/admin/affiliates", { code: freshCode(), name: "Rate", email: "", rate: "ten" });
		expect(badRate.status).toBe(400);
		expect(message(await badRate.text(), "alert")).toContain("Commission: write a percentage such as 10 or 7.5.");
		const overRate = await browser.post(`/admin/affiliates/${id}`, { name: "Ana", email: "", rate: "100.01", active: "on" });
		expect(overRate.status).toBe(400);
		expect((await auditOf(id)).length).toBe(2);
	});

	it("reports the period's orders and commission per affiliate, and lists the affiliate's orders", async () => {
		const admin = await makeAdmin(await registerShopper());
		const affiliate = await newAffiliate(admin, 1000);
		const shopper = new Browser();
		await shopper.get(`/?ref=${affiliate.code}`);
		const orderId = await orderThroughStorefront(shopper);
		expect(redirectOf(await shopper.post(`/orders/${orderId}/pay`, { outcome: "succeeded" }))).toBe(`/orders/${orderId}`);
		await shopper.bus.pump();
		const [commission] = await withDb((db) =>
			db.primary.select().from(affiliateCommissions).where(eq(affiliateCommissions.orderId, orderId)),
		);
		if (!commission) throw new Error("no commission accrued");
		// 10 % of what the order sold, half up: ⌊(2·sold·1000 + 10000) / 20000⌋.
		expect(commission.commissionMinor).toBe(Math.floor((2 * commission.baseMinor * 1000 + 10_000) / 20_000));

		const browser = signedIn(admin);
		const today = new Date().toISOString().slice(0, 10);
		const report = await browser.page(`/admin/affiliates?from=${today}&to=${today}`);
		const row = new RegExp(`<tr data-affiliate="${affiliate.code}" data-currency="EUR">([\\s\\S]*?)</tr>`).exec(report)?.[1] ?? "";
		expect(row).toContain('data-label="Orders">1</td>');
		expect(row).toContain(`data-label="Sold">${money(commission.baseMinor, "EUR")}</td>`);
		expect(row).toContain(`data-label="Commission">${money(commission.commissionMinor, "EUR")}</td>`);
		expect(row).toContain(`data-label="Reversed">${money(0, "EUR")}</td>`);
		expect(row).toContain(`<strong>${money(commission.commissionMinor, "EUR")}</strong>`);
		const backwards = await browser.page(`/admin/affiliates?from=${today}&to=2000-01-01`);
		expect(message(backwards, "alert")).toBe("Choose a first day on or before the last day; showing this month.");

		const detail = await browser.page(`/admin/affiliates/${affiliate.id}`);
		expect(detail).toContain(`<a href="/admin/orders/${orderId}">`);
		expect((await browser.get("/admin/affiliates/aff_0123456789abcdefghjk")).status).toBe(404);
	});

	it("answers a customer with a 403 page, for the screen and its forms alike", async () => {
		const customer = signedIn(await registerShopper());
		const page = await customer.get("/admin/affiliates");
		expect(page.status).toBe(403);
		const code = freshCode();
		const post = await customer.post("/admin/affiliates", { code, name: "Me", email: "", rate: "100" });
		expect(post.status).toBe(403);
		expect(await withDb((db) => db.primary.select().from(affiliates).where(eq(affiliates.code, code)))).toEqual([]);
	});
});
