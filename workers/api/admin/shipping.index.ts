import { createRouter } from "../app.ts";
import {
	createAdminShippingMethodHandler,
	createAdminShippingZoneHandler,
	deleteAdminShippingMethodHandler,
	deleteAdminShippingZoneHandler,
	listAdminShippingZonesHandler,
	updateAdminShippingMethodHandler,
	updateAdminShippingZoneHandler,
} from "./shipping.handlers.ts";
import {
	createAdminShippingMethod,
	createAdminShippingZone,
	deleteAdminShippingMethod,
	deleteAdminShippingZone,
	listAdminShippingZones,
	updateAdminShippingMethod,
	updateAdminShippingZone,
} from "./shipping.routes.ts";

/** Admin shipping zones and methods. Mount it only through `adminRouter`, whose `requireAdmin()` covers every path under /admin. */
export const adminShippingRouter = createRouter()
	.openapi(listAdminShippingZones, listAdminShippingZonesHandler)
	.openapi(createAdminShippingZone, createAdminShippingZoneHandler)
	.openapi(updateAdminShippingZone, updateAdminShippingZoneHandler)
	.openapi(deleteAdminShippingZone, deleteAdminShippingZoneHandler)
	.openapi(createAdminShippingMethod, createAdminShippingMethodHandler)
	.openapi(updateAdminShippingMethod, updateAdminShippingMethodHandler)
	.openapi(deleteAdminShippingMethod, deleteAdminShippingMethodHandler);
