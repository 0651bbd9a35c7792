import type { RouteHandler } from "@hono/zod-openapi";
import { getCustomer, listCustomers } from "../../customers/admin.ts";
import type { AppEnv } from "../types.ts";
import type { getAdminCustomer, listAdminCustomers } from "./customers.routes.ts";

/** Personal data: never in a shared cache. */
const noStore = { "cache-control": "private, no-store" };

export const listAdminCustomersHandler: RouteHandler<typeof listAdminCustomers, AppEnv> = async (c) =>
	c.json(await listCustomers(c.get("database").primary, c.req.valid("query")), 200, noStore);

export const getAdminCustomerHandler: RouteHandler<typeof getAdminCustomer, AppEnv> = async (c) =>
	c.json(await getCustomer(c.get("database").primary, c.req.valid("param").id), 200, noStore);
