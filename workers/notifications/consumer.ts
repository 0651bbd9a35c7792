import { eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { products, users, variants } from "../db/schema.ts";
import { shippingAddressOf } from "../orders/orders.ts";
import type { Envelope, EventHandler, EventRoutes } from "../queues/envelope.ts";
import { type EmailMessage, emailPayloadSchemas } from "./email-schemas.ts";
import { sendEmail } from "./emails.ts";
import { deliver, fanOut } from "./outbound-webhooks.ts";
import { REDACTED } from "./redaction.ts";

/**
 * The `notifications` queue consumer: each event type becomes its e-mails
 * and, for order and stock events, deliveries to merchants' webhook
 * endpoints. Every body is validated (zod) before anything is sent; a body
 * that does not validate throws and, after its retries, lands in the
 * dead-letter queue where an admin can inspect and replay it.
 */

const Money = z.object({ amount: z.number().int(), currency: z.string() });

const AccountEvent = z.object({
	user_id: z.string(),
	email: z.email(),
	name: z.string(),
	token: z.string(),
	expires_at: z.string(),
});

const OrderEvent = z.object({ order_id: z.string(), email: z.email(), user_id: z.string().nullable() }).loose();

const Confirmation = OrderEvent.extend({
	lines: z.array(
		z.object({ sku: z.string(), title: z.string(), quantity: z.number().int(), unit_price: Money, line_total: Money }).loose(),
	),
	subtotal: Money,
	discount: Money,
	shipping: Money,
	tax: Money,
	total: Money,
	tax_included: z.boolean().optional(),
	tax_breakdown: z.array(z.object({ rate_bp: z.number().int(), tax: Money }).loose()).optional(),
	shipping_method: z.object({ name: z.string() }).loose().nullish(),
	shipping_address: z
		.object({
			name: z.string(),
			line1: z.string(),
			line2: z.string().nullish(),
			city: z.string(),
			region: z.string().nullish(),
			postal_code: z.string(),
			country: z.string(),
			phone: z.string().nullish(),
		})
		.loose(),
});

const CartAbandoned = z.object({
	cart_id: z.string(),
	user_id: z.string(),
	lines: z.array(z.object({ sku: z.string(), quantity: z.number().int() })).min(1),
});

const LowStock = z.object({ sku: z.string(), available: z.number().int(), threshold: z.number().int() });

/** Parses a template payload with the template's own schema, so a bad event fails here, before anything is sent. */
function message<K extends EmailMessage["kind"]>(kind: K, payload: unknown): EmailMessage {
	return { kind, ...emailPayloadSchemas[kind].parse(payload) } as EmailMessage;
}

/**
 * The order page: for a signed-in shopper's order; a guest's link would need
 * the token we do not keep. (Should an event ever carry one, in `order_url`'s
 * query, the stored copy redacts it: redaction.ts.)
 */
function orderUrl(data: { order_id: string; user_id: string | null }): string | undefined {
	return data.user_id ? `/account/orders/${data.order_id}` : undefined;
}

/**
 * Verification and reset links. The event carries the token itself: only its
 * hash is kept (account_tokens), so there is nothing to look it up by, and
 * the queue is where it has to travel to reach the e-mail. It goes no
 * further: the stored copy of the e-mail shows `[redacted]` (redaction.ts),
 * and so does the body of the event should it be dead-lettered
 * (queues/dead-letters.ts). Such a letter, replayed, has no link to send:
 * its e-mail is recorded as failed, and the customer asks for a new link
 * (which they would need anyway: a reset link lasts an hour).
 */
const account =
	(kind: "verify_email" | "password_reset"): EventHandler =>
	async (event, { env, db }) => {
		const data = AccountEvent.parse(event.data);
		const payload = { name: data.name, email: data.email, token: data.token, expires_at: data.expires_at };
		const email =
			data.token === REDACTED
				? ({ kind, ...emailPayloadSchemas[kind].extend({ token: z.literal(REDACTED) }).parse(payload) } as EmailMessage)
				: message(kind, payload);
		await sendEmail(env, db.primary, event.id, data.email, email);
	};

const orderConfirmation: EventHandler = async (event, { env, db }) => {
	const data = Confirmation.parse(event.data);
	const address = data.shipping_address;
	await sendEmail(
		env,
		db.primary,
		event.id,
		data.email,
		message("order_confirmation", {
			order_id: data.order_id,
			name: address.name,
			email: data.email,
			lines: data.lines.map((line) => ({
				title: line.title,
				sku: line.sku,
				quantity: line.quantity,
				unit_price: line.unit_price,
				line_total: line.line_total,
			})),
			subtotal: data.subtotal,
			discount: data.discount,
			shipping: data.shipping,
			tax: data.tax,
			total: data.total,
			tax_included: data.tax_included ?? false,
			tax_breakdown: (data.tax_breakdown ?? []).map((entry) => ({ rate_bp: entry.rate_bp, tax: entry.tax })),
			shipping_method: data.shipping_method?.name ?? null,
			shipping_address: shippingAddressOf(address),
			order_url: orderUrl(data),
		}),
	);
	await fanOut(env, db.primary, event.id, "order.paid", webhookData(event));
};

const orderShipped: EventHandler = async (event, { env, db }) => {
	const data = OrderEvent.extend({ carrier: z.string().nullable(), tracking_number: z.string() }).parse(event.data);
	await sendEmail(
		env,
		db.primary,
		event.id,
		data.email,
		message("order_shipped", {
			order_id: data.order_id,
			email: data.email,
			carrier: data.carrier,
			tracking_number: data.tracking_number,
			order_url: orderUrl(data),
		}),
	);
	await fanOut(env, db.primary, event.id, "order.shipped", webhookData(event));
};

const orderCancelled: EventHandler = async (event, { env, db }) => {
	// `mail: false`: an unpaid guest order, whose address nobody proved (orders/lifecycle.ts cancelUnpaid).
	const data = OrderEvent.extend({ reason: z.string().optional(), mail: z.boolean().optional() }).parse(event.data);
	if (data.mail !== false)
		await sendEmail(
			env,
			db.primary,
			event.id,
			data.email,
			message("order_cancelled", {
				order_id: data.order_id,
				email: data.email,
				reason: describeReason(data.reason),
				order_url: orderUrl(data),
			}),
		);
	await fanOut(env, db.primary, event.id, "order.cancelled", webhookData(event));
};

const orderRefunded: EventHandler = async (event, { env, db }) => {
	const data = OrderEvent.extend({ amount: Money }).parse(event.data);
	await sendEmail(
		env,
		db.primary,
		event.id,
		data.email,
		message("order_refunded", { order_id: data.order_id, email: data.email, amount: data.amount, order_url: orderUrl(data) }),
	);
	await fanOut(env, db.primary, event.id, "order.refunded", webhookData(event));
};

/**
 * The reminder for a signed-in shopper's cart left alone. Only for shoppers
 * who did not opt out (`abandoned_cart_emails`); an opted-out one gets a
 * `skipped` record instead, so the decision is visible. Titles come from the
 * catalog now; lines no longer sold are left out.
 */
const cartAbandoned: EventHandler = async (event, { env, db }) => {
	const data = CartAbandoned.parse(event.data);
	const [user] = await db.primary
		.select({ email: users.email, name: users.name, optedIn: users.abandonedCartEmails })
		.from(users)
		.where(eq(users.id, data.user_id));
	if (!user) return;
	const titles = await db.primary
		.select({ sku: variants.sku, product: products.title, variant: variants.title })
		.from(variants)
		.innerJoin(products, eq(products.id, variants.productId))
		.where(
			inArray(
				variants.sku,
				data.lines.map((line) => line.sku),
			),
		);
	const lines = data.lines.flatMap((line) => {
		const row = titles.find((t) => t.sku === line.sku);
		return row ? [{ title: row.variant ? `${row.product} — ${row.variant}` : row.product, quantity: line.quantity }] : [];
	});
	if (lines.length === 0) return;
	await sendEmail(
		env,
		db.primary,
		event.id,
		user.email,
		message("abandoned_cart", { email: user.email, name: user.name, cart_id: data.cart_id, lines }),
		{
			skip: !user.optedIn,
		},
	);
};

/** Low stock: one e-mail to every admin, and the merchants' webhooks. */
const lowStock: EventHandler = async (event, { env, db }) => {
	const data = LowStock.parse(event.data);
	const admins = await db.primary.select({ email: users.email }).from(users).where(eq(users.role, "admin"));
	for (const admin of admins) {
		await sendEmail(env, db.primary, event.id, admin.email, message("low_stock", data));
	}
	await fanOut(env, db.primary, event.id, "inventory.low_stock", data);
};

const PaymentReview = z.object({
	order_id: z.string(),
	expected: Money,
	received: Money,
	provider: z.string(),
	provider_payment_id: z.string(),
	mismatch: z.array(z.string()),
});

/** A payment that does not match its order: every admin is told, once per order. */
const paymentReview: EventHandler = async (event, { env, db }) => {
	const data = PaymentReview.parse(event.data);
	const admins = await db.primary.select({ email: users.email }).from(users).where(eq(users.role, "admin"));
	for (const admin of admins) {
		await sendEmail(env, db.primary, event.id, admin.email, message("payment_review", data));
	}
};

/**
 * An operational alert (ops/alerts.ts): every admin is told, once per
 * incident. The event id is the incident's, so the e-mail's id is one per
 * (incident, admin) and a redelivery sends nothing twice. With no admin to
 * tell, the incident is still open (and `/v1/health/ready` says so).
 */
const opsAlert: EventHandler = async (event, { env, db }) => {
	const alert = message("ops_alert", event.data);
	const admins = await db.primary.select({ email: users.email }).from(users).where(eq(users.role, "admin"));
	if (admins.length === 0) console.log(JSON.stringify({ level: "warn", msg: "ops_alert_no_admins", event_id: event.id }));
	for (const admin of admins) {
		await sendEmail(env, db.primary, event.id, admin.email, alert);
	}
};

const ReturnStep = OrderEvent.extend({
	return_id: z.string(),
	lines: z.array(z.object({ sku: z.string(), title: z.string(), quantity: z.number().int() })).min(1),
	note: z.string(),
});

/** The admin's note, one template line per non-empty line of it. */
function noteLines(note: string): string[] {
	return note
		.split(/\r?\n/)
		.map((line) => line.trim())
		.filter(Boolean);
}

/** A return approved (with the instructions) or rejected (with the reason): its shopper is told, once per return. */
const returnStep =
	(kind: "return_approved" | "return_rejected"): EventHandler =>
	async (event, { env, db }) => {
		const data = ReturnStep.parse(event.data);
		const common = { order_id: data.order_id, email: data.email, return_id: data.return_id, lines: data.lines, order_url: orderUrl(data) };
		await sendEmail(
			env,
			db.primary,
			event.id,
			data.email,
			kind === "return_approved"
				? message(kind, { ...common, instructions: noteLines(data.note) })
				: message(kind, { ...common, reason: noteLines(data.note) }),
		);
	};

const webhookDelivery: EventHandler = async (event, { env, db }) => {
	const { delivery_id } = z.object({ delivery_id: z.string() }).parse(event.data);
	await deliver(env, db.primary, delivery_id);
};

/** What a merchant's endpoint receives: the event's data without internal fields. */
function webhookData(event: Envelope): Record<string, unknown> {
	const { user_id: _user, ...data } = event.data as Record<string, unknown>;
	return data;
}

function describeReason(reason: string | undefined): string | undefined {
	switch (reason) {
		case "expired":
			return "The order was not paid in time, so its items were released.";
		case "payment_failed":
			return "The payment did not go through.";
		case "payment_canceled":
			return "The payment was cancelled.";
		case "customer":
			return "You cancelled the order.";
		default:
			return undefined;
	}
}

/** The events the notifications queue carries, each sent or delivered once (I3). */
export const notificationEvents: EventRoutes = {
	"account.verify_email": { each: account("verify_email") },
	"account.password_reset": { each: account("password_reset") },
	"order.confirmation": { each: orderConfirmation },
	"order.shipped": { each: orderShipped },
	"order.cancelled": { each: orderCancelled },
	"order.refunded": { each: orderRefunded },
	"cart.abandoned": { each: cartAbandoned },
	"inventory.low_stock": { each: lowStock },
	"order.payment_review": { each: paymentReview },
	"return.approved": { each: returnStep("return_approved") },
	"return.rejected": { each: returnStep("return_rejected") },
	"ops.alert": { each: opsAlert },
	"webhook.deliver": { each: webhookDelivery },
};
