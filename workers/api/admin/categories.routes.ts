import { createRoute, z } from "@hono/zod-openapi";
import { AdminCategorySchema, AdminCategoryTreeSchema, CreateCategoryBody, PatchCategoryBody } from "../../catalog/categories.schemas.ts";
import { adminAuth, adminProblems, bodyProblems, databaseProblems, jsonBody, jsonResponse, problem } from "../lib/openapi.ts";
import { catalogIdPattern, prefixedId } from "../lib/params.ts";

const tags = ["Admin"];
const notFound = { 404: problem("No such category") };

/** Catalog ids: the demo seed derives its own (see params.ts), so only the prefix and alphabet are certain. */
const CategoryIdParam = z.object({
	id: prefixedId(catalogIdPattern("cat"), "cat_0a1b2c3d4e5f6g7h8i9j").openapi({ param: { name: "id", in: "path" } }),
});

export const listAdminCategories = createRoute({
	method: "get",
	path: "/admin/categories",
	operationId: "listAdminCategories",
	tags,
	security: adminAuth,
	summary: "The whole category tree, with each category's product count",
	description:
		"Top-level categories with their sub-categories nested under `children`, siblings by position then name. `product_count` counts the products filed directly under a category, whatever their status.",
	responses: {
		200: jsonResponse(AdminCategoryTreeSchema, "The category tree"),
		...databaseProblems,
		...adminProblems,
	},
});

export const createAdminCategory = createRoute({
	method: "post",
	path: "/admin/categories",
	operationId: "createCategory",
	tags,
	security: adminAuth,
	summary: "Create a category, at the top or under a parent (audited)",
	description:
		"The slug is derived from the name when absent; the position defaults to after the new category's siblings. The public category tree shows it within seconds.",
	request: { body: jsonBody(CreateCategoryBody) },
	responses: {
		201: jsonResponse(AdminCategorySchema, "Created"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		409: problem("`slug_taken`: another category has this slug"),
		422: problem("`unknown_category`: no category has the `parent_id`"),
	},
});

export const updateAdminCategory = createRoute({
	method: "patch",
	path: "/admin/categories/{id}",
	operationId: "updateCategory",
	tags,
	security: adminAuth,
	summary: "Rename, re-slug, move or re-order a category (audited)",
	description:
		"Only the fields sent change. A new `parent_id` moves the category with all its sub-categories; null moves it to the top. It cannot move under itself or one of its own descendants.",
	request: { params: CategoryIdParam, body: jsonBody(PatchCategoryBody) },
	responses: {
		200: jsonResponse(AdminCategorySchema, "Updated"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		...notFound,
		409: problem("`slug_taken`: another category has this slug"),
		422: problem(
			"`unknown_category` (no category has the `parent_id`) or `category_cycle` (the new parent is the category itself or inside its subtree)",
		),
	},
});

export const deleteAdminCategory = createRoute({
	method: "delete",
	path: "/admin/categories/{id}",
	operationId: "deleteCategory",
	tags,
	security: adminAuth,
	summary: "Delete an empty category (audited)",
	description:
		"Only a category without sub-categories and without products (of any status) can go: move or delete those first. The refusal says how many of each are left.",
	request: { params: CategoryIdParam },
	responses: {
		204: { description: "Deleted" },
		...databaseProblems,
		...adminProblems,
		...notFound,
		409: problem("`category_not_empty`: the category still has sub-categories or products (`children`, `products` count them)"),
	},
});
