import type { RouteHandler } from "@hono/zod-openapi";
import {
	createMethod,
	createZone,
	deleteMethod,
	deleteZone,
	listShippingZones,
	updateMethod,
	updateZone,
} from "../../markets/shipping-zones.ts";
import type { AppEnv } from "../types.ts";
import { actorOf, PRIVATE } from "./markets.handlers.ts";
import type {
	createAdminShippingMethod,
	createAdminShippingZone,
	deleteAdminShippingMethod,
	deleteAdminShippingZone,
	listAdminShippingZones,
	updateAdminShippingMethod,
	updateAdminShippingZone,
} from "./shipping.routes.ts";

export const listAdminShippingZonesHandler: RouteHandler<typeof listAdminShippingZones, AppEnv> = async (c) =>
	c.json({ data: await listShippingZones(c.get("database").primary, c.req.valid("query")) }, 200, PRIVATE);

export const createAdminShippingZoneHandler: RouteHandler<typeof createAdminShippingZone, AppEnv> = async (c) =>
	c.json(await createZone(c.env, c.get("database").primary, c.req.valid("json"), actorOf(c)), 201);

export const updateAdminShippingZoneHandler: RouteHandler<typeof updateAdminShippingZone, AppEnv> = async (c) =>
	c.json(await updateZone(c.env, c.get("database").primary, c.req.valid("param").id, c.req.valid("json"), actorOf(c)), 200);

export const deleteAdminShippingZoneHandler: RouteHandler<typeof deleteAdminShippingZone, AppEnv> = async (c) => {
	await deleteZone(c.env, c.get("database").primary, c.req.valid("param").id, actorOf(c));
	return c.body(null, 204);
};

export const createAdminShippingMethodHandler: RouteHandler<typeof createAdminShippingMethod, AppEnv> = async (c) =>
	c.json(await createMethod(c.env, c.get("database").primary, c.req.valid("param").id, c.req.valid("json"), actorOf(c)), 201);

export const updateAdminShippingMethodHandler: RouteHandler<typeof updateAdminShippingMethod, AppEnv> = async (c) =>
	c.json(await updateMethod(c.env, c.get("database").primary, c.req.valid("param").id, c.req.valid("json"), actorOf(c)), 200);

export const deleteAdminShippingMethodHandler: RouteHandler<typeof deleteAdminShippingMethod, AppEnv> = async (c) => {
	await deleteMethod(c.env, c.get("database").primary, c.req.valid("param").id, actorOf(c));
	return c.body(null, 204);
};
