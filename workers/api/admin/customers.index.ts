import { createRouter } from "../app.ts";
import { getAdminCustomerHandler, listAdminCustomersHandler } from "./customers.handlers.ts";
import { getAdminCustomer, listAdminCustomers } from "./customers.routes.ts";

/** Customer look-ups for admins; mounted only through `adminRouter`, behind its `requireAdmin()`. */
export const adminCustomersRouter = createRouter()
	.openapi(listAdminCustomers, listAdminCustomersHandler)
	.openapi(getAdminCustomer, getAdminCustomerHandler);
