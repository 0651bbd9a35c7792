import { describe, expect, it } from "vitest";
import { EmailProviderError, type OutgoingEmail } from "../workers/notifications/email-provider.ts";
import { createResendProvider } from "../workers/notifications/resend.ts";
import { checkWebhookUrl } from "../workers/notifications/ssrf.ts";
import { decodeWebhookSecret, generateWebhookSecret, signWebhook, verifyWebhook } from "../workers/notifications/webhook-signing.ts";

const API_KEY = "re_Xq7Lp2Vn9Rt4Wz8Bc3Md6Fg1Hj5Kk0Ss";

const EMAIL: OutgoingEmail = {
	to: "ana@shop.test",
	from: "Edge & Co <orders@shop.test>",
	subject: "Your order #1042 is confirmed",
	html: "<p>Thank you</p>",
	text: "Thank you",
	idempotencyKey: "order_confirmation/ord_8k2m4n6p8r0t2v4x6z8a",
	tags: { kind: "order_confirmation", order_id: "ord_8k2m4n6p8r0t2v4x6z8a" },
};

interface Captured {
	url: string;
	init: RequestInit;
}

/** A fetch that records each call and answers with `respond`. */
function fakeFetch(respond: () => Response | Promise<Response>): { fetch: typeof fetch; calls: Captured[] } {
	const calls: Captured[] = [];
	return {
		calls,
		fetch: async (input, init) => {
			calls.push({ url: String(input), init: init ?? {} });
			return await respond();
		},
	};
}

function resendError(status: number, name: string, message: string, headers: Record<string, string> = {}): Response {
	return Response.json({ statusCode: status, name, message }, { status, headers });
}

async function sendError(respond: () => Response | Promise<Response>, timeoutMs?: number): Promise<EmailProviderError> {
	const { fetch } = fakeFetch(respond);
	const provider = createResendProvider({ apiKey: API_KEY, fetch, ...(timeoutMs ? { timeoutMs } : {}) });
	const error = await provider.send(EMAIL).then(
		() => undefined,
		(err: unknown) => err,
	);
	expect(error).toBeInstanceOf(EmailProviderError);
	const providerError = error as EmailProviderError;
	expect(providerError.message).not.toContain(API_KEY);
	return providerError;
}

describe("Resend provider", () => {
	it("posts the documented JSON to /emails with the key, an idempotency key and a user agent", async () => {
		const { fetch, calls } = fakeFetch(() => Response.json({ id: "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794" }));
		const provider = createResendProvider({ apiKey: API_KEY, fetch });
		expect(provider.name).toBe("resend");
		expect(await provider.send(EMAIL)).toEqual({ providerMessageId: "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794" });

		expect(calls).toHaveLength(1);
		const [call] = calls as [Captured];
		expect(call.url).toBe("https://api.resend.com/emails");
		expect(call.init.method).toBe("POST");
		expect(call.init.headers).toEqual({
			authorization: `Bearer ${API_KEY}`,
			"content-type": "application/json",
			"idempotency-key": "order_confirmation/ord_8k2m4n6p8r0t2v4x6z8a",
			"user-agent": "edge-commerce-notifications/1",
		});
		expect(call.init.signal).toBeInstanceOf(AbortSignal);
		expect(JSON.parse(call.init.body as string)).toEqual({
			from: "Edge & Co <orders@shop.test>",
			to: ["ana@shop.test"],
			subject: "Your order #1042 is confirmed",
			html: "<p>Thank you</p>",
			text: "Thank you",
			tags: [
				{ name: "kind", value: "order_confirmation" },
				{ name: "order_id", value: "ord_8k2m4n6p8r0t2v4x6z8a" },
			],
		});
	});

	it("leaves tags out when there are none and honours a custom API base", async () => {
		const { fetch, calls } = fakeFetch(() => Response.json({ id: "em_1" }));
		const { tags: _tags, ...untagged } = EMAIL;
		await createResendProvider({ apiKey: API_KEY, fetch, apiBase: "https://resend.proxy.test/" }).send(untagged);
		expect(calls[0]?.url).toBe("https://resend.proxy.test/emails");
		expect(JSON.parse(calls[0]?.init.body as string)).not.toHaveProperty("tags");
	});

	it("maps a 422 validation error to permanent, keeping Resend's name and message", async () => {
		const error = await sendError(() => resendError(422, "validation_error", "Invalid `to` field."));
		expect(error).toMatchObject({ kind: "permanent", status: 422, code: "validation_error" });
		expect(error.message).toBe("Resend answered 422 validation_error: Invalid `to` field.");
	});

	it("maps a missing or invalid API key to retryable (our outage: the messages wait for a fixed key)", async () => {
		expect(await sendError(() => resendError(401, "missing_api_key", "Missing API key in the authorization header."))).toMatchObject({
			kind: "retryable",
			status: 401,
			code: "missing_api_key",
		});
		expect(await sendError(() => resendError(403, "invalid_api_key", "API key is invalid."))).toMatchObject({
			kind: "retryable",
			status: 403,
		});
		// A 403 about the request itself (an unverified sender domain) stays permanent.
		expect(await sendError(() => resendError(403, "validation_error", "The domain is not verified."))).toMatchObject({
			kind: "permanent",
			status: 403,
		});
	});

	it("maps a rate limit to retryable with the advised delay", async () => {
		const error = await sendError(() => resendError(429, "rate_limit_exceeded", "Too many requests.", { "retry-after": "2" }));
		expect(error).toMatchObject({ kind: "retryable", status: 429, code: "rate_limit_exceeded", retryAfterSeconds: 2 });
	});

	it("maps server errors to retryable, JSON or not", async () => {
		expect(await sendError(() => resendError(500, "application_error", "An unexpected error occurred."))).toMatchObject({
			kind: "retryable",
			status: 500,
			code: "application_error",
		});
		expect(await sendError(() => new Response("<html>Bad gateway</html>", { status: 502 }))).toMatchObject({
			kind: "retryable",
			status: 502,
		});
	});

	it("retries a request whose idempotency key is still in flight, but not one reused for another payload", async () => {
		expect(await sendError(() => resendError(409, "concurrent_idempotent_requests", "Still in progress."))).toMatchObject({
			kind: "retryable",
		});
		expect(await sendError(() => resendError(409, "invalid_idempotent_request", "Different payload."))).toMatchObject({
			kind: "permanent",
		});
	});

	it("maps a network failure and a timeout to retryable", async () => {
		const network = await sendError(() => Promise.reject(new TypeError("Network connection lost.")));
		expect(network).toMatchObject({ kind: "retryable", code: "network_error" });
		expect(network.status).toBeUndefined();

		const { calls, fetch } = fakeFetch(() => new Response());
		const hanging: typeof fetch = (input, init) => {
			void fetch(input, init);
			return new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
		};
		const provider = createResendProvider({ apiKey: API_KEY, fetch: hanging, timeoutMs: 25 });
		const timeout = await provider.send(EMAIL).catch((err: unknown) => err);
		expect(timeout).toBeInstanceOf(EmailProviderError);
		expect(timeout).toMatchObject({ kind: "retryable", code: "timeout", message: "Resend did not answer within 25 ms" });
		expect(calls).toHaveLength(1);
	});

	it("treats a success without an id as retryable, since a retry with the same key cannot send twice", async () => {
		expect(await sendError(() => Response.json({}))).toMatchObject({ kind: "retryable", status: 200 });
	});

	it("never repeats the API key from an error body", async () => {
		const error = await sendError(() => resendError(400, "validation_error", `Key ${API_KEY} and re_other_key_123 are not allowed`));
		expect(error.message).toBe("Resend answered 400 validation_error: Key [redacted] and re_[redacted] are not allowed");
	});

	it("refuses a bad tag or idempotency key before calling Resend", async () => {
		const { fetch, calls } = fakeFetch(() => Response.json({ id: "em_1" }));
		const provider = createResendProvider({ apiKey: API_KEY, fetch });
		await expect(provider.send({ ...EMAIL, tags: { "order id": "1" } })).rejects.toMatchObject({
			kind: "permanent",
			code: "invalid_request",
		});
		await expect(provider.send({ ...EMAIL, tags: { kind: "a.b" } })).rejects.toMatchObject({ kind: "permanent" });
		await expect(provider.send({ ...EMAIL, idempotencyKey: "" })).rejects.toMatchObject({ kind: "permanent" });
		await expect(provider.send({ ...EMAIL, idempotencyKey: "k".repeat(257) })).rejects.toMatchObject({ kind: "permanent" });
		expect(calls).toHaveLength(0);
	});

	it("refuses a key that is not a Resend key, without echoing it", () => {
		expect(() => createResendProvider({ apiKey: "sk_live_secret" })).toThrow(EmailProviderError);
		expect(() => createResendProvider({ apiKey: "sk_live_secret" })).not.toThrow(/sk_live_secret/);
	});
});

/** The Standard Webhooks specification's published test vector. */
const VECTOR = {
	secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
	timestamp: 1614265330,
	body: '{"test": 2432232314}',
	signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};
const NOW = 1_793_613_600;
const BODY = JSON.stringify({
	type: "order.paid",
	data: { order_id: "ord_8k2m4n6p8r0t2v4x6z8a", total: { amount: 4001, currency: "EUR" } },
});

describe("webhook signing", () => {
	it("reproduces the Standard Webhooks test vector", async () => {
		const headers = await signWebhook(VECTOR.secret, VECTOR.body, VECTOR.timestamp, VECTOR.id);
		expect(headers).toEqual({ "Webhook-Id": VECTOR.id, "Webhook-Timestamp": "1614265330", "Webhook-Signature": VECTOR.signature });
		expect(await verifyWebhook([VECTOR.secret], new Headers(headers), VECTOR.body, VECTOR.timestamp + 10)).toEqual({
			ok: true,
			id: VECTOR.id,
			timestampSeconds: VECTOR.timestamp,
		});
	});

	it("matches a signature computed independently with WebCrypto", async () => {
		const secret = generateWebhookSecret();
		const headers = await signWebhook(secret, BODY, NOW, "evt_1");
		const keyBytes = Uint8Array.from(atob(secret.slice("whsec_".length)), (c) => c.charCodeAt(0));
		const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
		const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`evt_1.${NOW}.${BODY}`)));
		expect(headers["Webhook-Signature"]).toBe(`v1,${btoa(String.fromCharCode(...mac))}`);
	});

	it("round-trips, with header names in any case", async () => {
		const secret = generateWebhookSecret();
		const headers = await signWebhook(secret, BODY, NOW, "evt_1");
		expect(await verifyWebhook([secret], new Headers(headers), BODY, NOW)).toMatchObject({ ok: true, id: "evt_1" });
		const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
		expect(await verifyWebhook([secret], lower, BODY, NOW)).toMatchObject({ ok: true });
	});

	it("fails for a tampered body, id or timestamp, and for another secret", async () => {
		const secret = generateWebhookSecret();
		const headers = await signWebhook(secret, BODY, NOW, "evt_1");
		const fail = { ok: false, reason: "no_matching_signature" };
		expect(await verifyWebhook([secret], headers, BODY.replace("4001", "1"), NOW)).toEqual(fail);
		expect(await verifyWebhook([secret], { ...headers, "Webhook-Id": "evt_2" }, BODY, NOW)).toEqual(fail);
		expect(await verifyWebhook([secret], { ...headers, "Webhook-Timestamp": String(NOW + 1) }, BODY, NOW)).toEqual(fail);
		expect(await verifyWebhook([generateWebhookSecret()], headers, BODY, NOW)).toEqual(fail);
	});

	it("fails for a timestamp outside the tolerance, either way", async () => {
		const secret = generateWebhookSecret();
		const old = await signWebhook(secret, BODY, NOW - 301, "evt_1");
		expect(await verifyWebhook([secret], old, BODY, NOW)).toEqual({ ok: false, reason: "timestamp_out_of_tolerance" });
		const future = await signWebhook(secret, BODY, NOW + 301, "evt_1");
		expect(await verifyWebhook([secret], future, BODY, NOW)).toEqual({ ok: false, reason: "timestamp_out_of_tolerance" });
		expect(await verifyWebhook([secret], old, BODY, NOW, 600)).toMatchObject({ ok: true });
		expect(await verifyWebhook([secret], await signWebhook(secret, BODY, NOW - 300, "evt_1"), BODY, NOW)).toMatchObject({ ok: true });
	});

	it("signs with both secrets during a rotation, so receivers knowing either accept", async () => {
		const previous = generateWebhookSecret();
		const next = generateWebhookSecret();
		const headers = await signWebhook([next, previous], BODY, NOW, "evt_1");
		const entries = headers["Webhook-Signature"].split(" ");
		expect(entries).toHaveLength(2);
		expect(entries.every((entry) => /^v1,[A-Za-z0-9+/]{43}=$/.test(entry))).toBe(true);
		expect(await verifyWebhook([previous], headers, BODY, NOW)).toMatchObject({ ok: true });
		expect(await verifyWebhook([next], headers, BODY, NOW)).toMatchObject({ ok: true });
		expect(await verifyWebhook([generateWebhookSecret(), next], headers, BODY, NOW)).toMatchObject({ ok: true });
		expect(await verifyWebhook([generateWebhookSecret()], headers, BODY, NOW)).toMatchObject({ ok: false });
	});

	it("reports missing and malformed headers, and skips unknown signature versions", async () => {
		const secret = generateWebhookSecret();
		const headers = await signWebhook(secret, BODY, NOW, "evt_1");
		expect(await verifyWebhook([secret], { "Webhook-Id": "evt_1", "Webhook-Timestamp": String(NOW) }, BODY, NOW)).toEqual({
			ok: false,
			reason: "missing_header",
		});
		expect(await verifyWebhook([secret], { ...headers, "Webhook-Timestamp": "soon" }, BODY, NOW)).toEqual({
			ok: false,
			reason: "malformed_header",
		});
		expect(await verifyWebhook([secret], { ...headers, "Webhook-Signature": "v1a,abc" }, BODY, NOW)).toEqual({
			ok: false,
			reason: "malformed_header",
		});
		const withOther = { ...headers, "Webhook-Signature": `v1a,abc ${headers["Webhook-Signature"]}` };
		expect(await verifyWebhook([secret], withOther, BODY, NOW)).toMatchObject({ ok: true });
	});

	it("generates whsec_ secrets of 32 random bytes, and refuses weak or garbled ones", async () => {
		const a = generateWebhookSecret();
		expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
		expect(decodeWebhookSecret(a)).toHaveLength(32);
		expect(generateWebhookSecret()).not.toBe(a);
		await expect(signWebhook("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", BODY, NOW, "evt_1")).rejects.toThrow(TypeError);
		await expect(signWebhook(`whsec_${btoa("too short")}`, BODY, NOW, "evt_1")).rejects.toThrow(TypeError);
		await expect(signWebhook("whsec_!!!not base64!!!", BODY, NOW, "evt_1")).rejects.toThrow(TypeError);
		await expect(signWebhook([], BODY, NOW, "evt_1")).rejects.toThrow(TypeError);
	});

	it("refuses an id with a dot or a line break, and a non-integer timestamp", async () => {
		const secret = generateWebhookSecret();
		await expect(signWebhook(secret, BODY, NOW, "evt.1")).rejects.toThrow(TypeError);
		await expect(signWebhook(secret, BODY, NOW, "evt_1\r\nX-Evil: 1")).rejects.toThrow(TypeError);
		await expect(signWebhook(secret, BODY, 1.5, "evt_1")).rejects.toThrow(RangeError);
		await expect(signWebhook(secret, BODY, -1, "evt_1")).rejects.toThrow(RangeError);
	});
});

describe("webhook URL check", () => {
	it.each([
		"http://127.0.0.1/",
		"http://169.254.169.254/latest/meta-data/",
		"http://[::1]/",
		"http://10.1.2.3/",
		"http://192.168.0.1/",
		"http://172.16.0.1/",
		"http://[fd00::1]/",
		"http://[::ffff:127.0.0.1]/",
		"http://2130706433/",
		"http://0x7f.1/",
		"http://017700000001/",
		"http://0.0.0.0/",
		"http://100.64.0.1/",
		"http://255.255.255.255/",
		"http://224.0.0.1/",
		"http://192.0.2.10/",
		"http://[::]/",
		"http://[fe80::1]/",
		"http://[ff02::1]/",
		"http://[2001:db8::1]/",
		"http://[64:ff9b::a00:1]/",
		"http://localhost:8080/",
		"http://localhost./",
		"http://api.localhost/",
		"http://printer.local/",
		"http://metadata.google.internal/computeMetadata/v1/",
		"http://intranet/",
	])("refuses %s", (url) => {
		// allowHttp, so the refusal is about the host, not the scheme.
		const result = checkWebhookUrl(url, { allowHttp: true });
		expect(result.ok, url).toBe(false);
	});

	it("explains what is wrong", () => {
		expect(checkWebhookUrl("http://127.0.0.1/", { allowHttp: true })).toEqual({
			ok: false,
			reason: "The URL points at a non-public IPv4 address (loopback).",
		});
		expect(checkWebhookUrl("http://2130706433/", { allowHttp: true })).toEqual({
			ok: false,
			reason: "The URL points at a non-public IPv4 address (loopback).",
		});
		expect(checkWebhookUrl("http://[::ffff:127.0.0.1]/", { allowHttp: true })).toEqual({
			ok: false,
			reason: "The URL points at a non-public IPv6 address (IPv4-mapped).",
		});
		expect(checkWebhookUrl("http://user:pw@example.com/", { allowHttp: true })).toEqual({
			ok: false,
			reason: "The URL must not contain a user name or password.",
		});
		expect(checkWebhookUrl("ftp://example.com/", { allowHttp: true })).toEqual({ ok: false, reason: "The URL must use https or http." });
		expect(checkWebhookUrl("not a url")).toEqual({ ok: false, reason: "The URL is not a valid absolute URL." });
	});

	it("requires https unless http is allowed", () => {
		expect(checkWebhookUrl("http://hooks.example.com/x")).toEqual({ ok: false, reason: "The URL must use https." });
		expect(checkWebhookUrl("http://hooks.example.com/x", { allowHttp: true }).ok).toBe(true);
		expect(checkWebhookUrl("ftp://example.com/").ok).toBe(false);
		expect(checkWebhookUrl("https://user:pw@example.com/").ok).toBe(false);
	});

	it.each([
		"https://hooks.example.com/x",
		"https://8.8.8.8/",
		"https://hooks.example.com:8443/webhooks?shop=1",
		"https://[2606:4700:4700::1111]/",
		"https://172.32.0.1/",
		"https://localhost.example.com/",
	])("accepts %s", (url) => {
		const result = checkWebhookUrl(url);
		expect(result.ok).toBe(true);
		expect(result.ok && result.url.href).toBe(new URL(url).href);
	});
});
