import type { Context } from "hono";
import { createRouter, handleError } from "../../api/app.ts";
import { statusOf } from "../../api/lib/problem.ts";
import type { AppEnv } from "../../api/types.ts";
import { DomainError } from "../../domain/errors.ts";
import { requireAdminPage } from "./guard.ts";
import { dashboardPage } from "./pages/dashboard.tsx";
import { deadLettersPage, replayAction } from "./pages/dead-letters.tsx";
import { errorPage } from "./pages/error.tsx";
import { adjustAction, inventoryPage } from "./pages/inventory.tsx";
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

admin.get("/admin/inventory", inventoryPage);
admin.post("/admin/inventory/:sku/adjust", adjustAction);

admin.get("/admin/orders", ordersPage);
admin.get("/admin/orders/:id", orderPage);
admin.post("/admin/orders/:id/fulfil", fulfilAction);
admin.post("/admin/orders/:id/deliver", deliverAction);
admin.post("/admin/orders/:id/ship", shipAction);
admin.post("/admin/orders/:id/refund", refundAction);
admin.post("/admin/orders/:id/accept-payment", acceptPaymentAction);

admin.get("/admin/dead-letters", deadLettersPage);
admin.post("/admin/dead-letters/:id/replay", replayAction);

admin.get("/admin/notifications", notificationsPage);
admin.get("/admin/notifications/:id", notificationPage);

admin.get("/admin/webhooks", page(webhooksPage));
admin.post("/admin/webhooks", createEndpointAction);
admin.post("/admin/webhooks/:id/rotate", rotateSecretAction);
admin.post("/admin/webhooks/:id/deactivate", deactivateEndpointAction);
admin.get("/admin/webhooks/:id/deliveries", deliveriesPage);

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
