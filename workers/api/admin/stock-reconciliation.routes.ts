import { createRoute, z } from "@hono/zod-openapi";
import { DRIFT_KINDS, DRIFT_RESOLUTIONS } from "../../inventory/reconcile.ts";
import {
	adminAuth,
	adminProblems,
	bodyProblems,
	count,
	databaseProblems,
	integer,
	jsonBody,
	jsonResponse,
	problem,
	text,
	timestamp,
} from "../lib/openapi.ts";
import { pageLimit, rowCursor, Sku } from "../lib/params.ts";

const tags = ["Admin"];

/** Runs and drift are rows of bigserial tables: positive, and exact as JSON numbers. */
const RowId = integer(1, Number.MAX_SAFE_INTEGER);
/** An object's event sequence and a ledger's row count: never negative, exact as JSON numbers. */
const Sequence = integer(0, Number.MAX_SAFE_INTEGER);
/** A unit figure: a ledger's sum may be negative when rows are missing. */
const Units = integer(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);

const RunErrorSchema = z
	.object({
		sku: Sku.nullable().openapi({ description: "The SKU whose check failed; null when the run itself failed" }),
		message: text(1000),
	})
	.openapi("StockReconciliationRunError");

export const StockRunSchema = z
	.object({
		id: RowId,
		status: z.enum(["running", "succeeded", "failed"]),
		started_at: timestamp(),
		finished_at: timestamp().nullable(),
		skus_checked: count().openapi({ description: "SKUs whose InventoryItem answered and were compared" }),
		drifted: count().openapi({ description: "Disagreements this run found (a SKU may have one per kind), the repaired ones included" }),
		repaired: count().openapi({ description: "Of those, the stock levels this run rewrote from their InventoryItem" }),
		errors: z.array(RunErrorSchema).max(1000),
	})
	.openapi("StockReconciliationRun");

const ObservedSchema = z
	.object({
		object_on_hand: Units.optional(),
		object_reserved: Units.optional(),
		object_available: Units.optional(),
		object_sold: Units.optional(),
		object_seq: Sequence.optional(),
		ledger_on_hand: Units.optional().openapi({ description: "Sum of the ledger's deltas" }),
		ledger_events: Sequence.optional().openapi({ description: "Ledger rows (one per event of the object)" }),
		ledger_max_seq: Sequence.optional().openapi({ description: "The newest event of the object the ledger holds" }),
		projection_available: Units.nullable().optional(),
		projection_seq: Sequence.nullable().optional(),
		paid_units: Units.optional().openapi({ description: "Units of this SKU in orders that were ever paid" }),
	})
	.openapi("StockDriftObserved", { description: "The InventoryItem's figures and those of the record that disagrees with it" });

export const StockDriftSchema = z
	.object({
		id: RowId,
		run_id: RowId.openapi({ description: "The last run that saw it" }),
		sku: Sku,
		kind: z.enum(DRIFT_KINDS).openapi({
			description:
				"`ledger`: the ledger's sum or row count differs from the object's on hand or events; `projection`: stock_levels differs from the object's available; `orders`: paid orders hold more units than the object sold",
		}),
		observed: ObservedSchema,
		created_at: timestamp().openapi({ description: "When a run first saw it" }),
		resolved_at: timestamp().nullable(),
		resolution: z.enum(DRIFT_RESOLUTIONS).nullable().openapi({
			description:
				"`repaired`: the run rewrote the projection from the object; `cleared`: a later run found agreement; `accepted`, `set_object_from_ledger`: an admin's action",
		}),
		resolved_by: text(64)
			.regex(/^[\w:.-]+$/)
			.nullable()
			.openapi({ description: "The admin's user id, or `reconciliation` for the job" }),
		note: text(500).nullable().openapi({ description: "The admin's note, for a drift an admin resolved" }),
	})
	.openapi("StockDrift");

export const listStockReconciliationRuns = createRoute({
	method: "get",
	path: "/admin/stock-reconciliation/runs",
	operationId: "listStockReconciliationRuns",
	tags,
	security: adminAuth,
	summary: "Stock reconciliation runs, newest first",
	description:
		"Each run (every minute, from the cron trigger, or on request) compares a slice of the SKUs' InventoryItem objects with the ledger, the stock levels and paid orders, and records what disagrees as stock drift.",
	request: {
		query: z.object({
			limit: pageLimit(100, 20),
			cursor: rowCursor(),
		}),
	},
	responses: {
		200: jsonResponse(
			z.object({ data: z.array(StockRunSchema).max(100), next_cursor: RowId.nullable() }),
			"A page of stock reconciliation runs",
		),
		...databaseProblems,
		400: problem("Invalid query"),
		...adminProblems,
	},
});

export const runStockReconciliation = createRoute({
	method: "post",
	path: "/admin/stock-reconciliation/run",
	operationId: "runStockReconciliation",
	tags,
	security: adminAuth,
	summary: "Run stock reconciliation now (the next slice of SKUs, or one SKU)",
	description:
		"Runs what the cron trigger runs, at once, and answers the finished run. With `sku`, checks only that SKU. Refused with 409 while another run is in progress.",
	request: {
		query: z.object({ sku: Sku.optional().openapi({ description: "Check only this SKU" }) }),
	},
	responses: {
		201: jsonResponse(StockRunSchema, "The finished run"),
		...databaseProblems,
		400: problem("Invalid query"),
		...adminProblems,
		404: problem("No variant or stock level names the SKU"),
		409: problem("`reconciliation_running`: another run is in progress"),
	},
});

export const listStockDrift = createRoute({
	method: "get",
	path: "/admin/stock-drift",
	operationId: "listStockDrift",
	tags,
	security: adminAuth,
	summary: "Stock drift the reconciliation found, newest first",
	description:
		"Each row is one SKU's disagreement of one kind, with the figures the last run saw. Filter by `open=true` for what still needs an admin (alerts look at the same rows).",
	request: {
		query: z.object({
			open: z.enum(["true", "false"]).optional(),
			sku: Sku.optional(),
			kind: z.enum(DRIFT_KINDS).optional(),
			limit: pageLimit(100, 50),
			cursor: rowCursor(),
		}),
	},
	responses: {
		200: jsonResponse(z.object({ data: z.array(StockDriftSchema).max(100), next_cursor: RowId.nullable() }), "A page of stock drift"),
		...databaseProblems,
		400: problem("Invalid query"),
		...adminProblems,
	},
});

export const ResolveDriftBody = z
	.object({
		action: z.enum(["set_object_from_ledger", "accept"]).openapi({
			description:
				"`set_object_from_ledger` (ledger drift only) changes the InventoryItem's on hand by the recorded difference, to the ledger's figure; `accept` leaves stock as it is and records the difference as expected",
		}),
		note: z.string().trim().min(1).max(500).openapi({ description: "Why, for the audit log" }),
	})
	.strict()
	.openapi("ResolveStockDriftRequest");

export const resolveStockDrift = createRoute({
	method: "post",
	path: "/admin/stock-drift/{id}/resolve",
	operationId: "resolveStockDrift",
	tags,
	security: adminAuth,
	summary: "Resolve an open stock drift: set the object from the ledger, or accept the difference",
	description:
		"The only way the reconciliation changes an InventoryItem: explicitly, once per drift (the adjustment is keyed by the drift), audited with the resolution. Repeating the same resolution answers the resolved drift.",
	request: {
		params: z.object({
			id: z.coerce
				.number()
				.int()
				.min(1)
				.max(Number.MAX_SAFE_INTEGER)
				// An id no drift will have: the documented example must name nothing real.
				.openapi({ format: "int64", param: { name: "id", in: "path" }, example: Number.MAX_SAFE_INTEGER }),
		}),
		body: jsonBody(ResolveDriftBody),
	},
	responses: {
		200: jsonResponse(StockDriftSchema, "The resolved drift"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		404: problem("No such drift"),
		409: problem("`drift_resolved`: already resolved another way; `below_reserved`: the ledger's figure is below what is reserved"),
		422: problem("`drift_not_ledger`: only a ledger drift can set the object from the ledger"),
		503: problem("`inventory_unavailable` or `database_unavailable`: nothing changed; retry"),
	},
});
