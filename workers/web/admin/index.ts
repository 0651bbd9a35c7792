import type { Context } from "hono";
import { createRouter, handleError } from "../../api/app.ts";
import { statusOf } from "../../api/lib/problem.ts";
import type { AppEnv } from "../../api/types.ts";
import { DomainError } from "../../domain/errors.ts";
import { requireAdminPage } from "./guard.ts";
import { affiliatePage, affiliatesPage, createAffiliateAction, saveAffiliateAction } from "./pages/affiliates.tsx";
import { auditLogPage } from "./pages/audit-log.tsx";
import { categoriesPage, createCategoryAction, deleteCategoryAction, saveCategoryAction } from "./pages/categories.tsx";
import { customerPage, customersPage } from "./pages/customers.tsx";
import { dashboardPage } from "./pages/dashboard.tsx";
import { deadLettersPage, replayAction } from "./pages/dead-letters.tsx";
import { errorPage } from "./pages/error.tsx";
import { adjustAction, inventoryPage } from "./pages/inventory.tsx";
import {
	bulkPricesAction,
	createMarketAction,
	deleteMarketAction,
	makeDefaultAction,
	marketPage,
	marketsPage,
	removePriceAction,
	saveMarketAction,
	savePriceAction,
} from "./pages/markets.tsx";
import { notificationPage, notificationsPage } from "./pages/notifications.tsx";
import { acceptPaymentAction, deliverAction, fulfilAction, orderPage, ordersPage, refundAction, shipAction } from "./pages/orders.tsx";
import {
	addVariantAction,
	archiveVariantAction,
	createProductAction,
	productPage,
	productsPage,
	saveProductAction,
	saveVariantAction,
	uploadImageAction,
} from "./pages/products.tsx";
import {
	createPromotionAction,
	deactivatePromotionAction,
	deletePromotionAction,
	promotionPage,
	promotionsPage,
	savePromotionAction,
} from "./pages/promotions.tsx";
import {
	approveAction as approveReturnAction,
	receiveAction as receiveReturnAction,
	refundAction as refundReturnAction,
	rejectAction as rejectReturnAction,
	returnPage,
	returnsPage,
} from "./pages/returns.tsx";
import {
	createMethodAction,
	createZoneAction,
	deleteMethodAction,
	deleteZoneAction,
	saveMethodAction,
	saveZoneAction,
	shippingPage,
} from "./pages/shipping.tsx";
import { resolveDriftAction, stockReconciliationPage, stockRunAction } from "./pages/stock-reconciliation.tsx";
import { createTaxRateAction, deleteTaxRateAction, saveTaxRateAction, taxRatesPage } from "./pages/tax-rates.tsx";
import { createEndpointAction, deactivateEndpointAction, deliveriesPage, rotateSecretAction, webhooksPage } from "./pages/webhooks.tsx";

/**
 * The admin console, `/admin/*`: server-rendered pages over the same services
 * as `/v1/admin/*`. Every page and action sits behind `requireAdminPage()`;
 * every change is a form post answered with 303 back to a page.
 */
const admin = createRouter();
// `/admin/*` covers `/admin` itself too.
admin.use("/admin/*", requireAdminPage());

/** Pages that also re-render a refused form take its state as a second argument, where Hono would pass `next`. */
const page = (render: (c: Context<AppEnv>) => Promise<Response>) => (c: Context<AppEnv>) => render(c);

admin.get("/admin", dashboardPage);

admin.get("/admin/products", page(productsPage));
admin.post("/admin/products", createProductAction);
admin.get("/admin/products/:id", page(productPage));
admin.post("/admin/products/:id", saveProductAction);
admin.post("/admin/products/:id/variants", addVariantAction);
admin.post("/admin/products/:id/variants/:sku", saveVariantAction);
admin.post("/admin/products/:id/variants/:sku/archive", archiveVariantAction(true));
admin.post("/admin/products/:id/variants/:sku/restore", archiveVariantAction(false));
admin.post("/admin/products/:id/media", uploadImageAction);

admin.get("/admin/markets", page(marketsPage));
admin.post("/admin/markets", createMarketAction);
admin.get("/admin/markets/:id", page(marketPage));
admin.post("/admin/markets/:id", saveMarketAction);
admin.post("/admin/markets/:id/default", makeDefaultAction);
admin.post("/admin/markets/:id/delete", deleteMarketAction);
admin.post("/admin/markets/:id/prices", bulkPricesAction);
admin.post("/admin/markets/:id/prices/:sku", savePriceAction);
admin.post("/admin/markets/:id/prices/:sku/delete", removePriceAction);

admin.get("/admin/tax-rates", page(taxRatesPage));
admin.post("/admin/tax-rates", createTaxRateAction);
admin.post("/admin/tax-rates/:country/:class", saveTaxRateAction);
admin.post("/admin/tax-rates/:country/:class/delete", deleteTaxRateAction);

admin.get("/admin/shipping", page(shippingPage));
admin.post("/admin/shipping/zones", createZoneAction);
admin.post("/admin/shipping/zones/:id", saveZoneAction);
admin.post("/admin/shipping/zones/:id/delete", deleteZoneAction);
admin.post("/admin/shipping/zones/:id/methods", createMethodAction);
admin.post("/admin/shipping/methods/:id", saveMethodAction);
admin.post("/admin/shipping/methods/:id/delete", deleteMethodAction);

admin.get("/admin/categories", page(categoriesPage));
admin.post("/admin/categories", createCategoryAction);
admin.post("/admin/categories/:id", saveCategoryAction);
admin.post("/admin/categories/:id/delete", deleteCategoryAction);

admin.get("/admin/inventory", inventoryPage);
admin.post("/admin/inventory/:sku/adjust", adjustAction);

admin.get("/admin/orders", ordersPage);
admin.get("/admin/orders/:id", orderPage);
admin.post("/admin/orders/:id/fulfil", fulfilAction);
admin.post("/admin/orders/:id/deliver", deliverAction);
admin.post("/admin/orders/:id/ship", shipAction);
admin.post("/admin/orders/:id/refund", refundAction);
admin.post("/admin/orders/:id/accept-payment", acceptPaymentAction);

admin.get("/admin/returns", returnsPage);
admin.get("/admin/returns/:id", returnPage);
admin.post("/admin/returns/:id/approve", approveReturnAction);
admin.post("/admin/returns/:id/reject", rejectReturnAction);
admin.post("/admin/returns/:id/receive", receiveReturnAction);
admin.post("/admin/returns/:id/refund", refundReturnAction);

admin.get("/admin/customers", customersPage);
admin.get("/admin/customers/:id", customerPage);

admin.get("/admin/dead-letters", deadLettersPage);
admin.post("/admin/dead-letters/:id/replay", replayAction);

admin.get("/admin/stock-reconciliation", stockReconciliationPage);
admin.post("/admin/stock-reconciliation/run", stockRunAction);
admin.post("/admin/stock-drift/:id/resolve", resolveDriftAction);

admin.get("/admin/notifications", notificationsPage);
admin.get("/admin/notifications/:id", notificationPage);

admin.get("/admin/webhooks", page(webhooksPage));
admin.post("/admin/webhooks", createEndpointAction);
admin.post("/admin/webhooks/:id/rotate", rotateSecretAction);
admin.post("/admin/webhooks/:id/deactivate", deactivateEndpointAction);
admin.get("/admin/webhooks/:id/deliveries", deliveriesPage);

admin.get("/admin/audit-log", auditLogPage);

admin.get("/admin/affiliates", page(affiliatesPage));
admin.post("/admin/affiliates", createAffiliateAction);
admin.get("/admin/affiliates/:id", page(affiliatePage));
admin.post("/admin/affiliates/:id", saveAffiliateAction);

admin.get("/admin/promotions", page(promotionsPage));
admin.post("/admin/promotions", createPromotionAction);
admin.get("/admin/promotions/:id", page(promotionPage));
admin.post("/admin/promotions/:id", savePromotionAction);
admin.post("/admin/promotions/:id/deactivate", deactivatePromotionAction);
admin.post("/admin/promotions/:id/delete", deletePromotionAction);

/**
 * Errors as pages, not problem+json: a missing order or product is a 404
 * page inside the console; anything unexpected goes through the API's handler
 * (which logs it without its message) and is shown with the request id.
 */
admin.onError((err, c) => {
	if (err instanceof DomainError && statusOf(err) < 500) return errorPage(c, statusOf(err), err.detail ?? err.title);
	const problem = handleError(err, c);
	return errorPage(c, problem.status, undefined);
});

export const adminRouter = admin;
