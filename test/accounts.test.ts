import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { refreshTokens, users } from "../workers/db/schema.ts";
import worker from "../workers/index.ts";
import {
	authed,
	callCapturingNotifications,
	jsonHeaders,
	PASSWORD,
	post,
	randomIp,
	registerShopper,
	type Session,
	uniqueEmail,
} from "./accounts-helpers.ts";
import { call, callWith, problemOf, withDb } from "./helpers.ts";

describe("register, login, me", () => {
	it("registers, signs in and reads the profile", async () => {
		const email = uniqueEmail();
		const session = await registerShopper(email);
		expect(session.user).toMatchObject({ email, role: "customer", email_verified: false });
		expect(session.access_token.split(".")).toHaveLength(3);

		const login = await post("/v1/auth/login", { email, password: PASSWORD });
		expect(login.status).toBe(200);
		const signedIn = (await login.json()) as Session;
		expect(signedIn.user.id).toBe(session.user.id);

		const me = await call("/v1/me", authed(signedIn.access_token));
		expect(me.status).toBe(200);
		expect(await me.json()).toMatchObject({ id: session.user.id, email, name: "Test Shopper" });
	});

	it("treats e-mail addresses case-insensitively: the same address in other letters is a 409, and signs in", async () => {
		const email = uniqueEmail("Case");
		await registerShopper(email.toLowerCase());
		const again = await post("/v1/auth/register", { email: email.toUpperCase(), password: PASSWORD, name: "Dup" });
		expect(again.status).toBe(409);
		expect((await problemOf(again)).code).toBe("email_taken");
		const login = await post("/v1/auth/login", { email: `  ${email.toUpperCase()} `, password: PASSWORD });
		expect(login.status).toBe(200);
	});

	it("refuses malformed registrations with 400 and field paths", async () => {
		const res = await post("/v1/auth/register", { email: "not-an-email", password: "short", name: "" });
		expect(res.status).toBe(400);
		const paths = ((await problemOf(res)).errors as { path: string }[]).map((e) => e.path).sort();
		expect(paths).toEqual(["body.email", "body.name", "body.password"]);
		const tooLong = await post("/v1/auth/register", { email: uniqueEmail(), password: "x".repeat(129), name: "A" });
		expect(tooLong.status).toBe(400);
	});

	it("rejects a client-sent role at registration and on PATCH /v1/me", async () => {
		const res = await post("/v1/auth/register", { email: uniqueEmail(), password: PASSWORD, name: "Mallory", role: "admin" });
		expect(res.status).toBe(400);
		expect(JSON.stringify(await problemOf(res))).toContain("role");

		const session = await registerShopper();
		const patch = await call("/v1/me", authed(session.access_token, { method: "PATCH", body: JSON.stringify({ role: "admin" }) }));
		expect(patch.status).toBe(400);
		const me = (await (await call("/v1/me", authed(session.access_token))).json()) as { role: string };
		expect(me.role).toBe("customer");
	});

	it("updates own name and e-mail preferences", async () => {
		const session = await registerShopper();
		const patch = await call(
			"/v1/me",
			authed(session.access_token, { method: "PATCH", body: JSON.stringify({ name: "Renamed", abandoned_cart_emails: false }) }),
		);
		expect(patch.status).toBe(200);
		expect(await patch.json()).toMatchObject({ name: "Renamed", abandoned_cart_emails: false });
	});

	it("answers an unknown e-mail and a wrong password the same way", async () => {
		const email = uniqueEmail();
		await registerShopper(email);
		const wrong = await post("/v1/auth/login", { email, password: "not the password" });
		const unknown = await post("/v1/auth/login", { email: uniqueEmail("nobody"), password: "not the password" });
		expect(wrong.status).toBe(401);
		expect(unknown.status).toBe(401);
		const [a, b] = [await problemOf(wrong), await problemOf(unknown)];
		expect({ ...a, request_id: undefined }).toEqual({ ...b, request_id: undefined });
	});

	it("creates nothing when the notifications queue is down", async () => {
		const email = uniqueEmail();
		const broken = { send: () => Promise.reject(new Error("queue down")) } as unknown as Queue;
		const res = await callWith(
			worker,
			"/v1/auth/register",
			{ method: "POST", headers: jsonHeaders(randomIp()), body: JSON.stringify({ email, password: PASSWORD, name: "Q" }) },
			{ NOTIFICATIONS_QUEUE: broken },
		);
		expect(res.status).toBe(503);
		expect((await problemOf(res)).code).toBe("queue_unavailable");
		const rows = await withDb((db) => db.primary.select().from(users).where(eq(users.email, email)));
		expect(rows).toHaveLength(0);
	});
});

describe("refresh tokens", () => {
	it("rotates on every use; replaying an old token fails and revokes the whole family", async () => {
		const session = await registerShopper();
		const first = await post("/v1/auth/refresh", { refresh_token: session.refresh_token });
		expect(first.status).toBe(200);
		const rotated = (await first.json()) as Session;
		expect(rotated.refresh_token).not.toBe(session.refresh_token);

		const replay = await post("/v1/auth/refresh", { refresh_token: session.refresh_token });
		expect(replay.status).toBe(401);
		expect((await problemOf(replay)).code).toBe("refresh_token_reused");

		// The thief's (or the victim's) newer token dies with the family.
		const afterRevocation = await post("/v1/auth/refresh", { refresh_token: rotated.refresh_token });
		expect(afterRevocation.status).toBe(401);
		const family = await withDb((db) => db.primary.select().from(refreshTokens).where(eq(refreshTokens.userId, session.user.id)));
		expect(family.every((t) => t.revokedAt !== null)).toBe(true);
	});

	it("lets exactly one of two concurrent refreshes with the same token win", async () => {
		const session = await registerShopper();
		const results = await Promise.all([1, 2].map(() => post("/v1/auth/refresh", { refresh_token: session.refresh_token })));
		expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
	});

	it("revokes on logout, and other sessions of the same user live on", async () => {
		const email = uniqueEmail();
		const phone = await registerShopper(email);
		const laptop = (await (await post("/v1/auth/login", { email, password: PASSWORD })).json()) as Session;
		const out = await post("/v1/auth/logout", { refresh_token: phone.refresh_token });
		expect(out.status).toBe(204);
		expect((await post("/v1/auth/refresh", { refresh_token: phone.refresh_token })).status).toBe(401);
		expect((await post("/v1/auth/refresh", { refresh_token: laptop.refresh_token })).status).toBe(200);
		// Logging out with an unknown token reveals nothing.
		expect((await post("/v1/auth/logout", { refresh_token: "made-up" })).status).toBe(204);
	});

	it("refuses unknown refresh tokens", async () => {
		const res = await post("/v1/auth/refresh", { refresh_token: "x".repeat(43) });
		expect(res.status).toBe(401);
		expect((await problemOf(res)).code).toBe("invalid_refresh_token");
	});
});

describe("e-mail verification and password reset", () => {
	it("queues a verification e-mail whose token verifies the address once", async () => {
		const email = uniqueEmail();
		const { res, sent } = await callCapturingNotifications("/v1/auth/register", {
			method: "POST",
			headers: jsonHeaders(randomIp()),
			body: JSON.stringify({ email, password: PASSWORD, name: "Vera" }),
		});
		expect(res.status).toBe(201);
		const session = (await res.json()) as Session;
		expect(sent).toHaveLength(1);
		expect(sent[0]).toMatchObject({ type: "account.verify_email", data: { email, user_id: session.user.id } });
		const token = sent[0]?.data.token as string;

		const verify = await post("/v1/auth/verify-email", { token });
		expect(verify.status).toBe(200);
		const me = (await (await call("/v1/me", authed(session.access_token))).json()) as { email_verified: boolean };
		expect(me.email_verified).toBe(true);
		const again = await post("/v1/auth/verify-email", { token });
		expect(again.status).toBe(400);
		expect((await problemOf(again)).code).toBe("invalid_token");
	});

	it("resets a password with the e-mailed token and signs out every session", async () => {
		const email = uniqueEmail();
		const session = await registerShopper(email);
		const ip = randomIp();
		const { res, sent } = await callCapturingNotifications("/v1/auth/password-reset", {
			method: "POST",
			headers: jsonHeaders(ip),
			body: JSON.stringify({ email: email.toUpperCase() }),
		});
		expect(res.status).toBe(202);
		expect(sent.map((m) => m.type)).toEqual(["account.password_reset"]);
		const token = sent[0]?.data.token as string;

		const confirm = await post("/v1/auth/password-reset/confirm", { token, password: "a brand new passphrase" });
		expect(confirm.status).toBe(204);
		expect((await post("/v1/auth/refresh", { refresh_token: session.refresh_token })).status).toBe(401);
		expect((await post("/v1/auth/login", { email, password: PASSWORD })).status).toBe(401);
		expect((await post("/v1/auth/login", { email, password: "a brand new passphrase" })).status).toBe(200);
		expect((await post("/v1/auth/password-reset/confirm", { token, password: "yet another passphrase" })).status).toBe(400);
	});

	it("answers a reset request for an unknown address exactly like a known one, and sends nothing", async () => {
		const { res, sent } = await callCapturingNotifications("/v1/auth/password-reset", {
			method: "POST",
			headers: jsonHeaders(randomIp()),
			body: JSON.stringify({ email: uniqueEmail("ghost") }),
		});
		expect(res.status).toBe(202);
		expect(await res.json()).toEqual({ status: "accepted" });
		expect(sent).toHaveLength(0);
	});
});

describe("rate limits", () => {
	it("ends a burst of 50 logins for one e-mail in 429s with Retry-After, never a 5xx", async () => {
		const email = uniqueEmail();
		await registerShopper(email);
		const statuses: number[] = [];
		const answers = await Promise.all(
			Array.from({ length: 50 }, (_, i) => post("/v1/auth/login", { email, password: i % 2 ? PASSWORD : "wrong password" }, randomIp())),
		);
		for (const res of answers) {
			statuses.push(res.status);
			if (res.status === 429) {
				expect(res.headers.get("retry-after")).toBe("60");
				expect((await problemOf(res)).code).toBe("rate_limited");
			}
		}
		expect(statuses.filter((s) => s >= 500)).toEqual([]);
		expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(40);
	});

	it("limits registrations from one address", async () => {
		const ip = randomIp();
		const statuses: number[] = [];
		for (let i = 0; i < 25; i++) {
			statuses.push((await post("/v1/auth/register", { email: uniqueEmail(), password: PASSWORD, name: "Bot" }, ip)).status);
		}
		expect(statuses).toContain(429);
		expect(statuses.filter((s) => s >= 500)).toEqual([]);
	});
});
