import { createRouter } from "../app.ts";
import { adjustInventoryHandler, getAvailabilityHandler, liveAvailabilityHandler } from "./inventory.handlers.ts";
import { adjustInventory, getAvailability, liveAvailability } from "./inventory.routes.ts";

export const inventoryRouter = createRouter()
	.openapi(getAvailability, getAvailabilityHandler)
	.openapi(liveAvailability, liveAvailabilityHandler);

/** Mounted inside the admin router, behind its requireAdmin() guard. */
export const adminInventoryRouter = createRouter().openapi(adjustInventory, adjustInventoryHandler);
