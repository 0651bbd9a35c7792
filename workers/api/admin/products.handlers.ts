import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import { type AdminActor, archiveProduct, createProduct, listAdminProducts, updateProduct } from "../../catalog/admin.ts";
import type { AppEnv } from "../types.ts";
import type { archiveAdminProduct, createAdminProduct, listAdminProducts as listRoute, updateAdminProduct } from "./products.routes.ts";

/** The admin behind the bearer token, as the audit log records them. */
const actorOf = (c: Context<AppEnv>): AdminActor => ({ userId: c.get("auth").userId, requestId: c.get("requestId") });

export const listAdminProductsHandler: RouteHandler<typeof listRoute, AppEnv> = async (c) => {
	// The primary, not a replica: an admin expects to see the edit they just made.
	const page = await listAdminProducts(c.get("database").primary, c.req.valid("query"));
	// Drafts and prices before launch must never land in a shared cache.
	return c.json(page, 200, { "cache-control": "private, no-store" });
};

export const createAdminProductHandler: RouteHandler<typeof createAdminProduct, AppEnv> = async (c) =>
	c.json(await createProduct(c.env, c.get("database").primary, c.req.valid("json"), actorOf(c)), 201);

export const updateAdminProductHandler: RouteHandler<typeof updateAdminProduct, AppEnv> = async (c) =>
	c.json(await updateProduct(c.env, c.get("database").primary, c.req.valid("param").id, c.req.valid("json"), actorOf(c)), 200);

/** Archives rather than deletes: orders keep pointing at the product's SKUs. Archiving twice changes nothing. */
export const archiveAdminProductHandler: RouteHandler<typeof archiveAdminProduct, AppEnv> = async (c) =>
	c.json(await archiveProduct(c.env, c.get("database").primary, c.req.valid("param").id, actorOf(c)), 200);
