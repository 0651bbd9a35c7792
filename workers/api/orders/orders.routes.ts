import { createRoute, z } from "@hono/zod-openapi";
import {
	adminAuth,
	adminProblems,
	authProblems,
	baseProblems,
	bearerAuth,
	bodyProblems,
	databaseProblems,
	jsonBody,
	jsonResponse,
	problem,
	publicAccess,
} from "../lib/openapi.ts";
import { IdempotencyHeader, idParam, OrderIdParam, Token } from "../lib/params.ts";
import {
	AdminOrderListQuery,
	CheckoutBody,
	CheckoutResultSchema,
	OrderListQuery,
	OrderListSchema,
	OrderSchema,
	ProviderName,
	RefundBody,
	ShipBody,
	TestConfirmBody,
} from "./orders.schemas.ts";

const tags = ["Checkout and orders"];
const idempotencyProblems = {
	409: problem("A request with this Idempotency-Key is still running (`idempotency_in_progress`), or the transition is not allowed"),
	422: problem("The Idempotency-Key was used with another request (`idempotency_key_reused`), or the request cannot be applied"),
};
const OrderTokenHeader = z.object({
	"x-order-token": Token.optional().openapi({ description: "Guest orders: the order_token from the checkout answer" }),
});
/** The owner's bearer token, or a guest's X-Order-Token header. */
const ownerOrGuest = [{}, ...bearerAuth];
const WebhookAck = z.object({ received: z.literal(true), queued: z.boolean() }).openapi("WebhookAck");

export const checkoutRoute = createRoute({
	method: "post",
	path: "/checkout",
	operationId: "placeOrder",
	tags,
	security: ownerOrGuest,
	summary: "Place an order from a cart: re-priced, stock reserved, payment created",
	description:
		"Idempotency-Key required. Prices come from the catalog at this moment, never from the cart or the request. Stock is held until `reservation_expires_at`; an unpaid order is then cancelled. The cart is left as it is until the payment succeeds.",
	request: { headers: IdempotencyHeader, body: jsonBody(CheckoutBody) },
	responses: {
		201: jsonResponse(CheckoutResultSchema, "Order placed; pay with the payment instructions"),
		...databaseProblems,
		...bodyProblems,
		401: problem("Invalid access token"),
		404: problem("No such cart among yours"),
		409: problem("`out_of_stock` (with the short `lines`), or the same Idempotency-Key still in flight"),
		422: problem(
			"Empty cart, items no longer sold (`items_unavailable`) or not sold in the cart's market (`not_sold_in_market`), an address outside the cart's market (`country_not_in_market`), no such shipping method for it (`shipping_unavailable`), invalid discount code, or Idempotency-Key reused with another body",
		),
		429: problem(
			"`hold_limit`: this client already holds as many units as one client may (MAX_HELD_UNITS_PER_CLIENT) until its earliest hold runs out (Retry-After)",
		),
		502: problem("The payment provider failed; the order was cancelled and its stock released"),
		503: problem("Database or inventory unavailable; nothing was kept (Retry-After)"),
	},
});

export const listOrders = createRoute({
	method: "get",
	path: "/orders",
	operationId: "listOrders",
	tags,
	security: bearerAuth,
	summary: "Own orders, newest first",
	description: "The signed-in customer's orders, every status, a page at a time; follow `next_cursor` for the next page.",
	request: { query: OrderListQuery },
	responses: {
		200: jsonResponse(OrderListSchema, "A page of orders"),
		...databaseProblems,
		400: problem("Bad query or cursor"),
		...authProblems,
	},
});

export const getOrder = createRoute({
	method: "get",
	path: "/orders/{id}",
	operationId: "getOrder",
	tags,
	security: ownerOrGuest,
	summary: "One order: the owner's (bearer), or a guest's with its X-Order-Token",
	description: "Someone else's order answers 404, exactly as a missing one does.",
	request: { params: OrderIdParam, headers: OrderTokenHeader },
	responses: {
		200: jsonResponse(OrderSchema, "The order"),
		...databaseProblems,
		400: problem("Malformed order id or X-Order-Token"),
		401: problem("Invalid access token"),
		404: problem("No such order among yours"),
	},
});

export const cancelOrder = createRoute({
	method: "post",
	path: "/orders/{id}/cancel",
	operationId: "cancelOrder",
	tags,
	security: ownerOrGuest,
	summary: "Cancel an own order while unpaid, or paid but not yet fulfilled (the payment is refunded)",
	description: "Idempotency-Key required. The order's stock goes back on sale; a payment already taken is refunded in full.",
	request: { params: OrderIdParam, headers: OrderTokenHeader.extend(IdempotencyHeader.shape) },
	responses: {
		200: jsonResponse(OrderSchema, "The cancelled order"),
		...databaseProblems,
		400: problem("Missing or malformed Idempotency-Key, order id or X-Order-Token"),
		401: problem("Invalid access token"),
		404: problem("No such order among yours"),
		...idempotencyProblems,
		502: problem("The payment provider failed to refund; nothing changed"),
	},
});

export const paymentWebhook = createRoute({
	method: "post",
	path: "/webhooks/payments/{provider}",
	operationId: "receivePaymentEvent",
	tags,
	security: publicAccess,
	summary: "Payment provider events; the signature is verified on the raw body, the event queued and applied once",
	description:
		"Called by the payment provider, not by clients: the provider's signature header is the credential. An event seen before is acknowledged and not applied again.",
	request: { params: z.object({ provider: ProviderName.openapi({ param: { name: "provider", in: "path" } }) }) },
	responses: {
		200: jsonResponse(WebhookAck, "Accepted"),
		...baseProblems,
		400: problem("Missing, malformed, wrong or expired signature"),
		404: problem("Not the configured provider"),
		503: problem("The event could not be queued; the provider retries"),
	},
});

export const confirmTestPayment = createRoute({
	method: "post",
	path: "/payments/test/{id}/confirm",
	operationId: "confirmTestPayment",
	tags,
	security: publicAccess,
	summary: "Test provider only: simulate the payment's outcome (sends a signed webhook)",
	description:
		"Only where PAYMENT_PROVIDER is `test` (never in production). The payment id, from `confirm_url` in the checkout answer, is an HMAC no one can derive without the webhook secret.",
	request: { params: idParam("tpi", "tpi_0123456789abcdefghjk"), body: jsonBody(TestConfirmBody) },
	responses: {
		202: jsonResponse(WebhookAck, "Webhook sent"),
		...databaseProblems,
		...bodyProblems,
		404: problem("No such test payment, or the test provider is not configured"),
	},
});

const adminTags = ["Admin"];
const adminOrderProblems = { ...databaseProblems, ...adminProblems, 404: problem("No such order") };

export const adminListOrders = createRoute({
	method: "get",
	path: "/admin/orders",
	operationId: "listAllOrders",
	tags: adminTags,
	security: adminAuth,
	summary: "All orders, newest first; filter by status, customer e-mail and creation date",
	description: "Every customer's and guest's orders; filters combine, and `next_cursor` continues the same query.",
	request: { query: AdminOrderListQuery },
	responses: {
		200: jsonResponse(OrderListSchema, "A page of orders"),
		...databaseProblems,
		400: problem("Bad query or cursor"),
		...adminProblems,
	},
});

export const fulfilOrder = createRoute({
	method: "post",
	path: "/admin/orders/{id}/fulfil",
	operationId: "fulfilOrder",
	tags: adminTags,
	security: adminAuth,
	summary: "paid → fulfilled",
	description: "Idempotency-Key required. Only a paid order can be fulfilled.",
	request: { params: OrderIdParam, headers: IdempotencyHeader },
	responses: {
		200: jsonResponse(OrderSchema, "The order"),
		...adminOrderProblems,
		400: problem("Missing or malformed Idempotency-Key or order id"),
		...idempotencyProblems,
	},
});

export const shipOrder = createRoute({
	method: "post",
	path: "/admin/orders/{id}/ship",
	operationId: "shipOrder",
	tags: adminTags,
	security: adminAuth,
	summary: "fulfilled → shipped, with a tracking number; the shopper is notified",
	description: "Idempotency-Key required. Only a fulfilled order can be shipped; the tracking number is shown to the shopper.",
	request: { params: OrderIdParam, headers: IdempotencyHeader, body: jsonBody(ShipBody) },
	responses: { 200: jsonResponse(OrderSchema, "The order"), ...adminOrderProblems, ...bodyProblems, ...idempotencyProblems },
});

export const deliverOrder = createRoute({
	method: "post",
	path: "/admin/orders/{id}/deliver",
	operationId: "deliverOrder",
	tags: adminTags,
	security: adminAuth,
	summary: "shipped → delivered",
	description: "Idempotency-Key required. Only a shipped order can be marked delivered; the time is kept in the order's events.",
	request: { params: OrderIdParam, headers: IdempotencyHeader },
	responses: {
		200: jsonResponse(OrderSchema, "The order"),
		...adminOrderProblems,
		400: problem("Missing or malformed Idempotency-Key or order id"),
		...idempotencyProblems,
	},
});

export const acceptPaymentRoute = createRoute({
	method: "post",
	path: "/admin/orders/{id}/accept-payment",
	operationId: "acceptOrderPayment",
	tags: adminTags,
	security: adminAuth,
	summary: "payment_review → paid: accept the payment that did not match the order; its stock is committed",
	description: "Idempotency-Key required. For an order in `payment_review`, whose payment did not match it in amount or currency.",
	request: { params: OrderIdParam, headers: IdempotencyHeader },
	responses: {
		200: jsonResponse(OrderSchema, "The order, paid"),
		...adminOrderProblems,
		400: problem("Missing or malformed Idempotency-Key or order id"),
		...idempotencyProblems,
	},
});

export const refundOrderRoute = createRoute({
	method: "post",
	path: "/admin/orders/{id}/refund",
	operationId: "refundOrder",
	tags: adminTags,
	security: adminAuth,
	summary: "Refund the whole payment through the provider; the order becomes refunded",
	description:
		"Idempotency-Key required. Refunds the remaining capture, an `amount` or `lines`, through the payment provider; units of refunded lines may go back on hand (`restock`).",
	request: { params: OrderIdParam, headers: IdempotencyHeader, body: jsonBody(RefundBody) },
	responses: {
		200: jsonResponse(OrderSchema, "The order"),
		...adminOrderProblems,
		...bodyProblems,
		...idempotencyProblems,
		502: problem("The payment provider failed; nothing changed"),
	},
});
