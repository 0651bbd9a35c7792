import { createRouter } from "../app.ts";
import { deleteAdminTaxRateHandler, listAdminTaxRatesHandler, putAdminTaxRatesHandler } from "./tax-rates.handlers.ts";
import { deleteAdminTaxRate, listAdminTaxRates, putAdminTaxRates } from "./tax-rates.routes.ts";

/** Admin tax rates. Mount it only through `adminRouter`, whose `requireAdmin()` covers every path under /admin. */
export const adminTaxRatesRouter = createRouter()
	.openapi(listAdminTaxRates, listAdminTaxRatesHandler)
	.openapi(putAdminTaxRates, putAdminTaxRatesHandler)
	.openapi(deleteAdminTaxRate, deleteAdminTaxRateHandler);
