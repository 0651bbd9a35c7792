import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { orders, products, users } from "../workers/db/schema.ts";
import { CATALOG_PAGE_CACHE, PERSONAL_PAGE_CACHE } from "../workers/web/layout.tsx";
import { PASSWORD, registerShopper, uniqueEmail } from "./accounts-helpers.ts";
import { withDb } from "./helpers.ts";
import { newSku, stock } from "./orders-helpers.ts";
import { Browser, CHECKOUT_FORM, fieldValue, redirectOf } from "./web-helpers.ts";

async function product(priceMinor: number, units: number) {
	const { sku, productId } = await newSku(priceMinor);
	if (units > 0) await stock(sku, units);
	const [row] = await withDb((db) => db.primary.select().from(products).where(eq(products.id, productId)));
	if (!row) throw new Error("test product vanished");
	return { sku, slug: row.slug, title: row.title };
}

const add = (browser: Browser, item: { sku: string; slug: string }, quantity: number) =>
	browser.post("/cart/items", { product: item.slug, sku: item.sku, quantity: String(quantity) });

describe("sign-in, registration and the account page", () => {
	it("sends a signed-out visitor of /account to sign in", async () => {
		const res = await new Browser().get("/account");
		expect(redirectOf(res)).toBe("/signin?next=/account");
		expect(res.headers.get("cache-control")).toBe(PERSONAL_PAGE_CACHE);
	});

	it("renders the sign-in form with its labels and a link to register", async () => {
		const page = await new Browser().page("/signin?next=/checkout");
		expect(page).toContain('<label for="field-email">Email</label>');
		expect(page).toContain('<label for="field-password">Password</label>');
		expect(page).toContain('<button type="submit" class="wide">Sign in</button>');
		expect(page).toMatch(/href="\/register\?next=%2Fcheckout"/);
		expect(fieldValue(page, "next")).toBe("/checkout");
	});

	it("signs in, merges the guest cart into the user's cart, points ec_cart at it, and shows the account", async () => {
		const shopper = await registerShopper();
		const [mine, guests] = [await product(800, 10), await product(900, 10)];
		// The user already has a cart with one item, from another device.
		const phone = new Browser();
		await phone.post("/signin", { email: shopper.user.email, password: PASSWORD });
		await add(phone, mine, 1);

		const browser = new Browser();
		await add(browser, guests, 2);
		await add(browser, mine, 1);
		const guestCart = browser.cookies.get("ec_cart") ?? "";
		expect(guestCart).toContain(".");

		const res = await browser.post("/signin", { email: shopper.user.email, password: PASSWORD, next: "/cart" });
		expect(redirectOf(res)).toBe("/cart");
		expect(browser.cookies.get("ec_at")).toBeTruthy();
		expect(browser.cookies.get("ec_rt")).toBeTruthy();
		const userCart = browser.cookies.get("ec_cart") ?? "";
		expect(userCart).toMatch(/^cart_[0-9a-z]{20}$/);
		expect(userCart).not.toBe(guestCart.split(".")[0]);

		const cart = await browser.page("/cart");
		expect(cart).toMatch(new RegExp(`id="qty-${mine.sku}"[^>]*value="2"`));
		expect(cart).toMatch(new RegExp(`id="qty-${guests.sku}"[^>]*value="2"`));
		// The other device sees the same cart.
		expect(await phone.page("/cart")).toMatch(new RegExp(`id="qty-${guests.sku}"[^>]*value="2"`));

		const account = await browser.get("/account");
		expect(account.headers.get("cache-control")).toBe(PERSONAL_PAGE_CACHE);
		const page = await account.text();
		expect(page).toContain(`Signed in as <strong>${shopper.user.email}</strong>`);
		expect(page).toContain("Sign out</button>");
	});

	it("refuses a wrong password with role=alert, and never redirects off-site after sign-in", async () => {
		const shopper = await registerShopper();
		const browser = new Browser();
		const wrong = await browser.post("/signin", { email: shopper.user.email, password: "not the password" });
		expect(wrong.status).toBe(401);
		expect(await wrong.text()).toContain('role="alert">The e-mail address or the password is wrong.');
		expect(browser.cookies.has("ec_at")).toBe(false);
		for (const next of ["https://evil.example/", "//evil.example/x", "/\\evil.example"]) {
			const signedIn = new Browser();
			expect(redirectOf(await signedIn.post("/signin", { email: shopper.user.email, password: PASSWORD, next }))).toBe("/account");
		}
	});

	it("registers, keeps the guest cart, lists orders newest first with their status, and signs out", async () => {
		const item = await product(1200, 10);
		const browser = new Browser();
		await add(browser, item, 1);
		const email = uniqueEmail("web");
		const short = await browser.post("/register", { name: "Ana", email, password: "short" });
		expect(short.status).toBe(422);
		expect(await short.text()).toContain("Use at least 8 characters.");

		expect(redirectOf(await browser.post("/register", { name: "Ana Lima", email, password: PASSWORD }))).toBe("/account");
		expect(await browser.page("/cart")).toContain(item.title);

		const taken = await new Browser().post("/register", { name: "Other", email, password: PASSWORD });
		expect(taken.status).toBe(422);
		expect(await taken.text()).toContain("An account with this e-mail address already exists.");

		const checkout = async () => {
			const key = fieldValue(await browser.page("/checkout"), "idempotency_key");
			const location = redirectOf(await browser.post("/checkout", { ...CHECKOUT_FORM, email, idempotency_key: key }));
			return location.split("/")[2] as string;
		};
		const orderIds = [await checkout()];
		// While that order is unpaid, checking the cart out again answers it rather than place a second.
		expect(await checkout()).toBe(orderIds[0]);
		// Once its reservation has run out it no longer stands in the way.
		await withDb((db) =>
			db.primary
				.update(orders)
				.set({ reservationExpiresAt: new Date(Date.now() - 1000) })
				.where(eq(orders.id, orderIds[0] as string)),
		);
		orderIds.push(await checkout());
		expect(orderIds[1]).not.toBe(orderIds[0]);
		// A signed-in shopper's orders are theirs: no guest cookie needed.
		expect(browser.cookies.has("ec_orders")).toBe(false);
		expect(await browser.page(`/orders/${orderIds[0]}`)).toContain("Awaiting payment");
		const account = await browser.page("/account");
		const listed = [...account.matchAll(/<a href="\/orders\/(ord_[0-9a-z]{20})">/g)].map((match) => match[1]);
		expect(listed).toEqual([...orderIds].reverse());
		expect(account).toContain(">Awaiting payment</span>");

		expect(redirectOf(await browser.post("/signout"))).toBe("/");
		expect(browser.cookies.has("ec_at")).toBe(false);
		expect(browser.cookies.has("ec_cart")).toBe(false);
		expect(redirectOf(await browser.get("/account"))).toBe("/signin?next=/account");
	});

	it("saves the abandoned-cart reminder preference", async () => {
		const shopper = await registerShopper();
		const browser = new Browser();
		await browser.post("/signin", { email: shopper.user.email, password: PASSWORD });
		const before = await browser.page("/account");
		expect(before).toContain('<label for="pref-abandoned">Send me reminders about items left in my cart</label>');
		expect(before).toMatch(/id="pref-abandoned"[^>]*checked=""/);

		expect(redirectOf(await browser.post("/account/preferences", {}))).toBe("/account?saved=1");
		const after = await browser.page("/account?saved=1");
		expect(after).toContain('role="status">Your preferences were saved.');
		expect(after).not.toMatch(/id="pref-abandoned"[^>]*checked=""/);
		const [row] = await withDb((db) => db.primary.select().from(users).where(eq(users.id, shopper.user.id)));
		expect(row?.abandonedCartEmails).toBe(false);

		await browser.post("/account/preferences", { abandoned_cart_emails: "1" });
		const [back] = await withDb((db) => db.primary.select().from(users).where(eq(users.id, shopper.user.id)));
		expect(back?.abandonedCartEmails).toBe(true);
	});
});

describe("page security and caching", () => {
	it("refuses a cross-site form post with a 403 page and changes nothing", async () => {
		const item = await product(500, 5);
		const browser = new Browser();
		const res = await browser.post(
			"/cart/items",
			{ product: item.slug, sku: item.sku, quantity: "1" },
			{ origin: "https://evil.example", "sec-fetch-site": "cross-site" },
		);
		expect(res.status).toBe(403);
		expect(res.headers.get("content-type")).toMatch(/^text\/html/);
		expect(await res.text()).toContain("Form refused");
		expect(browser.cookies.has("ec_cart")).toBe(false);
		// An opaque origin is someone else's too, unless the browser itself vouches for the page.
		const opaque = await browser.post(
			"/cart/items",
			{ product: item.slug, sku: item.sku, quantity: "1" },
			{ origin: "null", "sec-fetch-site": "cross-site" },
		);
		expect(opaque.status).toBe(403);
		// Our own pages: by Origin, or (Referrer-Policy no-referrer makes it "null") by Sec-Fetch-Site.
		const own = await browser.post("/cart/items", { product: item.slug, sku: item.sku, quantity: "1" }, { origin: "https://api.test" });
		expect(own.status).toBe(303);
		const vouched = await browser.post(
			"/cart/items",
			{ product: item.slug, sku: item.sku, quantity: "1" },
			{ origin: "null", "sec-fetch-site": "same-origin" },
		);
		expect(vouched.status).toBe(303);
	});

	it("caches catalog pages publicly and never personal ones, even for a signed-in shopper", async () => {
		const shopper = await registerShopper();
		const item = await product(500, 5);
		const browser = new Browser();
		await browser.post("/signin", { email: shopper.user.email, password: PASSWORD });
		await add(browser, item, 1);
		for (const path of ["/", "/search?q=test", `/p/${item.slug}`]) {
			const res = await browser.get(path);
			expect(res.headers.get("cache-control"), path).toBe(CATALOG_PAGE_CACHE);
			expect(res.headers.get("set-cookie"), path).toBeNull();
			const page = await res.text();
			expect(page, path).not.toContain(shopper.user.email);
			expect(page, path).not.toContain("cart-count");
		}
		for (const path of ["/cart", "/checkout", "/account", "/signin"]) {
			const res = await browser.get(path);
			expect(res.headers.get("cache-control"), path).toBe(PERSONAL_PAGE_CACHE);
		}
	});
});
