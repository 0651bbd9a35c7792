import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import { type AffiliateActor, createAffiliate, listAffiliates, updateAffiliate } from "../../affiliates/affiliates.ts";
import { affiliateOrders, affiliateReport } from "../../affiliates/report.ts";
import type { AppEnv } from "../types.ts";
import type {
	affiliateReport as affiliateReportRoute,
	createAffiliate as createRoute,
	listAffiliateOrders,
	listAffiliates as listRoute,
	updateAffiliate as updateRoute,
} from "./affiliates.routes.ts";

/** The admin behind the bearer token, as the audit log records them. */
const actorOf = (c: Context<AppEnv>): AffiliateActor => ({ userId: c.get("auth").userId, requestId: c.get("requestId") });
const noStore = { "cache-control": "private, no-store" };

export const listAffiliatesHandler: RouteHandler<typeof listRoute, AppEnv> = async (c) => {
	const { active, limit, cursor } = c.req.valid("query");
	const page = await listAffiliates(c.env, c.get("database").primary, {
		active: active === undefined ? undefined : active === "true",
		limit,
		cursor,
	});
	return c.json(page, 200, noStore);
};

export const createAffiliateHandler: RouteHandler<typeof createRoute, AppEnv> = async (c) =>
	c.json(await createAffiliate(c.env, c.get("database").primary, c.req.valid("json"), actorOf(c)), 201);

export const updateAffiliateHandler: RouteHandler<typeof updateRoute, AppEnv> = async (c) =>
	c.json(await updateAffiliate(c.env, c.get("database").primary, c.req.valid("param").id, c.req.valid("json"), actorOf(c)), 200);

export const affiliateReportHandler: RouteHandler<typeof affiliateReportRoute, AppEnv> = async (c) =>
	c.json(await affiliateReport(c.get("database").primary, c.req.valid("query")), 200, noStore);

export const listAffiliateOrdersHandler: RouteHandler<typeof listAffiliateOrders, AppEnv> = async (c) =>
	c.json(await affiliateOrders(c.get("database").primary, c.req.valid("param").id, c.req.valid("query")), 200, noStore);
