import { createRoute, z } from "@hono/zod-openapi";
import { adminAuth, adminProblems, bodyProblems, databaseProblems, jsonBody, jsonResponse, problem } from "../lib/openapi.ts";
import {
	AffiliateId,
	AffiliateListQuery,
	AffiliateOrderPageSchema,
	AffiliateOrdersQuery,
	AffiliatePageSchema,
	AffiliateReportQuery,
	AffiliateReportSchema,
	AffiliateSchema,
	CreateAffiliateBody,
	PatchAffiliateBody,
} from "./affiliates.schemas.ts";

const tags = ["Admin"];
const AffiliateIdParam = z.object({ id: AffiliateId.openapi({ param: { name: "id", in: "path" } }) });
const notFound = { 404: problem("No such affiliate") };

export const listAffiliates = createRoute({
	method: "get",
	path: "/admin/affiliates",
	operationId: "listAffiliates",
	tags,
	security: adminAuth,
	summary: "Every affiliate, by code, with its referral link",
	description: "Active and inactive affiliates in code order; `active` narrows the list, `next_cursor` continues it.",
	request: { query: AffiliateListQuery },
	responses: {
		200: jsonResponse(AffiliatePageSchema, "A page of affiliates"),
		...databaseProblems,
		400: problem("Invalid query or cursor"),
		...adminProblems,
	},
});

export const createAffiliate = createRoute({
	method: "post",
	path: "/admin/affiliates",
	operationId: "createAffiliate",
	tags,
	security: adminAuth,
	summary: "Create an affiliate with its code and commission rate (audited)",
	description:
		"The code is what the referral link carries (`<shop>/?ref=CODE`) and cannot change afterwards. The storefront attributes a shopper's orders to the last active affiliate whose link they followed within AFFILIATE_COOKIE_DAYS.",
	request: { body: jsonBody(CreateAffiliateBody) },
	responses: {
		201: jsonResponse(AffiliateSchema, "Created"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		409: problem("`affiliate_code_taken`: another affiliate has this code"),
	},
});

export const updateAffiliate = createRoute({
	method: "patch",
	path: "/admin/affiliates/{id}",
	operationId: "updateAffiliate",
	tags,
	security: adminAuth,
	summary: "Change an affiliate's name, e-mail, rate, or deactivate it (audited)",
	description:
		"Only the fields sent change. `active: false` stops new attributions through the code; orders already attributed keep their affiliate. A new rate applies to orders paid from then on.",
	request: { params: AffiliateIdParam, body: jsonBody(PatchAffiliateBody) },
	responses: {
		200: jsonResponse(AffiliateSchema, "Updated"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		...notFound,
	},
});

export const affiliateReport = createRoute({
	method: "get",
	path: "/admin/affiliates/report",
	operationId: "getAffiliateReport",
	tags,
	security: adminAuth,
	summary: "Orders and commission per affiliate and currency over a date range",
	description:
		"Counts the attributed orders paid between `from` and `to` (UTC days, inclusive), leaving out unpaid and cancelled ones: what they sold, the commission earned, what refunds reversed so far, and the net.",
	request: { query: AffiliateReportQuery },
	responses: {
		200: jsonResponse(AffiliateReportSchema, "The report"),
		...databaseProblems,
		400: problem("Malformed date, or `from` after `to`"),
		...adminProblems,
	},
});

export const listAffiliateOrders = createRoute({
	method: "get",
	path: "/admin/affiliates/{id}/orders",
	operationId: "listAffiliateOrders",
	tags,
	security: adminAuth,
	summary: "The orders that earned one affiliate commission, newest payment first",
	description: "Each paid attributed order with its status now, what it sold, the rate, the commission and what refunds reversed of it.",
	request: { params: AffiliateIdParam, query: AffiliateOrdersQuery },
	responses: {
		200: jsonResponse(AffiliateOrderPageSchema, "A page of orders"),
		...databaseProblems,
		400: problem("Invalid query or cursor"),
		...adminProblems,
		...notFound,
	},
});
