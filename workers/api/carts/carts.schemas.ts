import { z } from "@hono/zod-openapi";
import { MAX_LINE_QUANTITY, MAX_LINES } from "../../../durable-objects/cart.ts";
import { count, currencyCode, integer, minorUnits, text, timestamp } from "../lib/openapi.ts";
import { CartId, CartIdParam, ProductId, Sku, SkuParam, Token } from "../lib/params.ts";

export const CartLineParam = CartIdParam.extend(SkuParam.shape);

/** Headers that prove ownership: a guest's cart token (a bearer token is read by the handlers). */
export const CartTokenHeader = z.object({
	"x-cart-token": Token.optional().openapi({ description: "The guest token returned when the cart was created" }),
});

export const AddItemBody = z
	.object({ sku: Sku, quantity: integer(1, MAX_LINE_QUANTITY) })
	.strict()
	.openapi("CartAddItemRequest");

export const SetQuantityBody = z
	.object({ quantity: integer(0, MAX_LINE_QUANTITY).openapi({ description: "0 removes the line" }) })
	.strict()
	.openapi("CartSetQuantityRequest");

export const MergeBody = z.object({ guest_cart_id: CartId, guest_token: Token }).strict().openapi("CartMergeRequest");

export const Money = z.object({ amount: minorUnits().openapi({ description: "Minor units" }), currency: currencyCode() }).openapi("Money");

const CartLineSchema = z.object({
	sku: Sku,
	product_id: ProductId.nullable(),
	title: text(200).nullable(),
	quantity: integer(0, MAX_LINE_QUANTITY),
	unit_price: Money.nullable(),
	line_total: Money.nullable(),
	available: z.boolean().openapi({ description: "False when the SKU is no longer on sale; such lines count toward no subtotal" }),
});

export const CartSchema = z
	.object({
		id: CartId,
		owner: z.enum(["guest", "user"]),
		lines: z.array(CartLineSchema).max(MAX_LINES),
		subtotal: Money,
		item_count: count(),
		expires_at: timestamp().openapi({ description: "When the cart is dropped unless changed before" }),
	})
	.openapi("Cart");

export const CreatedCartSchema = CartSchema.extend({
	token: Token.optional().openapi({ description: "Guest carts only, returned once: send it as X-Cart-Token" }),
}).openapi("CreatedCart");

export const MergedCartSchema = CartSchema.extend({
	merge: z.object({
		capped: z.array(Sku).max(MAX_LINES).openapi({ description: "SKUs whose summed quantity was cut to the per-line cap" }),
		dropped: z
			.array(Sku)
			.max(MAX_LINES)
			.openapi({ description: `SKUs left out: the cart already had ${MAX_LINES} lines` }),
	}),
}).openapi("MergedCart");

export const CartHoldSchema = z
	.object({
		cart_id: CartId,
		lines: z
			.array(z.object({ sku: Sku, quantity: integer(1, MAX_LINE_QUANTITY) }))
			.max(MAX_LINES)
			.openapi({ description: "What is held: exactly the cart's lines" }),
		expires_at: timestamp().openapi({ description: "When the units go back on sale unless the cart is checked out before" }),
	})
	.openapi("CartHold");
