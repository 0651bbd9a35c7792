import { createRouter } from "../app.ts";
import {
	createAdminCategoryHandler,
	deleteAdminCategoryHandler,
	listAdminCategoriesHandler,
	updateAdminCategoryHandler,
} from "./categories.handlers.ts";
import { createAdminCategory, deleteAdminCategory, listAdminCategories, updateAdminCategory } from "./categories.routes.ts";

/**
 * Admin category management. It has no guard of its own: mount it only
 * through `adminRouter`, whose `requireAdmin()` covers every path under /admin.
 */
export const adminCategoriesRouter = createRouter()
	.openapi(listAdminCategories, listAdminCategoriesHandler)
	.openapi(createAdminCategory, createAdminCategoryHandler)
	.openapi(updateAdminCategory, updateAdminCategoryHandler)
	.openapi(deleteAdminCategory, deleteAdminCategoryHandler);
