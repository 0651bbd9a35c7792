import { createRouter } from "../app.ts";
import {
	listStockDriftHandler,
	listStockReconciliationRunsHandler,
	resolveStockDriftHandler,
	runStockReconciliationHandler,
} from "./stock-reconciliation.handlers.ts";
import { listStockDrift, listStockReconciliationRuns, resolveStockDrift, runStockReconciliation } from "./stock-reconciliation.routes.ts";

/** Stock reconciliation runs and drift. Mount it only through `adminRouter`, whose `requireAdmin()` covers every path under /admin. */
export const adminStockReconciliationRouter = createRouter()
	.openapi(listStockReconciliationRuns, listStockReconciliationRunsHandler)
	.openapi(runStockReconciliation, runStockReconciliationHandler)
	.openapi(listStockDrift, listStockDriftHandler)
	.openapi(resolveStockDrift, resolveStockDriftHandler);
