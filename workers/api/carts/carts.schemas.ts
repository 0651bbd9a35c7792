import { z } from "@hono/zod-openapi";
import { CART_ID } from "../../carts/carts.ts";

const Sku = z
	.string()
	.regex(/^[A-Z0-9]+(?:-[A-Z0-9]+)*$/, "A SKU is upper-case letters, digits and single dashes.")
	.max(64)
	.openapi({ example: "TEE-MER-CHA-M" });

const CartId = z.string().regex(CART_ID, "Not a cart id.");

export const CartIdParam = z.object({
	id: CartId.openapi({ param: { name: "id", in: "path" }, example: "cart_0123456789abcdefghjk" }),
});

export const CartLineParam = CartIdParam.extend({
	sku: Sku.openapi({ param: { name: "sku", in: "path" }, example: "TEE-MER-CHA-M" }),
});

/** Headers that prove ownership: a guest's cart token (a bearer token is read by the handlers). */
export const CartTokenHeader = z.object({
	"x-cart-token": z.string().min(1).max(200).optional().openapi({ description: "The guest token returned when the cart was created" }),
});

export const AddItemBody = z
	.object({ sku: Sku, quantity: z.number().int().min(1).max(99) })
	.strict()
	.openapi("CartAddItemRequest");

export const SetQuantityBody = z
	.object({ quantity: z.number().int().min(0).max(99).openapi({ description: "0 removes the line" }) })
	.strict()
	.openapi("CartSetQuantityRequest");

export const MergeBody = z
	.object({ guest_cart_id: CartId, guest_token: z.string().min(1).max(200) })
	.strict()
	.openapi("CartMergeRequest");

export const Money = z
	.object({ amount: z.number().int().openapi({ description: "Minor units" }), currency: z.string().length(3) })
	.openapi("Money");

const CartLineSchema = z.object({
	sku: z.string(),
	product_id: z.string().nullable(),
	title: z.string().nullable(),
	quantity: z.number().int(),
	unit_price: Money.nullable(),
	line_total: Money.nullable(),
	available: z.boolean().openapi({ description: "False when the SKU is no longer on sale; such lines count toward no subtotal" }),
});

export const CartSchema = z
	.object({
		id: z.string(),
		owner: z.enum(["guest", "user"]),
		lines: z.array(CartLineSchema),
		subtotal: Money,
		item_count: z.number().int(),
		expires_at: z.string().openapi({ description: "When the cart is dropped unless changed before" }),
	})
	.openapi("Cart");

export const CreatedCartSchema = CartSchema.extend({
	token: z.string().optional().openapi({ description: "Guest carts only, returned once: send it as X-Cart-Token" }),
}).openapi("CreatedCart");

export const MergedCartSchema = CartSchema.extend({
	merge: z.object({
		capped: z.array(z.string()).openapi({ description: "SKUs whose summed quantity was cut to 99" }),
		dropped: z.array(z.string()).openapi({ description: "SKUs left out: the cart already had 50 lines" }),
	}),
}).openapi("MergedCart");

export const CartHoldSchema = z
	.object({
		cart_id: z.string(),
		lines: z
			.array(z.object({ sku: z.string(), quantity: z.number().int() }))
			.openapi({ description: "What is held: exactly the cart's lines" }),
		expires_at: z.string().openapi({ description: "When the units go back on sale unless the cart is checked out before" }),
	})
	.openapi("CartHold");
