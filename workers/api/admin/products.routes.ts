import { createRoute } from "@hono/zod-openapi";
import {
	AdminProductListQuery,
	AdminProductPageSchema,
	AdminProductSchema,
	CreateProductBody,
	MAX_LIVE_VARIANTS,
	PatchProductBody,
	ProductIdParam,
} from "../../catalog/admin.schemas.ts";
import { authProblems, bearerAuth, bodyProblems, jsonBody, jsonResponse } from "../lib/openapi.ts";
import { problemResponse } from "../lib/problem.ts";

const tags = ["Admin"];
const forbidden = { 403: problemResponse("Not an admin") };
const notFound = { 404: problemResponse("No such product") };

export const listAdminProducts = createRoute({
	method: "get",
	path: "/admin/products",
	tags,
	security: bearerAuth,
	summary: "Every product, whatever its status, newest first, with all its variants",
	request: { query: AdminProductListQuery },
	responses: {
		200: jsonResponse(AdminProductPageSchema, "A page of products"),
		400: problemResponse("Invalid query or cursor"),
		...authProblems,
		...forbidden,
	},
});

export const createAdminProduct = createRoute({
	method: "post",
	path: "/admin/products",
	tags,
	security: bearerAuth,
	summary: "Create a product with its variants (audited)",
	request: { body: jsonBody(CreateProductBody) },
	responses: {
		201: jsonResponse(AdminProductSchema, "Created"),
		...bodyProblems,
		...authProblems,
		...forbidden,
		409: problemResponse("`slug_taken` or `sku_taken`"),
		422: problemResponse("`unknown_category`"),
	},
});

export const updateAdminProduct = createRoute({
	method: "patch",
	path: "/admin/products/{id}",
	tags,
	security: bearerAuth,
	summary: "Change a product and upsert its variants by SKU (audited)",
	request: { params: ProductIdParam, body: jsonBody(PatchProductBody) },
	responses: {
		200: jsonResponse(AdminProductSchema, "Updated"),
		...bodyProblems,
		...authProblems,
		...forbidden,
		...notFound,
		409: problemResponse("`slug_taken`, or `sku_taken` (the SKU belongs to another product)"),
		422: problemResponse(
			`\`unknown_category\`, \`too_many_variants\` (more than ${MAX_LIVE_VARIANTS} live variants) or \`currency_mismatch\` (live variants would mix currencies)`,
		),
	},
});

export const archiveAdminProduct = createRoute({
	method: "delete",
	path: "/admin/products/{id}",
	tags,
	security: bearerAuth,
	summary: "Archive a product (rows are kept: orders reference its SKUs); idempotent",
	request: { params: ProductIdParam },
	responses: {
		200: jsonResponse(AdminProductSchema, "Archived"),
		...authProblems,
		...forbidden,
		...notFound,
	},
});
