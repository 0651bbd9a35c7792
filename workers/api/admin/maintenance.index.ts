import { createRouter } from "../app.ts";
import { idempotent } from "../middleware/idempotency.ts";
import {
	getCartBookmarkHandler,
	getInventoryBookmarkHandler,
	restoreCartHandler,
	restoreInventoryHandler,
	resumeInventoryHandler,
} from "./maintenance.handlers.ts";
import { getCartBookmark, getInventoryBookmark, restoreCart, restoreInventory, resumeInventory } from "./maintenance.routes.ts";

const admin = createRouter();
// A retried restore is answered from the idempotency store: it never restores twice.
for (const path of [
	"/admin/maintenance/inventory/:sku/restore",
	"/admin/maintenance/inventory/:sku/resume",
	"/admin/maintenance/carts/:id/restore",
]) {
	admin.use(
		path,
		idempotent(async (c) => `user:${c.get("auth").userId}`),
	);
}

/** Durable Object point-in-time recovery (ops/restore.ts). Mounted inside the admin router, behind its requireAdmin() guard. */
export const adminMaintenanceRouter = admin
	.openapi(getInventoryBookmark, getInventoryBookmarkHandler)
	.openapi(restoreInventory, restoreInventoryHandler)
	.openapi(resumeInventory, resumeInventoryHandler)
	.openapi(getCartBookmark, getCartBookmarkHandler)
	.openapi(restoreCart, restoreCartHandler);
