import { z } from "@hono/zod-openapi";
import { MAX_LINE_QUANTITY, MAX_LINES } from "../../../durable-objects/cart.ts";
import { ORDER_STATUSES } from "../../orders/state.ts";
import { Money } from "../carts/carts.schemas.ts";
import { email, integer, text, timestamp } from "../lib/openapi.ts";
import { CartId, Cursor, OrderId, ProductId, pageLimit, Sku, Token } from "../lib/params.ts";
import { addressFields } from "../me/me.schemas.ts";

const { is_default: _notForOrders, ...shippingFields } = addressFields;

export const ShippingAddressBody = z.object(shippingFields).strict().openapi("ShippingAddress");

export const CheckoutBody = z
	.object({
		cart_id: CartId,
		email: email(),
		shipping_address: ShippingAddressBody,
		discount_code: z.string().trim().min(1).max(64).optional(),
		shipping_method: z
			.string()
			.max(44)
			.regex(/^shm_[0-9a-z]{1,40}$/)
			.optional()
			.openapi({
				description:
					"One of GET /v1/carts/{id}/shipping-methods for this address; without it, the first standard method offered (422 `shipping_unavailable` when none is)",
				example: "shm_eustandard",
			}),
		affiliate_code: z.string().max(64).optional().openapi({
			description:
				"Headless storefronts: the referral code the shopper arrived with (`?ref=CODE`, any letter case). An unknown, inactive or malformed code places the order without an affiliate; it never refuses it.",
			example: "ANA-BLOG",
		}),
	})
	.strict()
	.openapi("CheckoutRequest");

/** A payment provider as the API names it (`test`, `stripe`). */
export const ProviderName = z
	.string()
	.max(20)
	.regex(/^[a-z][a-z0-9_-]*$/)
	.openapi({ example: "stripe" });

/** A payment's id at its provider: the test provider's `tpi_…`, Stripe's `pi_…`. */
const ProviderPaymentId = z
	.string()
	.max(255)
	.regex(/^[A-Za-z0-9_]+$/)
	.openapi({ example: "tpi_0123456789abcdefghjk" });

const OrderStatusSchema = z.enum(ORDER_STATUSES);

/** A payment's status as the order keeps it, or as the provider names it at checkout. */
const PaymentStatus = z
	.string()
	.max(40)
	.regex(/^[a-z_]+$/)
	.openapi({ example: "requires_action" });

/** The address an order ships to, as it was at checkout. */
const ShippingAddressSchema = z.object({
	name: text(100),
	line1: text(200),
	line2: text(200).nullable().optional(),
	city: text(100),
	region: text(100).nullable().optional(),
	postal_code: text(20),
	country: z
		.string()
		.length(2)
		.regex(/^[A-Z]{2}$/)
		.openapi({ example: "PT" }),
	phone: text(31).nullable().optional(),
});

export const OrderSchema = z
	.object({
		id: OrderId,
		status: OrderStatusSchema,
		email: email(),
		lines: z
			.array(
				z.object({
					sku: Sku,
					product_id: ProductId,
					title: text(200),
					quantity: integer(1, MAX_LINE_QUANTITY),
					unit_price: Money,
					line_total: Money,
					discount: Money.openapi({ description: "The order's discounts allocated to this line" }),
					tax: Money.openapi({ description: "This line's tax: inside its discounted amount when `tax_included`, on top of it otherwise" }),
					tax_rate_bp: integer(0, 10000).openapi({ description: "The rate applied, in basis points (1900 = 19 %)" }),
				}),
			)
			.max(MAX_LINES),
		market: text(32).nullable().openapi({ description: "The market the order was priced in (null for orders from before markets)" }),
		tax_included: z.boolean().openapi({
			description:
				"True: the lines and shipping include `tax` (VAT), and `total` = subtotal − discount + shipping. False: `total` adds `tax`.",
		}),
		tax_breakdown: z
			.array(z.object({ rate_bp: integer(0, 10000), taxable: Money, tax: Money }))
			.max(20)
			.openapi({ description: 'Tax per rate, highest first: what invoices show as "VAT 19 % on €43.95: €7.02"' }),
		subtotal: Money,
		discount: Money,
		discount_code: text(64).nullable(),
		shipping: Money,
		shipping_method: z
			.object({ id: text(50), kind: z.enum(["standard", "express", "pickup"]), name: text(200) })
			.nullable()
			.openapi({ description: "The method the shopper picked (null for orders from before shipping methods)" }),
		tax: Money,
		total: Money,
		shipping_address: ShippingAddressSchema,
		payment: z.object({ provider: ProviderName, status: PaymentStatus, refunded: Money }).nullable(),
		tracking: z.object({ carrier: text(100).nullable(), number: text(100) }).nullable(),
		reservation_expires_at: timestamp().openapi({ description: "Unpaid orders are cancelled and their stock released at this time" }),
		created_at: timestamp(),
		paid_at: timestamp().nullable(),
		fulfilled_at: timestamp().nullable(),
		shipped_at: timestamp().nullable(),
		delivered_at: timestamp().nullable(),
		cancelled_at: timestamp().nullable(),
		refunded_at: timestamp().nullable(),
		cancel_reason: text(200).nullable(),
	})
	.openapi("Order");

export const CheckoutResultSchema = z
	.object({
		order: OrderSchema,
		payment: z
			.object({
				provider: ProviderName,
				id: ProviderPaymentId,
				status: PaymentStatus,
				client_secret: text(500).optional().openapi({ description: "Stripe: confirm the PaymentIntent with Stripe.js" }),
				confirm_url: z
					.string()
					.max(200)
					.optional()
					.openapi({ format: "uri-reference", description: "Test provider: POST { outcome } here to simulate the payment" }),
			})
			.nullable(),
		order_token: Token.optional().openapi({
			description: "Guests only, shown once: send it as X-Order-Token to read or cancel the order",
		}),
	})
	.openapi("CheckoutResult");

export const OrderListQuery = z.object({
	limit: pageLimit(100, 20),
	cursor: Cursor.optional(),
});

export const OrderListSchema = z.object({ data: z.array(OrderSchema).max(100), next_cursor: Cursor.nullable() }).openapi("OrderList");

export const AdminOrderListQuery = OrderListQuery.extend({
	status: OrderStatusSchema.optional(),
	email: z
		.string()
		.trim()
		.toLowerCase()
		.max(254)
		.optional()
		.openapi({ format: "email", description: "The customer's e-mail address, exactly (any letter case)" }),
	created_from: z.iso.datetime({ offset: true }).max(40).optional(),
	created_to: z.iso.datetime({ offset: true }).max(40).optional(),
});

export const ShipBody = z
	.object({ tracking_number: z.string().trim().min(1).max(100), carrier: z.string().trim().min(1).max(100).optional() })
	.strict()
	.openapi("ShipRequest");

export const RefundBody = z
	.object({
		reason: z.string().trim().min(1).max(200).optional(),
		amount: integer(1, 100_000_000_000)
			.optional()
			.openapi({ description: "Minor units to refund; without it and without lines, the whole remaining capture" }),
		lines: z
			.array(z.object({ sku: Sku, quantity: integer(1, MAX_LINE_QUANTITY) }).strict())
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
		amount: integer(1, 100_000_000_000).optional().openapi({
			description: "Minor units the simulated payment brings; defaults to the order's. Another amount puts the order under review.",
		}),
		currency: z
			.string()
			.regex(/^[A-Z]{3}$/)
			.max(3)
			.optional()
			.openapi({ description: "ISO-4217 currency of the simulated payment; defaults to the order's." }),
	})
	.strict()
	.openapi("TestPaymentConfirmRequest");
