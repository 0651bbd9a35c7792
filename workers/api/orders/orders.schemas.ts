import { z } from "@hono/zod-openapi";
import { CART_ID } from "../../carts/carts.ts";
import { ORDER_STATUSES } from "../../orders/state.ts";
import { Money } from "../carts/carts.schemas.ts";
import { addressFields } from "../me/me.schemas.ts";

const { is_default: _notForOrders, ...shippingFields } = addressFields;

export const ShippingAddressBody = z.object(shippingFields).strict().openapi("ShippingAddress");

export const CheckoutBody = z
	.object({
		cart_id: z.string().regex(CART_ID, "Not a cart id."),
		email: z.email().max(254).openapi({ example: "ana@example.com" }),
		shipping_address: ShippingAddressBody,
		discount_code: z.string().trim().min(1).max(64).optional(),
	})
	.strict()
	.openapi("CheckoutRequest");

export const IdempotencyHeader = z.object({
	"idempotency-key": z.string().openapi({ description: "Unique per intended change, 8 to 255 visible ASCII characters" }),
});

export const OrderIdParam = z.object({
	id: z
		.string()
		.regex(/^ord_[0-9abcdefghjkmnpqrstvwxyz]{20}$/, "Not an order id.")
		.openapi({ param: { name: "id", in: "path" }, example: "ord_0123456789abcdefghjk" }),
});

const OrderStatusSchema = z.enum(ORDER_STATUSES);

export const OrderSchema = z
	.object({
		id: z.string(),
		status: OrderStatusSchema,
		email: z.string(),
		lines: z.array(
			z.object({
				sku: z.string(),
				product_id: z.string(),
				title: z.string(),
				quantity: z.number().int(),
				unit_price: Money,
				line_total: Money,
			}),
		),
		subtotal: Money,
		discount: Money,
		discount_code: z.string().nullable(),
		shipping: Money,
		tax: Money,
		total: Money,
		shipping_address: z.object({}).passthrough(),
		payment: z.object({ provider: z.string(), status: z.string(), refunded: Money }).nullable(),
		tracking: z.object({ carrier: z.string().nullable(), number: z.string() }).nullable(),
		reservation_expires_at: z.string().openapi({ description: "Unpaid orders are cancelled and their stock released at this time" }),
		created_at: z.string(),
		paid_at: z.string().nullable(),
		fulfilled_at: z.string().nullable(),
		shipped_at: z.string().nullable(),
		delivered_at: z.string().nullable(),
		cancelled_at: z.string().nullable(),
		refunded_at: z.string().nullable(),
		cancel_reason: z.string().nullable(),
	})
	.openapi("Order");

export const CheckoutResultSchema = z
	.object({
		order: OrderSchema,
		payment: z
			.object({
				provider: z.string(),
				id: z.string(),
				status: z.string(),
				client_secret: z.string().optional().openapi({ description: "Stripe: confirm the PaymentIntent with Stripe.js" }),
				confirm_url: z.string().optional().openapi({ description: "Test provider: POST { outcome } here to simulate the payment" }),
			})
			.nullable(),
		order_token: z
			.string()
			.optional()
			.openapi({ description: "Guests only, shown once: send it as X-Order-Token to read or cancel the order" }),
	})
	.openapi("CheckoutResult");

export const OrderListQuery = z.object({
	limit: z.coerce.number().int().min(1).max(100).default(20),
	cursor: z.string().max(200).optional(),
});

export const OrderListSchema = z.object({ data: z.array(OrderSchema), next_cursor: z.string().nullable() }).openapi("OrderList");

export const AdminOrderListQuery = OrderListQuery.extend({
	status: OrderStatusSchema.optional(),
	email: z.string().trim().toLowerCase().max(254).optional(),
	created_from: z.iso.datetime({ offset: true }).optional(),
	created_to: z.iso.datetime({ offset: true }).optional(),
});

export const ShipBody = z
	.object({ tracking_number: z.string().trim().min(1).max(100), carrier: z.string().trim().min(1).max(100).optional() })
	.strict()
	.openapi("ShipRequest");

export const RefundBody = z
	.object({
		reason: z.string().trim().min(1).max(200).optional(),
		amount: z
			.number()
			.int()
			.min(1)
			.max(100_000_000_000)
			.optional()
			.openapi({ description: "Minor units to refund; without it and without lines, the whole remaining capture" }),
		lines: z
			.array(z.object({ sku: z.string().min(1).max(100), quantity: z.number().int().min(1).max(99) }).strict())
			.min(1)
			.max(50)
			.optional()
			.openapi({ description: "Lines to refund with their quantities, priced as sold (unless `amount` is given)" }),
		restock: z.boolean().optional().openapi({ description: "Put the lines' units back on hand (default false)" }),
	})
	.strict()
	.openapi("RefundRequest");

export const TestConfirmBody = z
	.object({
		outcome: z.enum(["succeeded", "failed"]),
		amount: z.number().int().min(1).max(100_000_000_000).optional().openapi({
			description: "Minor units the simulated payment brings; defaults to the order's. Another amount puts the order under review.",
		}),
		currency: z
			.string()
			.regex(/^[A-Z]{3}$/)
			.optional()
			.openapi({ description: "ISO-4217 currency of the simulated payment; defaults to the order's." }),
	})
	.strict()
	.openapi("TestPaymentConfirmRequest");
