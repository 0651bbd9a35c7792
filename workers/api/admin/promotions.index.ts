import { createRouter } from "../app.ts";
import {
	createAdminPromotionHandler,
	deactivateAdminPromotionHandler,
	deleteAdminPromotionHandler,
	getAdminPromotionHandler,
	listAdminPromotionsHandler,
	updateAdminPromotionHandler,
} from "./promotions.handlers.ts";
import {
	createAdminPromotion,
	deactivateAdminPromotion,
	deleteAdminPromotion,
	getAdminPromotion,
	listAdminPromotions,
	updateAdminPromotion,
} from "./promotions.routes.ts";

/**
 * Admin promotion management. It has no guard of its own: mount it only
 * through `adminRouter`, whose `requireAdmin()` covers every path under /admin.
 */
export const adminPromotionsRouter = createRouter()
	.openapi(listAdminPromotions, listAdminPromotionsHandler)
	.openapi(createAdminPromotion, createAdminPromotionHandler)
	.openapi(getAdminPromotion, getAdminPromotionHandler)
	.openapi(updateAdminPromotion, updateAdminPromotionHandler)
	.openapi(deactivateAdminPromotion, deactivateAdminPromotionHandler)
	.openapi(deleteAdminPromotion, deleteAdminPromotionHandler);
