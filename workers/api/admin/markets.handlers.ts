import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AdminActor } from "../../catalog/admin.ts";
import { createMarket, deleteMarket, listAdminMarkets, updateMarket } from "../../markets/admin.ts";
import { deleteMarketPrice, listMarketPrices, upsertMarketPrices } from "../../markets/prices.ts";
import type { AppEnv } from "../types.ts";
import type {
	createAdminMarket,
	deleteAdminMarket,
	deleteAdminMarketPrice,
	listAdminMarketPrices,
	listAdminMarkets as listRoute,
	putAdminMarketPrices,
	updateAdminMarket,
} from "./markets.routes.ts";

/** The admin behind the bearer token, as the audit log records them. */
export const actorOf = (c: Context<AppEnv>): AdminActor => ({ userId: c.get("auth").userId, requestId: c.get("requestId") });

/** Admin answers reflect unpublished settings: never for a shared cache. */
export const PRIVATE = { "cache-control": "private, no-store" };

export const listAdminMarketsHandler: RouteHandler<typeof listRoute, AppEnv> = async (c) =>
	c.json({ data: await listAdminMarkets(c.get("database").primary) }, 200, PRIVATE);

export const createAdminMarketHandler: RouteHandler<typeof createAdminMarket, AppEnv> = async (c) =>
	c.json(await createMarket(c.env, c.get("database").primary, c.req.valid("json"), actorOf(c)), 201);

export const updateAdminMarketHandler: RouteHandler<typeof updateAdminMarket, AppEnv> = async (c) =>
	c.json(await updateMarket(c.env, c.get("database").primary, c.req.valid("param").id, c.req.valid("json"), actorOf(c)), 200);

export const deleteAdminMarketHandler: RouteHandler<typeof deleteAdminMarket, AppEnv> = async (c) => {
	await deleteMarket(c.env, c.get("database").primary, c.req.valid("param").id, actorOf(c));
	return c.body(null, 204);
};

export const listAdminMarketPricesHandler: RouteHandler<typeof listAdminMarketPrices, AppEnv> = async (c) =>
	c.json(await listMarketPrices(c.get("database").primary, c.req.valid("param").id, c.req.valid("query")), 200, PRIVATE);

export const putAdminMarketPricesHandler: RouteHandler<typeof putAdminMarketPrices, AppEnv> = async (c) =>
	c.json(
		{ data: await upsertMarketPrices(c.env, c.get("database").primary, c.req.valid("param").id, c.req.valid("json"), actorOf(c)) },
		200,
	);

export const deleteAdminMarketPriceHandler: RouteHandler<typeof deleteAdminMarketPrice, AppEnv> = async (c) => {
	const { id, sku } = c.req.valid("param");
	await deleteMarketPrice(c.env, c.get("database").primary, id, sku, actorOf(c));
	return c.body(null, 204);
};
