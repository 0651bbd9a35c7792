import { createRouter } from "../app.ts";
import {
	archiveAdminProductHandler,
	createAdminProductHandler,
	listAdminProductsHandler,
	updateAdminProductHandler,
} from "./products.handlers.ts";
import { archiveAdminProduct, createAdminProduct, listAdminProducts, updateAdminProduct } from "./products.routes.ts";

/**
 * Admin product management. It has no guard of its own: mount it only through
 * `adminRouter`, whose `requireAdmin()` covers every path under /admin.
 */
export const adminProductsRouter = createRouter()
	.openapi(listAdminProducts, listAdminProductsHandler)
	.openapi(createAdminProduct, createAdminProductHandler)
	.openapi(updateAdminProduct, updateAdminProductHandler)
	.openapi(archiveAdminProduct, archiveAdminProductHandler);
