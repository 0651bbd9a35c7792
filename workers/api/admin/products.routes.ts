import { createRoute } from "@hono/zod-openapi";
import {
	AdminProductListQuery,
	AdminProductPageSchema,
	AdminProductSchema,
	CreateProductBody,
	MAX_LIVE_VARIANTS,
	PatchProductBody,
} from "../../catalog/admin.schemas.ts";
import { adminAuth, adminProblems, bodyProblems, databaseProblems, jsonBody, jsonResponse, problem } from "../lib/openapi.ts";
import { ProductIdParam } from "../lib/params.ts";

const tags = ["Admin"];
const notFound = { 404: problem("No such product") };

export const listAdminProducts = createRoute({
	method: "get",
	path: "/admin/products",
	operationId: "listAdminProducts",
	tags,
	security: adminAuth,
	summary: "Every product, whatever its status, newest first, with all its variants",
	description:
		"Drafts and archived products included. `q` matches part of the title, slug or a SKU; `next_cursor` continues the same query.",
	request: { query: AdminProductListQuery },
	responses: {
		200: jsonResponse(AdminProductPageSchema, "A page of products"),
		...databaseProblems,
		400: problem("Invalid query or cursor"),
		...adminProblems,
	},
});

export const createAdminProduct = createRoute({
	method: "post",
	path: "/admin/products",
	operationId: "createProduct",
	tags,
	security: adminAuth,
	summary: "Create a product with its variants (audited)",
	description:
		"Starts as a draft unless `status` says otherwise; the slug is derived from the title when absent. All variants share one currency.",
	request: { body: jsonBody(CreateProductBody) },
	responses: {
		201: jsonResponse(AdminProductSchema, "Created"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		409: problem("`slug_taken` or `sku_taken`"),
		422: problem("`unknown_category`"),
	},
});

export const updateAdminProduct = createRoute({
	method: "patch",
	path: "/admin/products/{id}",
	operationId: "updateProduct",
	tags,
	security: adminAuth,
	summary: "Change a product and upsert its variants by SKU (audited)",
	description: "Only the fields sent change; `attributes` is replaced as a whole. Changes reach the public catalog within seconds.",
	request: { params: ProductIdParam, body: jsonBody(PatchProductBody) },
	responses: {
		200: jsonResponse(AdminProductSchema, "Updated"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		...notFound,
		409: problem("`slug_taken`, or `sku_taken` (the SKU belongs to another product)"),
		422: problem(
			`\`unknown_category\`, \`too_many_variants\` (more than ${MAX_LIVE_VARIANTS} live variants) or \`currency_mismatch\` (live variants would mix currencies)`,
		),
	},
});

export const archiveAdminProduct = createRoute({
	method: "delete",
	path: "/admin/products/{id}",
	operationId: "archiveProduct",
	tags,
	security: adminAuth,
	summary: "Archive a product (rows are kept: orders reference its SKUs); idempotent",
	description:
		"The product leaves the public catalog; its rows stay, since orders reference its SKUs. Archiving an archived product succeeds.",
	request: { params: ProductIdParam },
	responses: {
		200: jsonResponse(AdminProductSchema, "Archived"),
		...databaseProblems,
		...adminProblems,
		...notFound,
	},
});
