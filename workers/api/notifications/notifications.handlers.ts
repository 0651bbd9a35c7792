import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AuditActor } from "../../catalog/audit.ts";
import {
	createEndpoint as createEndpointService,
	deactivateEndpoint,
	listDeliveries as listDeliveriesService,
	listEndpoints as listEndpointsService,
	listNotifications as listNotificationsService,
	rotateEndpointSecret,
} from "../../notifications/endpoints.ts";
import type { AppEnv } from "../types.ts";
import type {
	createEndpoint,
	deleteEndpoint,
	listDeliveries,
	listEndpoints,
	listNotifications,
	rotateSecret,
} from "./notifications.routes.ts";

const noStore = { "cache-control": "no-store" };

/** The admin behind the bearer token, as the audit log records them. */
const actorOf = (c: Context<AppEnv>): AuditActor => ({ userId: c.get("auth").userId, requestId: c.get("requestId") });

/** Stored copies only: link tokens show as `[redacted]` (notifications/redaction.ts). */
export const listNotificationsHandler: RouteHandler<typeof listNotifications, AppEnv> = async (c) => {
	const page = await listNotificationsService(c.get("database").primary, c.req.valid("query"));
	return c.json(page, 200, noStore);
};

export const listEndpointsHandler: RouteHandler<typeof listEndpoints, AppEnv> = async (c) =>
	c.json({ data: await listEndpointsService(c.get("database").primary) }, 200, noStore);

export const createEndpointHandler: RouteHandler<typeof createEndpoint, AppEnv> = async (c) => {
	const created = await createEndpointService(c.env, c.get("database").primary, c.req.valid("json"), actorOf(c));
	return c.json(created, 201, { ...noStore, location: `/v1/admin/webhooks/${created.id}` });
};

export const deleteEndpointHandler: RouteHandler<typeof deleteEndpoint, AppEnv> = async (c) => {
	await deactivateEndpoint(c.get("database").primary, c.req.valid("param").id, actorOf(c));
	return c.body(null, 204);
};

export const rotateSecretHandler: RouteHandler<typeof rotateSecret, AppEnv> = async (c) =>
	c.json(await rotateEndpointSecret(c.get("database").primary, c.req.valid("param").id, actorOf(c)), 200, noStore);

export const listDeliveriesHandler: RouteHandler<typeof listDeliveries, AppEnv> = async (c) =>
	c.json(await listDeliveriesService(c.get("database").primary, c.req.valid("param").id, c.req.valid("query")), 200, noStore);
