import { createRoute } from "@hono/zod-openapi";
import { MarketQuery } from "../lib/market.ts";
import { authProblems, bearerAuth, bodyProblems, databaseProblems, jsonBody, jsonResponse, problem } from "../lib/openapi.ts";
import { CartIdParam } from "../lib/params.ts";
import {
	AddItemBody,
	CartHoldSchema,
	CartLineParam,
	CartSchema,
	CartTokenHeader,
	CreatedCartSchema,
	MergeBody,
	MergedCartSchema,
	SetMarketBody,
	SetQuantityBody,
	ShippingMethodsQuery,
	ShippingMethodsSchema,
} from "./carts.schemas.ts";

const tags = ["Carts"];
/** Either proof of ownership works: a guest's X-Cart-Token or a signed-in user's bearer token. */
const security = [{}, ...bearerAuth];
const notFound = { 404: problem("No such cart, or not yours") };
const lineRefusals = {
	422: problem(
		"`unknown_sku`, `not_sold_in_market` (no price in the cart's market), `quantity_limit` (MAX_UNITS_PER_SKU units of a SKU) or `line_limit` (50 lines)",
	),
};

export const createCart = createRoute({
	method: "post",
	path: "/carts",
	operationId: "createCart",
	tags,
	security,
	summary: "Start a cart: a user cart with a bearer token, else a guest cart whose token is returned once",
	description:
		"With a bearer token the cart belongs to the signed-in user and becomes their current cart (GET /v1/me/cart). Without one it is a guest cart: the answer carries its `token` once, to be sent as X-Cart-Token on every later call. " +
		"The cart shops in one market: `?market=`, else the market of `?country=`, else that of the request's country, else the default market. Its lines are priced in that market's currency, and checkout ships only to its countries.",
	request: { query: MarketQuery },
	responses: {
		201: jsonResponse(CreatedCartSchema, "The new, empty cart"),
		...databaseProblems,
		400: problem("Malformed `market` or `country`"),
		...authProblems,
		422: problem("`unknown_market`"),
	},
});

export const getCart = createRoute({
	method: "get",
	path: "/carts/{id}",
	operationId: "getCart",
	tags,
	security,
	summary: "Lines and informative totals at current prices",
	description:
		"Prices come from the catalog now, not from when the lines were added; totals are informative, checkout prices the order again. Lines whose SKU went off sale stay, marked `available: false`.",
	request: { params: CartIdParam, headers: CartTokenHeader },
	responses: {
		200: jsonResponse(CartSchema, "The cart"),
		...databaseProblems,
		400: problem("Malformed cart id or X-Cart-Token"),
		...authProblems,
		...notFound,
	},
});

export const addItem = createRoute({
	method: "post",
	path: "/carts/{id}/items",
	operationId: "addCartItem",
	tags,
	security,
	summary: "Add units of a SKU (to its line if there is one)",
	description: "The SKU must be on sale now. Adding to a held cart gives the held units back (hold again before checkout).",
	request: { params: CartIdParam, headers: CartTokenHeader, body: jsonBody(AddItemBody) },
	responses: {
		200: jsonResponse(CartSchema, "The cart"),
		...databaseProblems,
		...bodyProblems,
		...authProblems,
		...notFound,
		...lineRefusals,
	},
});

export const setItemQuantity = createRoute({
	method: "patch",
	path: "/carts/{id}/items/{sku}",
	operationId: "setCartItemQuantity",
	tags,
	security,
	summary: "Set a line's quantity; 0 removes it",
	description: "Raising a line needs its SKU on sale; lowering or removing one works even after it went off sale.",
	request: { params: CartLineParam, headers: CartTokenHeader, body: jsonBody(SetQuantityBody) },
	responses: {
		200: jsonResponse(CartSchema, "The cart"),
		...databaseProblems,
		...bodyProblems,
		...authProblems,
		404: problem("No such cart, or not yours, or no such line (code line_not_found)"),
		...lineRefusals,
	},
});

export const removeItem = createRoute({
	method: "delete",
	path: "/carts/{id}/items/{sku}",
	operationId: "removeCartItem",
	tags,
	security,
	summary: "Remove a line (removing an absent line succeeds)",
	description: "Idempotent: removing a SKU the cart has no line for answers the cart unchanged.",
	request: { params: CartLineParam, headers: CartTokenHeader },
	responses: {
		200: jsonResponse(CartSchema, "The cart"),
		...databaseProblems,
		400: problem("Malformed id, SKU or X-Cart-Token"),
		...authProblems,
		...notFound,
	},
});

export const mergeCart = createRoute({
	method: "post",
	path: "/carts/{id}/merge",
	operationId: "mergeCart",
	tags,
	security: bearerAuth,
	summary: "Merge a guest cart into the signed-in user's cart; the guest cart is then closed",
	description:
		"Quantities of the same SKU are summed and capped at 99; SKUs beyond the 50-line cap are dropped (both listed under `merge`). Only the guest-token holder can merge a guest cart, and only into a cart of the signed-in user.",
	request: { params: CartIdParam, body: jsonBody(MergeBody) },
	responses: {
		200: jsonResponse(MergedCartSchema, "The merged cart"),
		...databaseProblems,
		...bodyProblems,
		...authProblems,
		...notFound,
	},
});

const holdDescription =
	"Reserves every line of the cart, all or nothing, for the reservation lifetime (15 minutes by default), so the stock cannot sell out while the shopper enters address and payment. " +
	"Checkout of the unchanged cart adopts the held units instead of reserving again. Changing the cart, closing it or merging into it gives the units back; so does the hold running out. " +
	"Holding again while a hold covers the cart answers that hold (200) and neither takes more stock nor extends it.";

export const holdCart = createRoute({
	method: "post",
	path: "/carts/{id}/hold",
	operationId: "holdCart",
	tags,
	security,
	summary: "Hold stock for the cart's lines until checkout",
	description: holdDescription,
	request: { params: CartIdParam, headers: CartTokenHeader },
	responses: {
		201: jsonResponse(CartHoldSchema, "Stock held"),
		200: jsonResponse(CartHoldSchema, "The hold that already covers the cart"),
		...databaseProblems,
		400: problem("Malformed cart id or X-Cart-Token"),
		...authProblems,
		...notFound,
		409: problem("out_of_stock (the short lines under `lines`) or cart_changed (changed while being held: hold again)"),
		422: problem("cart_empty"),
		429: problem(
			"`hold_limit`: this client already holds as many units as one client may (MAX_HELD_UNITS_PER_CLIENT) until its earliest hold runs out (Retry-After)",
		),
		503: problem("Stock could not be reserved now; retry (Retry-After)"),
	},
});

export const releaseHold = createRoute({
	method: "delete",
	path: "/carts/{id}/hold",
	operationId: "releaseCartHold",
	tags,
	security,
	summary: "Give back the stock held for the cart",
	description: "Idempotent: releasing a cart that holds nothing succeeds too.",
	request: { params: CartIdParam, headers: CartTokenHeader },
	responses: {
		204: { description: "Released (also when nothing was held)" },
		...databaseProblems,
		400: problem("Malformed cart id or X-Cart-Token"),
		...authProblems,
		...notFound,
	},
});

export const setCartMarket = createRoute({
	method: "patch",
	path: "/carts/{id}",
	operationId: "setCartMarket",
	tags,
	security,
	summary: "Move the cart to another market",
	description:
		"The cart's lines stay and are priced in the new market from now on; a line not sold there shows `available: false`. A stock hold is given back, like any change of the cart.",
	request: { params: CartIdParam, headers: CartTokenHeader, body: jsonBody(SetMarketBody) },
	responses: {
		200: jsonResponse(CartSchema, "The cart in its new market"),
		...databaseProblems,
		...bodyProblems,
		...authProblems,
		...notFound,
		422: problem("`unknown_market`"),
		429: problem("Too many writes to this cart (Retry-After)"),
	},
});

export const listShippingMethods = createRoute({
	method: "get",
	path: "/carts/{id}/shipping-methods",
	operationId: "listCartShippingMethods",
	tags,
	security,
	summary: "The shipping methods offered for this cart to a country, with their prices",
	description:
		"Every active method of the cart's market whose zone lists the country and whose rate prices this parcel (by weight or subtotal), cheapest rules first by the merchant's order. Pass one's `id` as `shipping_method` at checkout; without it checkout picks the first standard method.",
	request: { params: CartIdParam, headers: CartTokenHeader, query: ShippingMethodsQuery },
	responses: {
		200: jsonResponse(ShippingMethodsSchema, "The methods offered"),
		...databaseProblems,
		400: problem("Malformed cart id, X-Cart-Token or country"),
		...authProblems,
		...notFound,
		422: problem("`country_not_in_market`: the cart's market does not ship there (the market that does is named)"),
	},
});
