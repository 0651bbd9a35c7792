import { createRouter } from "../app.ts";
import {
	createEndpointHandler,
	deleteEndpointHandler,
	listDeliveriesHandler,
	listEndpointsHandler,
	listNotificationsHandler,
	rotateSecretHandler,
} from "./notifications.handlers.ts";
import { createEndpoint, deleteEndpoint, listDeliveries, listEndpoints, listNotifications, rotateSecret } from "./notifications.routes.ts";

/** Mounted inside the admin router, behind its requireAdmin() guard. */
export const adminNotificationsRouter = createRouter()
	.openapi(listNotifications, listNotificationsHandler)
	.openapi(listEndpoints, listEndpointsHandler)
	.openapi(createEndpoint, createEndpointHandler)
	.openapi(deleteEndpoint, deleteEndpointHandler)
	.openapi(rotateSecret, rotateSecretHandler)
	.openapi(listDeliveries, listDeliveriesHandler);
