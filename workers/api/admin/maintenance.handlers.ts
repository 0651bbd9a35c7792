import type { RouteHandler } from "@hono/zod-openapi";
import { cartRestoreState, inventoryRestoreState, restoreCart, restoreInventory, resumeInventory } from "../../ops/restore.ts";
import type { AppEnv } from "../types.ts";
import type {
	getCartBookmark,
	getInventoryBookmark,
	restoreCart as restoreCartRoute,
	restoreInventory as restoreInventoryRoute,
	resumeInventory as resumeInventoryRoute,
} from "./maintenance.routes.ts";

const noStore = { "cache-control": "private, no-store" };

export const getInventoryBookmarkHandler: RouteHandler<typeof getInventoryBookmark, AppEnv> = async (c) =>
	c.json(await inventoryRestoreState(c.env, c.get("database").primary, c.req.valid("param").sku), 200, noStore);

export const restoreInventoryHandler: RouteHandler<typeof restoreInventoryRoute, AppEnv> = async (c) => {
	const body = c.req.valid("json");
	const result = await restoreInventory(
		c.env,
		c.get("database").primary,
		c.req.valid("param").sku,
		{ at: body.at, bookmark: body.bookmark },
		{ userId: c.get("auth").userId, requestId: c.get("requestId") },
	);
	return c.json(result, 200, noStore);
};

export const resumeInventoryHandler: RouteHandler<typeof resumeInventoryRoute, AppEnv> = async (c) => {
	const body = c.req.valid("json");
	const result = await resumeInventory(
		c.env,
		c.get("database").primary,
		c.req.valid("param").sku,
		{ undoBookmark: body.undo_bookmark, seq: body.seq, onHand: body.on_hand },
		{ userId: c.get("auth").userId, requestId: c.get("requestId") },
	);
	return c.json(
		{
			sku: result.sku,
			seq: result.seq,
			on_hand: result.onHand,
			available: result.available,
			on_hand_delta: result.onHandDelta,
			replayed: result.replayed,
		},
		200,
		noStore,
	);
};

export const getCartBookmarkHandler: RouteHandler<typeof getCartBookmark, AppEnv> = async (c) =>
	c.json(await cartRestoreState(c.env, c.req.valid("param").id), 200, noStore);

export const restoreCartHandler: RouteHandler<typeof restoreCartRoute, AppEnv> = async (c) => {
	const body = c.req.valid("json");
	const result = await restoreCart(
		c.env,
		c.get("database").primary,
		c.req.valid("param").id,
		{ at: body.at, bookmark: body.bookmark },
		{ userId: c.get("auth").userId, requestId: c.get("requestId") },
	);
	return c.json(result, 200, noStore);
};
