import { createRoute } from "@hono/zod-openapi";
import {
	AdminPromotionDetailSchema,
	AdminPromotionListQuery,
	AdminPromotionPageSchema,
	AdminPromotionSchema,
	CreatePromotionBody,
	PatchPromotionBody,
} from "../../orders/promotions-admin.schemas.ts";
import { adminAuth, adminProblems, bodyProblems, databaseProblems, jsonBody, jsonResponse, problem } from "../lib/openapi.ts";
import { idParam } from "../lib/params.ts";

const tags = ["Admin"];
const PromotionIdParam = idParam("prm", "prm_0123456789abcdefghjk");
const notFound = { 404: problem("No such promotion") };
const STACKING =
	"An order gets at most one promotion of each class — product promotions (per line, the largest saving), order promotions, free shipping — the one saving the most; a code competes in its class like an automatic promotion.";
const invalid = problem(
	"`invalid_promotion`: the fields do not fit together (`errors[]` names them: a value out of range for the kind, `fixed` or a minimum subtotal without a currency, quantities only and always for `buy_x_get_y`, `target_ids` empty exactly for `target: order`, free shipping on the whole order only, the end after the start); or `unknown_promotion_target` (`missing[]` lists the product or category ids that do not exist)",
);

export const listAdminPromotions = createRoute({
	method: "get",
	path: "/admin/promotions",
	operationId: "listAdminPromotions",
	tags,
	security: adminAuth,
	summary: "Every promotion, codes and automatic ones, newest first",
	description:
		"Active and inactive promotions, whatever their window. `q` matches part of the code or the name; `active` and `kind` narrow the list; `next_cursor` continues the same query.",
	request: { query: AdminPromotionListQuery },
	responses: {
		200: jsonResponse(AdminPromotionPageSchema, "A page of promotions"),
		...databaseProblems,
		400: problem("Invalid query or cursor"),
		...adminProblems,
	},
});

export const createAdminPromotion = createRoute({
	method: "post",
	path: "/admin/promotions",
	operationId: "createPromotion",
	tags,
	security: adminAuth,
	summary: "Create a discount code or an automatic promotion (audited)",
	description: `With a \`code\`, shoppers apply it at checkout; without one it applies to every order it fits. Amounts are minor units, percentages basis points. ${STACKING}`,
	request: { body: jsonBody(CreatePromotionBody) },
	responses: {
		201: jsonResponse(AdminPromotionSchema, "Created"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		409: problem("`promotion_code_taken`: another promotion has this code"),
		422: invalid,
	},
});

export const getAdminPromotion = createRoute({
	method: "get",
	path: "/admin/promotions/{id}",
	operationId: "getAdminPromotion",
	tags,
	security: adminAuth,
	summary: "One promotion, with how many orders used it and the latest of them",
	description:
		"`redemptions.count` counts the orders holding a use now (an unpaid order that is cancelled gives its use back); `redemptions.recent` lists the latest with their status and total.",
	request: { params: PromotionIdParam },
	responses: {
		200: jsonResponse(AdminPromotionDetailSchema, "The promotion"),
		...databaseProblems,
		...adminProblems,
		...notFound,
	},
});

export const updateAdminPromotion = createRoute({
	method: "patch",
	path: "/admin/promotions/{id}",
	operationId: "updatePromotion",
	tags,
	security: adminAuth,
	summary: "Change any field of a promotion but its uses (audited)",
	description:
		"Only the fields sent change; the rules are checked on the promotion as it will be, so changing `kind` may need other fields sent with it (`null` quantities when leaving `buy_x_get_y`, a currency for `fixed`). Orders already placed keep the discount they got.",
	request: { params: PromotionIdParam, body: jsonBody(PatchPromotionBody) },
	responses: {
		200: jsonResponse(AdminPromotionSchema, "Updated"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		...notFound,
		409: problem("`promotion_code_taken`, or `max_uses_below_used` (`max_uses` below the uses so far, `used_count`)"),
		422: invalid,
	},
});

export const deactivateAdminPromotion = createRoute({
	method: "post",
	path: "/admin/promotions/{id}/deactivate",
	operationId: "deactivatePromotion",
	tags,
	security: adminAuth,
	summary: "Stop a promotion at once; idempotent (audited)",
	description:
		"Checkout stops applying it; orders that used it keep their discount and the promotion stays for their history. Deactivating an inactive promotion succeeds and changes nothing; `active: true` through PATCH resumes it.",
	request: { params: PromotionIdParam },
	responses: {
		200: jsonResponse(AdminPromotionSchema, "Deactivated"),
		...databaseProblems,
		...adminProblems,
		...notFound,
	},
});

export const deleteAdminPromotion = createRoute({
	method: "delete",
	path: "/admin/promotions/{id}",
	operationId: "deletePromotion",
	tags,
	security: adminAuth,
	summary: "Delete a promotion no order ever used (audited)",
	description:
		"Meant for mistakes: a promotion any order used (or lists, even one cancelled since) is never deleted, since orders keep referring to it; deactivate it instead.",
	request: { params: PromotionIdParam },
	responses: {
		204: { description: "Deleted" },
		...databaseProblems,
		...adminProblems,
		...notFound,
		409: problem("`promotion_used`: orders used the promotion; deactivate it instead"),
	},
});
