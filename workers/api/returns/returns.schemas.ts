import { z } from "@hono/zod-openapi";
import { MAX_LINE_QUANTITY, MAX_LINES } from "../../../durable-objects/cart.ts";
import { RETURN_STATUSES } from "../../returns/state.ts";
import { Money } from "../carts/carts.schemas.ts";
import { email, integer, text, timestamp } from "../lib/openapi.ts";
import { Cursor, idPattern, OrderId, pageLimit, prefixedId, Sku } from "../lib/params.ts";

export const ReturnId = prefixedId(idPattern("ret"), "ret_0123456789abcdefghjk");

const ReturnStatusSchema = z.enum(RETURN_STATUSES).openapi({
	description:
		"`requested` → `approved` (instructions e-mailed) → `received` (the parcel is back) → `refunded`; or `rejected` by the shop, `cancelled` by the shopper while requested",
});

export const RequestReturnBody = z
	.object({
		lines: z
			.array(z.object({ sku: Sku, quantity: integer(1, MAX_LINE_QUANTITY) }).strict())
			.min(1)
			.max(MAX_LINES)
			.refine((lines) => new Set(lines.map((line) => line.sku)).size === lines.length, "Name each SKU once.")
			.openapi({ description: "The order's lines to send back, each SKU once, with the units of it" }),
		reason: z.string().trim().max(500).optional().openapi({ description: "Why, in the shopper's words" }),
	})
	.strict()
	.openapi("ReturnRequest");

export const ReturnNoteBody = z
	.object({
		note: z
			.string()
			.trim()
			.min(1)
			.max(2000)
			.openapi({ description: "E-mailed to the shopper and shown with the return; line breaks are kept" }),
	})
	.strict()
	.openapi("ReturnNote");

export const RefundReturnBody = z
	.object({ restock: z.boolean().openapi({ description: "Put the returned units back on hand" }) })
	.strict()
	.openapi("ReturnRefundRequest");

export const ReturnSchema = z
	.object({
		id: ReturnId,
		order_id: OrderId,
		status: ReturnStatusSchema,
		reason: text(500),
		note: text(2000).nullable().openapi({ description: "The shop's message: the instructions once approved, the reason once rejected" }),
		restock: z.boolean().nullable().openapi({ description: "Whether the units went back on hand; null until refunded" }),
		lines: z.array(z.object({ sku: Sku, title: text(200), quantity: integer(1, MAX_LINE_QUANTITY), unit_price: Money })).max(MAX_LINES),
		refund: z
			.object({
				id: prefixedId(idPattern("ref"), "ref_0123456789abcdefghjk"),
				amount: Money,
				status: z.enum(["pending", "succeeded", "failed"]),
			})
			.nullable()
			.openapi({ description: "The partial refund of the return's lines, once made" }),
		created_at: timestamp(),
		approved_at: timestamp().nullable(),
		received_at: timestamp().nullable(),
		refunded_at: timestamp().nullable(),
		closed_at: timestamp().nullable().openapi({ description: "When it was refunded, rejected or cancelled" }),
	})
	.openapi("Return");

export const OrderReturnsSchema = z
	.object({
		data: z.array(ReturnSchema).max(50),
		returnable: z
			.object({
				closes_at: timestamp(),
				lines: z.array(z.object({ sku: Sku, title: text(200), quantity: integer(1, MAX_LINE_QUANTITY) })).max(MAX_LINES),
			})
			.nullable()
			.openapi({ description: "What may still be asked to return and until when; null when nothing may" }),
	})
	.openapi("OrderReturns");

export const AdminReturnSchema = ReturnSchema.extend({
	email: email(),
	requested_by: text(64).openapi({ description: "The customer's user id, or `guest`" }),
}).openapi("AdminReturn");

export const AdminReturnListQuery = z.object({
	status: ReturnStatusSchema.optional(),
	limit: pageLimit(100, 25),
	cursor: Cursor.optional(),
});

export const AdminReturnListSchema = z
	.object({ data: z.array(AdminReturnSchema).max(100), next_cursor: Cursor.nullable() })
	.openapi("AdminReturnList");
