import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { deadLetters, notifications } from "../workers/db/schema.ts";
import { type EmailMessage, emailPayloadSchemas } from "../workers/notifications/email-schemas.ts";
import { parseEmailLimits } from "../workers/notifications/limits.ts";
import { outbound } from "../workers/notifications/outbound.ts";
import { REDACTED, redactSecrets, storedCopy } from "../workers/notifications/redaction.ts";
import { renderEmail } from "../workers/notifications/templates.ts";
import { type Envelope, envelope } from "../workers/queues/envelope.ts";
import { consumeQueueBatch } from "../workers/queues/index.ts";
import { authed, jsonHeaders, makeAdmin, PASSWORD, randomIp, registerShopper, type Session, uniqueEmail } from "./accounts-helpers.ts";
import { call, withDb } from "./helpers.ts";
import { Bus, deliverNotifications } from "./orders-helpers.ts";
import { Browser } from "./web-helpers.ts";

const RESEND = { EMAIL_PROVIDER: "resend", RESEND_API_KEY: "re_test_key_123" } as Partial<Env>;

const realFetch = outbound.fetch;
afterEach(() => {
	outbound.fetch = realFetch;
});

interface Delivered {
	to: string;
	subject: string;
	html: string;
	text: string;
}

/** Stands in for Resend's API (the wire format test/notifications-adapters.test.ts checks): what reached the provider, in order. */
function resendReceiving(status = 200): Delivered[] {
	const delivered: Delivered[] = [];
	outbound.fetch = async (input, init) => {
		const request = new Request(input, init);
		expect(request.url).toBe("https://api.resend.com/emails");
		const body = (await request.json()) as { to: string[]; subject: string; html: string; text: string };
		if (status !== 200)
			return Response.json({ statusCode: status, name: "application_error", message: "Something went wrong" }, { status });
		delivered.push({ to: body.to[0] as string, subject: body.subject, html: body.html, text: body.text });
		return Response.json({ id: crypto.randomUUID() });
	};
	return delivered;
}

function deliver(bodies: readonly Envelope[], overrides: Partial<Env> = RESEND, attempts = 1) {
	return deliverNotifications(bodies, overrides, attempts);
}

/** The token of the link to `path` in a delivered e-mail's text. */
function linkToken(mail: Delivered | undefined, path: "/verify-email" | "/reset-password"): string {
	const token = new RegExp(`${path}\\?token=([A-Za-z0-9_-]+)`).exec(mail?.text ?? "")?.[1];
	if (!token) throw new Error(`no ${path} link in ${JSON.stringify(mail?.text)}`);
	return token;
}

function post(bus: Bus, path: string, ip: string, body: unknown, extra: Record<string, string> = {}): Promise<Response> {
	return bus.request(path, { method: "POST", headers: jsonHeaders(ip, extra), body: JSON.stringify(body) });
}

function adminBrowser(admin: Session): Browser {
	const browser = new Browser();
	browser.cookies.set("ec_at", admin.access_token);
	browser.cookies.set("ec_rt", admin.refresh_token);
	return browser;
}

const storedRows = (recipient: string) =>
	withDb((db) => db.primary.select().from(notifications).where(eq(notifications.recipient, recipient)));

describe("stored e-mails and dead letters hold no live token (I10)", () => {
	it("shows admins [redacted] for the verification and reset links in the API, the console and every stored column, while the customer's links work", async () => {
		const ip = randomIp();
		const bus = new Bus();
		const email = uniqueEmail("privacy");
		const registered = await post(bus, "/v1/auth/register", ip, { email, password: PASSWORD, name: "Priya Vacy" });
		expect(registered.status).toBe(201);
		expect((await post(bus, "/v1/auth/password-reset", ip, { email })).status).toBe(202);
		const events = bus.notifications.take().map((sent) => sent.body);
		expect(events.map((event) => event.type).sort()).toEqual(["account.password_reset", "account.verify_email"]);

		const delivered = resendReceiving();
		expect((await deliver(events)).explicitAcks).toHaveLength(2);
		const verifyMail = delivered.find((mail) => mail.text.includes("/verify-email?token="));
		const resetMail = delivered.find((mail) => mail.text.includes("/reset-password?token="));
		const verifyToken = linkToken(verifyMail, "/verify-email");
		const resetToken = linkToken(resetMail, "/reset-password");
		expect(resetMail?.html).toContain(`/reset-password?token=${resetToken}`);
		const secrets = [verifyToken, resetToken];

		const rows = await storedRows(email);
		expect(rows.map((row) => row.kind).sort()).toEqual(["password_reset", "verify_email"]);
		for (const row of rows) {
			const stored = JSON.stringify(row);
			for (const secret of secrets) expect(stored).not.toContain(secret);
			expect(row.text).toContain(`?token=${REDACTED}`);
			expect(row.html).toContain(`?token=${REDACTED}`);
			expect(row.status).toBe("sent");
		}

		const admin = await makeAdmin(await registerShopper());
		const api = await call(`/v1/admin/notifications?recipient=${encodeURIComponent(email)}`, authed(admin.access_token));
		expect(api.status).toBe(200);
		const listed = await api.text();
		for (const secret of secrets) expect(listed).not.toContain(secret);
		const page = JSON.parse(listed) as { data: { id: string; text: string; html: string }[] };
		expect(page.data).toHaveLength(2);
		for (const notification of page.data) expect(notification.text).toContain(`?token=${REDACTED}`);

		const browser = adminBrowser(admin);
		const consolePage = await browser.page(`/admin/notifications?recipient=${encodeURIComponent(email)}`);
		for (const secret of secrets) expect(consolePage).not.toContain(secret);
		for (const { id } of page.data) {
			const detail = await browser.page(`/admin/notifications/${encodeURIComponent(id)}`);
			for (const secret of secrets) expect(detail).not.toContain(secret);
			expect(detail).toContain(`?token=${REDACTED}`);
		}

		// The links the customer received were the live ones.
		expect((await post(bus, "/v1/auth/verify-email", ip, { token: verifyToken })).status).toBe(200);
		const reset = await post(bus, "/v1/auth/password-reset/confirm", ip, { token: resetToken, password: "a brand new passphrase" });
		expect(reset.status).toBe(204);
	});

	it("stores, lists and shows a dead-lettered reset e-mail with its token redacted, and a replay sends no dead link", async () => {
		const ip = randomIp();
		const bus = new Bus();
		const email = uniqueEmail("dlq");
		await registerShopper(email);
		expect((await post(bus, "/v1/auth/password-reset", ip, { email })).status).toBe(202);
		const [reset] = bus.notifications.take().map((sent) => sent.body);
		const token = String(reset?.data.token);
		expect(token.length).toBeGreaterThanOrEqual(16);

		// Resend is down for every attempt; the queue gives up and hands the message to the dead-letter queue.
		resendReceiving(500);
		expect((await deliver([reset as Envelope], RESEND, 8)).retryMessages).toHaveLength(1);
		const messageId = `dlq-${crypto.randomUUID()}`;
		const batch = createMessageBatch("notifications-dlq", [{ id: messageId, timestamp: new Date(), attempts: 9, body: reset }]);
		const ctx = createExecutionContext();
		await consumeQueueBatch(batch, env, ctx);
		expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);

		const [stored] = await withDb((db) => db.primary.select().from(deadLetters).where(eq(deadLetters.messageId, messageId)));
		expect(JSON.stringify(stored?.body)).not.toContain(token);
		expect(stored?.body).toMatchObject({ id: reset?.id, type: "account.password_reset", data: { email, token: REDACTED } });

		const admin = await makeAdmin(await registerShopper());
		const api = await call("/v1/admin/dead-letters?queue=notifications&limit=100", authed(admin.access_token));
		expect(api.status).toBe(200);
		const listed = await api.text();
		expect(listed).not.toContain(token);
		const letter = (JSON.parse(listed) as { data: { id: number; message_id: string; body: Envelope }[] }).data.find(
			(row) => row.message_id === messageId,
		);
		expect(letter?.body.data.token).toBe(REDACTED);

		const consolePage = await adminBrowser(admin).page("/admin/dead-letters?queue=notifications&replayed=false");
		expect(consolePage).toContain(messageId);
		expect(consolePage).not.toContain(token);
		expect(consolePage).toContain(REDACTED);

		const replayed = await bus.request(`/v1/admin/dead-letters/${letter?.id}/replay`, { method: "POST", ...authed(admin.access_token) });
		expect(replayed.status).toBe(202);
		const delivered = resendReceiving();
		const requeued = bus.notifications.take().map((sent) => sent.body);
		expect(requeued).toHaveLength(1);
		expect((await deliver(requeued)).explicitAcks).toHaveLength(1);
		expect(delivered).toEqual([]);
		const [row] = await storedRows(email);
		expect(row?.status).toBe("failed");
		expect(row?.lastError).toContain("redacted");
		expect(JSON.stringify(row)).not.toContain(token);
	});

	it("redacts a guest order link's access token in the stored copy and a dead letter, and hands the provider the real link", () => {
		const guestToken = "gtok_4Fq9ZxR2mW7pLc0v";
		const shipped: EmailMessage = {
			kind: "order_shipped",
			...emailPayloadSchemas.order_shipped.parse({
				order_id: "ord_0123456789abcdefghjk",
				email: "guest@example.test",
				tracking_number: "TRK-9",
				order_url: `/orders/ord_0123456789abcdefghjk?access=${guestToken}`,
			}),
		};
		const options = { baseUrl: "https://shop.test", shopName: "Edge Commerce" };
		const sent = renderEmail(shipped, options);
		expect(sent.text).toContain(`https://shop.test/orders/ord_0123456789abcdefghjk?access=${guestToken}`);
		const kept = storedCopy(shipped, options);
		expect(`${kept.subject}${kept.html}${kept.text}`).not.toContain(guestToken);
		expect(kept.text).toContain(`https://shop.test/orders/ord_0123456789abcdefghjk?access=${REDACTED}`);
		expect(kept.html).toContain(`href="https://shop.test/orders/ord_0123456789abcdefghjk?access=${REDACTED}"`);

		const body = envelope("evt-guest", "order.shipped", {
			order_id: "ord_1",
			order_url: shipped.order_url,
			order_token: guestToken,
			carrier: "DHL",
		});
		const shared = { token: guestToken, client_secret: "pi_1_secret_abcdefgh" };
		expect(JSON.stringify(redactSecrets({ first: shared, again: [shared] }))).toBe(
			JSON.stringify({ first: { token: REDACTED, client_secret: REDACTED }, again: [{ token: REDACTED, client_secret: REDACTED }] }),
		);
		const letter = redactSecrets(body);
		expect(JSON.stringify(letter)).not.toContain(guestToken);
		expect(letter.data).toEqual({
			order_id: "ord_1",
			order_url: `/orders/ord_0123456789abcdefghjk?access=${REDACTED}`,
			order_token: REDACTED,
			carrier: "DHL",
		});
	});
});

describe("per-recipient e-mail limits (EMAIL_LIMITS)", () => {
	it("holds back a fourth password-reset e-mail to one address within the hour as limited, and another address still gets theirs", async () => {
		const ip = randomIp();
		const bus = new Bus();
		const flooded = uniqueEmail("flooded");
		const bystander = uniqueEmail("bystander");
		await registerShopper(flooded);
		await registerShopper(bystander);
		for (let i = 0; i < 4; i++) expect((await post(bus, "/v1/auth/password-reset", ip, { email: flooded })).status).toBe(202);
		expect((await post(bus, "/v1/auth/password-reset", ip, { email: bystander })).status).toBe(202);
		const events = bus.notifications.take().map((sent) => sent.body);
		expect(new Set(events.map((event) => event.id)).size).toBe(5);

		const delivered = resendReceiving();
		const result = await deliver(events);
		expect(result.retryMessages).toEqual([]);
		expect(result.explicitAcks).toHaveLength(5);
		expect(delivered.filter((mail) => mail.to === flooded)).toHaveLength(3);
		expect(delivered.filter((mail) => mail.to === bystander)).toHaveLength(1);

		const rows = await storedRows(flooded);
		expect(rows.map((row) => row.status).sort()).toEqual(["limited", "sent", "sent", "sent"]);
		const limited = rows.find((row) => row.status === "limited");
		expect(limited?.eventId).toBe(events[3]?.id);
		expect(limited?.sentAt).toBeNull();
		expect(limited?.text).toContain(`?token=${REDACTED}`);
		expect((await storedRows(bystander)).map((row) => row.status)).toEqual(["sent"]);

		// Redelivered, the limited one is neither sent nor counted again.
		await deliver(events);
		expect(delivered.filter((mail) => mail.to === flooded)).toHaveLength(3);
		expect((await storedRows(flooded)).map((row) => row.status).sort()).toEqual(["limited", "sent", "sent", "sent"]);

		const admin = await makeAdmin(await registerShopper());
		const api = await call(`/v1/admin/notifications?recipient=${encodeURIComponent(flooded)}`, authed(admin.access_token));
		const listed = (await api.json()) as { data: { status: string; last_error: string | null }[] };
		expect(listed.data.filter((row) => row.status === "limited")).toHaveLength(1);
		expect(listed.data.find((row) => row.status === "limited")?.last_error).toContain("EMAIL_LIMITS");
	});

	// Six consumers at once, each on its own connection. (The embedded Postgres serves connections one at a
	// time; against TEST_DATABASE_URL they interleave, and only the per-recipient lock keeps this at three.)
	it("lets exactly three of six concurrent reset e-mails to one address through", async () => {
		const email = uniqueEmail("burst");
		const event = (i: number) =>
			envelope(`password_reset:burst:${crypto.randomUUID()}`, "account.password_reset", {
				user_id: "usr_burst",
				email,
				name: "Bur St",
				token: `burst-token-${i}-0123456789abcdef`,
				expires_at: new Date(Date.now() + 3600_000).toISOString(),
			});
		const delivered = resendReceiving();
		await Promise.all(Array.from({ length: 6 }, (_, i) => deliver([event(i)])));
		expect(delivered).toHaveLength(3);
		expect((await storedRows(email)).map((row) => row.status).sort()).toEqual(["limited", "limited", "limited", "sent", "sent", "sent"]);
	});

	it("reads limits per kind with a default, ignores a key that names no kind, and refuses a malformed table", () => {
		const table = parseEmailLimits(
			'{"default":{"limit":10,"period":3600},"password_reset":{"limit":3,"period":3600},"no_such_kind":{"limit":1,"period":60}}',
		);
		expect(table.password_reset).toEqual({ limit: 3, period: 3600 });
		expect(table.order_confirmation).toEqual({ limit: 10, period: 3600 });
		expect(parseEmailLimits(env.EMAIL_LIMITS).password_reset).toEqual({ limit: 3, period: 3600 });
		for (const raw of [
			"",
			"{}",
			'{"default":{"limit":0,"period":60}}',
			'{"default":{"limit":5}}',
			'{"default":{"limit":5,"period":60,"x":1}}',
		]) {
			expect(() => parseEmailLimits(raw), raw).toThrow(/EMAIL_LIMITS/);
		}
	});
});
