import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, deadLetters, idempotencyKeys, notifications, orders, payments, users, webhookEndpoints } from "../workers/db/schema.ts";
import { envelope } from "../workers/queues/envelope.ts";
import { makeAdmin, PASSWORD, registerShopper, type Session } from "./accounts-helpers.ts";
import { BASE, withDb } from "./helpers.ts";
import { available, Bus, checkoutOk, confirm, guestCart, newSku, stock } from "./orders-helpers.ts";

/**
 * A browser without JavaScript: keeps cookies, sends forms as a browser does
 * (same-origin, urlencoded or multipart) and never follows redirects on its
 * own, so each test sees the 303 and its Location.
 */
class Browser {
	readonly bus: Bus;
	readonly cookies = new Map<string, string>();

	constructor(bus = new Bus()) {
		this.bus = bus;
	}

	async request(path: string, init: RequestInit = {}): Promise<Response> {
		const headers = new Headers(init.headers);
		if (this.cookies.size > 0) headers.set("cookie", [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; "));
		const res = await this.bus.request(path, { ...init, headers, redirect: "manual" });
		for (const line of res.headers.getSetCookie()) {
			const [pair = "", ...attributes] = line.split(";");
			const eq = pair.indexOf("=");
			const name = pair.slice(0, eq).trim();
			const gone = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
			if (gone) this.cookies.delete(name);
			else this.cookies.set(name, pair.slice(eq + 1));
		}
		return res;
	}

	get(path: string): Promise<Response> {
		return this.request(path, { headers: { accept: "text/html" } });
	}

	/** The page a 303 points at. */
	async follow(res: Response): Promise<{ res: Response; html: string }> {
		expect(res.status).toBe(303);
		const location = res.headers.get("location") as string;
		const page = await this.get(location);
		return { res: page, html: await page.text() };
	}

	post(path: string, fields: Record<string, string | string[]> | FormData): Promise<Response> {
		const headers: Record<string, string> = { origin: BASE, "sec-fetch-site": "same-origin" };
		let body: BodyInit;
		if (fields instanceof FormData) {
			body = fields;
		} else {
			const form = new URLSearchParams();
			for (const [name, value] of Object.entries(fields)) for (const one of [value].flat()) form.append(name, one);
			body = form.toString();
			headers["content-type"] = "application/x-www-form-urlencoded";
		}
		return this.request(path, { method: "POST", headers, body });
	}

	/** Signs in the way the storefront's session cookies carry an API session. */
	signIn(session: Session): this {
		this.cookies.set("ec_at", session.access_token);
		this.cookies.set("ec_rt", session.refresh_token);
		return this;
	}
}

async function adminBrowser(bus = new Bus()): Promise<{ browser: Browser; admin: Session }> {
	const admin = await makeAdmin(await registerShopper());
	return { browser: new Browser(bus).signIn(admin), admin };
}

/** The hidden idempotency key of the form posting to `action` on the page. */
function formKey(html: string, action: string): string {
	const start = html.indexOf(`action="${action}"`);
	expect(start, `form ${action} on the page`).toBeGreaterThan(-1);
	const key = /name="idempotency_key" value="([^"]+)"/.exec(html.slice(start))?.[1];
	expect(key).toBeTruthy();
	return key as string;
}

/** The text of the page's `role="status"` or `role="alert"` box. */
function message(html: string, role: "status" | "alert"): string | undefined {
	const match = new RegExp(`role="${role}"[^>]*>([\\s\\S]*?)</div>`).exec(html);
	return match?.[1]
		?.replace(/<[^>]+>/g, " ")
		.replace(/\s+/g, " ")
		.trim();
}

async function paidOrder(bus: Bus, email = `buyer.${crypto.randomUUID().slice(0, 8)}@example.test`) {
	const { sku } = await newSku(2500);
	await stock(sku, 5);
	const placed = await checkoutOk(bus, await guestCart([[sku, 1]]), { email });
	expect((await confirm(bus, placed.payment?.id as string, "succeeded")).status).toBe(202);
	await bus.pump();
	return { sku, orderId: placed.order.id, email };
}

describe("admin console access", () => {
	it("sends a signed-out visitor to sign in, coming back to the page asked for", async () => {
		const browser = new Browser();
		const dashboard = await browser.get("/admin");
		expect(dashboard.status).toBe(303);
		expect(dashboard.headers.get("location")).toBe("/signin?next=%2Fadmin");
		expect(dashboard.headers.get("cache-control")).toBe("private, no-store");
		const filtered = await browser.get("/admin/orders?status=paid");
		expect(filtered.headers.get("location")).toBe(`/signin?next=${encodeURIComponent("/admin/orders?status=paid")}`);
		const post = await browser.post("/admin/dead-letters/1/replay", {});
		expect(post.status).toBe(303);
		expect(post.headers.get("location")).toBe("/signin?next=%2Fadmin");
	});

	it("answers a signed-in customer with a 403 page, for pages and actions alike", async () => {
		const customer = await registerShopper();
		const browser = new Browser().signIn(customer);
		const res = await browser.get("/admin/orders");
		expect(res.status).toBe(403);
		expect(res.headers.get("content-type")).toMatch(/^text\/html/);
		expect(res.headers.get("cache-control")).toBe("private, no-store");
		const html = await res.text();
		expect(html).toContain("Admins only");
		expect(html).not.toContain('class="admin-nav"');
		const action = await browser.post("/admin/webhooks", { url: "https://hooks.example.com/x", event_types: "order.paid" });
		expect(action.status).toBe(403);
		const created = await withDb((db) =>
			db.primary.select().from(webhookEndpoints).where(eq(webhookEndpoints.url, "https://hooks.example.com/x")),
		);
		expect(created).toEqual([]);
	});

	it("refuses an admin demoted in Postgres at once, though the session still says admin", async () => {
		const { browser, admin } = await adminBrowser();
		expect((await browser.get("/admin")).status).toBe(200);
		await withDb((db) => db.primary.update(users).set({ role: "customer" }).where(eq(users.id, admin.user.id)));
		const res = await browser.get("/admin");
		expect(res.status).toBe(403);
		expect(await res.text()).toContain("Admins only");
	});

	it("lets an admin sign in through the storefront form and land on the dashboard with every section linked", async () => {
		const admin = await makeAdmin(await registerShopper());
		const browser = new Browser();
		const signedIn = await browser.post("/signin", { email: admin.user.email, password: PASSWORD, next: "/admin" });
		expect(signedIn.status).toBe(303);
		expect(signedIn.headers.get("location")).toBe("/admin");
		const { res, html } = await browser.follow(signedIn);
		expect(res.status).toBe(200);
		expect(res.headers.get("cache-control")).toBe("private, no-store");
		expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
		expect(html).toContain("<h1>Dashboard</h1>");
		for (const [href, label] of [
			["/admin", "Dashboard"],
			["/admin/products", "Products"],
			["/admin/inventory", "Inventory"],
			["/admin/orders", "Orders"],
			["/admin/dead-letters", "Dead letters"],
			["/admin/notifications", "Notifications"],
			["/admin/webhooks", "Webhooks"],
		]) {
			expect(html).toMatch(new RegExp(`<a href="${href}"[^>]*>${label}</a>`));
		}
		expect(html).toMatch(/<a href="\/admin" aria-current="page">Dashboard<\/a>/);
	});

	it("shows a 404 page inside the console for an order that does not exist", async () => {
		const { browser } = await adminBrowser();
		const res = await browser.get("/admin/orders/ord_0000000000000000zzzz");
		expect(res.status).toBe(404);
		expect(res.headers.get("content-type")).toMatch(/^text\/html/);
		expect(await res.text()).toContain("Not found");
	});
});

describe("admin orders", () => {
	it("filters the order list by e-mail and status, linking each order by its id", async () => {
		const bus = new Bus();
		const { browser } = await adminBrowser(bus);
		const email = `filter.${crypto.randomUUID().slice(0, 8)}@example.test`;
		const paid = await paidOrder(bus, email);
		const { sku } = await newSku(900);
		await stock(sku, 3);
		const unpaid = (await checkoutOk(bus, await guestCart([[sku, 1]]), { email })).order.id;
		const other = await paidOrder(bus);

		const byEmail = await (await browser.get(`/admin/orders?email=${encodeURIComponent(email.toUpperCase())}`)).text();
		expect(byEmail).toContain(`<a href="/admin/orders/${paid.orderId}">${paid.orderId}</a>`);
		expect(byEmail).toContain(`<a href="/admin/orders/${unpaid}">${unpaid}</a>`);
		expect(byEmail).not.toContain(other.orderId);
		expect(byEmail).toContain("Awaiting payment");
		expect(byEmail).toMatch(/<label for="order-status">Status<\/label>/);
		expect(byEmail).toMatch(/<label for="order-email">Email<\/label>/);

		const res = await browser.get(`/admin/orders?status=paid&email=${encodeURIComponent(email)}`);
		expect(res.headers.get("cache-control")).toBe("private, no-store");
		const paidOnly = await res.text();
		expect(paidOnly).toContain(paid.orderId);
		expect(paidOnly).not.toContain(unpaid);
		expect(paidOnly).toMatch(/data-status="paid">Paid</);
	});

	it("fulfils and ships an order from its page; the status and tracking number show, and a repeated form changes nothing", async () => {
		const bus = new Bus();
		const { browser } = await adminBrowser(bus);
		const { orderId } = await paidOrder(bus);
		const detail = await (await browser.get(`/admin/orders/${orderId}`)).text();
		expect(detail).toContain(`Order ${orderId}`);
		expect(detail).toContain(">Mark fulfilled</button>");
		expect(detail).not.toContain("Mark shipped");

		const fulfilKey = formKey(detail, `/admin/orders/${orderId}/fulfil`);
		const fulfilled = await browser.post(`/admin/orders/${orderId}/fulfil`, { idempotency_key: fulfilKey });
		expect(fulfilled.headers.get("location")).toBe(`/admin/orders/${orderId}?notice=fulfilled`);
		const afterFulfil = await browser.follow(fulfilled);
		expect(message(afterFulfil.html, "status")).toBe("Order marked fulfilled.");
		expect(afterFulfil.html).toMatch(/data-status="fulfilled">Fulfilled</);

		// The same form sent again (a double click): the first answer, replayed.
		const again = await browser.post(`/admin/orders/${orderId}/fulfil`, { idempotency_key: fulfilKey });
		expect(again.status).toBe(303);
		expect(again.headers.get("location")).toBe(`/admin/orders/${orderId}?notice=fulfilled`);
		expect(again.headers.get("idempotent-replayed")).toBe("true");

		const shipKey = formKey(afterFulfil.html, `/admin/orders/${orderId}/ship`);
		expect(afterFulfil.html).toMatch(/<label for="tracking-number">Tracking number<\/label>/);
		expect(afterFulfil.html).toMatch(/<label for="carrier">Carrier<\/label>/);
		const shipped = await browser.post(`/admin/orders/${orderId}/ship`, {
			idempotency_key: shipKey,
			tracking_number: "TRK-4711",
			carrier: "DHL",
		});
		const afterShip = await browser.follow(shipped);
		expect(message(afterShip.html, "status")).toContain("Order marked shipped.");
		expect(afterShip.html).toMatch(/data-status="shipped">Shipped</);
		expect(afterShip.html).toContain("Tracking number: TRK-4711");
		expect(afterShip.html).toContain("Carrier: DHL");
		expect(bus.notifications.sent.filter((sent) => sent.body.type === "order.shipped")).toHaveLength(1);

		// A fresh form for an action the status no longer allows: refused with a reason, nothing changes.
		const late = await browser.post(`/admin/orders/${orderId}/fulfil`, { idempotency_key: crypto.randomUUID() });
		expect(late.headers.get("location")).toBe(`/admin/orders/${orderId}?error=invalid_transition`);
		const refused = await browser.follow(late);
		expect(message(refused.html, "alert")).toContain("does not allow");
		const [row] = await withDb((db) => db.primary.select().from(orders).where(eq(orders.id, orderId)));
		expect(row).toMatchObject({ status: "shipped", trackingNumber: "TRK-4711", carrier: "DHL" });

		// Then the carrier reports it delivered.
		const delivered = await browser.post(`/admin/orders/${orderId}/deliver`, {
			idempotency_key: formKey(afterShip.html, `/admin/orders/${orderId}/deliver`),
		});
		const afterDelivery = await browser.follow(delivered);
		expect(message(afterDelivery.html, "status")).toContain("Order marked delivered.");
		expect(afterDelivery.html).toMatch(/data-status="delivered">Delivered</);
		expect(afterDelivery.html).not.toContain("Mark delivered");
	});

	it("refunds a paid order through the provider from its page", async () => {
		const bus = new Bus();
		const { browser } = await adminBrowser(bus);
		const { orderId } = await paidOrder(bus);
		const detail = await (await browser.get(`/admin/orders/${orderId}`)).text();
		expect(detail).toMatch(/data-confirm="Refund [^"]+\? This cannot be undone\."/);
		const refunded = await browser.post(`/admin/orders/${orderId}/refund`, {
			idempotency_key: formKey(detail, `/admin/orders/${orderId}/refund`),
			reason: "damaged in transit",
		});
		const after = await browser.follow(refunded);
		expect(message(after.html, "status")).toContain("Order refunded.");
		expect(after.html).toMatch(/data-status="refunded">Refunded</);
		expect(after.html).not.toContain(">Refund</button>");
		const [payment] = await withDb((db) => db.primary.select().from(payments).where(eq(payments.orderId, orderId)));
		expect(payment).toMatchObject({ status: "refunded", refundedMinor: payment?.amountMinor });
	});

	it("refuses a form without a valid key and does nothing", async () => {
		const bus = new Bus();
		const { browser } = await adminBrowser(bus);
		const { orderId } = await paidOrder(bus);
		const res = await browser.post(`/admin/orders/${orderId}/fulfil`, {});
		expect(res.headers.get("location")).toBe(`/admin/orders/${orderId}?error=form_expired`);
		const [row] = await withDb((db) => db.primary.select().from(orders).where(eq(orders.id, orderId)));
		expect(row?.status).toBe("paid");
	});
});

/** The smallest valid PNG: one transparent pixel. */
const PIXEL_PNG = Uint8Array.from(
	atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="),
	(char) => char.charCodeAt(0),
);

describe("admin products", () => {
	it("creates a product with its first variant, then edits it, adds, changes and archives variants, all audited", async () => {
		const { browser, admin } = await adminBrowser();
		const list = await browser.get("/admin/products");
		expect(list.status).toBe(200);
		const listHtml = await list.text();
		expect(listHtml).toContain('action="/admin/products"');
		expect(listHtml).toMatch(/<label for="new-title">Title<\/label>/);

		const suffix = crypto.randomUUID().slice(0, 8).toUpperCase();
		const created = await browser.post("/admin/products", {
			title: `Linen Shirt ${suffix}`,
			slug: "",
			description: "Breathable.",
			status: "draft",
			category_id: "",
			sku: `LIN-${suffix}-S`,
			variant_title: "Small",
			price: "49,90",
			currency: "EUR",
		});
		expect(created.status).toBe(303);
		const location = created.headers.get("location") as string;
		expect(location).toMatch(/^\/admin\/products\/prod_[0-9a-z]{20}\?notice=product_created$/);
		const productId = location.split("/")[3]?.split("?")[0] as string;
		const page = await browser.follow(created);
		expect(page.res.headers.get("cache-control")).toBe("private, no-store");
		expect(message(page.html, "status")).toContain("Product created.");
		expect(page.html).toContain(`<h1>Linen Shirt ${suffix}</h1>`);
		expect(page.html).toContain(`LIN-${suffix}-S`);
		expect(page.html).toContain('value="49.90"');

		const saved = await browser.post(`/admin/products/${productId}`, {
			title: `Linen Shirt ${suffix} (new)`,
			slug: `linen-shirt-${suffix.toLowerCase()}`,
			description: "Breathable linen.",
			status: "active",
			category_id: "",
		});
		expect(saved.headers.get("location")).toBe(`/admin/products/${productId}?notice=product_saved`);
		const afterSave = await browser.follow(saved);
		expect(afterSave.html).toContain(`<h1>Linen Shirt ${suffix} (new)</h1>`);
		expect(afterSave.html).toContain(`href="/p/linen-shirt-${suffix.toLowerCase()}"`);

		const added = await browser.post(`/admin/products/${productId}/variants`, {
			sku: `lin-${suffix}-m`,
			title: "Medium",
			price: "52.5",
			currency: "EUR",
			options: "Size: M, Colour: Sand",
		});
		expect(added.headers.get("location")).toBe(`/admin/products/${productId}?notice=variant_added`);
		const changed = await browser.post(`/admin/products/${productId}/variants/LIN-${suffix}-M`, {
			title: "Medium (M)",
			price: "54.00",
			options: "Size: M",
		});
		expect(changed.headers.get("location")).toBe(`/admin/products/${productId}?notice=variant_saved`);
		const archived = await browser.post(`/admin/products/${productId}/variants/LIN-${suffix}-S/archive`, {});
		const afterArchive = await browser.follow(archived);
		expect(message(afterArchive.html, "status")).toContain("Variant archived");
		expect(afterArchive.html).toContain(`action="/admin/products/${productId}/variants/LIN-${suffix}-S/restore"`);

		const product = await (
			await browser.bus.request(`/v1/admin/products?q=${suffix}`, { headers: { authorization: `Bearer ${admin.access_token}` } })
		).json();
		expect((product as { data: unknown[] }).data[0]).toMatchObject({
			id: productId,
			status: "active",
			variants: [
				{ sku: `LIN-${suffix}-S`, price_minor: 4990, archived: true },
				{ sku: `LIN-${suffix}-M`, title: "Medium (M)", price_minor: 5400, options: { Size: "M" }, currency: "EUR", archived: false },
			],
		});
		const audit = await withDb((db) => db.primary.select().from(auditLog).where(eq(auditLog.entityId, productId)));
		expect(audit.map((entry) => entry.action).sort()).toEqual(["product.create", ...Array(4).fill("product.update")]);
		expect(new Set(audit.map((entry) => entry.actorId))).toEqual(new Set([admin.user.id]));
	});

	it("shows why a new product was refused and keeps what was typed", async () => {
		const { browser } = await adminBrowser();
		const { sku } = await newSku();
		const taken = await browser.post("/admin/products", {
			title: "Duplicate SKU",
			description: "",
			status: "draft",
			category_id: "",
			sku,
			variant_title: "One",
			price: "10",
			currency: "EUR",
		});
		expect(taken.status).toBe(409);
		const html = await taken.text();
		expect(message(html, "alert")).toContain(`These SKUs belong to another product: ${sku}`);
		expect(html).toContain('value="Duplicate SKU"');

		const badPrice = await browser.post("/admin/products", {
			title: "Bad price",
			sku: `BAD-${crypto.randomUUID().slice(0, 6).toUpperCase()}`,
			variant_title: "One",
			price: "ten euros",
			currency: "EUR",
		});
		expect(badPrice.status).toBe(400);
		expect(message(await badPrice.text(), "alert")).toContain("Price: write an amount such as 19.90.");
	});

	it("uploads an image from the edit page to R2 and shows it; the same bytes again are recognised, a non-image refused", async () => {
		const { browser } = await adminBrowser();
		const { productId } = await newSku();
		const editPage = await (await browser.get(`/admin/products/${productId}`)).text();
		expect(editPage).toContain(`action="/admin/products/${productId}/media" enctype="multipart/form-data"`);
		expect(editPage).toMatch(/<label for="image-file">Image<\/label>/);

		const form = () => {
			const data = new FormData();
			data.append("file", new File([PIXEL_PNG], "pixel.png", { type: "image/png" }));
			data.append("alt", "A single pixel");
			return data;
		};
		const uploaded = await browser.post(`/admin/products/${productId}/media`, form());
		expect(uploaded.headers.get("location")).toBe(`/admin/products/${productId}?notice=image_uploaded`);
		const page = await browser.follow(uploaded);
		const src = /<img src="(\/v1\/media\/media\/[0-9a-f]{64}\.png)" alt="A single pixel"/.exec(page.html)?.[1];
		expect(src).toBeTruthy();
		const image = await browser.bus.request(src as string, {});
		expect(image.status).toBe(200);
		expect(image.headers.get("content-type")).toBe("image/png");
		expect(new Uint8Array(await image.arrayBuffer())).toEqual(PIXEL_PNG);

		const again = await browser.post(`/admin/products/${productId}/media`, form());
		expect(again.headers.get("location")).toBe(`/admin/products/${productId}?notice=image_exists`);

		const script = new FormData();
		script.append("file", new File(["<script>alert(1)</script>"], "photo.png", { type: "image/png" }));
		const refused = await browser.post(`/admin/products/${productId}/media`, script);
		expect(refused.headers.get("location")).toBe(`/admin/products/${productId}?error=unsupported_media_type`);
		expect(message((await browser.follow(refused)).html, "alert")).toContain("not a JPEG, PNG, WebP or AVIF image");
	});
});

describe("admin inventory", () => {
	it("shows a SKU's levels and adjusts them once for a form sent twice at the same moment and once more later", async () => {
		const { browser } = await adminBrowser();
		const { sku } = await newSku();
		await stock(sku, 3);
		const page = await (await browser.get(`/admin/inventory?sku=${sku}`)).text();
		expect(page).toContain(`action="/admin/inventory/${sku}/adjust"`);
		expect(page).toMatch(/<label for="adjust-[A-Z0-9-]+-delta">Change by<\/label>/);
		expect(page).toMatch(/<label for="adjust-[A-Z0-9-]+-reason">Reason<\/label>/);
		expect(page).toContain(">Adjust</button>");
		const key = formKey(page, `/admin/inventory/${sku}/adjust`);
		const fields = { idempotency_key: key, back: `/admin/inventory?sku=${sku}`, delta: "7", reason: "Delivery received" };

		const [first, second] = await Promise.all([
			browser.post(`/admin/inventory/${sku}/adjust`, fields),
			browser.post(`/admin/inventory/${sku}/adjust`, fields),
		]);
		const third = await browser.post(`/admin/inventory/${sku}/adjust`, fields);
		for (const res of [first, second, third]) expect(res.status).toBe(303);
		expect(third.headers.get("location")).toBe(`/admin/inventory?sku=${sku}&notice=adjusted`);
		expect(third.headers.get("idempotent-replayed")).toBe("true");
		expect(await available(sku)).toMatchObject({ onHand: 10, available: 10, reserved: 0 });

		const after = await browser.follow(third);
		expect(message(after.html, "status")).toBe("Stock adjusted.");
		expect(after.html).toMatch(/<td class="num" data-label="On hand">10<\/td>/);
		const stored = await withDb((db) => db.primary.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key)));
		expect(stored).toHaveLength(1);
		expect(stored[0]?.route).toBe("POST /admin/inventory/:sku/adjust");
	});

	it("hands a session renewed during an action back to the browser, for a first answer and a replayed one", async () => {
		const { browser } = await adminBrowser();
		const { sku } = await newSku();
		const page = await (await browser.get(`/admin/inventory?sku=${sku}`)).text();
		const fields = { idempotency_key: formKey(page, `/admin/inventory/${sku}/adjust`), delta: "2", reason: "Count" };
		for (const replayed of [false, true]) {
			// An expired access token: the page renews the session from the refresh cookie, which rotates.
			browser.cookies.delete("ec_at");
			const before = browser.cookies.get("ec_rt");
			const res = await browser.post(`/admin/inventory/${sku}/adjust`, fields);
			expect(res.status).toBe(303);
			expect(res.headers.get("idempotent-replayed") === "true").toBe(replayed);
			const names = res.headers.getSetCookie().map((line) => line.split("=")[0]);
			expect(names.sort()).toEqual(["ec_at", "ec_rt"]);
			expect(browser.cookies.get("ec_rt")).not.toBe(before);
			expect((await browser.get("/admin")).status).toBe(200);
		}
		expect(await available(sku)).toMatchObject({ onHand: 2 });
	});

	it("refuses a change below what is reserved, saying why", async () => {
		const bus = new Bus();
		const { browser } = await adminBrowser(bus);
		const { sku } = await newSku();
		await stock(sku, 2);
		await checkoutOk(bus, await guestCart([[sku, 2]]));
		const page = await (await browser.get(`/admin/inventory?sku=${sku}`)).text();
		const res = await browser.post(`/admin/inventory/${sku}/adjust`, {
			idempotency_key: formKey(page, `/admin/inventory/${sku}/adjust`),
			delta: "-1",
			reason: "Damaged",
		});
		expect(res.headers.get("location")).toBe(`/admin/inventory?sku=${sku}&error=below_reserved`);
		expect(message((await browser.follow(res)).html, "alert")).toContain("fewer units on hand than are reserved");
		expect(await available(sku)).toMatchObject({ onHand: 2, reserved: 2 });
	});
});

describe("admin dead letters, notifications and webhooks", () => {
	it("replays a dead letter onto its queue once", async () => {
		const bus = new Bus();
		const { browser } = await adminBrowser(bus);
		const body = envelope(`test-dl-${crypto.randomUUID()}`, "order.shipped", { order_id: "ord_x" });
		const [row] = await withDb((db) =>
			db.primary.insert(deadLetters).values({ queue: "notifications", messageId: body.id, body, attempts: 5 }).returning(),
		);
		const id = row?.id as number;
		const list = await (await browser.get("/admin/dead-letters?replayed=false")).text();
		expect(list).toContain(`action="/admin/dead-letters/${id}/replay"`);
		expect(list).toContain(body.id);

		const replayed = await browser.post(`/admin/dead-letters/${id}/replay`, { back: "/admin/dead-letters?replayed=false" });
		expect(replayed.headers.get("location")).toBe("/admin/dead-letters?replayed=false&notice=replayed");
		expect(bus.notifications.sent.map((sent) => sent.body.id)).toEqual([body.id]);
		const all = await (await browser.get("/admin/dead-letters")).text();
		expect(all).not.toContain(`action="/admin/dead-letters/${id}/replay"`);

		const twice = await browser.post(`/admin/dead-letters/${id}/replay`, {});
		expect(twice.headers.get("location")).toBe("/admin/dead-letters?error=already_replayed");
		expect(message((await browser.follow(twice)).html, "alert")).toContain("already put back");
		expect(bus.notifications.sent).toHaveLength(1);
	});

	it("lists notifications and shows one's text body, never rendering its HTML", async () => {
		const { browser } = await adminBrowser();
		const id = `ntf_${crypto.randomUUID()}`;
		const recipient = `mail.${crypto.randomUUID().slice(0, 8)}@example.test`;
		await withDb((db) =>
			db.primary.insert(notifications).values({
				id,
				kind: "order.shipped",
				eventId: `evt-${id}`,
				recipient,
				subject: "Your order is on its way",
				text: "Tracking number: TRK-1\nThanks for shopping.",
				html: "<p>Hi <script>alert(1)</script></p>",
				status: "sent",
				provider: "outbox",
				attempts: 1,
			}),
		);
		const list = await (await browser.get(`/admin/notifications?recipient=${encodeURIComponent(recipient)}`)).text();
		expect(list).toContain(`<a href="/admin/notifications/${id}">Your order is on its way</a>`);
		expect(list).toContain(recipient);
		const detail = await browser.get(`/admin/notifications/${id}`);
		expect(detail.headers.get("cache-control")).toBe("private, no-store");
		const html = await detail.text();
		expect(html).toContain("Tracking number: TRK-1\nThanks for shopping.");
		expect(html).not.toContain("<script>alert(1)</script>");
		expect(html).toContain("&lt;script&gt;");
	});

	it("refuses a webhook to http://127.0.0.1/, then creates one showing its secret once, rotates and deactivates it", async () => {
		const { browser } = await adminBrowser();
		const refused = await browser.post("/admin/webhooks", { url: "http://127.0.0.1/", description: "local", event_types: ["order.paid"] });
		expect(refused.status).toBe(422);
		const refusedHtml = await refused.text();
		expect(message(refusedHtml, "alert")).toMatch(/^This URL cannot receive webhooks: .*\(loopback\)\. Use a public https address\.$/);
		expect(refusedHtml).toContain('value="http://127.0.0.1/"');
		const none = await withDb((db) => db.primary.select().from(webhookEndpoints).where(eq(webhookEndpoints.url, "http://127.0.0.1/")));
		expect(none).toEqual([]);

		const url = `https://hooks.example.com/${crypto.randomUUID()}`;
		const created = await browser.post("/admin/webhooks", { url, description: "ERP", event_types: ["order.paid", "order.shipped"] });
		expect(created.headers.get("location")).toBe("/admin/webhooks?notice=endpoint_created");
		const shown = await browser.follow(created);
		const [endpoint] = await withDb((db) => db.primary.select().from(webhookEndpoints).where(eq(webhookEndpoints.url, url)));
		expect(endpoint?.eventTypes).toEqual(["order.paid", "order.shipped"]);
		expect(message(shown.html, "status")).toBe("Webhook endpoint created.");
		expect(shown.html).toContain(`<code class="secret">${endpoint?.secret}</code>`);
		expect(shown.res.headers.get("cache-control")).toBe("private, no-store");
		const later = await (await browser.get("/admin/webhooks")).text();
		expect(later).toContain(url);
		expect(later).not.toContain(endpoint?.secret as string);

		const rotated = await browser.post(`/admin/webhooks/${endpoint?.id}/rotate`, {});
		const afterRotate = await browser.follow(rotated);
		const [current] = await withDb((db) => db.primary.select().from(webhookEndpoints).where(eq(webhookEndpoints.url, url)));
		expect(current?.secret).not.toBe(endpoint?.secret);
		expect(afterRotate.html).toContain(`<code class="secret">${current?.secret}</code>`);
		expect(afterRotate.html).not.toContain(endpoint?.secret as string);

		const deliveries = await browser.get(`/admin/webhooks/${endpoint?.id}/deliveries`);
		expect(deliveries.status).toBe(200);
		expect(await deliveries.text()).toContain("No deliveries yet.");

		const deactivated = await browser.post(`/admin/webhooks/${endpoint?.id}/deactivate`, {});
		expect(message((await browser.follow(deactivated)).html, "status")).toContain("Endpoint deactivated");
		const [inactive] = await withDb((db) => db.primary.select().from(webhookEndpoints).where(eq(webhookEndpoints.url, url)));
		expect(inactive?.active).toBe(false);
	});
});
