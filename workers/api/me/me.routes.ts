import { createRoute, z } from "@hono/zod-openapi";
import { UserSchema } from "../auth/auth.schemas.ts";
import { CartSchema } from "../carts/carts.schemas.ts";
import { authProblems, bearerAuth, bodyProblems, databaseProblems, jsonBody, jsonResponse, problem } from "../lib/openapi.ts";
import { AddressBody, AddressIdParam, AddressPatchBody, AddressSchema, MAX_ADDRESSES, UpdateMeBody } from "./me.schemas.ts";

const tags = ["Accounts"];
const notFound = { 404: problem("No such address among yours") };

export const getMe = createRoute({
	method: "get",
	path: "/me",
	operationId: "getProfile",
	tags,
	security: bearerAuth,
	summary: "Own profile",
	description: "The signed-in customer's account as stored now (a role changed since the token was issued shows here).",
	responses: { 200: jsonResponse(UserSchema, "Profile"), ...databaseProblems, ...authProblems },
});

export const patchMe = createRoute({
	method: "patch",
	path: "/me",
	operationId: "updateProfile",
	tags,
	security: bearerAuth,
	summary: "Change own name or preferences (role and e-mail cannot be changed here)",
	description: "Only the fields sent change. Unknown fields, `role` and `email` included, are refused with 400.",
	request: { body: jsonBody(UpdateMeBody) },
	responses: { 200: jsonResponse(UserSchema, "Updated profile"), ...databaseProblems, ...bodyProblems, ...authProblems },
});

export const listAddresses = createRoute({
	method: "get",
	path: "/me/addresses",
	operationId: "listAddresses",
	tags,
	security: bearerAuth,
	summary: "Own addresses, default first",
	description: `Every address of the signed-in customer (at most ${MAX_ADDRESSES}), the default one first.`,
	responses: {
		200: jsonResponse(z.object({ data: z.array(AddressSchema).max(MAX_ADDRESSES) }), "Addresses"),
		...databaseProblems,
		...authProblems,
	},
});

export const createAddress = createRoute({
	method: "post",
	path: "/me/addresses",
	operationId: "createAddress",
	tags,
	security: bearerAuth,
	summary: `Add an address (at most ${MAX_ADDRESSES})`,
	description: "An address sent with `is_default: true` becomes the default; so does the first one, unless sent with `is_default: false`.",
	request: { body: jsonBody(AddressBody) },
	responses: {
		201: jsonResponse(AddressSchema, "Created"),
		...databaseProblems,
		...bodyProblems,
		...authProblems,
		409: problem(`Already ${MAX_ADDRESSES} addresses`),
	},
});

export const updateAddress = createRoute({
	method: "patch",
	path: "/me/addresses/{id}",
	operationId: "updateAddress",
	tags,
	security: bearerAuth,
	summary: "Change one of own addresses",
	description: "Only the fields sent change; `is_default: true` makes it the default instead of the current one.",
	request: { params: AddressIdParam, body: jsonBody(AddressPatchBody) },
	responses: { 200: jsonResponse(AddressSchema, "Updated"), ...databaseProblems, ...bodyProblems, ...authProblems, ...notFound },
});

export const deleteAddress = createRoute({
	method: "delete",
	path: "/me/addresses/{id}",
	operationId: "deleteAddress",
	tags,
	security: bearerAuth,
	summary: "Delete one of own addresses",
	description: "Someone else's address answers 404, exactly as a missing one does.",
	request: { params: AddressIdParam },
	responses: { 204: { description: "Deleted" }, ...databaseProblems, ...authProblems, ...notFound },
});

export const getMyCart = createRoute({
	method: "get",
	path: "/me/cart",
	operationId: "getCurrentCart",
	tags: ["Carts"],
	security: bearerAuth,
	summary: "Own current cart: the latest one created while signed in, or the one a guest cart was merged into at sign-in",
	description: "Priced as GET /v1/carts/{id} prices it; use its `id` with the cart operations.",
	responses: {
		200: jsonResponse(CartSchema, "The cart, priced now"),
		...databaseProblems,
		...authProblems,
		404: problem("No open cart (none yet, or it expired)"),
	},
});
