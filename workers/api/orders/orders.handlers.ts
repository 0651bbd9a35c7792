import type { RouteHandler } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import type { Context } from "hono";
import { bearerUser, callerOf } from "../../auth/caller.ts";
import { hashToken } from "../../auth/secrets.ts";
import { cartNotFound } from "../../carts/carts.ts";
import { orders, payments } from "../../db/schema.ts";
import { notFound } from "../../domain/errors.ts";
import { requestHashOf, requireIdempotencyKey } from "../../idempotency/store.ts";
import { clientOf } from "../../limits/client.ts";
import {
	acceptPayment,
	deliverOrder,
	fulfilOrder,
	listOrdersForAdmin,
	orderNotFound,
	pageOfOrders,
	providerFailed,
	refundOrderAsAdmin,
	shipOrder,
} from "../../orders/admin.ts";
import { cancelPaid, cancelUnpaid } from "../../orders/lifecycle.ts";
import { invalidTransition, type LoadedOrder, loadOrder, shippingAddressOf, viewOf } from "../../orders/orders.ts";
import { acceptWebhook, sendTestPaymentEvent } from "../../orders/payment-webhooks.ts";
import { checkoutScope, placeOrder } from "../../orders/place-order.ts";
import { PaymentProviderError } from "../../payments/provider.ts";
import { domainProblem } from "../lib/problem.ts";
import type { AppEnv } from "../types.ts";
import type {
	acceptPaymentRoute,
	adminListOrders,
	cancelOrder,
	checkoutRoute,
	confirmTestPayment,
	deliverOrder as deliverOrderRoute,
	fulfilOrder as fulfilOrderRoute,
	getOrder,
	listOrders,
	paymentWebhook,
	refundOrderRoute,
	shipOrder as shipOrderRoute,
} from "./orders.routes.ts";

const noStore = { "cache-control": "no-store" };

/** Idempotency scope of a shopper: their user id, else the hash of the guest token they present. */
export async function shopperScope(c: Context<AppEnv>, tokenHeader: "x-cart-token" | "x-order-token"): Promise<string | null> {
	const userId = await bearerUser(c.env, c.req.header("authorization"));
	if (userId) return `user:${userId}`;
	const token = c.req.header(tokenHeader);
	return token ? `${tokenHeader === "x-cart-token" ? "cart" : "order"}:${await hashToken(token)}` : null;
}

/**
 * POST /v1/checkout: an adapter over the place-order service. The caller is
 * resolved once; the service holds the stock, claims the key and places the
 * order; refusals are rendered here so the store keeps and replays them.
 */
export const checkoutHandler: RouteHandler<typeof checkoutRoute, AppEnv> = async (c) => {
	const body = c.req.valid("json");
	const caller = await callerOf(c.env, c.req.header("authorization"), c.req.header("x-cart-token"));
	const scope = checkoutScope(caller);
	if (scope === null) throw cartNotFound();
	const key = requireIdempotencyKey(c.req.header("idempotency-key"));
	const { response } = await placeOrder(
		{ env: c.env, ctx: c.executionCtx, database: c.get("database") },
		{
			caller,
			cartId: body.cart_id,
			client: clientOf(c.req.raw),
			email: body.email.toLowerCase(),
			shippingAddress: shippingAddressOf(body.shipping_address),
			discountCode: body.discount_code,
			shippingMethod: body.shipping_method,
			affiliateCode: body.affiliate_code,
			idempotency: {
				scope,
				key,
				route: "POST /v1/checkout",
				requestHash: await requestHashOf(c.req.method, c.req.path, await c.req.text()),
			},
		},
		{
			placed: (result) => c.json(result, 201, { ...noStore, location: `/v1/orders/${result.order.id}` }),
			refused: (err) => domainProblem(err, c.get("requestId")),
		},
	);
	return response as never;
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

export const listOrdersHandler: RouteHandler<typeof listOrders, AppEnv> = async (c) => {
	const { limit, cursor } = c.req.valid("query");
	const result = await pageOfOrders(c.get("database").primary, [eq(orders.userId, c.get("auth").userId)], limit, cursor);
	return c.json(result, 200, { "cache-control": "private, no-store" });
};

export const getOrderHandler: RouteHandler<typeof getOrder, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	return c.json(viewOf(await authorizedOrder(c, id)), 200, noStore);
};

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

export const paymentWebhookHandler: RouteHandler<typeof paymentWebhook, AppEnv> = async (c) => {
	const { provider } = c.req.valid("param");
	return c.json(await acceptWebhook(c.env, provider, await c.req.text(), c.req.raw.headers), 200);
};

/** The test provider's "pay" button: a correctly signed webhook for the outcome, through the same path as a real one. */
export const confirmTestPaymentHandler: RouteHandler<typeof confirmTestPayment, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const { outcome, amount, currency } = c.req.valid("json");
	const missing = notFound("No such test payment.");
	if (c.env.PAYMENT_PROVIDER !== "test") throw missing;
	const [payment] = await c
		.get("database")
		.primary.select()
		.from(payments)
		.where(and(eq(payments.provider, "test"), eq(payments.providerPaymentId, id)));
	if (!payment) throw missing;
	return c.json(await sendTestPaymentEvent(c.env, payment, id, outcome, { amount, currency }), 202);
};

export const adminListOrdersHandler: RouteHandler<typeof adminListOrders, AppEnv> = async (c) => {
	const query = c.req.valid("query");
	const result = await listOrdersForAdmin(c.get("database").primary, {
		status: query.status,
		email: query.email,
		createdFrom: query.created_from,
		createdTo: query.created_to,
		limit: query.limit,
		cursor: query.cursor,
	});
	return c.json(result, 200, { "cache-control": "private, no-store" });
};

export const fulfilOrderHandler: RouteHandler<typeof fulfilOrderRoute, AppEnv> = async (c) => {
	const order = await fulfilOrder(
		c.env,
		c.get("database").primary,
		c.executionCtx,
		c.req.valid("param").id,
		c.get("auth").userId,
		c.get("requestId"),
	);
	return c.json(order, 200, noStore);
};

export const shipOrderHandler: RouteHandler<typeof shipOrderRoute, AppEnv> = async (c) => {
	const body = c.req.valid("json");
	const order = await shipOrder(
		c.env,
		c.get("database").primary,
		c.executionCtx,
		c.req.valid("param").id,
		c.get("auth").userId,
		{ trackingNumber: body.tracking_number, carrier: body.carrier },
		c.get("requestId"),
	);
	return c.json(order, 200, noStore);
};

export const deliverOrderHandler: RouteHandler<typeof deliverOrderRoute, AppEnv> = async (c) => {
	const order = await deliverOrder(
		c.env,
		c.get("database").primary,
		c.executionCtx,
		c.req.valid("param").id,
		c.get("auth").userId,
		c.get("requestId"),
	);
	return c.json(order, 200, noStore);
};

export const acceptPaymentHandler: RouteHandler<typeof acceptPaymentRoute, AppEnv> = async (c) => {
	const order = await acceptPayment(c.env, c.get("database").primary, c.req.valid("param").id, c.get("auth").userId, c.get("requestId"));
	return c.json(order, 200, noStore);
};

export const refundOrderHandler: RouteHandler<typeof refundOrderRoute, AppEnv> = async (c) => {
	const { reason, amount, lines, restock } = c.req.valid("json");
	const order = await refundOrderAsAdmin(
		c.env,
		c.get("database").primary,
		c.req.valid("param").id,
		reason,
		c.get("auth").userId,
		{ amount, lines, restock },
		c.get("requestId"),
	);
	return c.json(order, 200, noStore);
};
