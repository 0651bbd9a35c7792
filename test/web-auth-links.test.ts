import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createAccountToken } from "../workers/auth/account-tokens.ts";
import { accountTokens, products, users } from "../workers/db/schema.ts";
import { PERSONAL_PAGE_CACHE } from "../workers/web/layout.tsx";
import { PASSWORD, post, registerShopper, uniqueEmail } from "./accounts-helpers.ts";
import { withDb } from "./helpers.ts";
import { newSku, stock } from "./orders-helpers.ts";
import { Browser, fieldValue, redirectOf } from "./web-helpers.ts";

const tokenFor = (userId: string, kind: "verify_email" | "password_reset") =>
	withDb(async (db) => (await createAccountToken(db.primary, userId, kind)).token);

const verifiedAt = (userId: string) =>
	withDb(async (db) => (await db.primary.select({ at: users.emailVerifiedAt }).from(users).where(eq(users.id, userId)))[0]?.at ?? null);

describe("the pages account e-mails link to", () => {
	it("verify-email: the link shows a button, the POST verifies once, a second use is refused", async () => {
		const shopper = await registerShopper();
		const token = await tokenFor(shopper.user.id, "verify_email");
		const browser = new Browser();

		// Opening the link (what a mail scanner also does) spends nothing.
		const page = await browser.get(`/verify-email?token=${token}`);
		expect(page.status).toBe(200);
		expect(page.headers.get("cache-control")).toBe(PERSONAL_PAGE_CACHE);
		const html = await page.text();
		expect(html).toContain("Verify e-mail address");
		expect(fieldValue(html, "token")).toBe(token);
		expect(await verifiedAt(shopper.user.id)).toBeNull();

		const done = await browser.post("/verify-email", { token });
		expect(done.status).toBe(200);
		expect(await done.text()).toContain("Your e-mail address is verified.");
		expect(await verifiedAt(shopper.user.id)).not.toBeNull();

		const again = await browser.post("/verify-email", { token });
		expect(again.status).toBe(400);
		expect(await again.text()).toContain("This link is invalid, has expired or was already used.");
	});

	it("verify-email and reset-password refuse a malformed or unknown token with a 400 page", async () => {
		const browser = new Browser();
		for (const path of ["/verify-email", "/verify-email?token=%3Cscript%3E", "/reset-password?token=short"]) {
			const res = await browser.get(path);
			expect(res.status, path).toBe(400);
			expect(await res.text()).not.toContain("<script>");
		}
		const unknown = await browser.post("/reset-password", { token: "A".repeat(43), password: "a brand new passphrase" });
		expect(unknown.status).toBe(400);
		// A reset token does not verify an address, and the other way round.
		const shopper = await registerShopper();
		const reset = await tokenFor(shopper.user.id, "password_reset");
		expect((await browser.post("/verify-email", { token: reset })).status).toBe(400);
		expect(await verifiedAt(shopper.user.id)).toBeNull();
	});

	it("reset-password: a weak password keeps the form and the token; a good one changes it, signs out everywhere, and leads to sign-in", async () => {
		const email = uniqueEmail("reset");
		const shopper = await registerShopper(email);
		const token = await tokenFor(shopper.user.id, "password_reset");
		const browser = new Browser();

		const form = await browser.page(`/reset-password?token=${token}`);
		expect(form).toContain('autocomplete="new-password"');
		expect(form).toMatch(/<label for="field-password">New password<\/label>/);

		const weak = await browser.post("/reset-password", { token, password: "short" });
		expect(weak.status).toBe(422);
		const weakHtml = await weak.text();
		expect(weakHtml).toContain("Use at least 8 characters.");
		expect(fieldValue(weakHtml, "token")).toBe(token);
		// Still the old password: nothing was changed.
		expect((await post("/v1/auth/login", { email, password: PASSWORD })).status).toBe(200);

		const done = await browser.post("/reset-password", { token, password: "a brand new passphrase" });
		expect(redirectOf(done)).toBe("/signin?reset=done");
		expect(done.headers.get("location")).not.toContain(token);
		expect(await browser.page("/signin?reset=done")).toContain("Your password was changed.");

		expect((await post("/v1/auth/login", { email, password: PASSWORD })).status).toBe(401);
		expect((await post("/v1/auth/login", { email, password: "a brand new passphrase" })).status).toBe(200);
		expect((await post("/v1/auth/refresh", { refresh_token: shopper.refresh_token })).status).toBe(401);
		// The token worked once.
		expect((await browser.post("/reset-password", { token, password: "yet another passphrase" })).status).toBe(400);
	});

	it("forgot-password answers the same for a known and an unknown address, and e-mails only the known one", async () => {
		const email = uniqueEmail("forgot");
		await registerShopper(email);
		const known = new Browser();
		const unknown = new Browser();

		const a = await known.post("/forgot-password", { email: email.toUpperCase() });
		const b = await unknown.post("/forgot-password", { email: uniqueEmail("ghost") });
		expect(a.status).toBe(200);
		expect(b.status).toBe(200);
		const text = (html: string) => html.replace(/<input[^>]*>/g, "");
		expect(text(await a.text())).toBe(text(await b.text()));

		const sentTo = (browser: Browser) =>
			browser.bus.notifications.sent.filter((m) => m.body.type === "account.password_reset").map((m) => m.body.data.email);
		expect(sentTo(known)).toEqual([email]);
		expect(sentTo(unknown)).toEqual([]);

		const invalid = await known.post("/forgot-password", { email: "not an address" });
		expect(invalid.status).toBe(422);
		expect(await invalid.text()).toContain("Enter an e-mail address");
	});

	it("refuses a cross-site POST to each of these forms and spends no token", async () => {
		const shopper = await registerShopper();
		const token = await tokenFor(shopper.user.id, "verify_email");
		const browser = new Browser();
		const crossSite = { origin: "https://evil.example", "sec-fetch-site": "cross-site" };
		expect((await browser.post("/verify-email", { token }, crossSite)).status).toBe(403);
		expect((await browser.post("/reset-password", { token, password: "a brand new passphrase" }, crossSite)).status).toBe(403);
		expect((await browser.post("/forgot-password", { email: shopper.user.email }, crossSite)).status).toBe(403);
		expect(await verifiedAt(shopper.user.id)).toBeNull();
		expect((await browser.post("/verify-email", { token })).status).toBe(200);
	});

	it("refuses an expired token with the invalid-link page and keeps the old password", async () => {
		const email = uniqueEmail("expired");
		const shopper = await registerShopper(email);
		const token = await tokenFor(shopper.user.id, "password_reset");
		await withDb((db) =>
			db.primary
				.update(accountTokens)
				.set({ expiresAt: new Date(Date.now() - 60_000) })
				.where(eq(accountTokens.userId, shopper.user.id)),
		);
		const res = await new Browser().post("/reset-password", { token, password: "a brand new passphrase" });
		expect(res.status).toBe(400);
		expect(await res.text()).toContain("This link is invalid, has expired or was already used.");
		expect((await post("/v1/auth/login", { email, password: PASSWORD })).status).toBe(200);
	});

	it("the pages show the cart count, and a reset in a signed-in browser signs it out too", async () => {
		const email = uniqueEmail("signedin");
		const shopper = await registerShopper(email);
		const { sku, productId } = await newSku(700);
		await stock(sku, 5);
		const slug = await withDb(
			async (db) => (await db.primary.select({ slug: products.slug }).from(products).where(eq(products.id, productId)))[0]?.slug ?? "",
		);
		const browser = new Browser();
		expect(redirectOf(await browser.post("/signin", { email, password: PASSWORD }))).toBe("/account");
		await browser.post("/cart/items", { product: slug, sku, quantity: "2" });

		const verify = await browser.page(`/verify-email?token=${await tokenFor(shopper.user.id, "verify_email")}`);
		expect(verify).toMatch(/<span class="cart-count">2<\/span>/);

		const token = await tokenFor(shopper.user.id, "password_reset");
		const done = await browser.post("/reset-password", { token, password: "a brand new passphrase" });
		expect(redirectOf(done)).toBe("/signin?reset=done");
		expect(browser.cookies.has("ec_at")).toBe(false);
		expect(browser.cookies.has("ec_rt")).toBe(false);
		expect(await browser.page("/signin?reset=done")).toContain("Your password was changed.");
		expect(redirectOf(await browser.get("/account"))).toBe("/signin?next=/account");
	});

	it("links sign-in to the forgotten-password page", async () => {
		const html = await new Browser().page("/signin");
		expect(html).toContain('href="/forgot-password"');
	});
});
