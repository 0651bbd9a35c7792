import { createRoute, z } from "@hono/zod-openapi";
import { adminAuth, adminProblems, bearerAuth, bodyProblems, databaseProblems, jsonBody, jsonResponse, problem } from "../lib/openapi.ts";
import { IdempotencyHeader, idParam, OrderId, Token } from "../lib/params.ts";
import {
	AdminReturnListQuery,
	AdminReturnListSchema,
	AdminReturnSchema,
	OrderReturnsSchema,
	RefundReturnBody,
	RequestReturnBody,
	ReturnId,
	ReturnNoteBody,
	ReturnSchema,
} from "./returns.schemas.ts";

const tags = ["Checkout and orders"];
const OrderTokenHeader = z.object({
	"x-order-token": Token.optional().openapi({ description: "Guest orders: the order_token from the checkout answer" }),
});
/** The owner's bearer token, or a guest's X-Order-Token header. */
const ownerOrGuest = [{}, ...bearerAuth];
const OrderIdParam = z.object({ id: OrderId.openapi({ param: { name: "id", in: "path" } }) });
const OrderReturnParams = OrderIdParam.extend({ return_id: ReturnId.openapi({ param: { name: "return_id", in: "path" } }) });
const idempotencyProblems = {
	409: problem(
		"`invalid_return_transition`: the return's status does not allow this (another change won); or the same Idempotency-Key is still in flight",
	),
};

export const requestReturn = createRoute({
	method: "post",
	path: "/orders/{id}/returns",
	operationId: "requestReturn",
	tags,
	security: ownerOrGuest,
	summary: "Ask to return units of a shipped or delivered order",
	description:
		"Idempotency-Key required. Within RETURN_WINDOW_DAYS of delivery (of shipping when no delivery was reported), for at most the units of each line not yet in a return or refunded. The shop approves it (with instructions by e-mail) or rejects it.",
	request: { params: OrderIdParam, headers: OrderTokenHeader.extend(IdempotencyHeader.shape), body: jsonBody(RequestReturnBody) },
	responses: {
		201: jsonResponse(ReturnSchema, "The return, requested"),
		...databaseProblems,
		...bodyProblems,
		401: problem("Invalid access token"),
		404: problem("No such order among yours"),
		409: problem("The same Idempotency-Key is still in flight"),
		422: problem(
			"`return_not_allowed` (the order is not shipped or delivered), `return_window_closed`, `return_quantity_exceeded` (with the SKU and the units `returnable`), or the Idempotency-Key reused with another body",
		),
	},
});

export const listOrderReturns = createRoute({
	method: "get",
	path: "/orders/{id}/returns",
	operationId: "listOrderReturns",
	tags,
	security: ownerOrGuest,
	summary: "The order's returns, newest first, and what may still be returned",
	description: "Each return's lines, status and the time of each step, and its refund once made. Someone else's order answers 404.",
	request: { params: OrderIdParam, headers: OrderTokenHeader },
	responses: {
		200: jsonResponse(OrderReturnsSchema, "The order's returns"),
		...databaseProblems,
		400: problem("Malformed order id or X-Order-Token"),
		401: problem("Invalid access token"),
		404: problem("No such order among yours"),
	},
});

export const cancelReturn = createRoute({
	method: "post",
	path: "/orders/{id}/returns/{return_id}/cancel",
	operationId: "cancelReturn",
	tags,
	security: ownerOrGuest,
	summary: "Withdraw an own return while it is only requested",
	description: "Idempotency-Key required. Its units may be asked to return again.",
	request: { params: OrderReturnParams, headers: OrderTokenHeader.extend(IdempotencyHeader.shape) },
	responses: {
		200: jsonResponse(ReturnSchema, "The return, cancelled"),
		...databaseProblems,
		400: problem("Missing or malformed Idempotency-Key, id or X-Order-Token"),
		401: problem("Invalid access token"),
		404: problem("No such order among yours, or no such return of it"),
		...idempotencyProblems,
		422: problem("The Idempotency-Key was used with another request"),
	},
});

const adminTags = ["Admin"];
const ReturnIdParam = idParam("ret", "ret_0123456789abcdefghjk");
const adminReturnProblems = { ...databaseProblems, ...adminProblems, 404: problem("No such return") };
const adminIdempotency = {
	...idempotencyProblems,
	422: problem("The Idempotency-Key was used with another request (`idempotency_key_reused`)"),
};

export const adminListReturns = createRoute({
	method: "get",
	path: "/admin/returns",
	operationId: "listAllReturns",
	tags: adminTags,
	security: adminAuth,
	summary: "All returns, newest first; filter by status",
	description: "Every order's returns with the order's e-mail; `next_cursor` continues the same query.",
	request: { query: AdminReturnListQuery },
	responses: {
		200: jsonResponse(AdminReturnListSchema, "A page of returns"),
		...databaseProblems,
		400: problem("Bad query or cursor"),
		...adminProblems,
	},
});

export const adminGetReturn = createRoute({
	method: "get",
	path: "/admin/returns/{id}",
	operationId: "getReturn",
	tags: adminTags,
	security: adminAuth,
	summary: "One return",
	description: "Its lines, status, each step's time, the shop's note and its refund once made.",
	request: { params: ReturnIdParam },
	responses: { 200: jsonResponse(AdminReturnSchema, "The return"), ...adminReturnProblems },
});

export const approveReturn = createRoute({
	method: "post",
	path: "/admin/returns/{id}/approve",
	operationId: "approveReturn",
	tags: adminTags,
	security: adminAuth,
	summary: "requested → approved; the shopper is e-mailed the note as instructions",
	description:
		"Idempotency-Key required. Only a requested return can be approved; of two admins approving at once, one wins and the other gets 409.",
	request: { params: ReturnIdParam, headers: IdempotencyHeader, body: jsonBody(ReturnNoteBody) },
	responses: {
		200: jsonResponse(AdminReturnSchema, "The return"),
		...adminReturnProblems,
		...bodyProblems,
		...adminIdempotency,
	},
});

export const rejectReturn = createRoute({
	method: "post",
	path: "/admin/returns/{id}/reject",
	operationId: "rejectReturn",
	tags: adminTags,
	security: adminAuth,
	summary: "requested or approved → rejected; the shopper is e-mailed the note as the reason",
	description: "Idempotency-Key required. The return's units may be asked to return again.",
	request: { params: ReturnIdParam, headers: IdempotencyHeader, body: jsonBody(ReturnNoteBody) },
	responses: {
		200: jsonResponse(AdminReturnSchema, "The return"),
		...adminReturnProblems,
		...bodyProblems,
		...adminIdempotency,
	},
});

export const receiveReturn = createRoute({
	method: "post",
	path: "/admin/returns/{id}/receive",
	operationId: "receiveReturn",
	tags: adminTags,
	security: adminAuth,
	summary: "approved → received: the parcel is back",
	description: "Idempotency-Key required. Only an approved return can be marked received; refund it next.",
	request: { params: ReturnIdParam, headers: IdempotencyHeader },
	responses: {
		200: jsonResponse(AdminReturnSchema, "The return"),
		...adminReturnProblems,
		400: problem("Missing or malformed Idempotency-Key or return id"),
		...adminIdempotency,
	},
});

export const refundReturn = createRoute({
	method: "post",
	path: "/admin/returns/{id}/refund",
	operationId: "refundReturn",
	tags: adminTags,
	security: adminAuth,
	summary: "received → refunded: a partial refund of the return's lines through the payment provider",
	description:
		"Idempotency-Key required. The lines are refunded as a partial refund of the order prices them (the shopper is e-mailed the amount); with `restock` their units go back on hand. The order becomes partially refunded, or refunded when nothing of the payment is left.",
	request: { params: ReturnIdParam, headers: IdempotencyHeader, body: jsonBody(RefundReturnBody) },
	responses: {
		200: jsonResponse(AdminReturnSchema, "The return, refunded"),
		...adminReturnProblems,
		...bodyProblems,
		409: problem(
			"`invalid_return_transition` (not received, or another refund of it won), `refund_refused` or `invalid_transition` (the order's payment cannot be refunded that far), or the Idempotency-Key still in flight; the return stays received",
		),
		422: problem("The Idempotency-Key was used with another request (`idempotency_key_reused`)"),
		502: problem("The payment provider failed; nothing was refunded and the return stays received"),
	},
});
