import type { RouteHandler } from "@hono/zod-openapi";
import { listReconciliationRuns as listRuns } from "../../orders/reconciliation.ts";
import type { AppEnv } from "../types.ts";
import type { listReconciliationRuns } from "./reconciliation.routes.ts";

export const listReconciliationRunsHandler: RouteHandler<typeof listReconciliationRuns, AppEnv> = async (c) => {
	const { limit, cursor } = c.req.valid("query");
	return c.json(await listRuns(c.get("database").primary, { limit, cursor }), 200, { "cache-control": "private, no-store" });
};
