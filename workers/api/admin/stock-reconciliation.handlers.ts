import type { RouteHandler } from "@hono/zod-openapi";
import { DomainError, notFound } from "../../domain/errors.ts";
import {
	knownSkus,
	listStockDrift as listDrift,
	listStockRuns,
	reconcileStock,
	resolveStockDrift as resolveDrift,
} from "../../inventory/reconcile.ts";
import type { AppEnv } from "../types.ts";
import type {
	listStockDrift,
	listStockReconciliationRuns,
	resolveStockDrift,
	runStockReconciliation,
} from "./stock-reconciliation.routes.ts";

const PRIVATE = { "cache-control": "private, no-store" };

export const listStockReconciliationRunsHandler: RouteHandler<typeof listStockReconciliationRuns, AppEnv> = async (c) => {
	const { limit, cursor } = c.req.valid("query");
	return c.json(await listStockRuns(c.get("database").primary, { limit, cursor }), 200, PRIVATE);
};

export const runStockReconciliationHandler: RouteHandler<typeof runStockReconciliation, AppEnv> = async (c) => {
	const { sku } = c.req.valid("query");
	if (sku && (await knownSkus(c.get("database").primary, [sku])).length === 0) throw notFound(`No SKU ${sku}.`);
	const run = await reconcileStock(c.env, c.get("database"), sku ? { skus: [sku] } : {});
	if (!run)
		throw new DomainError("reconciliation_running", { detail: "Another stock reconciliation run is in progress; try again in a minute." });
	return c.json(run, 201, PRIVATE);
};

export const listStockDriftHandler: RouteHandler<typeof listStockDrift, AppEnv> = async (c) => {
	const { open, sku, kind, limit, cursor } = c.req.valid("query");
	const page = await listDrift(c.get("database").primary, {
		open: open === undefined ? undefined : open === "true",
		sku,
		kind,
		limit,
		cursor,
	});
	return c.json(page, 200, PRIVATE);
};

export const resolveStockDriftHandler: RouteHandler<typeof resolveStockDrift, AppEnv> = async (c) => {
	const drift = await resolveDrift(c.env, c.get("database").primary, c.req.valid("param").id, c.req.valid("json"), {
		userId: c.get("auth").userId,
		requestId: c.get("requestId"),
	});
	return c.json(drift, 200, PRIVATE);
};
