import { createRoute } from "@hono/zod-openapi";
import { authProblems, bearerAuth, bodyProblems, jsonBody, jsonResponse } from "../lib/openapi.ts";
import { problemResponse } from "../lib/problem.ts";
import {
	AddItemBody,
	CartHoldSchema,
	CartIdParam,
	CartLineParam,
	CartSchema,
	CartTokenHeader,
	CreatedCartSchema,
	MergeBody,
	MergedCartSchema,
	SetQuantityBody,
} from "./carts.schemas.ts";

const tags = ["Carts"];
/** Either proof of ownership works: a guest's X-Cart-Token or a signed-in user's bearer token. */
const security = [{}, ...bearerAuth];
const notFound = { 404: problemResponse("No such cart, or not yours") };
const lineRefusals = { 422: problemResponse("unknown_sku, quantity_limit (99 per line) or line_limit (50 lines)") };

export const createCart = createRoute({
	method: "post",
	path: "/carts",
	tags,
	security,
	summary: "Start a cart: a user cart with a bearer token, else a guest cart whose token is returned once",
	responses: { 201: jsonResponse(CreatedCartSchema, "The new, empty cart"), ...authProblems },
});

export const getCart = createRoute({
	method: "get",
	path: "/carts/{id}",
	tags,
	security,
	summary: "Lines and informative totals at current prices",
	request: { params: CartIdParam, headers: CartTokenHeader },
	responses: { 200: jsonResponse(CartSchema, "The cart"), 400: problemResponse("Malformed cart id"), ...authProblems, ...notFound },
});

export const addItem = createRoute({
	method: "post",
	path: "/carts/{id}/items",
	tags,
	security,
	summary: "Add units of a SKU (to its line if there is one)",
	request: { params: CartIdParam, headers: CartTokenHeader, body: jsonBody(AddItemBody) },
	responses: { 200: jsonResponse(CartSchema, "The cart"), ...bodyProblems, ...authProblems, ...notFound, ...lineRefusals },
});

export const setItemQuantity = createRoute({
	method: "patch",
	path: "/carts/{id}/items/{sku}",
	tags,
	security,
	summary: "Set a line's quantity; 0 removes it",
	request: { params: CartLineParam, headers: CartTokenHeader, body: jsonBody(SetQuantityBody) },
	responses: {
		200: jsonResponse(CartSchema, "The cart"),
		...bodyProblems,
		...authProblems,
		404: problemResponse("No such cart, or not yours, or no such line (code line_not_found)"),
		...lineRefusals,
	},
});

export const removeItem = createRoute({
	method: "delete",
	path: "/carts/{id}/items/{sku}",
	tags,
	security,
	summary: "Remove a line (removing an absent line succeeds)",
	request: { params: CartLineParam, headers: CartTokenHeader },
	responses: { 200: jsonResponse(CartSchema, "The cart"), 400: problemResponse("Malformed id or SKU"), ...authProblems, ...notFound },
});

export const mergeCart = createRoute({
	method: "post",
	path: "/carts/{id}/merge",
	tags,
	security: bearerAuth,
	summary: "Merge a guest cart into the signed-in user's cart; the guest cart is then closed",
	description:
		"Quantities of the same SKU are summed and capped at 99; SKUs beyond the 50-line cap are dropped (both listed under `merge`). Only the guest-token holder can merge a guest cart, and only into a cart of the signed-in user.",
	request: { params: CartIdParam, body: jsonBody(MergeBody) },
	responses: { 200: jsonResponse(MergedCartSchema, "The merged cart"), ...bodyProblems, ...authProblems, ...notFound },
});

const holdDescription =
	"Reserves every line of the cart, all or nothing, for the reservation lifetime (15 minutes by default), so the stock cannot sell out while the shopper enters address and payment. " +
	"Checkout of the unchanged cart adopts the held units instead of reserving again. Changing the cart, closing it or merging into it gives the units back; so does the hold running out. " +
	"Holding again while a hold covers the cart answers that hold (200) and neither takes more stock nor extends it.";

export const holdCart = createRoute({
	method: "post",
	path: "/carts/{id}/hold",
	tags,
	security,
	summary: "Hold stock for the cart's lines until checkout",
	description: holdDescription,
	request: { params: CartIdParam, headers: CartTokenHeader },
	responses: {
		201: jsonResponse(CartHoldSchema, "Stock held"),
		200: jsonResponse(CartHoldSchema, "The hold that already covers the cart"),
		400: problemResponse("Malformed cart id"),
		...authProblems,
		...notFound,
		409: problemResponse("out_of_stock (the short lines under `lines`) or cart_changed (changed while being held: hold again)"),
		422: problemResponse("cart_empty"),
		503: problemResponse("Stock could not be reserved now; retry (Retry-After)"),
	},
});

export const releaseHold = createRoute({
	method: "delete",
	path: "/carts/{id}/hold",
	tags,
	security,
	summary: "Give back the stock held for the cart",
	request: { params: CartIdParam, headers: CartTokenHeader },
	responses: {
		204: { description: "Released (also when nothing was held)" },
		400: problemResponse("Malformed cart id"),
		...authProblems,
		...notFound,
	},
});
