import { describe, expect, it } from "vitest";
import { formatMoney } from "../workers/domain/money.ts";
import {
	EMAIL_KINDS,
	type EmailKind,
	type EmailMessage,
	EmailTemplateError,
	emailPayloadSchemas,
	normalizeBaseUrl,
	parseEmailMessage,
	renderEmail,
} from "../workers/notifications/templates.ts";

const OPTIONS = { baseUrl: "https://shop.test/", shopName: "Edge & Co" };
const SCRIPT = "<script>alert(1)</script>";
const eur = (amount: number) => ({ amount, currency: "EUR" });

/** Intl separates some symbols from digits with a no-break space; tests compare with plain spaces. */
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, " ");

const orderConfirmation = {
	kind: "order_confirmation",
	order_id: "ord_8k2m4n6p8r0t2v4x6z8a",
	number: "1042",
	name: "Ana O'Neil",
	email: "ana@shop.test",
	lines: [
		{ title: SCRIPT, sku: "TEE-NAVY-M", quantity: 2, unit_price: eur(1234), line_total: eur(2468) },
		{ title: "Mug", sku: "MUG-1", quantity: 1, unit_price: eur(900), line_total: eur(900) },
	],
	subtotal: eur(3368),
	discount: eur(500),
	shipping: eur(495),
	tax: eur(638),
	total: eur(4001),
	shipping_address: { name: "Ana O'Neil", line1: "Hauptstr. 1", line2: null, city: "Berlin", postal_code: "10115", country: "DE" },
	order_url: "/orders/ord_8k2m4n6p8r0t2v4x6z8a?access=tok_abc",
} satisfies EmailMessage;

/** One valid message of every kind. */
const EXAMPLES: { [K in EmailKind]: Extract<EmailMessage, { kind: K }> } = {
	verify_email: {
		kind: "verify_email",
		name: "Ana",
		email: "ana@shop.test",
		token: "Zm9vYmFyYmF6cXV4LXRva2VuX3Rlc3Q",
		expires_at: "2026-11-02T10:00:00Z",
	},
	password_reset: {
		kind: "password_reset",
		name: "Ana",
		email: "ana@shop.test",
		token: "cmVzZXQtdG9rZW4tZm9yLWFuYV8x",
		expires_at: "2026-11-02T10:00:00Z",
	},
	order_confirmation: orderConfirmation,
	order_shipped: {
		kind: "order_shipped",
		order_id: "ord_8k2m4n6p8r0t2v4x6z8a",
		email: "ana@shop.test",
		carrier: "DHL",
		tracking_number: "JJD000390007788",
		tracking_url: "https://www.dhl.com/track?id=JJD000390007788",
	},
	order_cancelled: { kind: "order_cancelled", order_id: "ord_8k2m4n6p8r0t2v4x6z8a", email: "ana@shop.test", reason: "Payment <failed>" },
	order_refunded: { kind: "order_refunded", order_id: "ord_8k2m4n6p8r0t2v4x6z8a", email: "ana@shop.test", amount: eur(1500) },
	abandoned_cart: {
		kind: "abandoned_cart",
		email: "ana@shop.test",
		name: "Ana",
		cart_id: "crt_1",
		lines: [{ title: "Navy tee", quantity: 2 }],
	},
	low_stock: { kind: "low_stock", sku: "TEE-NAVY-M", available: 3, threshold: 5 },
	payment_review: {
		kind: "payment_review",
		order_id: "ord_8k2m4n6p8r0t2v4x6z8a",
		expected: { amount: 4990, currency: "EUR" },
		received: { amount: 4989, currency: "EUR" },
		provider: "test",
		provider_payment_id: "tpi_123",
		mismatch: ["amount"],
	},
	return_approved: {
		kind: "return_approved",
		order_id: "ord_8k2m4n6p8r0t2v4x6z8a",
		email: "ana@shop.test",
		return_id: "ret_8k2m4n6p8r0t2v4x6z8a",
		lines: [{ title: SCRIPT, sku: "TEE-NAVY-M", quantity: 1 }],
		instructions: ["Send the parcel to Edge & Co, Returns, Hauptstr. 1, 10115 Berlin.", "Put the order number inside."],
		order_url: "/account/orders/ord_8k2m4n6p8r0t2v4x6z8a",
	},
	return_rejected: {
		kind: "return_rejected",
		order_id: "ord_8k2m4n6p8r0t2v4x6z8a",
		email: "ana@shop.test",
		return_id: "ret_8k2m4n6p8r0t2v4x6z8a",
		lines: [{ title: "Mug", sku: "MUG-1", quantity: 2 }],
		reason: ["The return window has passed."],
	},
	ops_alert: {
		kind: "ops_alert",
		incident_id: "inc_8k2m4n6p8r0t2v4x6z8a",
		alert_kind: "payment_review",
		key: "ord_8k2m4n6p8r0t2v4x6z8a",
		summary: "An order waits in payment review: a payment arrived that does not match it.",
		opened_at: "2026-11-02T10:00:00Z",
		facts: [
			{ label: "Order", value: "ord_8k2m4n6p8r0t2v4x6z8a" },
			{ label: "In review since", value: "2026-11-02T09:59:00.000Z" },
		],
	},
};

describe("every kind", () => {
	it.each(EMAIL_KINDS)("%s renders a complete, accessible document and a plain-text body", (kind) => {
		const message = EXAMPLES[kind];
		const { kind: _kind, ...payload } = message;
		expect(emailPayloadSchemas[kind].safeParse(payload).success).toBe(true);

		const email = renderEmail(message, OPTIONS);
		expect(email.subject.length).toBeGreaterThan(0);
		expect(email.subject).not.toMatch(/[\r\n]/);
		expect(email.html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
		expect(email.html).toContain(`<title>${email.subject.replaceAll("&", "&amp;").replaceAll("'", "&#39;")}</title>`);
		expect(email.html).toContain("Edge &amp; Co");
		expect(email.html).not.toContain("Edge & Co");
		expect(email.text.startsWith("Edge & Co\n")).toBe(true);
		// Every link in the HTML is under the shop, except the carrier's tracking page.
		for (const [, href] of email.html.matchAll(/href="([^"]*)"/g)) {
			expect(href?.startsWith("https://shop.test/") || href?.startsWith("https://www.dhl.com/")).toBe(true);
		}
	});
});

describe("account e-mails", () => {
	it("links to verify-email with the token, and says when the link expires", () => {
		const email = renderEmail(EXAMPLES.verify_email, OPTIONS);
		const url = "https://shop.test/verify-email?token=Zm9vYmFyYmF6cXV4LXRva2VuX3Rlc3Q";
		expect(email.subject).toBe("Confirm your e-mail address for Edge & Co");
		expect(email.html).toContain(`href="${url}"`);
		expect(email.text).toContain(`\n${url}\n`);
		expect(plain(email.text)).toContain("expires on November 2, 2026 at 10:00 AM UTC");
	});

	it("links to reset-password with the token", () => {
		const email = renderEmail(EXAMPLES.password_reset, OPTIONS);
		expect(email.subject).toBe("Reset your Edge & Co password");
		expect(email.html).toContain('href="https://shop.test/reset-password?token=cmVzZXQtdG9rZW4tZm9yLWFuYV8x"');
		expect(email.text).toContain("https://shop.test/reset-password?token=cmVzZXQtdG9rZW4tZm9yLWFuYV8x");
	});

	it("encodes the token as a query component and escapes it in the attribute", () => {
		const email = renderEmail({ ...EXAMPLES.password_reset, token: 'a&b="c"<d> e/f?' } as EmailMessage, OPTIONS);
		expect(email.text).toContain("https://shop.test/reset-password?token=a%26b%3D%22c%22%3Cd%3E%20e%2Ff%3F");
		expect(email.html).toContain('href="https://shop.test/reset-password?token=a%26b%3D%22c%22%3Cd%3E%20e%2Ff%3F"');
	});

	it("keeps a line break in a name out of the subject and the text", () => {
		const email = renderEmail({ ...EXAMPLES.verify_email, name: "Ana\r\nBcc: victim@example.com\u202e" }, OPTIONS);
		expect(email.text).toContain("Hi Ana Bcc: victim@example.com,\n");
		expect(email.html).not.toContain("\u202e");
	});
});

describe("order confirmation", () => {
	it("escapes a script in a product title in the HTML and keeps it as text in the plain body", () => {
		const email = renderEmail(orderConfirmation, OPTIONS);
		expect(email.html).not.toContain("<script>");
		expect(email.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
		expect(email.text).toContain(`- 2 x ${SCRIPT} (SKU TEE-NAVY-M): €12.34 each, €24.68`);
		expect(email.html).toContain("Ana O&#39;Neil");
	});

	it("shows every line, the totals with the discount, and the shipping address", () => {
		const email = renderEmail(orderConfirmation, OPTIONS);
		expect(email.subject).toBe("Your Edge & Co order #1042 is confirmed");
		expect(email.html).toContain('<th scope="col"');
		expect(email.text).toContain("- 1 x Mug (SKU MUG-1): €9.00 each, €9.00");
		expect(email.text).toContain("Subtotal: €33.68\nDiscount: -€5.00\nShipping: €4.95\nTax: €6.38\nTotal: €40.01");
		expect(email.text).toContain("Shipping to:\nAna O'Neil\nHauptstr. 1\n10115 Berlin\nGermany");
		expect(email.html).toContain("Hauptstr. 1<br>10115 Berlin<br>Germany");
	});

	it("leaves out a zero discount", () => {
		const email = renderEmail({ ...orderConfirmation, discount: eur(0) }, OPTIONS);
		expect(email.text).not.toContain("Discount");
	});

	it("formats yen without decimals", () => {
		const yen = (amount: number) => ({ amount, currency: "JPY" });
		const email = renderEmail(
			{
				...orderConfirmation,
				lines: [{ title: "Tea", sku: "TEA-1", quantity: 1, unit_price: yen(500), line_total: yen(500) }],
				subtotal: yen(500),
				discount: yen(0),
				shipping: yen(0),
				tax: yen(0),
				total: yen(500),
			},
			OPTIONS,
		);
		expect(email.text).toContain("Tea (SKU TEA-1): ¥500 each, ¥500");
		expect(email.text).toContain("Total: ¥500");
	});

	it("resolves an order path under the base URL and refuses a link to another site", () => {
		const email = renderEmail(orderConfirmation, { ...OPTIONS, baseUrl: "https://example.com/store/" });
		expect(email.html).toContain('href="https://example.com/store/orders/ord_8k2m4n6p8r0t2v4x6z8a?access=tok_abc"');
		const absolute = renderEmail({ ...orderConfirmation, order_url: "https://shop.test/orders/ord_1" }, OPTIONS);
		expect(absolute.text).toContain("View your order:\nhttps://shop.test/orders/ord_1");
		for (const order_url of ["https://evil.test/orders/1", "https://shop.test.evil.test/", "https://user@shop.test/orders/1"]) {
			expect(() => renderEmail({ ...orderConfirmation, order_url }, OPTIONS)).toThrow(EmailTemplateError);
		}
		expect(() =>
			renderEmail({ ...orderConfirmation, order_url: "https://example.com/admin" }, { ...OPTIONS, baseUrl: "https://example.com/store" }),
		).toThrow(EmailTemplateError);
		expect(() =>
			renderEmail({ ...orderConfirmation, order_url: "/../admin" }, { ...OPTIONS, baseUrl: "https://example.com/store" }),
		).toThrow(EmailTemplateError);
	});
});

describe("order updates, carts and stock", () => {
	it("gives the carrier, the tracking number and an https tracking link", () => {
		const email = renderEmail(EXAMPLES.order_shipped, OPTIONS);
		expect(email.subject).toBe("Your Edge & Co order ord_8k2m4n6p8r0t2v4x6z8a has shipped");
		expect(email.text).toContain("Carrier: DHL\nTracking number: JJD000390007788");
		expect(email.html).toContain('href="https://www.dhl.com/track?id=JJD000390007788"');
		const http = { ...EXAMPLES.order_shipped, tracking_url: "http://tracking.test/1" } as EmailMessage;
		expect(() => renderEmail(http, OPTIONS)).toThrow(EmailTemplateError);
	});

	it("states a cancellation with its reason, escaped", () => {
		const email = renderEmail(EXAMPLES.order_cancelled, OPTIONS);
		expect(email.subject).toBe("Your Edge & Co order ord_8k2m4n6p8r0t2v4x6z8a has been cancelled");
		expect(email.html).toContain("Payment &lt;failed&gt;");
		expect(email.text).toContain("Reason: Payment <failed>");
	});

	it("names the refunded amount", () => {
		const email = renderEmail({ ...EXAMPLES.order_refunded, number: "1042" } as EmailMessage, OPTIONS);
		expect(email.subject).toBe("Refund of €15.00 for your Edge & Co order #1042");
		expect(email.text).toContain("We have refunded €15.00 for your order #1042");
	});

	it("links an abandoned cart to the cart page", () => {
		const email = renderEmail(EXAMPLES.abandoned_cart, OPTIONS);
		expect(email.html).toContain('href="https://shop.test/cart"');
		expect(email.text).toContain("- 2 x Navy tee");
		expect(email.text).toContain("Return to your cart:\nhttps://shop.test/cart\n");
	});

	it("tells admins how much is left, or that it is gone", () => {
		expect(renderEmail(EXAMPLES.low_stock, OPTIONS).subject).toBe("Low stock: TEE-NAVY-M (3 left)");
		const out = renderEmail({ kind: "low_stock", sku: "TEE-NAVY-M", available: 0, threshold: 5 }, OPTIONS);
		expect(out.subject).toBe("Out of stock: TEE-NAVY-M");
	});
});

describe("alerts", () => {
	it("names the incident, lists its facts and links the admin page that acts on it", () => {
		const email = renderEmail(EXAMPLES.ops_alert, OPTIONS);
		expect(email.subject).toBe("Alert: Payment in review (ord_8k2m4n6p8r0t2v4x6z8a)");
		expect(email.html).toContain('href="https://shop.test/admin/orders/ord_8k2m4n6p8r0t2v4x6z8a"');
		expect(email.text).toContain("Order: ord_8k2m4n6p8r0t2v4x6z8a\nIn review since: 2026-11-02T09:59:00.000Z");
		expect(plain(email.text)).toContain("Opened: November 2, 2026 at 10:00 AM UTC");
		const drift = renderEmail({ ...EXAMPLES.ops_alert, alert_kind: "stock_drift", key: "open", facts: [] }, OPTIONS);
		expect(drift.subject).toBe("Alert: Stock drift");
		expect(drift.html).toContain('href="https://shop.test/admin/inventory"');
	});
});

describe("money", () => {
	it("uses each currency's minor unit", () => {
		expect(formatMoney({ amount: 1234, currency: "EUR" })).toBe("€12.34");
		expect(formatMoney({ amount: 1200, currency: "EUR" })).toBe("€12.00");
		expect(formatMoney({ amount: 500, currency: "JPY" })).toBe("¥500");
		expect(plain(formatMoney({ amount: 1234, currency: "KWD" }))).toBe("KWD 1.234");
		// ISO gives the forint 2 digits although it is usually shown without them.
		expect(plain(formatMoney({ amount: 100_000, currency: "HUF" }))).toBe("HUF 1,000");
		expect(plain(formatMoney({ amount: 100_050, currency: "HUF" }))).toBe("HUF 1,000.50");
		expect(plain(formatMoney({ amount: 123_456_789, currency: "USD" }))).toBe("$1,234,567.89");
	});
});

describe("base URL", () => {
	it("accepts an absolute http(s) URL and drops the trailing slash", () => {
		expect(normalizeBaseUrl("https://shop.test/")).toBe("https://shop.test");
		expect(normalizeBaseUrl("https://example.com/store/")).toBe("https://example.com/store");
		expect(normalizeBaseUrl("http://localhost:8787")).toBe("http://localhost:8787");
	});

	it("refuses relative, non-http, credentialed and query-bearing URLs", () => {
		for (const bad of [
			"/shop",
			"shop.test",
			"javascript:alert(1)",
			"ftp://shop.test",
			"https://u:p@shop.test",
			"https://shop.test/?a=1",
			"https://shop.test/#x",
			"",
		]) {
			expect(() => normalizeBaseUrl(bad), bad).toThrow(EmailTemplateError);
			expect(() => renderEmail(EXAMPLES.abandoned_cart, { ...OPTIONS, baseUrl: bad }), bad).toThrow(EmailTemplateError);
		}
	});

	it("refuses an empty shop name", () => {
		expect(() => renderEmail(EXAMPLES.low_stock, { ...OPTIONS, shopName: " \n" })).toThrow(EmailTemplateError);
	});
});

describe("payload schemas", () => {
	const payloadOf = (message: EmailMessage): Record<string, unknown> => {
		const { kind: _kind, ...payload } = message;
		return payload;
	};
	const confirmation = payloadOf(orderConfirmation) as Omit<typeof orderConfirmation, "kind">;

	it("reject malformed payloads", () => {
		const bad: [EmailKind, unknown][] = [
			["verify_email", { ...payloadOf(EXAMPLES.verify_email), kind: "verify_email" }],
			["verify_email", { name: "Ana", email: "not-an-email", token: "Zm9vYmFyYmF6cXV4LXRva2Vu", expires_at: "2026-11-02T10:00:00Z" }],
			["verify_email", { name: "Ana", email: "ana@shop.test", token: "short", expires_at: "2026-11-02T10:00:00Z" }],
			["password_reset", { name: "Ana", email: "ana@shop.test", token: "Zm9vYmFyYmF6cXV4LXRva2Vu", expires_at: "tomorrow" }],
			["order_confirmation", { ...confirmation, lines: [] }],
			["order_confirmation", { ...confirmation, total: { amount: 40.01, currency: "EUR" } }],
			["order_confirmation", { ...confirmation, total: { amount: -1, currency: "EUR" } }],
			["order_confirmation", { ...confirmation, tax: { amount: 638, currency: "USD" } }],
			["order_confirmation", { ...confirmation, total: { amount: 4001, currency: "eur" } }],
			["order_confirmation", { ...confirmation, order_url: "//evil.test/orders/1" }],
			["order_confirmation", { ...confirmation, order_url: "javascript:alert(1)" }],
			["order_confirmation", { ...confirmation, shipping_address: { ...confirmation.shipping_address, country: "Germany" } }],
			["order_confirmation", { ...confirmation, gift_note: "surprise" }],
			["order_shipped", { ...payloadOf(EXAMPLES.order_shipped), tracking_url: "http://tracking.test/1" }],
			["order_shipped", { order_id: "ord_1", email: "ana@shop.test" }],
			["order_refunded", { order_id: "ord_1", email: "ana@shop.test", amount: { amount: 1500 } }],
			["abandoned_cart", { email: "ana@shop.test", cart_id: "crt_1", lines: [{ title: "Tee", quantity: 0 }] }],
			["low_stock", { sku: "TEE", available: 1.5, threshold: 5 }],
		];
		for (const [kind, payload] of bad) {
			expect(emailPayloadSchemas[kind].safeParse(payload).success, JSON.stringify(payload)).toBe(false);
		}
	});

	it("accept database nulls for optional fields", () => {
		const result = emailPayloadSchemas.order_shipped.safeParse({
			order_id: "ord_1",
			number: null,
			email: "ana@shop.test",
			carrier: null,
			tracking_number: "1Z999",
			tracking_url: null,
			order_url: null,
		});
		expect(result.success).toBe(true);
	});

	it("parse a tagged message and refuse an unknown kind", () => {
		const parsed = parseEmailMessage(orderConfirmation);
		expect(parsed.success && parsed.data.kind).toBe("order_confirmation");
		expect(parseEmailMessage({ ...EXAMPLES.low_stock, kind: "newsletter" }).success).toBe(false);
		expect(parseEmailMessage({ sku: "TEE", available: 1, threshold: 5 }).success).toBe(false);
		expect(parseEmailMessage(null).success).toBe(false);
		expect(parseEmailMessage({ ...EXAMPLES.low_stock, available: "3" }).success).toBe(false);
	});
});
