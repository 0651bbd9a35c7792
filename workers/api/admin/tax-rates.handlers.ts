import type { RouteHandler } from "@hono/zod-openapi";
import { deleteTaxRate, listTaxRates, upsertTaxRates } from "../../markets/tax-rates.ts";
import type { AppEnv } from "../types.ts";
import { actorOf, PRIVATE } from "./markets.handlers.ts";
import type { deleteAdminTaxRate, listAdminTaxRates, putAdminTaxRates } from "./tax-rates.routes.ts";

export const listAdminTaxRatesHandler: RouteHandler<typeof listAdminTaxRates, AppEnv> = async (c) =>
	c.json({ data: await listTaxRates(c.get("database").primary, c.req.valid("query")) }, 200, PRIVATE);

export const putAdminTaxRatesHandler: RouteHandler<typeof putAdminTaxRates, AppEnv> = async (c) =>
	c.json({ data: await upsertTaxRates(c.env, c.get("database").primary, c.req.valid("json"), actorOf(c)) }, 200);

export const deleteAdminTaxRateHandler: RouteHandler<typeof deleteAdminTaxRate, AppEnv> = async (c) => {
	const { country, class: taxClass } = c.req.valid("param");
	await deleteTaxRate(c.env, c.get("database").primary, { country, taxClass, region: c.req.valid("query").region ?? "" }, actorOf(c));
	return c.body(null, 204);
};
