import { createRoute, z } from "@hono/zod-openapi";
import { UserSchema } from "../auth/auth.schemas.ts";
import { CartSchema } from "../carts/carts.schemas.ts";
import { authProblems, bearerAuth, bodyProblems, jsonBody, jsonResponse } from "../lib/openapi.ts";
import { problemResponse } from "../lib/problem.ts";
import { AddressBody, AddressIdParam, AddressPatchBody, AddressSchema, MAX_ADDRESSES, UpdateMeBody } from "./me.schemas.ts";

const tags = ["Accounts"];
const notFound = { 404: problemResponse("No such address among yours") };

export const getMe = createRoute({
	method: "get",
	path: "/me",
	tags,
	security: bearerAuth,
	summary: "Own profile",
	responses: { 200: jsonResponse(UserSchema, "Profile"), ...authProblems },
});

export const patchMe = createRoute({
	method: "patch",
	path: "/me",
	tags,
	security: bearerAuth,
	summary: "Change own name or preferences (role and e-mail cannot be changed here)",
	request: { body: jsonBody(UpdateMeBody) },
	responses: { 200: jsonResponse(UserSchema, "Updated profile"), ...bodyProblems, ...authProblems },
});

export const listAddresses = createRoute({
	method: "get",
	path: "/me/addresses",
	tags,
	security: bearerAuth,
	summary: "Own addresses, default first",
	responses: { 200: jsonResponse(z.object({ data: z.array(AddressSchema) }), "Addresses"), ...authProblems },
});

export const createAddress = createRoute({
	method: "post",
	path: "/me/addresses",
	tags,
	security: bearerAuth,
	summary: `Add an address (at most ${MAX_ADDRESSES})`,
	request: { body: jsonBody(AddressBody) },
	responses: {
		201: jsonResponse(AddressSchema, "Created"),
		...bodyProblems,
		...authProblems,
		409: problemResponse(`Already ${MAX_ADDRESSES} addresses`),
	},
});

export const updateAddress = createRoute({
	method: "patch",
	path: "/me/addresses/{id}",
	tags,
	security: bearerAuth,
	summary: "Change one of own addresses",
	request: { params: AddressIdParam, body: jsonBody(AddressPatchBody) },
	responses: { 200: jsonResponse(AddressSchema, "Updated"), ...bodyProblems, ...authProblems, ...notFound },
});

export const deleteAddress = createRoute({
	method: "delete",
	path: "/me/addresses/{id}",
	tags,
	security: bearerAuth,
	summary: "Delete one of own addresses",
	request: { params: AddressIdParam },
	responses: { 204: { description: "Deleted" }, ...authProblems, ...notFound },
});

export const getMyCart = createRoute({
	method: "get",
	path: "/me/cart",
	tags: ["Carts"],
	security: bearerAuth,
	summary: "Own current cart: the latest one created while signed in, or the one a guest cart was merged into at sign-in",
	responses: {
		200: jsonResponse(CartSchema, "The cart, priced now"),
		...authProblems,
		404: problemResponse("No open cart (none yet, or it expired)"),
	},
});
