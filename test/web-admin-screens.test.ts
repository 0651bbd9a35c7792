import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, categories, orders, payments } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { makeAdmin, PASSWORD, post, registerShopper, type Session } from "./accounts-helpers.ts";
import { BASE, withDb } from "./helpers.ts";
import { ADDRESS, Bus, checkoutOk, confirm, guestCart, newSku, stock } from "./orders-helpers.ts";
import { Browser } from "./web-helpers.ts";

/** The console's browser: signed in through the storefront's session cookies, posting forms from its own origin. */
class Console extends Browser {
	signIn(session: Session): this {
		this.cookies.set("ec_at", session.access_token);
		this.cookies.set("ec_rt", session.refresh_token);
		return this;
	}

	form(path: string, fields: Record<string, string>): Promise<Response> {
		return this.post(path, fields, { origin: BASE, "sec-fetch-site": "same-origin" });
	}

	/** The page a 303 points at, as HTML. */
	async follow(res: Response): Promise<string> {
		expect(res.status).toBe(303);
		return this.page(res.headers.get("location") ?? "");
	}
}

const tag = () => crypto.randomUUID().slice(0, 8);

async function adminConsole(bus = new Bus()): Promise<{ browser: Console; admin: Session }> {
	const admin = await makeAdmin(await registerShopper());
	return { browser: new Console(bus).signIn(admin), admin };
}

/** The text of the page's `role="status"` or `role="alert"` box. */
function message(html: string, role: "status" | "alert"): string | undefined {
	const match = new RegExp(`role="${role}"[^>]*>([\\s\\S]*?)</div>`).exec(html);
	return match?.[1]
		?.replace(/<[^>]+>/g, " ")
		.replace(/\s+/g, " ")
		.replaceAll("&#39;", "'")
		.replaceAll("&quot;", '"')
		.replaceAll("&lt;", "<")
		.replaceAll("&gt;", ">")
		.replaceAll("&amp;", "&")
		.trim();
}

async function categoryBySlug(slug: string) {
	const [row] = await withDb((db) => db.primary.select().from(categories).where(eq(categories.slug, slug)));
	return row;
}

/** The actions of the entries the audit page lists, in page order. */
const listedActions = (html: string) => [...html.matchAll(/<li class="panel" id="audit-\d+" data-action="([^"]+)"/g)].map((m) => m[1]);

describe("admin screens: navigation and access", () => {
	it("links Categories, Customers and Audit log from every page, each rendering for an admin", async () => {
		const { browser, admin } = await adminConsole();
		const dashboard = await browser.page("/admin");
		for (const [href, label] of [
			["/admin/categories", "Categories"],
			["/admin/customers", "Customers"],
			["/admin/audit-log", "Audit log"],
		]) {
			expect(dashboard).toMatch(new RegExp(`<a href="${href}"[^>]*>${label}</a>`));
			const res = await browser.get(href as string);
			expect(res.status, href).toBe(200);
			expect(res.headers.get("cache-control")).toBe("private, no-store");
			const html = await res.text();
			expect(html).toContain(`<h1>${label}</h1>`);
			expect(html).toMatch(new RegExp(`<a href="${href}" aria-current="page">${label}</a>`));
		}
		expect(await browser.page(`/admin/customers/${admin.user.id}`)).toContain(admin.user.email);
	});

	it("answers a customer with a 403 page on every new page and form, changing nothing; a signed-out visitor is sent to sign in", async () => {
		const t = tag();
		const customer = await registerShopper();
		const browser = new Console().signIn(customer);
		for (const path of ["/admin/categories", "/admin/customers", `/admin/customers/${customer.user.id}`, "/admin/audit-log"]) {
			const res = await browser.get(path);
			expect(res.status, path).toBe(403);
			expect(await res.text()).toContain("Admins only");
		}
		const created = await browser.form("/admin/categories", { name: `Sneaky ${t}`, slug: `sneaky-${t}` });
		expect(created.status).toBe(403);
		expect(await categoryBySlug(`sneaky-${t}`)).toBeUndefined();
		for (const path of ["/admin/categories/cat_0a1b2c3d4e5f6g7h8i9j", "/admin/categories/cat_0a1b2c3d4e5f6g7h8i9j/delete"]) {
			expect((await browser.form(path, { name: "X" })).status).toBe(403);
		}
		const anonymous = await new Console().get("/admin/audit-log?entity_type=order");
		expect(anonymous.status).toBe(303);
		expect(anonymous.headers.get("location")).toBe(`/signin?next=${encodeURIComponent("/admin/audit-log?entity_type=order")}`);
	});
});

describe("admin screens: categories", () => {
	it("creates, moves, renames and deletes categories through the forms; refusals show why; each write is on the audit page", async () => {
		const t = tag();
		const { browser, admin } = await adminConsole();

		const created = await browser.form("/admin/categories", { name: `Screens ${t}`, slug: `screens-${t}`, parent_id: "", position: "" });
		expect(created.headers.get("location")).toBe("/admin/categories?notice=category_created");
		const parent = await categoryBySlug(`screens-${t}`);
		if (!parent) throw new Error("category not created");
		const child = await browser.form("/admin/categories", { name: `Screens child ${t}`, slug: "", parent_id: parent.id, position: "3" });
		const afterChild = await browser.follow(child);
		expect(message(afterChild, "status")).toContain("Category created.");
		const made = await categoryBySlug(`screens-child-${t}`);
		expect(made).toMatchObject({ parentId: parent.id, position: 3 });
		if (!made) throw new Error("child not created");
		// The tree nests the child inside its parent's item, with its own edit form.
		const parentItem = afterChild.slice(afterChild.indexOf(`<li id="${parent.id}"`));
		expect(parentItem.indexOf(`<li id="${made.id}"`)).toBeGreaterThan(0);
		expect(afterChild).toContain(`action="/admin/categories/${made.id}"`);
		// A category cannot be offered as its own parent in its edit form.
		const childForm = afterChild.slice(afterChild.indexOf(`action="/admin/categories/${made.id}"`));
		expect(childForm.slice(0, childForm.indexOf("</form>"))).not.toContain(`value="${made.id}"`);

		const cycle = await browser.form(`/admin/categories/${parent.id}`, {
			name: parent.name,
			slug: parent.slug,
			parent_id: made.id,
			position: "0",
		});
		expect(cycle.status).toBe(422);
		expect(message(await cycle.text(), "alert")).toContain("inside this category's own subtree");
		expect(await categoryBySlug(parent.slug)).toMatchObject({ parentId: null });

		const notEmpty = await browser.form(`/admin/categories/${parent.id}/delete`, {});
		expect(notEmpty.status).toBe(409);
		expect(message(await notEmpty.text(), "alert")).toContain("still has 1 sub-category");

		const taken = await browser.form("/admin/categories", { name: `Again ${t}`, slug: `screens-${t}`, parent_id: "", position: "" });
		expect(taken.status).toBe(409);
		const takenHtml = await taken.text();
		expect(message(takenHtml, "alert")).toContain(`The slug "screens-${t}" belongs to another category.`);
		expect(takenHtml).toContain(`value="Again ${t}"`);

		const badPosition = await browser.form(`/admin/categories/${made.id}`, {
			name: "X",
			slug: made.slug,
			parent_id: "",
			position: "first",
		});
		expect(badPosition.status).toBe(400);
		expect(message(await badPosition.text(), "alert")).toContain("Position: write a whole number");

		const moved = await browser.form(`/admin/categories/${made.id}`, {
			name: `<script>alert(1)</script> ${t}`,
			slug: made.slug,
			parent_id: "",
			position: "1",
		});
		expect(moved.headers.get("location")).toBe("/admin/categories?notice=category_saved");
		expect(await categoryBySlug(made.slug)).toMatchObject({ parentId: null, position: 1, name: `<script>alert(1)</script> ${t}` });
		expect((await browser.form(`/admin/categories/${made.id}/delete`, {})).headers.get("location")).toBe(
			"/admin/categories?notice=category_deleted",
		);
		expect(await categoryBySlug(made.slug)).toBeUndefined();

		const audit = await browser.page(`/admin/audit-log?entity_type=category&entity_id=${made.id}`);
		expect(listedActions(audit)).toEqual(["category.delete", "category.update", "category.create"]);
		expect(audit).toContain(admin.user.email);
		// Before and after, pretty-printed and escaped: the name typed as markup is text on the page.
		expect(audit).toContain(`&quot;parent_id&quot;: &quot;${parent.id}&quot;`);
		expect(audit).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
		expect(audit).not.toContain("<script>alert(1)");
		// Refused writes left nothing.
		expect(listedActions(await browser.page(`/admin/audit-log?entity_id=${parent.id}`))).toEqual(["category.create"]);
		const stored = await withDb((db) => db.primary.select().from(auditLog).where(eq(auditLog.entityId, made.id)));
		expect(stored).toHaveLength(3);
	});
});

describe("admin screens: customers", () => {
	it("finds a customer by part of the e-mail address; their page lists only their orders, each linking to the order", async () => {
		const t = tag();
		const { browser } = await adminConsole();
		const register = async (email: string, name: string) => {
			const res = await post("/v1/auth/register", { email, password: PASSWORD, name });
			return ((await res.json()) as Session).user;
		};
		const mine = await register(`screen.ana.${t}@example.test`, "Ana Screen");
		const theirs = await register(`screen.bo.${t}@example.test`, "Bo Screen");
		const orderOf = async (user: { id: string; email: string }, totalMinor: number) => {
			const id = newId("ord");
			await withDb(async (db) => {
				await db.primary.insert(orders).values({
					id,
					userId: user.id,
					email: user.email,
					status: "paid",
					currency: "EUR",
					subtotalMinor: totalMinor,
					shippingMinor: 0,
					taxMinor: 0,
					totalMinor,
					shippingAddress: { ...ADDRESS, country: "DE" },
					cartId: "cart_screens",
					reservationExpiresAt: new Date(),
				});
				await db.primary
					.insert(payments)
					.values({ id: newId("pay"), orderId: id, provider: "test", status: "succeeded", amountMinor: totalMinor, currency: "EUR" });
			});
			return id;
		};
		const myOrder = await orderOf(mine, 4200);
		const theirOrder = await orderOf(theirs, 1300);

		const found = await browser.page(`/admin/customers?q=${encodeURIComponent(`ANA.${t}`)}`);
		expect(found).toContain(`<a href="/admin/customers/${mine.id}">screen.ana.${t}@example.test</a>`);
		expect(found).not.toContain(theirs.id);
		expect(found).toContain(`value="ANA.${t}"`);
		const both = await browser.page(`/admin/customers?q=${t}`);
		expect(both).toContain(mine.id);
		expect(both).toContain(theirs.id);

		const page = await browser.page(`/admin/customers/${mine.id}`);
		expect(page).toContain(`<a href="/admin/orders/${myOrder}">${myOrder}</a>`);
		expect(page).not.toContain(theirOrder);
		expect(page).toContain("€42.00");
		expect(page).toContain("No saved addresses.");
		expect((await browser.get("/admin/customers/usr_0000000000000000zzzz")).status).toBe(404);
	});
});

describe("admin screens: audit log", () => {
	it("an order action from the console is listed once, even when its form is sent twice; bad filters say so", async () => {
		const bus = new Bus();
		const { browser } = await adminConsole(bus);
		const { sku } = await newSku(2500);
		await stock(sku, 2);
		const placed = await checkoutOk(bus, await guestCart([[sku, 1]]));
		expect((await confirm(bus, placed.payment?.id as string, "succeeded")).status).toBe(202);
		await bus.pump();
		const orderId = placed.order.id;

		const detail = await browser.page(`/admin/orders/${orderId}`);
		const start = detail.indexOf(`action="/admin/orders/${orderId}/fulfil"`);
		const key = /name="idempotency_key" value="([^"]+)"/.exec(detail.slice(start))?.[1] ?? "";
		expect(key).not.toBe("");
		for (let i = 0; i < 2; i++) {
			const res = await browser.form(`/admin/orders/${orderId}/fulfil`, { idempotency_key: key });
			expect(res.headers.get("location")).toBe(`/admin/orders/${orderId}?notice=fulfilled`);
		}
		const audit = await browser.page(`/admin/audit-log?entity_type=order&entity_id=${orderId}`);
		expect(listedActions(audit)).toEqual(["order.fulfil"]);
		expect(audit).toContain(`<a href="/admin/orders/${orderId}"><code>${orderId}</code></a>`);
		expect(audit).toContain("&quot;status&quot;: &quot;paid&quot;");
		expect(audit).toContain("&quot;status&quot;: &quot;fulfilled&quot;");
		expect(listedActions(await browser.page(`/admin/audit-log?entity_id=${orderId}&action=order.ship`))).toEqual([]);

		const bad = await browser.page(`/admin/audit-log?entity_id=${orderId}&since=yesterday`);
		expect(message(bad, "alert")).toContain("Some filters are not valid");
		expect(listedActions(bad)).toEqual([]);
		// A datetime-local value is read as UTC.
		const since = await browser.page(`/admin/audit-log?entity_id=${orderId}&since=2000-01-01T00:00`);
		expect(listedActions(since)).toEqual(["order.fulfil"]);
		const until = await browser.page(`/admin/audit-log?entity_id=${orderId}&until=2000-01-01T00:00`);
		expect(listedActions(until)).toEqual([]);
	});
});
