import { createRouter } from "../app.ts";
import {
	createAdminMarketHandler,
	deleteAdminMarketHandler,
	deleteAdminMarketPriceHandler,
	listAdminMarketPricesHandler,
	listAdminMarketsHandler,
	putAdminMarketPricesHandler,
	updateAdminMarketHandler,
} from "./markets.handlers.ts";
import {
	createAdminMarket,
	deleteAdminMarket,
	deleteAdminMarketPrice,
	listAdminMarketPrices,
	listAdminMarkets,
	putAdminMarketPrices,
	updateAdminMarket,
} from "./markets.routes.ts";

/**
 * Admin markets and their price lists. No guard of its own: mount it only
 * through `adminRouter`, whose `requireAdmin()` covers every path under /admin.
 */
export const adminMarketsRouter = createRouter()
	.openapi(listAdminMarkets, listAdminMarketsHandler)
	.openapi(createAdminMarket, createAdminMarketHandler)
	.openapi(updateAdminMarket, updateAdminMarketHandler)
	.openapi(deleteAdminMarket, deleteAdminMarketHandler)
	.openapi(listAdminMarketPrices, listAdminMarketPricesHandler)
	.openapi(putAdminMarketPrices, putAdminMarketPricesHandler)
	.openapi(deleteAdminMarketPrice, deleteAdminMarketPriceHandler);
