import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { deadLetters, notifications, products, users } from "../workers/db/schema.ts";
import { outbound } from "../workers/notifications/outbound.ts";
import { type Envelope, envelope } from "../workers/queues/envelope.ts";
import { consumeQueueBatch } from "../workers/queues/index.ts";
import { callCapturingNotifications, makeAdmin, registerShopper, uniqueEmail } from "./accounts-helpers.ts";
import { problemOf, withDb } from "./helpers.ts";
import { Bus, checkoutOk, confirm, deliverNotifications, guestCart, headersFor, newSku, stock } from "./orders-helpers.ts";

const realFetch = outbound.fetch;
afterEach(() => {
	outbound.fetch = realFetch;
});

function deliver(bodies: readonly Envelope[], overrides: Partial<Env> = {}, attempts = 1) {
	return deliverNotifications(bodies, overrides, attempts);
}

async function mailFor(recipient: string, kind?: string) {
	return withDb((db) =>
		db.primary
			.select()
			.from(notifications)
			.where(and(eq(notifications.recipient, recipient), ...(kind ? [eq(notifications.kind, kind)] : []))),
	);
}

/** A paid order's notifications, produced by the real checkout → payment path. */
async function paidOrder(bus: Bus, email: string) {
	const { sku } = await newSku(4200);
	await stock(sku, 5);
	const placed = await checkoutOk(bus, await guestCart([[sku, 1]]), { email });
	await confirm(bus, placed.payment?.id as string, "succeeded");
	await bus.pump();
	return { placed, sku };
}

describe("e-mails: one per event, recipient and kind", () => {
	it("account verification and password reset, each delivered three times, store one e-mail each with a working link", async () => {
		const email = uniqueEmail("mail");
		const { sent } = await callCapturingNotifications("/v1/auth/register", {
			method: "POST",
			headers: { "content-type": "application/json", "cf-connecting-ip": "10.77.0.1" },
			body: JSON.stringify({ email, password: "correct horse battery staple", name: "Mia <b>Mail</b>" }),
		});
		const verify = sent.find((m) => m.type === "account.verify_email") as unknown as Envelope;
		expect((await deliver([verify, verify, verify])).explicitAcks).toHaveLength(3);
		const [mail, ...more] = await mailFor(email, "verify_email");
		expect(more).toEqual([]);
		expect(mail?.status).toBe("sent");
		// The stored copy keeps the link without its token (notifications/redaction.ts); the provider got the real one.
		expect(mail?.text).toContain("http://localhost:8787/verify-email?token=[redacted]");
		expect(mail?.text).not.toContain(String(verify.data.token));
		expect(mail?.html).toContain("Mia &lt;b&gt;Mail&lt;/b&gt;");
		expect(mail?.html).not.toContain("<b>Mail</b>");

		const reset = envelope(`password_reset:test:${crypto.randomUUID()}`, "account.password_reset", {
			...verify.data,
			token: "reset-token-0123456789abcdef",
		});
		await deliver([reset, reset]);
		await deliver([reset]);
		const resets = await mailFor(email, "password_reset");
		expect(resets).toHaveLength(1);
		expect(resets[0]?.text).toContain("/reset-password?token=[redacted]");
		expect(resets[0]?.text).not.toContain("reset-token-0123456789abcdef");
	});

	it("order confirmation, shipping, cancellation and refund reach the buyer once each, however often delivered", async () => {
		const bus = new Bus();
		const buyer = uniqueEmail("buyer");
		const { placed } = await paidOrder(bus, buyer);
		const admin = await makeAdmin(await registerShopper());
		const post = (path: string, body?: unknown) =>
			bus.request(path, {
				method: "POST",
				headers: headersFor({ bearer: admin.access_token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
				body: body === undefined ? undefined : JSON.stringify(body),
			});
		expect((await post(`/v1/admin/orders/${placed.order.id}/fulfil`)).status).toBe(200);
		expect((await post(`/v1/admin/orders/${placed.order.id}/ship`, { tracking_number: "TRK-123", carrier: "DHL" })).status).toBe(200);
		expect((await post(`/v1/admin/orders/${placed.order.id}/refund`, {})).status).toBe(200);
		const cancelled = await paidOrderCancelled(bus, buyer);

		const events = bus.notifications.take().map((s) => s.body);
		const types = events.map((e) => e.type).sort();
		expect(types).toEqual(["order.cancelled", "order.confirmation", "order.confirmation", "order.refunded", "order.shipped"]);
		// Everything three times: still one e-mail per event.
		await deliver([...events, ...events]);
		await deliver(events);
		const mails = await mailFor(buyer);
		expect(mails.map((m) => m.kind).sort()).toEqual([
			"order_cancelled",
			"order_confirmation",
			"order_confirmation",
			"order_refunded",
			"order_shipped",
		]);
		const shipped = mails.find((m) => m.kind === "order_shipped");
		expect(shipped?.text).toContain("TRK-123");
		const confirmation = mails.find((m) => m.kind === "order_confirmation" && m.eventId.includes(placed.order.id));
		expect(confirmation?.text).toContain("Hauptstraße 1");
		// 42.00 + 4.95 shipping = 46.95, VAT included: 42.00 × 19/119 = 6.71 and 4.95 × 19/119 = 0.79, 7.50 in all.
		expect(confirmation?.text).toContain("46.95");
		expect(confirmation?.text).toContain("Includes VAT 19 %: €7.50");
		expect(confirmation?.text).toContain("Shipping (Standard (3–5 working days))");
		expect(mails.find((m) => m.kind === "order_cancelled")?.eventId).toContain(cancelled);
	});

	it("escapes a product title with <script> in the confirmation's HTML", async () => {
		const bus = new Bus();
		const { sku, productId } = await newSku(1000);
		await withDb((db) => db.primary.update(products).set({ title: '<script>alert("x")</script> Mug' }).where(eq(products.id, productId)));
		await stock(sku, 2);
		const buyer = uniqueEmail("xss");
		const placed = await checkoutOk(bus, await guestCart([[sku, 1]]), { email: buyer });
		await confirm(bus, placed.payment?.id as string, "succeeded");
		await bus.pump();
		await deliver(bus.notifications.take().map((s) => s.body));
		const [mail] = await mailFor(buyer, "order_confirmation");
		expect(mail?.html).toContain("&lt;script&gt;");
		expect(mail?.html).not.toContain("<script>");
		expect(mail?.text).toContain('<script>alert("x")</script> Mug');
	});

	it("abandoned cart: sent to a shopper who opted in, skipped (and recorded) for one who opted out", async () => {
		const { sku } = await newSku();
		const opted = await registerShopper();
		const out = await registerShopper();
		await withDb((db) => db.primary.update(users).set({ abandonedCartEmails: false }).where(eq(users.id, out.user.id)));
		const event = (userId: string) =>
			envelope(`cart.abandoned:cart_${crypto.randomUUID()}`, "cart.abandoned", {
				cart_id: "cart_0123456789abcdefghjk",
				user_id: userId,
				item_count: 2,
				lines: [{ sku, quantity: 2 }],
				last_change_at: new Date().toISOString(),
			});
		await deliver([event(opted.user.id), event(out.user.id)]);
		const [sent] = await mailFor(opted.user.email, "abandoned_cart");
		expect(sent?.status).toBe("sent");
		expect(sent?.text).toContain("http://localhost:8787/cart");
		const [skipped] = await mailFor(out.user.email, "abandoned_cart");
		expect(skipped?.status).toBe("skipped");
	});

	it("low stock goes to every admin", async () => {
		const admin = await makeAdmin(await registerShopper());
		const event = envelope(`inv:LOW-${crypto.randomUUID()}:low`, "inventory.low_stock", { sku: "LOW-1", available: 2, threshold: 5 });
		await deliver([event, event]);
		const mails = await mailFor(admin.user.email, "low_stock");
		expect(mails).toHaveLength(1);
		expect(mails[0]?.text).toContain("LOW-1");
	});
});

describe("e-mail provider failures (Resend adapter, its documented wire format)", () => {
	const resend = { EMAIL_PROVIDER: "resend", RESEND_API_KEY: "re_test_key_123" } as Partial<Env>;

	it("500 twice and then 200: retried with backoff, sent exactly once", async () => {
		const answers = [500, 500, 200];
		const calls: { url: string; key: string | null; body: Record<string, unknown> }[] = [];
		outbound.fetch = async (input, init) => {
			const request = new Request(input, init);
			calls.push({ url: request.url, key: request.headers.get("idempotency-key"), body: await request.json() });
			const status = answers.shift() ?? 200;
			return status === 200
				? Response.json({ id: "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794" })
				: Response.json({ statusCode: status, name: "application_error", message: "Something went wrong" }, { status });
		};
		const email = uniqueEmail("retry");
		const event = envelope(`verify_email:retry:${crypto.randomUUID()}`, "account.verify_email", {
			user_id: "usr_x",
			email,
			name: "Ret Ry",
			token: "token-0123456789abcdef",
			expires_at: new Date(Date.now() + 3600_000).toISOString(),
		});
		const first = await deliver([event], resend, 1);
		expect(first.retryMessages).toHaveLength(1);
		const second = await deliver([event], resend, 2);
		expect(second.retryMessages).toHaveLength(1);
		const third = await deliver([event], resend, 3);
		expect(third.explicitAcks).toHaveLength(1);
		await deliver([event], resend, 1);
		expect(calls).toHaveLength(3);
		expect(calls[0]?.url).toBe("https://api.resend.com/emails");
		expect(new Set(calls.map((c) => c.key)).size).toBe(1);
		expect(calls[0]?.body).toMatchObject({ to: [email], from: "Edge Commerce <shop@localhost>" });
		const [row] = await mailFor(email);
		expect(row).toMatchObject({
			status: "sent",
			attempts: 3,
			providerMessageId: "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794",
			provider: "resend",
		});
	});

	it("a 422 (bad address) is recorded as failed and not retried", async () => {
		let calls = 0;
		outbound.fetch = async () => {
			calls++;
			return Response.json({ statusCode: 422, name: "validation_error", message: "Invalid `to` field." }, { status: 422 });
		};
		const email = uniqueEmail("bad");
		const event = envelope(`verify_email:bad:${crypto.randomUUID()}`, "account.verify_email", {
			user_id: "usr_y",
			email,
			name: "Bad Address",
			token: "token-0123456789abcdef",
			expires_at: new Date().toISOString(),
		});
		expect((await deliver([event], resend)).explicitAcks).toHaveLength(1);
		await deliver([event], resend);
		expect(calls).toBe(1);
		const [row] = await mailFor(email);
		expect(row?.status).toBe("failed");
		expect(row?.lastError).toContain("validation_error");
	});

	it("a message that can never succeed is retried, then dead-lettered where an admin sees it", async () => {
		const poison = envelope(`poison:${crypto.randomUUID()}`, "order.shipped", { order_id: "ord_x" });
		expect((await deliver([poison], {}, 8)).retryMessages).toHaveLength(1);
		const id = `dlq-${crypto.randomUUID()}`;
		const batch = createMessageBatch("notifications-dlq", [{ id, timestamp: new Date(), attempts: 9, body: poison }]);
		const ctx = createExecutionContext();
		await consumeQueueBatch(batch, env, ctx);
		await getQueueResult(batch, ctx);
		const admin = await makeAdmin(await registerShopper());
		const list = await new Bus().request("/v1/admin/dead-letters?queue=notifications", {
			headers: headersFor({ bearer: admin.access_token }),
		});
		expect(list.status).toBe(200);
		const [row] = await withDb((db) => db.primary.select().from(deadLetters).where(eq(deadLetters.messageId, id)));
		expect(row?.queue).toBe("notifications");
	});
});

/** Standard Webhooks, computed here from the spec rather than with the sender's code. */
async function expectedSignature(secret: string, id: string, timestamp: string, body: string): Promise<string> {
	const keyBytes = Uint8Array.from(atob(secret.slice("whsec_".length)), (c) => c.charCodeAt(0));
	const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`)));
	return `v1,${btoa(String.fromCharCode(...mac))}`;
}

describe("outbound webhooks", () => {
	it("refuses endpoint URLs on private, loopback or link-local addresses", async () => {
		const admin = await makeAdmin(await registerShopper());
		for (const url of [
			"http://127.0.0.1/",
			"http://169.254.169.254/latest/meta-data",
			"http://[::1]/",
			"http://10.0.0.8/hook",
			"ftp://example.com/",
		]) {
			const res = await new Bus().request("/v1/admin/webhooks", {
				method: "POST",
				headers: headersFor({ bearer: admin.access_token }),
				body: JSON.stringify({ url, event_types: ["order.paid"] }),
			});
			expect(res.status, url).toBe(422);
			expect((await problemOf(res)).code).toBe("url_refused");
		}
		const shopper = await registerShopper();
		const forbidden = await new Bus().request("/v1/admin/webhooks", {
			method: "POST",
			headers: headersFor({ bearer: shopper.access_token }),
			body: JSON.stringify({ url: "https://hooks.example.com/x", event_types: ["order.paid"] }),
		});
		expect(forbidden.status).toBe(403);
	});

	it("signs deliveries so a receiver can verify them, retries a 500 with a log entry, and signs with both secrets while rotating", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const as = { bearer: admin.access_token };
		const created = await bus.request("/v1/admin/webhooks", {
			method: "POST",
			headers: headersFor(as),
			body: JSON.stringify({ url: `https://hooks.example.com/${crypto.randomUUID()}`, event_types: ["order.shipped"] }),
		});
		expect(created.status).toBe(201);
		const endpoint = (await created.json()) as { id: string; url: string; secret: string };
		expect(endpoint.secret).toMatch(/^whsec_/);

		const received: { url: string; headers: Headers; body: string }[] = [];
		const answers = [500, 204];
		outbound.fetch = async (input, init) => {
			const request = new Request(input, init);
			received.push({ url: request.url, headers: request.headers, body: await request.text() });
			return new Response(null, { status: answers.shift() ?? 204 });
		};
		const shipped = envelope(`shipped:ord_${crypto.randomUUID().replaceAll("-", "")}`, "order.shipped", {
			order_id: "ord_0123456789abcdefghjk",
			email: uniqueEmail("hook"),
			user_id: null,
			carrier: "UPS",
			tracking_number: "1Z",
		});
		await deliver([shipped], bus.env);
		await deliver([shipped], bus.env);
		const jobs = bus.notifications.take((s) => s.body.type === "webhook.deliver").map((s) => s.body);
		expect(jobs.length).toBeGreaterThanOrEqual(1);
		const job = jobs[0] as Envelope;
		// First attempt: the receiver answers 500; the queue retries; the log shows it.
		expect((await deliver([job], bus.env)).retryMessages).toHaveLength(1);
		const log1 = (await (await bus.request(`/v1/admin/webhooks/${endpoint.id}/deliveries`, { headers: headersFor(as) })).json()) as {
			data: { status: string; attempts: number; last_status_code: number | null }[];
		};
		expect(log1.data).toHaveLength(1);
		expect(log1.data[0]).toMatchObject({ status: "pending", attempts: 1, last_status_code: 500 });
		expect((await deliver([job], bus.env)).explicitAcks).toHaveLength(1);
		// Delivered: a repeat of the job sends nothing more.
		await deliver([job], bus.env);
		expect(received).toHaveLength(2);
		const last = received[1] as (typeof received)[number];
		expect(last.url).toBe(endpoint.url);
		const id = last.headers.get("webhook-id") as string;
		const timestamp = last.headers.get("webhook-timestamp") as string;
		expect(last.headers.get("webhook-signature")).toBe(await expectedSignature(endpoint.secret, id, timestamp, last.body));
		expect(JSON.parse(last.body)).toMatchObject({ type: "order.shipped", data: { tracking_number: "1Z" } });
		expect(JSON.parse(last.body).data.user_id).toBeUndefined();

		// Rotation: the next delivery carries a signature for each secret.
		const rotated = await bus.request(`/v1/admin/webhooks/${endpoint.id}/rotate-secret`, { method: "POST", headers: headersFor(as) });
		const { secret: next } = (await rotated.json()) as { secret: string };
		expect(next).not.toBe(endpoint.secret);
		const again = envelope(`shipped:again:${crypto.randomUUID()}`, "order.shipped", { ...shipped.data });
		await deliver([again], bus.env);
		await deliver(
			bus.notifications.take((s) => s.body.type === "webhook.deliver").map((s) => s.body),
			bus.env,
		);
		const rotatedDelivery = received.at(-1) as (typeof received)[number];
		const signatures = (rotatedDelivery.headers.get("webhook-signature") as string).split(" ");
		const rid = rotatedDelivery.headers.get("webhook-id") as string;
		const rts = rotatedDelivery.headers.get("webhook-timestamp") as string;
		expect(signatures).toContain(await expectedSignature(next, rid, rts, rotatedDelivery.body));
		expect(signatures).toContain(await expectedSignature(endpoint.secret, rid, rts, rotatedDelivery.body));
	});
});

/** A second order for `email`, cancelled by its guest before payment; returns its id. */
async function paidOrderCancelled(bus: Bus, email: string): Promise<string> {
	const { sku } = await newSku(700);
	await stock(sku, 2);
	const placed = await checkoutOk(bus, await guestCart([[sku, 1]]), { email });
	// Paid first: an unpaid guest order's cancellation mails nobody (its address was never proven).
	await confirm(bus, placed.payment?.id as string, "succeeded");
	await bus.pump();
	const res = await bus.request(`/v1/orders/${placed.order.id}/cancel`, {
		method: "POST",
		headers: headersFor({ orderToken: placed.order_token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
	});
	expect(res.status).toBe(200);
	return placed.order.id;
}
