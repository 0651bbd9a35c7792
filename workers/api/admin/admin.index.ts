import { createRouter } from "../app.ts";
import { adminInventoryRouter } from "../inventory/inventory.index.ts";
import { adminMediaRouter } from "../media/media.index.ts";
import { requireAdmin } from "../middleware/auth.ts";
import { adminNotificationsRouter } from "../notifications/notifications.index.ts";
import { adminOrdersRouter } from "../orders/orders.index.ts";
import { listDeadLettersHandler, replayDeadLetterHandler } from "./dead-letters.handlers.ts";
import { listDeadLetters, replayDeadLetter } from "./dead-letters.routes.ts";
import { adminProductsRouter } from "./products.index.ts";
import { listReconciliationRunsHandler } from "./reconciliation.handlers.ts";
import { listReconciliationRuns } from "./reconciliation.routes.ts";

const admin = createRouter();
// One guard for every admin route, present and future.
admin.use("/admin/*", requireAdmin());

export const adminRouter = admin
	.openapi(listDeadLetters, listDeadLettersHandler)
	.openapi(replayDeadLetter, replayDeadLetterHandler)
	.openapi(listReconciliationRuns, listReconciliationRunsHandler)
	.route("/", adminProductsRouter)
	.route("/", adminMediaRouter)
	.route("/", adminInventoryRouter)
	.route("/", adminOrdersRouter)
	.route("/", adminNotificationsRouter);
