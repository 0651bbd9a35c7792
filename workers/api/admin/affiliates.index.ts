import { createRouter } from "../app.ts";
import {
	affiliateReportHandler,
	createAffiliateHandler,
	listAffiliateOrdersHandler,
	listAffiliatesHandler,
	updateAffiliateHandler,
} from "./affiliates.handlers.ts";
import { affiliateReport, createAffiliate, listAffiliateOrders, listAffiliates, updateAffiliate } from "./affiliates.routes.ts";

/**
 * Admin affiliate management and the commission report. It has no guard of
 * its own: mount it only through `adminRouter`, whose `requireAdmin()`
 * covers every path under /admin.
 */
export const adminAffiliatesRouter = createRouter()
	.openapi(listAffiliates, listAffiliatesHandler)
	.openapi(createAffiliate, createAffiliateHandler)
	.openapi(affiliateReport, affiliateReportHandler)
	.openapi(updateAffiliate, updateAffiliateHandler)
	.openapi(listAffiliateOrders, listAffiliateOrdersHandler);
