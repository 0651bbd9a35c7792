import type { RouteHandler } from "@hono/zod-openapi";
import { and, desc, eq, gte, inArray, lt, lte, or, type SQL, sql } from "drizzle-orm";
import type { Context } from "hono";
import { hashToken } from "../../auth/secrets.ts";
import { bearerUser, callerOf } from "../../carts/carts.ts";
import type { Db } from "../../db/client.ts";
import { orderLines, orders, payments } from "../../db/schema.ts";
import { checkout } from "../../orders/checkout.ts";
import { cancelPaid, cancelUnpaid, refundOrder } from "../../orders/lifecycle.ts";
import { applyTransition, invalidTransition, type LoadedOrder, loadOrder, type OrderRow, orderView, viewOf } from "../../orders/orders.ts";
import { enqueue, publish } from "../../orders/outbox.ts";
import { paymentsFor } from "../../orders/payments.ts";
import { transition } from "../../orders/state.ts";
import { PaymentProviderError, WebhookPayloadError, WebhookSignatureError } from "../../payments/provider.ts";
import { createTestProvider } from "../../payments/test-provider.ts";
import { envelope } from "../../queues/envelope.ts";
import { decodeCursor, encodeCursor, invalidCursor } from "../lib/cursor.ts";
import { AppError } from "../lib/problem.ts";
import type { AppEnv } from "../types.ts";
import type {
	adminListOrders,
	cancelOrder,
	checkoutRoute,
	confirmTestPayment,
	fulfilOrder,
	getOrder,
	listOrders,
	paymentWebhook,
	refundOrderRoute,
	shipOrder,
} from "./orders.routes.ts";

const noStore = { "cache-control": "no-store" };

const orderNotFound = () => new AppError(404, "not_found", "Not found", { detail: "No such order among yours." });

/** Idempotency scope of a shopper: their user id, else the hash of the guest token they present. */
export async function shopperScope(c: Context<AppEnv>, tokenHeader: "x-cart-token" | "x-order-token"): Promise<string | null> {
	const userId = await bearerUser(c.env, c.req.header("authorization"));
	if (userId) return `user:${userId}`;
	const token = c.req.header(tokenHeader);
	return token ? `${tokenHeader === "x-cart-token" ? "cart" : "order"}:${await hashToken(token)}` : null;
}

export const checkoutHandler: RouteHandler<typeof checkoutRoute, AppEnv> = async (c) => {
	const body = c.req.valid("json");
	const caller = await callerOf(c.env, c.req.header("authorization"), c.req.header("x-cart-token"));
	const result = await checkout(
		c.env,
		c.executionCtx,
		c.get("database"),
		caller,
		{
			cartId: body.cart_id,
			email: body.email.toLowerCase(),
			shippingAddress: {
				name: body.shipping_address.name,
				line1: body.shipping_address.line1,
				line2: body.shipping_address.line2 ?? null,
				city: body.shipping_address.city,
				region: body.shipping_address.region ?? null,
				postal_code: body.shipping_address.postal_code,
				country: body.shipping_address.country,
				phone: body.shipping_address.phone ?? null,
			},
			...(body.discount_code ? { discountCode: body.discount_code } : {}),
		},
		c.get("idempotency"),
		c.get("checkoutHold"),
	);
	return c.json(result, 201, { ...noStore, location: `/v1/orders/${result.order.id}` });
};

/**
 * The order if the request may see it: its user's bearer token, or for a
 * guest order the X-Order-Token. Anything else is the same 404 as a missing order.
 */
async function authorizedOrder(c: Context<AppEnv>, orderId: string): Promise<LoadedOrder> {
	const userId = await bearerUser(c.env, c.req.header("authorization"));
	const token = c.req.header("x-order-token");
	const loaded = await loadOrder(c.get("database").primary, orderId);
	if (!loaded) throw orderNotFound();
	const { order } = loaded;
	if (userId && order.userId === userId) return loaded;
	if (token && order.accessTokenHash && order.accessTokenHash === (await hashToken(token))) return loaded;
	throw orderNotFound();
}

/** Lines and payments of a page of orders in two queries. */
async function views(db: Db, rows: readonly OrderRow[]) {
	if (rows.length === 0) return [];
	const ids = rows.map((row) => row.id);
	const [lines, pays] = await Promise.all([
		db.select().from(orderLines).where(inArray(orderLines.orderId, ids)).orderBy(orderLines.id),
		db.select().from(payments).where(inArray(payments.orderId, ids)),
	]);
	return rows.map((row) =>
		orderView(
			row,
			lines.filter((line) => line.orderId === row.id),
			pays.find((pay) => pay.orderId === row.id) ?? null,
		),
	);
}

/** Keyset pagination on (created_at, id) descending; the cursor carries the last row's pair. */
async function page(db: Db, filters: SQL[], limit: number, cursor: string | undefined) {
	const where = [...filters];
	if (cursor) {
		const value = decodeCursor(cursor);
		if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== "string" || typeof value[1] !== "string") throw invalidCursor();
		const [at, id] = value as [string, string];
		if (Number.isNaN(Date.parse(at)) || !/^ord_[0-9a-z]{20}$/.test(id)) throw invalidCursor();
		where.push(or(lt(orders.createdAt, new Date(at)), and(eq(orders.createdAt, new Date(at)), lt(orders.id, id))) as SQL);
	}
	const rows = await db
		.select()
		.from(orders)
		.where(and(...where))
		.orderBy(desc(orders.createdAt), desc(orders.id))
		.limit(limit + 1);
	const more = rows.length > limit;
	const shown = rows.slice(0, limit);
	const last = shown.at(-1);
	return {
		data: await views(db, shown),
		next_cursor: more && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
	};
}

export const listOrdersHandler: RouteHandler<typeof listOrders, AppEnv> = async (c) => {
	const { limit, cursor } = c.req.valid("query");
	const result = await page(c.get("database").primary, [eq(orders.userId, c.get("auth").userId)], limit, cursor);
	return c.json(result, 200, { "cache-control": "private, no-store" });
};

export const getOrderHandler: RouteHandler<typeof getOrder, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	return c.json(viewOf(await authorizedOrder(c, id)), 200, noStore);
};

function providerFailed(err: unknown): AppError {
	return new AppError(502, "payment_provider_unavailable", "Payment provider unavailable", {
		detail: "The refund could not be made; nothing changed. Retry shortly.",
		headers: { "retry-after": "5" },
		cause: err,
	});
}

export const cancelOrderHandler: RouteHandler<typeof cancelOrder, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const loaded = await authorizedOrder(c, id);
	const db = c.get("database").primary;
	const actor = loaded.order.userId ?? "guest";
	const status = loaded.order.status;
	if (status === "pending_payment") {
		await cancelUnpaid(c.env, db, id, "customer", actor);
	} else if (status === "paid") {
		try {
			await cancelPaid(c.env, db, loaded, "customer", actor);
		} catch (err) {
			if (err instanceof PaymentProviderError) throw providerFailed(err);
			throw err;
		}
	} else if (status !== "cancelled") {
		throw invalidTransition(status, "cancel");
	}
	const after = await loadOrder(db, id);
	if (!after) throw orderNotFound();
	// Paid while we were cancelling, say: the transition did not happen.
	if (after.order.status !== "cancelled") throw invalidTransition(after.order.status, "cancel");
	return c.json(viewOf(after), 200, noStore);
};

/**
 * Verifies and queues a provider event. Nothing here needs the database, so
 * webhooks are accepted while Postgres is down and applied when it is back.
 */
async function acceptWebhook(env: Env, provider: string, rawBody: string, headers: Headers): Promise<{ received: true; queued: boolean }> {
	if (provider !== env.PAYMENT_PROVIDER) throw new AppError(404, "not_found", "Not found", { detail: "No such payment provider." });
	let event: Awaited<ReturnType<ReturnType<typeof paymentsFor>["parseWebhook"]>>;
	try {
		event = await paymentsFor(env).parseWebhook(rawBody, headers);
	} catch (err) {
		if (err instanceof WebhookSignatureError) {
			throw new AppError(400, "invalid_signature", "Invalid signature", { detail: "The webhook signature is missing, wrong or too old." });
		}
		if (err instanceof WebhookPayloadError) {
			throw new AppError(400, "malformed_event", "Malformed event", { detail: "The signed body is not an event this endpoint can read." });
		}
		throw err;
	}
	if (!event) return { received: true, queued: false };
	try {
		await env.ORDERS_QUEUE.send(envelope(`payment:${event.provider}:${event.id}`, "payment.event", { ...event }), { contentType: "json" });
	} catch (cause) {
		throw new AppError(503, "queue_unavailable", "Service temporarily unavailable", {
			detail: "The event could not be queued. The provider will deliver it again.",
			headers: { "retry-after": "5" },
			cause,
		});
	}
	return { received: true, queued: true };
}

export const paymentWebhookHandler: RouteHandler<typeof paymentWebhook, AppEnv> = async (c) => {
	const { provider } = c.req.valid("param");
	return c.json(await acceptWebhook(c.env, provider, await c.req.text(), c.req.raw.headers), 200);
};

/** The test provider's "pay" button: a correctly signed webhook for the outcome, through the same path as a real one. */
export const confirmTestPaymentHandler: RouteHandler<typeof confirmTestPayment, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const { outcome } = c.req.valid("json");
	const notFound = new AppError(404, "not_found", "Not found", { detail: "No such test payment." });
	if (c.env.PAYMENT_PROVIDER !== "test") throw notFound;
	const [payment] = await c
		.get("database")
		.primary.select()
		.from(payments)
		.where(and(eq(payments.provider, "test"), eq(payments.providerPaymentId, id)));
	if (!payment) throw notFound;
	const webhook = await createTestProvider({ webhookSecret: c.env.TEST_PAYMENT_WEBHOOK_SECRET }).buildWebhook({
		type: outcome === "succeeded" ? "payment.succeeded" : "payment.failed",
		providerPaymentId: id,
		orderId: payment.orderId,
		amount: payment.amountMinor,
		currency: payment.currency,
	});
	return c.json(await acceptWebhook(c.env, "test", webhook.body, new Headers(webhook.headers)), 202);
};

export const adminListOrdersHandler: RouteHandler<typeof adminListOrders, AppEnv> = async (c) => {
	const query = c.req.valid("query");
	const filters: SQL[] = [];
	if (query.status) filters.push(eq(orders.status, query.status));
	if (query.email) filters.push(eq(orders.email, query.email));
	if (query.created_from) filters.push(gte(orders.createdAt, new Date(query.created_from)));
	if (query.created_to) filters.push(lte(orders.createdAt, new Date(query.created_to)));
	const result = await page(c.get("database").primary, filters.length ? filters : [sql`true`], query.limit, query.cursor);
	return c.json(result, 200, { "cache-control": "private, no-store" });
};

/** An admin transition: conditional on the status read, 409 when not allowed or when another change won. */
async function adminTransition(
	c: Context<AppEnv>,
	orderId: string,
	action: "fulfil" | "ship",
	set: Partial<typeof orders.$inferInsert> = {},
) {
	const db = c.get("database").primary;
	const actor = c.get("auth").userId;
	const outcome = await db.transaction(async (tx) => {
		const loaded = await loadOrder(tx, orderId, { forUpdate: true });
		if (!loaded) throw orderNotFound();
		const updated = await applyTransition(tx, loaded.order, action, actor, { set, data: set });
		if (!updated) throw invalidTransition(loaded.order.status, action);
		const ids =
			action === "ship"
				? await enqueue(tx, [
						{
							queue: "notifications",
							id: `shipped:${orderId}`,
							type: "order.shipped",
							data: {
								order_id: orderId,
								email: updated.email,
								user_id: updated.userId,
								carrier: updated.carrier,
								tracking_number: updated.trackingNumber,
							},
						},
					])
				: [];
		return { ids };
	});
	c.executionCtx.waitUntil(publish(c.env, db, outcome.ids).catch(() => 0));
	const after = await loadOrder(db, orderId);
	if (!after) throw orderNotFound();
	return c.json(viewOf(after), 200, noStore);
}

export const fulfilOrderHandler: RouteHandler<typeof fulfilOrder, AppEnv> = async (c) =>
	adminTransition(c, c.req.valid("param").id, "fulfil");

export const shipOrderHandler: RouteHandler<typeof shipOrder, AppEnv> = async (c) => {
	const body = c.req.valid("json");
	return adminTransition(c, c.req.valid("param").id, "ship", { trackingNumber: body.tracking_number, carrier: body.carrier ?? null });
};

export const refundOrderHandler: RouteHandler<typeof refundOrderRoute, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const { reason } = c.req.valid("json");
	const db = c.get("database").primary;
	const loaded = await loadOrder(db, id);
	if (!loaded) throw orderNotFound();
	// Refuse before money moves: only a captured payment can be refunded.
	const step = transition(loaded.order.status, "refund");
	if (!step.ok || loaded.order.status === "pending_payment" || loaded.payment?.status !== "succeeded") {
		throw invalidTransition(loaded.order.status, "refund");
	}
	let after: LoadedOrder;
	try {
		after = await refundOrder(c.env, db, loaded, reason ?? "admin", c.get("auth").userId);
	} catch (err) {
		if (err instanceof PaymentProviderError) throw providerFailed(err);
		throw err;
	}
	return c.json(viewOf(after), 200, noStore);
};
