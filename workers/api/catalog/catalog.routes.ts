import { createRoute, z } from "@hono/zod-openapi";
import { databaseProblems, jsonResponse, problem, publicAccess } from "../lib/openapi.ts";
import { CategorySchema, IdOrSlugParam, ProductListQuery, ProductPageSchema, ProductSchema } from "./catalog.schemas.ts";

const tags = ["Catalog"];
const notModified = { 304: { description: "Not modified (If-None-Match matched the ETag)" } };

export const listProducts = createRoute({
	method: "get",
	path: "/products",
	operationId: "listProducts",
	tags,
	security: publicAccess,
	summary: "Search and browse active products (cursor pagination, cacheable)",
	description:
		"Filters combine: full-text `q`, a category with its sub-categories, a price range and stock. Pages follow `next_cursor`; a cursor only continues the query that made it.",
	request: { query: ProductListQuery },
	responses: {
		200: jsonResponse(ProductPageSchema, "A page of products; ETag and Cache-Control set"),
		...notModified,
		...databaseProblems,
		400: problem("Invalid query or cursor"),
	},
});

export const getProduct = createRoute({
	method: "get",
	path: "/products/{idOrSlug}",
	operationId: "getProduct",
	tags,
	security: publicAccess,
	summary: "An active product with its variants, prices and media",
	description: "Found by its id or its slug. Drafts and archived products answer 404, as unknown ones do.",
	request: { params: IdOrSlugParam },
	responses: {
		200: jsonResponse(ProductSchema, "The product; ETag and Cache-Control set"),
		...notModified,
		...databaseProblems,
		404: problem("No active product with this id or slug"),
	},
});

export const listCategories = createRoute({
	method: "get",
	path: "/categories",
	operationId: "listCategories",
	tags,
	security: publicAccess,
	summary: "The category tree",
	description: "Top-level categories with their sub-categories nested under `children`, in display order.",
	responses: {
		200: jsonResponse(z.object({ data: z.array(CategorySchema).max(1000) }), "Categories"),
		...notModified,
		...databaseProblems,
	},
});
