import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bearerUser } from "../../auth/caller.ts";
import type { LoadedOrder } from "../../orders/orders.ts";
import {
	approveReturn,
	cancelReturn,
	listReturnsForAdmin,
	type ReturnActor,
	receiveReturn,
	refundReturn,
	rejectReturn,
	requestReturn,
	returnNotFound,
	returnsOfOrder,
	returnView,
	shopperOrder,
} from "../../returns/returns.ts";
import type { AppEnv } from "../types.ts";
import type {
	adminGetReturn,
	adminListReturns,
	approveReturn as approveRoute,
	cancelReturn as cancelRoute,
	listOrderReturns,
	receiveReturn as receiveRoute,
	refundReturn as refundRoute,
	rejectReturn as rejectRoute,
	requestReturn as requestRoute,
} from "./returns.routes.ts";

const noStore = { "cache-control": "no-store" };

/** The order if the request may see it (its user's bearer token, or a guest's X-Order-Token), and who is asking. */
async function ownOrder(c: Context<AppEnv>, orderId: string): Promise<{ loaded: LoadedOrder; requestedBy: string }> {
	const userId = await bearerUser(c.env, c.req.header("authorization"));
	const loaded = await shopperOrder(c.get("database").primary, orderId, { userId, orderToken: c.req.header("x-order-token") });
	return { loaded, requestedBy: userId && loaded.order.userId === userId ? userId : "guest" };
}

const actorOf = (c: Context<AppEnv>): ReturnActor => ({ userId: c.get("auth").userId, requestId: c.get("requestId") });

export const requestReturnHandler: RouteHandler<typeof requestRoute, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const body = c.req.valid("json");
	const { loaded, requestedBy } = await ownOrder(c, id);
	const created = await requestReturn(c.env, c.get("database").primary, loaded, { lines: body.lines, reason: body.reason }, requestedBy);
	return c.json(created, 201, { ...noStore, location: `/v1/orders/${id}/returns` });
};

export const listOrderReturnsHandler: RouteHandler<typeof listOrderReturns, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const { loaded } = await ownOrder(c, id);
	return c.json(await returnsOfOrder(c.env, c.get("database").primary, loaded), 200, noStore);
};

export const cancelReturnHandler: RouteHandler<typeof cancelRoute, AppEnv> = async (c) => {
	const { id, return_id } = c.req.valid("param");
	const { loaded } = await ownOrder(c, id);
	return c.json(await cancelReturn(c.get("database").primary, loaded, return_id), 200, noStore);
};

export const adminListReturnsHandler: RouteHandler<typeof adminListReturns, AppEnv> = async (c) => {
	const { status, limit, cursor } = c.req.valid("query");
	return c.json(await listReturnsForAdmin(c.get("database").primary, { status, limit, cursor }), 200, {
		"cache-control": "private, no-store",
	});
};

export const adminGetReturnHandler: RouteHandler<typeof adminGetReturn, AppEnv> = async (c) => {
	const view = await returnView(c.get("database").primary, c.req.valid("param").id);
	if (!view) throw returnNotFound();
	return c.json(view, 200, { "cache-control": "private, no-store" });
};

export const approveReturnHandler: RouteHandler<typeof approveRoute, AppEnv> = async (c) => {
	const { note } = c.req.valid("json");
	return c.json(await approveReturn(c.env, c.get("database").primary, c.req.valid("param").id, note, actorOf(c)), 200, noStore);
};

export const rejectReturnHandler: RouteHandler<typeof rejectRoute, AppEnv> = async (c) => {
	const { note } = c.req.valid("json");
	return c.json(await rejectReturn(c.env, c.get("database").primary, c.req.valid("param").id, note, actorOf(c)), 200, noStore);
};

export const receiveReturnHandler: RouteHandler<typeof receiveRoute, AppEnv> = async (c) => {
	return c.json(await receiveReturn(c.env, c.get("database").primary, c.req.valid("param").id, actorOf(c)), 200, noStore);
};

export const refundReturnHandler: RouteHandler<typeof refundRoute, AppEnv> = async (c) => {
	const { restock } = c.req.valid("json");
	return c.json(await refundReturn(c.env, c.get("database").primary, c.req.valid("param").id, restock, actorOf(c)), 200, noStore);
};
