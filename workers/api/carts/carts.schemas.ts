import { z } from "@hono/zod-openapi";
import { MAX_LINE_QUANTITY, MAX_LINES } from "../../../durable-objects/cart.ts";
import { CountryCode, MarketId, MarketSchema } from "../lib/market.ts";
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
	available: z.boolean().openapi({
		description: "False when the SKU is no longer on sale, or not sold in the cart's market; such lines count toward no subtotal",
	}),
});

export const CartSchema = z
	.object({
		id: CartId,
		owner: z.enum(["guest", "user"]),
		market: MarketSchema,
		lines: z.array(CartLineSchema).max(MAX_LINES),
		subtotal: Money,
		promotions: z
			.array(z.object({ id: text(40), name: text(200), saving: Money }))
			.max(50)
			.openapi({ description: "Automatic promotions that apply now and what each saves; discount codes are applied at checkout" }),
		discount: Money.openapi({ description: "What those promotions take off the items" }),
		free_shipping: z.boolean().openapi({ description: "A promotion makes shipping free" }),
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

export const SetMarketBody = z
	.object({ market: MarketId.openapi({ description: "The market to shop in (GET /v1/markets)" }) })
	.strict()
	.openapi("CartSetMarketRequest");

export const ShippingMethodsQuery = z.object({
	country: CountryCode.openapi({ description: "The destination: a country of the cart's market" }),
});

export const ShippingMethodsSchema = z
	.object({
		market: MarketSchema,
		country: CountryCode,
		methods: z
			.array(
				z.object({
					id: text(50).openapi({ example: "shm_eustandard" }),
					kind: z.enum(["standard", "express", "pickup"]),
					name: text(200),
					zone: text(200),
					price: Money.openapi({ description: "For the cart as it is now, before discount codes; tax included when the market says so" }),
					free_from: Money.nullable().openapi({ description: "The discounted subtotal from which this method is free" }),
				}),
			)
			.max(100),
	})
	.openapi("ShippingMethods");
