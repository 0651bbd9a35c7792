import { createRoute, z } from "@hono/zod-openapi";
import { jsonResponse } from "../lib/openapi.ts";
import { problemResponse } from "../lib/problem.ts";
import { CategorySchema, IdOrSlugParam, ProductListQuery, ProductPageSchema, ProductSchema } from "./catalog.schemas.ts";

const tags = ["Catalog"];
const notModified = { 304: { description: "Not modified (If-None-Match matched the ETag)" } };

export const listProducts = createRoute({
	method: "get",
	path: "/products",
	tags,
	summary: "Search and browse active products (cursor pagination, cacheable)",
	request: { query: ProductListQuery },
	responses: {
		200: jsonResponse(ProductPageSchema, "A page of products; ETag and Cache-Control set"),
		...notModified,
		400: problemResponse("Invalid query or cursor"),
	},
});

export const getProduct = createRoute({
	method: "get",
	path: "/products/{idOrSlug}",
	tags,
	summary: "An active product with its variants, prices and media",
	request: { params: IdOrSlugParam },
	responses: {
		200: jsonResponse(ProductSchema, "The product; ETag and Cache-Control set"),
		...notModified,
		404: problemResponse("No active product with this id or slug"),
	},
});

export const listCategories = createRoute({
	method: "get",
	path: "/categories",
	tags,
	summary: "The category tree",
	responses: { 200: jsonResponse(z.object({ data: z.array(CategorySchema) }), "Categories"), ...notModified },
});
