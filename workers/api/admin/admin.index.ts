import { createRouter } from "../app.ts";
import { adminInventoryRouter } from "../inventory/inventory.index.ts";
import { adminMediaRouter } from "../media/media.index.ts";
import { requireAdmin } from "../middleware/auth.ts";
import { adminNotificationsRouter } from "../notifications/notifications.index.ts";
import { adminOrdersRouter } from "../orders/orders.index.ts";
import { adminReturnsRouter } from "../returns/returns.index.ts";
import { adminAffiliatesRouter } from "./affiliates.index.ts";
import { listAuditLogHandler } from "./audit-log.handlers.ts";
import { listAuditLog } from "./audit-log.routes.ts";
import { adminCategoriesRouter } from "./categories.index.ts";
import { adminCustomersRouter } from "./customers.index.ts";
import { listDeadLettersHandler, replayDeadLetterHandler } from "./dead-letters.handlers.ts";
import { listDeadLetters, replayDeadLetter } from "./dead-letters.routes.ts";
import { adminMaintenanceRouter } from "./maintenance.index.ts";
import { adminMarketsRouter } from "./markets.index.ts";
import { adminProductsRouter } from "./products.index.ts";
import { adminPromotionsRouter } from "./promotions.index.ts";
import { listReconciliationRunsHandler } from "./reconciliation.handlers.ts";
import { listReconciliationRuns } from "./reconciliation.routes.ts";
import { adminShippingRouter } from "./shipping.index.ts";
import { adminStockReconciliationRouter } from "./stock-reconciliation.index.ts";
import { adminTaxRatesRouter } from "./tax-rates.index.ts";

const admin = createRouter();
// One guard for every admin route, present and future.
admin.use("/admin/*", requireAdmin());

export const adminRouter = admin
	.openapi(listDeadLetters, listDeadLettersHandler)
	.openapi(replayDeadLetter, replayDeadLetterHandler)
	.openapi(listReconciliationRuns, listReconciliationRunsHandler)
	.openapi(listAuditLog, listAuditLogHandler)
	.route("/", adminProductsRouter)
	.route("/", adminMaintenanceRouter)
	.route("/", adminPromotionsRouter)
	.route("/", adminCategoriesRouter)
	.route("/", adminCustomersRouter)
	.route("/", adminMediaRouter)
	.route("/", adminInventoryRouter)
	.route("/", adminOrdersRouter)
	.route("/", adminReturnsRouter)
	.route("/", adminNotificationsRouter)
	.route("/", adminAffiliatesRouter)
	.route("/", adminMarketsRouter)
	.route("/", adminTaxRatesRouter)
	.route("/", adminShippingRouter)
	.route("/", adminStockReconciliationRouter);
