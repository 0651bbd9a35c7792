import { base64url } from "jose";
import { describe, expect, it } from "vitest";
import worker from "../workers/index.ts";
import {
	authed,
	callCapturingNotifications,
	env,
	jsonHeaders,
	makeAdmin,
	PASSWORD,
	post,
	randomIp,
	registerShopper,
	type Session,
	uniqueEmail,
} from "./accounts-helpers.ts";
import { at, call, callWith, problemOf } from "./helpers.ts";
import { Browser, redirectOf } from "./web-helpers.ts";

/** The claims of an access token, read without verifying it (the Worker verifies). */
function claimsOf(token: string): { sub: string; sid: string; iat: number; exp: number } {
	return JSON.parse(new TextDecoder().decode(base64url.decode(token.split(".")[1] as string)));
}

async function me(token: string): Promise<Response> {
	return call("/v1/me", authed(token));
}

/** A refusal the way every invalid access token is refused: 401 `unauthorized` with a Bearer challenge. */
async function expectRevoked(res: Response): Promise<void> {
	expect(res.status).toBe(401);
	expect((await problemOf(res)).code).toBe("unauthorized");
	expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
}

async function signIn(email: string, password = PASSWORD, ip = randomIp()): Promise<Session> {
	const res = await post("/v1/auth/login", { email, password }, ip);
	if (res.status !== 200) throw new Error(`login answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as Session;
}

async function logout(session: Session, ip = randomIp()): Promise<void> {
	expect((await post("/v1/auth/logout", { refresh_token: session.refresh_token }, ip)).status).toBe(204);
}

/** Resets the password of `email` through the e-mailed link, as the shopper would. */
async function resetPassword(email: string, password: string): Promise<void> {
	const ip = randomIp();
	const { sent } = await callCapturingNotifications("/v1/auth/password-reset", {
		method: "POST",
		headers: jsonHeaders(ip),
		body: JSON.stringify({ email }),
	});
	const token = sent.find((m) => m.type === "account.password_reset")?.data.token as string;
	expect((await post("/v1/auth/password-reset/confirm", { token, password }, ip)).status).toBe(204);
}

describe("access tokens die with their session", () => {
	it("refuses the access token of a signed-out session on /v1/me", async () => {
		const session = await registerShopper();
		expect((await me(session.access_token)).status).toBe(200);
		await logout(session);
		await expectRevoked(await me(session.access_token));
	});

	it("refuses a signed-out admin's token on an admin route", async () => {
		const admin = await makeAdmin(await registerShopper());
		expect((await call("/v1/admin/products", authed(admin.access_token))).status).toBe(200);
		await logout(admin);
		await expectRevoked(await call("/v1/admin/products", authed(admin.access_token)));
	});

	it("refuses a signed-out bearer on a route where the token is optional instead of treating it as a guest", async () => {
		const session = await registerShopper();
		await logout(session);
		const res = await call("/v1/carts", authed(session.access_token, { method: "POST", headers: { "cf-connecting-ip": randomIp() } }));
		await expectRevoked(res);
	});

	it("signs out one session only: the same user's other session keeps working", async () => {
		const email = uniqueEmail();
		const phone = await registerShopper(email);
		const laptop = await signIn(email);
		await logout(phone);
		await expectRevoked(await me(phone.access_token));
		expect((await me(laptop.access_token)).status).toBe(200);
	});

	it("kills every access token of the refresh family once reuse is detected", async () => {
		const session = await registerShopper();
		const ip = randomIp();
		const rotated = (await (await post("/v1/auth/refresh", { refresh_token: session.refresh_token }, ip)).json()) as Session;
		expect(claimsOf(rotated.access_token).sid).toBe(claimsOf(session.access_token).sid);
		expect((await me(rotated.access_token)).status).toBe(200);

		const replay = await post("/v1/auth/refresh", { refresh_token: session.refresh_token }, ip);
		expect((await problemOf(replay)).code).toBe("refresh_token_reused");
		await expectRevoked(await me(session.access_token));
		await expectRevoked(await me(rotated.access_token));
	});

	it("after a password reset refuses every earlier access token of the user and accepts one issued after it", async () => {
		const email = uniqueEmail();
		const first = await registerShopper(email);
		const second = await signIn(email);
		const refreshed = (await (await post("/v1/auth/refresh", { refresh_token: second.refresh_token })).json()) as Session;
		for (const token of [first.access_token, second.access_token, refreshed.access_token]) expect((await me(token)).status).toBe(200);

		await resetPassword(email, "a brand new passphrase");
		for (const token of [first.access_token, second.access_token, refreshed.access_token]) await expectRevoked(await me(token));

		const after = await signIn(email, "a brand new passphrase");
		expect((await me(after.access_token)).status).toBe(200);
	});
});

describe("the per-isolate caches", () => {
	it("do not hide a revocation made in the same isolate", async () => {
		const session = await registerShopper();
		// Warm both caches: the verified token and the "not revoked" answer for its session and user.
		expect((await me(session.access_token)).status).toBe(200);
		expect((await me(session.access_token)).status).toBe(200);
		await logout(session);
		await expectRevoked(await me(session.access_token));
	});

	it("pick up a revocation written by another isolate once REVOCATION_CACHE_SECONDS have passed", async () => {
		const session = await registerShopper();
		const { sid, exp } = claimsOf(session.access_token);
		expect((await me(session.access_token)).status).toBe(200);
		// Another isolate's logout reaches this one only through the shared list.
		await env.REVOCATIONS.put(`session:${sid}`, String(Date.now()), { expirationTtl: 960 });
		// Within the window this isolate still trusts its "not revoked" answer: the documented delay.
		expect((await me(session.access_token)).status).toBe(200);
		const window = Number(env.REVOCATION_CACHE_SECONDS) * 1000;
		expect(Date.now() + window + 1000).toBeLessThan(exp * 1000);
		await at(Date.now() + window + 1000, async () => {
			await expectRevoked(await me(session.access_token));
		});
	});
});

describe("the revocation list", () => {
	it("answers 503 rather than admit a token when the list cannot be read", async () => {
		const session = await registerShopper();
		const broken = {
			get: async () => {
				throw new Error("KV GET failed: 500 Internal Server Error");
			},
		} as unknown as KVNamespace;
		const res = await callWith(worker, "/v1/me", authed(session.access_token), { REVOCATIONS: broken });
		expect(res.status).toBe(503);
		expect((await problemOf(res)).code).toBe("auth_unavailable");
		expect(res.headers.get("retry-after")).toBe("5");
	});

	it("stores a session's revocation with an expiration just past its longest-lived access token", async () => {
		const session = await registerShopper();
		const { sid, exp } = claimsOf(session.access_token);
		await logout(session);
		const { keys } = await env.REVOCATIONS.list({ prefix: `session:${sid}` });
		expect(keys).toHaveLength(1);
		const expiration = keys[0]?.expiration as number;
		expect(expiration).toBeGreaterThanOrEqual(exp);
		expect(expiration).toBeLessThanOrEqual(exp + 120);
	});

	it("stores a password reset as a per-user cut-off that expires too", async () => {
		const email = uniqueEmail();
		const session = await registerShopper(email);
		const { sub, exp } = claimsOf(session.access_token);
		await resetPassword(email, "a brand new passphrase");
		const { keys } = await env.REVOCATIONS.list({ prefix: `user:${sub}` });
		expect(keys).toHaveLength(1);
		expect(keys[0]?.expiration).toBeGreaterThanOrEqual(exp);
		expect(keys[0]?.expiration).toBeLessThanOrEqual(exp + 120);
	});
});

describe("the storefront session", () => {
	it("signs the browser out when its session was ended through the API", async () => {
		const shopper = await registerShopper();
		const browser = new Browser();
		await browser.post("/signin", { email: shopper.user.email, password: PASSWORD });
		expect((await browser.get("/account")).status).toBe(200);

		const refresh = browser.cookies.get("ec_rt") as string;
		expect((await post("/v1/auth/logout", { refresh_token: refresh })).status).toBe(204);
		expect(redirectOf(await browser.get("/account"))).toBe("/signin?next=/account");
	});

	it("refuses an access cookie issued before a password reset even without a refresh cookie", async () => {
		const shopper = await registerShopper();
		const browser = new Browser();
		await browser.post("/signin", { email: shopper.user.email, password: PASSWORD });
		browser.cookies.delete("ec_rt");
		expect((await browser.get("/account")).status).toBe(200);
		await resetPassword(shopper.user.email, "a brand new passphrase");
		expect(redirectOf(await browser.get("/account"))).toBe("/signin?next=/account");
	});
});
