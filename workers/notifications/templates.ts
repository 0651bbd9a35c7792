/**
 * Transactional e-mails: one pure function from a validated message to a
 * subject, an HTML body and a plain-text body. No I/O, so the consumer can
 * render, send, and retry with the same result every time.
 *
 * Safety rules every template follows:
 * - Every interpolated value is HTML-escaped (the `html` tag does it), and
 *   control and bidi-override characters are removed from every value first,
 *   so a product title cannot break a line in the text body or the subject,
 *   or reverse how a link reads.
 * - Links lead under the configured `baseUrl` only, with path and query
 *   components passed through encodeURIComponent. The carrier's tracking page
 *   is the one exception, and must be https.
 */

import { formatMoney, type Money } from "../domain/money.ts";
import type { EmailMessage, EmailPayload } from "./email-schemas.ts";
import { button, heading, html, keyValueTable, layout, paragraph, type SafeHtml } from "./html.ts";

export {
	EMAIL_KINDS,
	type EmailKind,
	type EmailMessage,
	type EmailMessageParseResult,
	type EmailPayload,
	emailPayloadSchemas,
	parseEmailMessage,
} from "./email-schemas.ts";

export interface RenderOptions {
	/** The storefront's absolute http(s) URL, e.g. `https://shop.example` or `https://example.com/store`. */
	baseUrl: string;
	shopName: string;
	/** BCP 47; formats money and dates. The wording is English. */
	locale?: string;
}

export interface RenderedEmail {
	subject: string;
	html: string;
	text: string;
}

/**
 * The e-mail cannot be rendered: a misconfigured baseUrl, shop name or
 * locale, or a link in the message that leads outside the shop. Retrying the
 * same message will fail the same way.
 */
export class EmailTemplateError extends Error {
	override name = "EmailTemplateError";
}

/**
 * Checks that `baseUrl` is an absolute http(s) URL without credentials,
 * query or fragment, and returns it without its trailing slash, ready for
 * `${base}/path`. Call it at startup to fail fast on configuration.
 */
export function normalizeBaseUrl(baseUrl: string): string {
	let url: URL;
	try {
		url = new URL(baseUrl);
	} catch {
		throw new EmailTemplateError("baseUrl must be an absolute http(s) URL");
	}
	if (url.protocol !== "https:" && url.protocol !== "http:") throw new EmailTemplateError("baseUrl must be an absolute http(s) URL");
	if (url.username || url.password) throw new EmailTemplateError("baseUrl must not contain credentials");
	if (url.href.includes("?") || url.href.includes("#")) throw new EmailTemplateError("baseUrl must not have a query or a fragment");
	return url.href.replace(/\/+$/, "");
}

/** Renders one message. Validate untrusted input with `emailPayloadSchemas` / `parseEmailMessage` first. */
export function renderEmail(message: EmailMessage, options: RenderOptions): RenderedEmail {
	const ctx = context(options);
	const msg = clean(message);
	switch (msg.kind) {
		case "verify_email":
			return compose(ctx, verifyEmail(msg, ctx));
		case "password_reset":
			return compose(ctx, passwordReset(msg, ctx));
		case "order_confirmation":
			return compose(ctx, orderConfirmation(msg, ctx));
		case "order_shipped":
			return compose(ctx, orderShipped(msg, ctx));
		case "order_cancelled":
			return compose(ctx, orderCancelled(msg, ctx));
		case "order_refunded":
			return compose(ctx, orderRefunded(msg, ctx));
		case "abandoned_cart":
			return compose(ctx, abandonedCart(msg, ctx));
		case "low_stock":
			return compose(ctx, lowStock(msg));
		case "payment_review":
			return compose(ctx, paymentReview(msg, ctx));
		case "return_approved":
			return compose(ctx, returnApproved(msg, ctx));
		case "return_rejected":
			return compose(ctx, returnRejected(msg, ctx));
		case "ops_alert":
			return compose(ctx, opsAlert(msg, ctx));
		default: {
			const unknown: never = msg;
			throw new EmailTemplateError(`no template for kind ${String((unknown as { kind?: unknown }).kind)}`);
		}
	}
}

interface Context {
	base: string;
	shop: string;
	locale: string;
	lang: string;
}

/** What a template produces; compose() wraps it in the layout and the text frame. */
interface Draft {
	subject: string;
	preheader: string;
	body: SafeHtml;
	text: string[];
	footer: string;
}

function context(options: RenderOptions): Context {
	const shop = cleanString(options.shopName);
	if (!shop) throw new EmailTemplateError("shopName must not be empty");
	let locale: string;
	try {
		[locale = "en-US"] = Intl.getCanonicalLocales(options.locale ?? "en-US");
	} catch {
		throw new EmailTemplateError(`locale ${JSON.stringify(options.locale)} is not a valid BCP 47 tag`);
	}
	return { base: normalizeBaseUrl(options.baseUrl), shop, locale, lang: new Intl.Locale(locale).language };
}

function compose(ctx: Context, draft: Draft): RenderedEmail {
	const htmlBody = layout({
		lang: ctx.lang,
		title: draft.subject,
		preheader: draft.preheader,
		shopName: ctx.shop,
		body: draft.body,
		footer: draft.footer,
	});
	const text = [ctx.shop, "", ...draft.text, "", "--", draft.footer, ""].join("\n");
	return { subject: draft.subject, html: htmlBody, text };
}

function verifyEmail(msg: EmailPayload<"verify_email">, ctx: Context): Draft {
	const url = link(ctx, "/verify-email", { token: msg.token });
	const expires = formatDateTime(msg.expires_at, ctx);
	return {
		subject: `Confirm your e-mail address for ${ctx.shop}`,
		preheader: "One click to confirm your e-mail address.",
		body: html`${heading("Confirm your e-mail address")}
${paragraph(`Hi ${msg.name},`)}
${paragraph(html`Please confirm that <strong>${msg.email}</strong> is your e-mail address for your ${ctx.shop} account.`)}
${button(url, "Confirm e-mail address")}
${paragraph(`This link works once and expires on ${expires}.`)}`,
		text: [
			`Hi ${msg.name},`,
			"",
			`Please confirm that ${msg.email} is your e-mail address for your ${ctx.shop} account:`,
			url,
			"",
			`This link works once and expires on ${expires}.`,
		],
		footer: `You received this e-mail because this address was used to sign up at ${ctx.shop}. If that was not you, ignore it; nothing will happen.`,
	};
}

function passwordReset(msg: EmailPayload<"password_reset">, ctx: Context): Draft {
	const url = link(ctx, "/reset-password", { token: msg.token });
	const expires = formatDateTime(msg.expires_at, ctx);
	return {
		subject: `Reset your ${ctx.shop} password`,
		preheader: "Choose a new password for your account.",
		body: html`${heading("Reset your password")}
${paragraph(`Hi ${msg.name},`)}
${paragraph(html`Someone asked to reset the password of the ${ctx.shop} account for <strong>${msg.email}</strong>. To choose a new password, use the button below.`)}
${button(url, "Choose a new password")}
${paragraph(`This link works once and expires on ${expires}. If you did not ask for it, ignore this e-mail: your password stays as it is.`)}`,
		text: [
			`Hi ${msg.name},`,
			"",
			`Someone asked to reset the password of the ${ctx.shop} account for ${msg.email}. To choose a new password, open:`,
			url,
			"",
			`This link works once and expires on ${expires}. If you did not ask for it, ignore this e-mail: your password stays as it is.`,
		],
		footer: `You received this e-mail because a password reset was requested for this address at ${ctx.shop}.`,
	};
}

function orderConfirmation(msg: EmailPayload<"order_confirmation">, ctx: Context): Draft {
	const ref = orderRef(msg);
	const money = (m: Money) => formatMoney(m, ctx.locale);
	const percent = (bp: number) => `${(bp / 100).toLocaleString(ctx.locale, { maximumFractionDigits: 2 })} %`;
	const included: [string, string][] = msg.tax_included
		? (msg.tax_breakdown ?? [])
				.filter((entry) => entry.tax.amount > 0)
				.map((entry) => [`Includes VAT ${percent(entry.rate_bp)}`, money(entry.tax)])
		: [];
	const totals: [string, string, boolean?][] = [
		["Subtotal", money(msg.subtotal)],
		...(msg.discount.amount > 0 ? [["Discount", `-${money(msg.discount)}`] as [string, string]] : []),
		[msg.shipping_method ? `Shipping (${msg.shipping_method})` : "Shipping", money(msg.shipping)],
		...(msg.tax_included ? [] : [["Tax", money(msg.tax)] as [string, string]]),
		["Total", money(msg.total), true],
		...included,
	];
	const address = addressLines(msg.shipping_address, ctx);
	const orderLink = optionalOrderLink(ctx, msg.order_url);
	const lines = msg.lines.map(
		(line) => html`<tr>
<td style="padding:8px 8px 8px 0;border-top:1px solid #e4e4e7;vertical-align:top;">${line.title}<br><span style="font-size:12px;color:#52525b;">SKU ${line.sku}</span></td>
<td style="padding:8px;border-top:1px solid #e4e4e7;text-align:right;vertical-align:top;">${line.quantity}</td>
<td style="padding:8px;border-top:1px solid #e4e4e7;text-align:right;vertical-align:top;white-space:nowrap;">${money(line.unit_price)}</td>
<td style="padding:8px 0 8px 8px;border-top:1px solid #e4e4e7;text-align:right;vertical-align:top;white-space:nowrap;">${money(line.line_total)}</td>
</tr>`,
	);
	return {
		subject: `Your ${ctx.shop} order ${ref} is confirmed`,
		preheader: `Thank you for your order. Total: ${money(msg.total)}.`,
		body: html`${heading(`Thank you for your order ${ref}`)}
${paragraph(msg.name ? `Hi ${msg.name},` : "Hello,")}
${paragraph("We have received your order and will let you know when it ships.")}
<table style="width:100%;border-collapse:collapse;margin:0 0 16px 0;font-size:14px;">
<caption style="text-align:left;font-weight:600;padding:0 0 8px 0;">Items</caption>
<thead><tr>
<th scope="col" style="text-align:left;padding:0 8px 8px 0;">Item</th>
<th scope="col" style="text-align:right;padding:0 8px 8px 8px;">Qty</th>
<th scope="col" style="text-align:right;padding:0 8px 8px 8px;">Price</th>
<th scope="col" style="text-align:right;padding:0 0 8px 8px;">Total</th>
</tr></thead>
<tbody>
${lines}
</tbody>
</table>
${keyValueTable("Summary", totals)}
<h2 style="margin:0 0 8px 0;font-size:16px;">Shipping to</h2>
<address style="font-style:normal;margin:0 0 16px 0;">${address.map((line, i) => html`${i > 0 ? html`<br>` : ""}${line}`)}</address>
${orderLink ? button(orderLink, "View your order") : ""}`,
		text: [
			msg.name ? `Hi ${msg.name},` : "Hello,",
			"",
			`Thank you for your order ${ref}. We have received it and will let you know when it ships.`,
			"",
			"Items:",
			...msg.lines.map(
				(line) => `- ${line.quantity} x ${line.title} (SKU ${line.sku}): ${money(line.unit_price)} each, ${money(line.line_total)}`,
			),
			"",
			...totals.map(([label, value]) => `${label}: ${value}`),
			"",
			"Shipping to:",
			...address,
			...(orderLink ? ["", "View your order:", orderLink] : []),
		],
		footer: `You received this e-mail because an order was placed with this address at ${ctx.shop}.`,
	};
}

function orderShipped(msg: EmailPayload<"order_shipped">, ctx: Context): Draft {
	const ref = orderRef(msg);
	const tracking = msg.tracking_url ? trackingLink(msg.tracking_url) : undefined;
	const orderLink = optionalOrderLink(ctx, msg.order_url);
	const details: [string, string][] = [
		...(msg.carrier ? [["Carrier", msg.carrier] as [string, string]] : []),
		["Tracking number", msg.tracking_number],
	];
	return {
		subject: `Your ${ctx.shop} order ${ref} has shipped`,
		preheader: `Tracking number ${msg.tracking_number}.`,
		body: html`${heading(`Your order ${ref} is on its way`)}
${paragraph("Good news: your order has left our warehouse.")}
${keyValueTable("Shipment", details)}
${tracking ? button(tracking, "Track your parcel") : ""}
${orderLink ? paragraph(html`<a href="${orderLink}" style="color:#18181b;">View your order</a>`) : ""}`,
		text: [
			`Good news: your order ${ref} has left our warehouse.`,
			"",
			...details.map(([label, value]) => `${label}: ${value}`),
			...(tracking ? ["", "Track your parcel:", tracking] : []),
			...(orderLink ? ["", "View your order:", orderLink] : []),
		],
		footer: `You received this e-mail because an order was placed with this address at ${ctx.shop}.`,
	};
}

function orderCancelled(msg: EmailPayload<"order_cancelled">, ctx: Context): Draft {
	const ref = orderRef(msg);
	const orderLink = optionalOrderLink(ctx, msg.order_url);
	return {
		subject: `Your ${ctx.shop} order ${ref} has been cancelled`,
		preheader: `Order ${ref} has been cancelled.`,
		body: html`${heading(`Order ${ref} has been cancelled`)}
${paragraph(`Your order ${ref} has been cancelled and will not be shipped.`)}
${msg.reason ? paragraph(html`<strong>Reason:</strong> ${msg.reason}`) : ""}
${orderLink ? button(orderLink, "View your order") : ""}`,
		text: [
			`Your order ${ref} has been cancelled and will not be shipped.`,
			...(msg.reason ? ["", `Reason: ${msg.reason}`] : []),
			...(orderLink ? ["", "View your order:", orderLink] : []),
		],
		footer: `You received this e-mail because an order was placed with this address at ${ctx.shop}.`,
	};
}

function orderRefunded(msg: EmailPayload<"order_refunded">, ctx: Context): Draft {
	const ref = orderRef(msg);
	const amount = formatMoney(msg.amount, ctx.locale);
	const orderLink = optionalOrderLink(ctx, msg.order_url);
	return {
		subject: `Refund of ${amount} for your ${ctx.shop} order ${ref}`,
		preheader: `We have refunded ${amount}.`,
		body: html`${heading(`We have refunded ${amount}`)}
${paragraph(html`We have refunded <strong>${amount}</strong> for your order ${ref} to the payment method you used.`)}
${paragraph("Depending on your bank, it can take a few business days to appear on your statement.")}
${orderLink ? button(orderLink, "View your order") : ""}`,
		text: [
			`We have refunded ${amount} for your order ${ref} to the payment method you used.`,
			"Depending on your bank, it can take a few business days to appear on your statement.",
			...(orderLink ? ["", "View your order:", orderLink] : []),
		],
		footer: `You received this e-mail because an order was placed with this address at ${ctx.shop}.`,
	};
}

function abandonedCart(msg: EmailPayload<"abandoned_cart">, ctx: Context): Draft {
	const url = link(ctx, "/cart");
	return {
		subject: `You left something in your cart at ${ctx.shop}`,
		preheader: "Your cart is waiting for you.",
		body: html`${heading("Your cart is waiting")}
${paragraph(msg.name ? `Hi ${msg.name},` : "Hello,")}
${paragraph("You left these items in your cart:")}
<ul style="margin:0 0 16px 0;padding:0 0 0 20px;">
${msg.lines.map((line) => html`<li>${line.quantity} × ${line.title}</li>`)}
</ul>
${button(url, "Return to your cart")}
${paragraph("Items in a cart are not reserved, so prices and availability may change.")}`,
		text: [
			msg.name ? `Hi ${msg.name},` : "Hello,",
			"",
			"You left these items in your cart:",
			...msg.lines.map((line) => `- ${line.quantity} x ${line.title}`),
			"",
			"Return to your cart:",
			url,
			"",
			"Items in a cart are not reserved, so prices and availability may change.",
		],
		footer: `You received this reminder because you added items to a cart at ${ctx.shop} with this address.`,
	};
}

function paymentReview(msg: EmailPayload<"payment_review">, ctx: Context): Draft {
	const expected = formatMoney(msg.expected, ctx.locale);
	const received = formatMoney(msg.received, ctx.locale);
	const url = link(ctx, `/admin/orders/${encodeURIComponent(msg.order_id)}`);
	const summary = `A payment for order ${msg.order_id} does not match it (${msg.mismatch.join(", ")}): the order asked for ${expected}, the payment brought ${received}. Nothing was committed or shipped.`;
	return {
		subject: `Payment to review: order ${msg.order_id}`,
		preheader: summary,
		body: html`${heading(`Payment to review: order ${msg.order_id}`)}
${paragraph(summary)}
${keyValueTable("Payment", [
	["Expected", expected],
	["Received", received],
	["Provider", msg.provider],
	["Provider payment", msg.provider_payment_id],
	["Differs in", msg.mismatch.join(", ")],
])}
${paragraph("Accept the payment (the stock is committed and the order is paid) or refund it from the order's page.")}
${button(url, "Open the order")}`,
		text: [
			summary,
			"",
			`Expected: ${expected}`,
			`Received: ${received}`,
			`Provider: ${msg.provider} ${msg.provider_payment_id}`,
			"",
			"Accept or refund it from the order's page:",
			url,
		],
		footer: "Sent to the shop's administrators because a payment needs a decision.",
	};
}

/** The units a return covers, as a list in both bodies. */
function returnItems(lines: EmailPayload<"return_approved">["lines"]): { html: SafeHtml; text: string[] } {
	return {
		html: html`<ul style="margin:0 0 16px 0;padding:0 0 0 20px;">
${lines.map((line) => html`<li>${line.quantity} × ${line.title} <span style="font-size:12px;color:#52525b;">(SKU ${line.sku})</span></li>`)}
</ul>`,
		text: lines.map((line) => `- ${line.quantity} x ${line.title} (SKU ${line.sku})`),
	};
}

function returnApproved(msg: EmailPayload<"return_approved">, ctx: Context): Draft {
	const ref = orderRef(msg);
	const items = returnItems(msg.lines);
	const orderLink = optionalOrderLink(ctx, msg.order_url);
	return {
		subject: `Your return for ${ctx.shop} order ${ref} is approved`,
		preheader: "How to send the items back.",
		body: html`${heading(`Your return for order ${ref} is approved`)}
${paragraph("We have approved your return of:")}
${items.html}
<h2 style="margin:0 0 8px 0;font-size:16px;">How to send them back</h2>
${msg.instructions.map((line) => paragraph(line))}
${paragraph("We refund the items once the parcel has reached us; we will e-mail you the amount.")}
${orderLink ? button(orderLink, "View your order") : ""}`,
		text: [
			`We have approved your return for order ${ref} of:`,
			...items.text,
			"",
			"How to send them back:",
			...msg.instructions,
			"",
			"We refund the items once the parcel has reached us; we will e-mail you the amount.",
			...(orderLink ? ["", "View your order:", orderLink] : []),
		],
		footer: `You received this e-mail because a return was asked for on an order placed with this address at ${ctx.shop}. Return ${msg.return_id}.`,
	};
}

function returnRejected(msg: EmailPayload<"return_rejected">, ctx: Context): Draft {
	const ref = orderRef(msg);
	const items = returnItems(msg.lines);
	const orderLink = optionalOrderLink(ctx, msg.order_url);
	return {
		subject: `Your return for ${ctx.shop} order ${ref} was not accepted`,
		preheader: "We could not accept your return.",
		body: html`${heading(`We could not accept your return for order ${ref}`)}
${paragraph("Your return of these items was not accepted:")}
${items.html}
<h2 style="margin:0 0 8px 0;font-size:16px;">Why</h2>
${msg.reason.map((line) => paragraph(line))}
${orderLink ? button(orderLink, "View your order") : ""}`,
		text: [
			`Your return for order ${ref} of these items was not accepted:`,
			...items.text,
			"",
			"Why:",
			...msg.reason,
			...(orderLink ? ["", "View your order:", orderLink] : []),
		],
		footer: `You received this e-mail because a return was asked for on an order placed with this address at ${ctx.shop}. Return ${msg.return_id}.`,
	};
}

function lowStock(msg: EmailPayload<"low_stock">): Draft {
	const summary =
		msg.available <= 0
			? `${msg.sku} is out of stock (${msg.available} available).`
			: `Only ${msg.available} of ${msg.sku} ${msg.available === 1 ? "is" : "are"} available, at or below the alert threshold of ${msg.threshold}.`;
	return {
		subject: msg.available <= 0 ? `Out of stock: ${msg.sku}` : `Low stock: ${msg.sku} (${msg.available} left)`,
		preheader: summary,
		body: html`${heading(msg.available <= 0 ? `Out of stock: ${msg.sku}` : `Low stock: ${msg.sku}`)}
${paragraph(summary)}
${keyValueTable("Stock", [
	["SKU", msg.sku],
	["Available", String(msg.available)],
	["Alert threshold", String(msg.threshold)],
])}`,
		text: [summary, "", `SKU: ${msg.sku}`, `Available: ${msg.available}`, `Alert threshold: ${msg.threshold}`],
		footer: "Sent to the shop's administrators because stock fell to the alert threshold.",
	};
}

const ALERT_TITLES: Record<EmailPayload<"ops_alert">["alert_kind"], string> = {
	dead_letters: "Dead letters waiting",
	stock_drift: "Stock drift",
	payment_review: "Payment in review",
	outbox_lag: "Outbox lagging",
};

/** Where an admin acts on an alert: a page of the admin console, under baseUrl like every link. */
function alertLink(msg: EmailPayload<"ops_alert">, ctx: Context): string {
	switch (msg.alert_kind) {
		case "dead_letters":
			return link(ctx, "/admin/dead-letters");
		case "payment_review":
			return link(ctx, `/admin/orders/${encodeURIComponent(msg.key)}`);
		case "stock_drift":
			return link(ctx, "/admin/inventory");
		case "outbox_lag":
			return link(ctx, "/admin");
	}
}

function opsAlert(msg: EmailPayload<"ops_alert">, ctx: Context): Draft {
	const title = ALERT_TITLES[msg.alert_kind];
	// Keys that name something (a queue, an order) go into the subject; the fixed ones (`open`, `outbox`) say nothing more.
	const named = msg.alert_kind === "dead_letters" || msg.alert_kind === "payment_review";
	const url = alertLink(msg, ctx);
	const opened = formatDateTime(msg.opened_at, ctx);
	const facts: [string, string][] = [["Opened", opened], ...msg.facts.map((fact): [string, string] => [fact.label, fact.value])];
	return {
		subject: `Alert: ${title}${named ? ` (${msg.key})` : ""}`,
		preheader: msg.summary,
		body: html`${heading(`Alert: ${title}`)}
${paragraph(msg.summary)}
${keyValueTable("Incident", facts)}
${paragraph("You will not be e-mailed about this again while it lasts. Once the condition clears, the incident is resolved; if it comes back, a new one opens and you hear of it again.")}
${button(url, "Open the admin console")}`,
		text: [
			msg.summary,
			"",
			...facts.map(([label, value]) => `${label}: ${value}`),
			"",
			"You will not be e-mailed about this again while it lasts. Once the condition clears, the incident is resolved; if it comes back, a new one opens and you hear of it again.",
			"",
			url,
		],
		footer: `Sent to the shop's administrators once per incident (${msg.incident_id}).`,
	};
}

/** `${base}${path}?k=v`, every query component encoded. */
function link(ctx: Context, path: string, query: Record<string, string> = {}): string {
	const search = Object.entries(query)
		.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
		.join("&");
	return `${ctx.base}${path}${search ? `?${search}` : ""}`;
}

/**
 * The producer's order link, accepted only when it stays under baseUrl (same
 * origin, same path prefix), so a tampered message cannot point a customer at
 * another site. A path is taken as relative to baseUrl.
 */
function optionalOrderLink(ctx: Context, orderUrl: string | null | undefined): string | undefined {
	if (!orderUrl) return undefined;
	const base = new URL(`${ctx.base}/`);
	let url: URL;
	try {
		url = orderUrl.startsWith("/") && !orderUrl.startsWith("//") ? new URL(`${ctx.base}${orderUrl}`) : new URL(orderUrl);
	} catch {
		throw new EmailTemplateError("order_url is not a valid URL");
	}
	if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname) || url.username || url.password) {
		throw new EmailTemplateError("order_url must lead to a page under the configured baseUrl");
	}
	return url.href;
}

function trackingLink(trackingUrl: string): string {
	let url: URL;
	try {
		url = new URL(trackingUrl);
	} catch {
		throw new EmailTemplateError("tracking_url is not a valid URL");
	}
	if (url.protocol !== "https:" || url.username || url.password) throw new EmailTemplateError("tracking_url must be a plain https URL");
	return url.href;
}

function orderRef(msg: { order_id: string; number?: string | null | undefined }): string {
	return msg.number ? `#${msg.number}` : msg.order_id;
}

function addressLines(address: EmailPayload<"order_confirmation">["shipping_address"], ctx: Context): string[] {
	return [
		address.name,
		address.line1,
		address.line2,
		`${address.postal_code} ${address.city}`,
		address.region,
		countryName(address.country, ctx.locale),
	].filter((line): line is string => Boolean(line));
}

function countryName(code: string, locale: string): string {
	try {
		return new Intl.DisplayNames([locale], { type: "region" }).of(code) ?? code;
	} catch {
		return code;
	}
}

/** `2026-11-02T10:00:00Z` → `November 2, 2026 at 10:00 AM UTC` (in en-US). */
function formatDateTime(iso: string, ctx: Context): string {
	const date = new Date(iso);
	if (Number.isNaN(date.getTime())) throw new EmailTemplateError("expires_at is not a valid date-time");
	return `${new Intl.DateTimeFormat(ctx.locale, { dateStyle: "long", timeStyle: "short", timeZone: "UTC" }).format(date)} UTC`;
}

/**
 * Removes C0/C1 control characters (line breaks included) and bidi
 * embedding, override and isolate characters, then collapses runs of spaces:
 * every value the templates show is one line of plain text.
 */
function cleanString(value: string): string {
	let out = "";
	for (const char of value) {
		const code = char.codePointAt(0) as number;
		const control = code < 0x20 || (code >= 0x7f && code <= 0x9f);
		const bidi = (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
		out += control || bidi ? " " : char;
	}
	return out.replace(/ {2,}/g, " ").trim();
}

function clean<T>(value: T): T {
	if (typeof value === "string") return cleanString(value) as T;
	if (Array.isArray(value)) return value.map(clean) as T;
	if (typeof value === "object" && value !== null) {
		return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, clean(v)])) as T;
	}
	return value;
}
