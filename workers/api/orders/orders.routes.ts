import { createRoute, z } from "@hono/zod-openapi";
import { authProblems, bearerAuth, bodyProblems, jsonBody, jsonResponse } from "../lib/openapi.ts";
import { problemResponse } from "../lib/problem.ts";
import {
	AdminOrderListQuery,
	CheckoutBody,
	CheckoutResultSchema,
	IdempotencyHeader,
	OrderIdParam,
	OrderListQuery,
	OrderListSchema,
	OrderSchema,
	RefundBody,
	ShipBody,
	TestConfirmBody,
} from "./orders.schemas.ts";

const tags = ["Checkout and orders"];
const idempotencyProblems = {
	409: problemResponse(
		"A request with this Idempotency-Key is still running (`idempotency_in_progress`), or the transition is not allowed",
	),
	422: problemResponse("The Idempotency-Key was used with another request (`idempotency_key_reused`), or the request cannot be applied"),
};
const OrderTokenHeader = z.object({
	"x-order-token": z.string().max(200).optional().openapi({ description: "Guest orders: the order_token from the checkout answer" }),
});

export const checkoutRoute = createRoute({
	method: "post",
	path: "/checkout",
	tags,
	summary: "Place an order from a cart: re-priced, stock reserved, payment created",
	description:
		"Idempotency-Key required. Prices come from the catalog at this moment, never from the cart or the request. Stock is held until `reservation_expires_at`; an unpaid order is then cancelled. The cart is left as it is until the payment succeeds.",
	request: { headers: IdempotencyHeader, body: jsonBody(CheckoutBody) },
	responses: {
		201: jsonResponse(CheckoutResultSchema, "Order placed; pay with the payment instructions"),
		...bodyProblems,
		401: problemResponse("Invalid access token"),
		404: problemResponse("No such cart among yours"),
		409: problemResponse("`out_of_stock` (with the short `lines`), or the same Idempotency-Key still in flight"),
		422: problemResponse("Empty cart, items no longer sold, invalid discount code, or Idempotency-Key reused with another body"),
		502: problemResponse("The payment provider failed; the order was cancelled and its stock released"),
		503: problemResponse("Database or inventory unavailable; nothing was kept (Retry-After)"),
	},
});

export const listOrders = createRoute({
	method: "get",
	path: "/orders",
	tags,
	security: bearerAuth,
	summary: "Own orders, newest first",
	request: { query: OrderListQuery },
	responses: { 200: jsonResponse(OrderListSchema, "A page of orders"), 400: problemResponse("Bad query or cursor"), ...authProblems },
});

export const getOrder = createRoute({
	method: "get",
	path: "/orders/{id}",
	tags,
	summary: "One order: the owner's (bearer), or a guest's with its X-Order-Token",
	request: { params: OrderIdParam, headers: OrderTokenHeader },
	responses: {
		200: jsonResponse(OrderSchema, "The order"),
		401: problemResponse("Invalid access token"),
		404: problemResponse("No such order among yours"),
	},
});

export const cancelOrder = createRoute({
	method: "post",
	path: "/orders/{id}/cancel",
	tags,
	summary: "Cancel an own order while unpaid, or paid but not yet fulfilled (the payment is refunded)",
	request: { params: OrderIdParam, headers: OrderTokenHeader.extend(IdempotencyHeader.shape) },
	responses: {
		200: jsonResponse(OrderSchema, "The cancelled order"),
		400: problemResponse("Missing Idempotency-Key"),
		401: problemResponse("Invalid access token"),
		404: problemResponse("No such order among yours"),
		...idempotencyProblems,
		502: problemResponse("The payment provider failed to refund; nothing changed"),
	},
});

export const paymentWebhook = createRoute({
	method: "post",
	path: "/webhooks/payments/{provider}",
	tags,
	summary: "Payment provider events; the signature is verified on the raw body, the event queued and applied once",
	request: {
		params: z.object({
			provider: z
				.string()
				.max(20)
				.openapi({ param: { name: "provider", in: "path" }, example: "stripe" }),
		}),
	},
	responses: {
		200: jsonResponse(z.object({ received: z.literal(true), queued: z.boolean() }).openapi("WebhookAck"), "Accepted"),
		400: problemResponse("Missing, malformed, wrong or expired signature"),
		404: problemResponse("Not the configured provider"),
		503: problemResponse("The event could not be queued; the provider retries"),
	},
});

export const confirmTestPayment = createRoute({
	method: "post",
	path: "/payments/test/{id}/confirm",
	tags,
	summary: "Test provider only: simulate the payment's outcome (sends a signed webhook)",
	request: {
		params: z.object({
			id: z
				.string()
				.max(100)
				.openapi({ param: { name: "id", in: "path" } }),
		}),
		body: jsonBody(TestConfirmBody),
	},
	responses: {
		202: jsonResponse(z.object({ received: z.literal(true), queued: z.boolean() }), "Webhook sent"),
		...bodyProblems,
		404: problemResponse("No such test payment, or the test provider is not configured"),
	},
});

const adminTags = ["Admin"];
const adminProblems = { ...authProblems, 403: problemResponse("Not an admin"), 404: problemResponse("No such order") };

export const adminListOrders = createRoute({
	method: "get",
	path: "/admin/orders",
	tags: adminTags,
	security: bearerAuth,
	summary: "All orders, newest first; filter by status, customer e-mail and creation date",
	request: { query: AdminOrderListQuery },
	responses: { 200: jsonResponse(OrderListSchema, "A page of orders"), 400: problemResponse("Bad query or cursor"), ...authProblems },
});

export const fulfilOrder = createRoute({
	method: "post",
	path: "/admin/orders/{id}/fulfil",
	tags: adminTags,
	security: bearerAuth,
	summary: "paid → fulfilled",
	request: { params: OrderIdParam, headers: IdempotencyHeader },
	responses: {
		200: jsonResponse(OrderSchema, "The order"),
		400: problemResponse("Missing Idempotency-Key"),
		...adminProblems,
		...idempotencyProblems,
	},
});

export const shipOrder = createRoute({
	method: "post",
	path: "/admin/orders/{id}/ship",
	tags: adminTags,
	security: bearerAuth,
	summary: "fulfilled → shipped, with a tracking number; the shopper is notified",
	request: { params: OrderIdParam, headers: IdempotencyHeader, body: jsonBody(ShipBody) },
	responses: { 200: jsonResponse(OrderSchema, "The order"), ...bodyProblems, ...adminProblems, ...idempotencyProblems },
});

export const acceptPaymentRoute = createRoute({
	method: "post",
	path: "/admin/orders/{id}/accept-payment",
	tags: adminTags,
	security: bearerAuth,
	summary: "payment_review → paid: accept the payment that did not match the order; its stock is committed",
	request: { params: OrderIdParam, headers: IdempotencyHeader },
	responses: {
		200: jsonResponse(OrderSchema, "The order, paid"),
		400: problemResponse("Missing Idempotency-Key"),
		...adminProblems,
		...idempotencyProblems,
	},
});

export const refundOrderRoute = createRoute({
	method: "post",
	path: "/admin/orders/{id}/refund",
	tags: adminTags,
	security: bearerAuth,
	summary: "Refund the whole payment through the provider; the order becomes refunded",
	request: { params: OrderIdParam, headers: IdempotencyHeader, body: jsonBody(RefundBody) },
	responses: {
		200: jsonResponse(OrderSchema, "The order"),
		...bodyProblems,
		...adminProblems,
		...idempotencyProblems,
		502: problemResponse("The payment provider failed; nothing changed"),
	},
});
