import { createRoute, z } from "@hono/zod-openapi";
import {
	CreateMethodBody,
	CreateZoneBody,
	PatchMethodBody,
	PatchZoneBody,
	ShippingMethodSchema,
	ShippingZoneListQuery,
	ShippingZoneListSchema,
	ShippingZoneSchema,
} from "../../markets/admin.schemas.ts";
import { adminAuth, adminProblems, bodyProblems, databaseProblems, jsonBody, jsonResponse, problem } from "../lib/openapi.ts";
import { prefixedId } from "../lib/params.ts";

const tags = ["Admin"];

/**
 * Zone and method ids. The app makes them with `newId`, but the seeded ones
 * (migrations/0016) are named (`shz_eu`, `shm_eustandard`), so only the
 * prefix and lower-case letters and digits are certain, as with catalog ids.
 * The examples name nothing: tools that try operations with them (the fuzz
 * test does) must not delete the shop's zones.
 */
const ZoneIdParam = z.object({
	id: prefixedId(/^shz_[0-9a-z]{1,40}$/, "shz_9q0x7v3b6n1c5d4f8k2m").openapi({ param: { name: "id", in: "path" } }),
});
const MethodIdParam = z.object({
	id: prefixedId(/^shm_[0-9a-z]{1,40}$/, "shm_9q0x7v3b6n1c5d4f8k2m").openapi({ param: { name: "id", in: "path" } }),
});

const zoneNotFound = { 404: problem("No such shipping zone") };
const methodNotFound = { 404: problem("No such shipping method") };
const rateProblem = "`invalid_shipping_rate`: the rate breaks a rule (tiers out of order, a field its type needs); `errors[]` says which";

export const listAdminShippingZones = createRoute({
	method: "get",
	path: "/admin/shipping-zones",
	operationId: "listShippingZones",
	tags,
	security: adminAuth,
	summary: "Shipping zones with their methods",
	description:
		"By market (the default first), then zone name; each zone lists the countries it ships to and its methods by position, inactive ones included.",
	request: { query: ShippingZoneListQuery },
	responses: {
		200: jsonResponse(ShippingZoneListSchema, "The zones"),
		...databaseProblems,
		400: problem("Invalid query"),
		...adminProblems,
	},
});

export const createAdminShippingZone = createRoute({
	method: "post",
	path: "/admin/shipping-zones",
	operationId: "createShippingZone",
	tags,
	security: adminAuth,
	summary: "Create a shipping zone in a market (audited)",
	description: "The zone ships to some of its market's countries; zones may overlap (a country-wide zone and a city's pickup zone).",
	request: { body: jsonBody(CreateZoneBody) },
	responses: {
		201: jsonResponse(ShippingZoneSchema, "Created"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		422: problem("`unknown_market`, or `zone_country_not_in_market` (`countries` lists those the market does not sell to)"),
	},
});

export const updateAdminShippingZone = createRoute({
	method: "patch",
	path: "/admin/shipping-zones/{id}",
	operationId: "updateShippingZone",
	tags,
	security: adminAuth,
	summary: "Rename a shipping zone or replace its countries (audited)",
	description: "`countries` is replaced as a whole and must all belong to the zone's market; a zone stays in its market.",
	request: { params: ZoneIdParam, body: jsonBody(PatchZoneBody) },
	responses: {
		200: jsonResponse(ShippingZoneSchema, "Updated"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		...zoneNotFound,
		422: problem("`zone_country_not_in_market`"),
	},
});

export const deleteAdminShippingZone = createRoute({
	method: "delete",
	path: "/admin/shipping-zones/{id}",
	operationId: "deleteShippingZone",
	tags,
	security: adminAuth,
	summary: "Delete a shipping zone with its methods (audited)",
	description: "Orders keep their own copy of the method they were shipped with, so deleting one changes no order.",
	request: { params: ZoneIdParam },
	responses: {
		204: { description: "Deleted" },
		...databaseProblems,
		...adminProblems,
		...zoneNotFound,
	},
});

export const createAdminShippingMethod = createRoute({
	method: "post",
	path: "/admin/shipping-zones/{id}/methods",
	operationId: "createShippingMethod",
	tags,
	security: adminAuth,
	summary: "Add a shipping method to a zone (audited)",
	description:
		"The rate is flat, by weight tiers or by subtotal tiers, in minor units of the zone's market's currency; `free_from_minor` makes it free from a discounted subtotal.",
	request: { params: ZoneIdParam, body: jsonBody(CreateMethodBody) },
	responses: {
		201: jsonResponse(ShippingMethodSchema, "Created"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		...zoneNotFound,
		422: problem(rateProblem),
	},
});

export const updateAdminShippingMethod = createRoute({
	method: "patch",
	path: "/admin/shipping-methods/{id}",
	operationId: "updateShippingMethod",
	tags,
	security: adminAuth,
	summary: "Change a shipping method (audited)",
	description: "Only the fields sent change; `rate` is replaced as a whole. Checkout offers the changed method at once.",
	request: { params: MethodIdParam, body: jsonBody(PatchMethodBody) },
	responses: {
		200: jsonResponse(ShippingMethodSchema, "Updated"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		...methodNotFound,
		422: problem(rateProblem),
	},
});

export const deleteAdminShippingMethod = createRoute({
	method: "delete",
	path: "/admin/shipping-methods/{id}",
	operationId: "deleteShippingMethod",
	tags,
	security: adminAuth,
	summary: "Delete a shipping method (audited)",
	description:
		"Orders keep their own copy of the method they were shipped with; to stop offering a method for a while, set `active: false` instead.",
	request: { params: MethodIdParam },
	responses: {
		204: { description: "Deleted" },
		...databaseProblems,
		...adminProblems,
		...methodNotFound,
	},
});
