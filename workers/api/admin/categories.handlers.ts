import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AuditActor } from "../../catalog/audit.ts";
import { adminCategoryTree, createCategory, deleteCategory, updateCategory } from "../../catalog/categories.ts";
import type { AppEnv } from "../types.ts";
import type { createAdminCategory, deleteAdminCategory, listAdminCategories, updateAdminCategory } from "./categories.routes.ts";

/** The admin behind the bearer token, as the audit log records them. */
const actorOf = (c: Context<AppEnv>): AuditActor => ({ userId: c.get("auth").userId, requestId: c.get("requestId") });

export const listAdminCategoriesHandler: RouteHandler<typeof listAdminCategories, AppEnv> = async (c) =>
	// The primary, not a replica: an admin expects to see the edit they just made.
	c.json({ data: await adminCategoryTree(c.get("database").primary) }, 200, { "cache-control": "private, no-store" });

export const createAdminCategoryHandler: RouteHandler<typeof createAdminCategory, AppEnv> = async (c) =>
	c.json(await createCategory(c.env, c.get("database").primary, c.req.valid("json"), actorOf(c)), 201);

export const updateAdminCategoryHandler: RouteHandler<typeof updateAdminCategory, AppEnv> = async (c) =>
	c.json(await updateCategory(c.env, c.get("database").primary, c.req.valid("param").id, c.req.valid("json"), actorOf(c)), 200);

export const deleteAdminCategoryHandler: RouteHandler<typeof deleteAdminCategory, AppEnv> = async (c) => {
	await deleteCategory(c.env, c.get("database").primary, c.req.valid("param").id, actorOf(c));
	return c.body(null, 204);
};
