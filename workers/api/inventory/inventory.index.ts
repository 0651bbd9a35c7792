import { createRouter } from "../app.ts";
import { idempotent } from "../middleware/idempotency.ts";
import { adjustInventoryHandler, getAvailabilityHandler, liveAvailabilityHandler } from "./inventory.handlers.ts";
import { adjustInventory, getAvailability, liveAvailability } from "./inventory.routes.ts";

export const inventoryRouter = createRouter()
	.openapi(getAvailability, getAvailabilityHandler)
	.openapi(liveAvailability, liveAvailabilityHandler);

const admin = createRouter();
// The shared idempotency keys first (stored answer replayed); the object's own per-key record stays as a second line.
admin.use(
	"/admin/inventory/:sku/adjust",
	idempotent(async (c) => `user:${c.get("auth").userId}`),
);

/** Mounted inside the admin router, behind its requireAdmin() guard. */
export const adminInventoryRouter = admin.openapi(adjustInventory, adjustInventoryHandler);
