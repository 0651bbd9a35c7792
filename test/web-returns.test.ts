import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, returns } from "../workers/db/schema.ts";
import { makeAdmin, registerShopper, type Session } from "./accounts-helpers.ts";
import { withDb } from "./helpers.ts";
import { available, Bus, checkoutOk, confirm, guestCart, newSku, stock } from "./orders-helpers.ts";
import { shippedOrder } from "./returns-helpers.ts";
import { Browser, redirectOf } from "./web-helpers.ts";

function signedIn(browser: Browser, session: Session): Browser {
	browser.cookies.set("ec_at", session.access_token);
	browser.cookies.set("ec_rt", session.refresh_token);
	return browser;
}

/** The hidden idempotency key of the form posting to `action` on the page. */
function formKey(html: string, action: string): string {
	const start = html.indexOf(`action="${action}"`);
	expect(start, `form ${action} on the page`).toBeGreaterThan(-1);
	const found = /name="idempotency_key" value="([^"]+)"/.exec(html.slice(start))?.[1];
	expect(found).toBeTruthy();
	return found as string;
}

/** The text of the page's `role="status"` or `role="alert"` box. */
function message(html: string, role: "status" | "alert"): string | undefined {
	return new RegExp(`role="${role}"[^>]*>([\\s\\S]*?)</div>`)
		.exec(html)?.[1]
		?.replace(/<[^>]+>/g, " ")
		.replace(/\s+/g, " ")
		.trim();
}

/** The order page from its returns section on. */
function returnsSection(html: string): string {
	const at = html.indexOf('id="returns"');
	expect(at, "the returns section on the page").toBeGreaterThan(-1);
	return html.slice(at);
}

const returnsOfOrder = (orderId: string) => withDb((db) => db.primary.select().from(returns).where(eq(returns.orderId, orderId)));

describe("the order page's returns", () => {
	it("a signed-in shopper asks to return a unit with the form, sees it requested, and cancels it", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const shopper = await registerShopper();
		const { a, b, orderId } = await shippedOrder(bus, admin, shopper);
		const browser = signedIn(new Browser(bus), shopper);

		const page = await browser.page(`/orders/${orderId}`);
		expect(page).toContain('<h2 id="returns-heading">Returns</h2>');
		expect(page).toContain(`action="/orders/${orderId}/returns"`);
		expect(page).toMatch(new RegExp(`name="quantity_${a}"[^>]*max="2"`));
		expect(page).toMatch(new RegExp(`name="quantity_${b}"[^>]*max="1"`));
		expect(page).toContain('<label for="return-reason">Reason</label>');
		expect(page).toContain("Return items</button>");

		const key = formKey(page, `/orders/${orderId}/returns`);
		const form = { idempotency_key: key, [`quantity_${a}`]: "1", [`quantity_${b}`]: "0", reason: "Too small" };
		const res = await browser.post(`/orders/${orderId}/returns`, form);
		expect(redirectOf(res)).toBe(`/orders/${orderId}?return=requested#returns`);
		// The same form sent twice (a double click): still one return.
		expect(redirectOf(await browser.post(`/orders/${orderId}/returns`, form))).toBe(`/orders/${orderId}?return=requested#returns`);
		const made = await returnsOfOrder(orderId);
		expect(made.map((row) => [row.status, row.reason, row.requestedBy])).toEqual([["requested", "Too small", shopper.user.id]]);

		const after = await browser.page(`/orders/${orderId}?return=requested`);
		expect(message(returnsSection(after), "status")).toContain("Your return request was sent.");
		expect(after).toContain('data-return-status="requested">Requested');
		expect(after).toMatch(new RegExp(`1 × [^<]+ <span class="muted small">${a}</span>`));
		// One unit of A is left to return.
		expect(after).toMatch(new RegExp(`name="quantity_${a}"[^>]*max="1"`));

		const returnId = made[0]?.id as string;
		const cancel = await browser.post(`/orders/${orderId}/returns/${returnId}/cancel`, {
			idempotency_key: formKey(after, `/orders/${orderId}/returns/${returnId}/cancel`),
		});
		expect(redirectOf(cancel)).toBe(`/orders/${orderId}?return=cancelled#returns`);
		const cancelled = await browser.page(`/orders/${orderId}?return=cancelled`);
		expect(message(returnsSection(cancelled), "status")).toBe("Your return was cancelled.");
		expect(cancelled).toContain('data-return-status="cancelled">Cancelled');
		expect(cancelled).toMatch(new RegExp(`name="quantity_${a}"[^>]*max="2"`));
	});

	it("a guest returns through the ec_orders pass; too many units come back with the reason; nothing chosen is refused", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { a, orderId, placed } = await shippedOrder(bus, admin);
		const browser = new Browser(bus);
		// Without the pass, the order page is not the browser's: sign in first.
		expect(redirectOf(await browser.post(`/orders/${orderId}/returns`, { [`quantity_${a}`]: "1" }))).toBe(
			`/signin?next=${encodeURIComponent(`/orders/${orderId}`)}`,
		);
		browser.cookies.set("ec_orders", `${orderId}.${placed.order_token}`);
		const page = await browser.page(`/orders/${orderId}`);

		const tooMany = await browser.post(`/orders/${orderId}/returns`, {
			idempotency_key: formKey(page, `/orders/${orderId}/returns`),
			[`quantity_${a}`]: "3",
		});
		expect(redirectOf(tooMany)).toBe(`/orders/${orderId}?return_error=return_quantity_exceeded#returns`);
		expect(message(await browser.page(`/orders/${orderId}?return_error=return_quantity_exceeded`), "alert")).toBe(
			"You asked to return more units than are left to return. Check the quantities and try again.",
		);
		const none = await browser.post(`/orders/${orderId}/returns`, { idempotency_key: formKey(page, `/orders/${orderId}/returns`) });
		expect(redirectOf(none)).toBe(`/orders/${orderId}?return_error=nothing_chosen#returns`);
		expect(await returnsOfOrder(orderId)).toEqual([]);

		const asked = await browser.post(`/orders/${orderId}/returns`, {
			idempotency_key: `web-${crypto.randomUUID()}`,
			[`quantity_${a}`]: "2",
		});
		expect(redirectOf(asked)).toBe(`/orders/${orderId}?return=requested#returns`);
		expect((await returnsOfOrder(orderId)).map((row) => row.requestedBy)).toEqual(["guest"]);
		// Another browser, with no pass, cannot cancel it.
		const returnId = (await returnsOfOrder(orderId))[0]?.id as string;
		const stranger = signedIn(new Browser(bus), await registerShopper());
		expect(
			(await stranger.post(`/orders/${orderId}/returns/${returnId}/cancel`, { idempotency_key: `web-${crypto.randomUUID()}` })).status,
		).toBe(404);
		expect((await returnsOfOrder(orderId)).map((row) => row.status)).toEqual(["requested"]);
	});

	it("offers no return form for an order that is not shipped yet", async () => {
		const bus = new Bus();
		const { sku } = await newSku(1000);
		await stock(sku, 1);
		const placed = await checkoutOk(bus, await guestCart([[sku, 1]]));
		await confirm(bus, placed.payment?.id as string, "succeeded");
		await bus.pump();
		const browser = new Browser(bus);
		browser.cookies.set("ec_orders", `${placed.order.id}.${placed.order_token}`);
		const page = await browser.page(`/orders/${placed.order.id}`);
		expect(page).not.toContain('id="returns"');
		expect(page).not.toContain("Return items");
	});
});

describe("the admin console's returns", () => {
	it("lists returns by status and takes one through approve, receive and refund with restock; the shopper's page shows the refund", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const shopper = await registerShopper();
		const { a, orderId } = await shippedOrder(bus, admin, shopper);
		const customer = signedIn(new Browser(bus), shopper);
		const orderPage = await customer.page(`/orders/${orderId}`);
		await customer.post(`/orders/${orderId}/returns`, {
			idempotency_key: formKey(orderPage, `/orders/${orderId}/returns`),
			[`quantity_${a}`]: "1",
		});
		const returnId = (await returnsOfOrder(orderId))[0]?.id as string;
		const console = signedIn(new Browser(bus), admin);

		const dashboard = await console.page("/admin");
		expect(dashboard).toMatch(/<a href="\/admin\/returns"[^>]*>Returns<\/a>/);
		const list = await console.page("/admin/returns?status=requested");
		expect(list).toContain('<label for="return-status">Status</label>');
		expect(list).toMatch(/<option value="requested" selected="">Requested<\/option>/);
		expect(list).toContain(`<a href="/admin/returns/${returnId}">${returnId}</a>`);
		expect(await console.page("/admin/returns?status=refunded")).not.toContain(returnId);

		let detail = await console.page(`/admin/returns/${returnId}`);
		expect(detail).toContain(`action="/admin/returns/${returnId}/approve"`);
		expect(detail).toContain(`action="/admin/returns/${returnId}/reject"`);
		expect(detail).toContain("Approve return</button>");
		const approved = await console.post(`/admin/returns/${returnId}/approve`, {
			idempotency_key: formKey(detail, `/admin/returns/${returnId}/approve`),
			note: "Post it to Returns, Hauptstraße 1, Berlin.",
		});
		expect(redirectOf(approved)).toBe(`/admin/returns/${returnId}?notice=return_approved`);
		expect(bus.notifications.types()).toContain("return.approved");

		detail = await console.page(`/admin/returns/${returnId}?notice=return_approved`);
		expect(message(detail, "status")).toBe("Return approved. The customer is being e-mailed the instructions.");
		expect(detail).toContain("Post it to Returns, Hauptstraße 1, Berlin.");
		const received = await console.post(`/admin/returns/${returnId}/receive`, {
			idempotency_key: formKey(detail, `/admin/returns/${returnId}/receive`),
		});
		expect(redirectOf(received)).toBe(`/admin/returns/${returnId}?notice=return_received`);

		detail = await console.page(`/admin/returns/${returnId}`);
		expect(detail).toMatch(/<input type="checkbox" name="restock" value="1" checked=""/);
		const refundKey = formKey(detail, `/admin/returns/${returnId}/refund`);
		const refunded = await console.post(`/admin/returns/${returnId}/refund`, { idempotency_key: refundKey, restock: "1" });
		expect(redirectOf(refunded)).toBe(`/admin/returns/${returnId}?notice=return_refunded`);
		// The same form again replays its answer: one refund.
		expect(redirectOf(await console.post(`/admin/returns/${returnId}/refund`, { idempotency_key: refundKey, restock: "1" }))).toBe(
			`/admin/returns/${returnId}?notice=return_refunded`,
		);
		await bus.pump();
		expect(await available(a)).toMatchObject({ onHand: 4 });
		detail = await console.page(`/admin/returns/${returnId}`);
		expect(detail).toContain('data-return-status="refunded">Refunded');
		expect(detail).toMatch(/€10\.00 \(ref_[0-9a-z]{20}, succeeded\), restocked/);
		const audit = await withDb((db) => db.primary.select().from(auditLog).where(eq(auditLog.entityId, returnId)));
		expect(audit.map((entry) => entry.action).sort()).toEqual(["return.approve", "return.receive", "return.refund"]);

		const shopperView = await customer.page(`/orders/${orderId}`);
		expect(shopperView).toContain('data-return-status="refunded">Refunded');
		expect(shopperView).toContain("Refunded €10.00");
		expect(shopperView).toContain("Parcel received");
		expect(shopperView).toContain("How to send the items back");
		expect(shopperView).toContain("Post it to Returns, Hauptstraße 1, Berlin.");

		// A step its status does not allow comes back as an error, changing nothing.
		const late = await console.post(`/admin/returns/${returnId}/approve`, { idempotency_key: `web-${crypto.randomUUID()}`, note: "again" });
		expect(redirectOf(late)).toBe(`/admin/returns/${returnId}?error=invalid_return_transition`);
		expect(message(await console.page(`/admin/returns/${returnId}?error=invalid_return_transition`), "alert")).toContain(
			"status does not allow this (it may have changed meanwhile)",
		);
	});

	it("rejects with the reason the customer is e-mailed, and refuses a customer the console", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { a, orderId, as } = await shippedOrder(bus, admin);
		const asked = await bus.request(`/v1/orders/${orderId}/returns`, {
			method: "POST",
			headers: {
				"content-type": "application/json",
				"x-order-token": as.orderToken as string,
				"idempotency-key": `key-${crypto.randomUUID()}`,
			},
			body: JSON.stringify({ lines: [{ sku: a, quantity: 1 }] }),
		});
		expect(asked.status).toBe(201);
		const returnId = ((await asked.json()) as { id: string }).id;
		const console = signedIn(new Browser(bus), admin);
		const detail = await console.page(`/admin/returns/${returnId}`);
		const rejected = await console.post(`/admin/returns/${returnId}/reject`, {
			idempotency_key: formKey(detail, `/admin/returns/${returnId}/reject`),
			note: "Opened items cannot be returned.",
		});
		expect(redirectOf(rejected)).toBe(`/admin/returns/${returnId}?notice=return_rejected`);
		expect(bus.notifications.types()).toContain("return.rejected");
		const [row] = await returnsOfOrder(orderId);
		expect(row).toMatchObject({ status: "rejected", note: "Opened items cannot be returned." });
		const empty = await console.post(`/admin/returns/${returnId}/approve`, { idempotency_key: `web-${crypto.randomUUID()}`, note: " " });
		expect(redirectOf(empty)).toBe(`/admin/returns/${returnId}?error=validation_failed`);

		const customer = signedIn(new Browser(bus), await registerShopper());
		expect((await customer.get("/admin/returns")).status).toBe(403);
		expect((await customer.post(`/admin/returns/${returnId}/receive`, {})).status).toBe(403);
	});
});
