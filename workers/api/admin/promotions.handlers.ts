import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
	createPromotion,
	deactivatePromotion,
	deletePromotion,
	getPromotion,
	listPromotions,
	type PromotionActor,
	updatePromotion,
} from "../../orders/promotions-admin.ts";
import type { AppEnv } from "../types.ts";
import type {
	createAdminPromotion,
	deactivateAdminPromotion,
	deleteAdminPromotion,
	getAdminPromotion,
	listAdminPromotions,
	updateAdminPromotion,
} from "./promotions.routes.ts";

/** The admin behind the bearer token, as the audit log records them. */
const actorOf = (c: Context<AppEnv>): PromotionActor => ({ userId: c.get("auth").userId, requestId: c.get("requestId") });
// Unreleased codes must never land in a shared cache.
const noStore = { "cache-control": "private, no-store" };

export const listAdminPromotionsHandler: RouteHandler<typeof listAdminPromotions, AppEnv> = async (c) => {
	const { active, ...query } = c.req.valid("query");
	// The primary, not a replica: an admin expects to see the edit they just made.
	const page = await listPromotions(c.get("database").primary, { ...query, active: active === undefined ? undefined : active === "true" });
	return c.json(page, 200, noStore);
};

export const createAdminPromotionHandler: RouteHandler<typeof createAdminPromotion, AppEnv> = async (c) =>
	c.json(await createPromotion(c.env, c.get("database").primary, c.req.valid("json"), actorOf(c)), 201);

export const getAdminPromotionHandler: RouteHandler<typeof getAdminPromotion, AppEnv> = async (c) =>
	c.json(await getPromotion(c.get("database").primary, c.req.valid("param").id), 200, noStore);

export const updateAdminPromotionHandler: RouteHandler<typeof updateAdminPromotion, AppEnv> = async (c) =>
	c.json(await updatePromotion(c.env, c.get("database").primary, c.req.valid("param").id, c.req.valid("json"), actorOf(c)), 200);

export const deactivateAdminPromotionHandler: RouteHandler<typeof deactivateAdminPromotion, AppEnv> = async (c) =>
	c.json(await deactivatePromotion(c.env, c.get("database").primary, c.req.valid("param").id, actorOf(c)), 200);

/** Only a promotion no order used can go; a used one answers 409 and stays. */
export const deleteAdminPromotionHandler: RouteHandler<typeof deleteAdminPromotion, AppEnv> = async (c) => {
	await deletePromotion(c.env, c.get("database").primary, c.req.valid("param").id, actorOf(c));
	return c.body(null, 204);
};
