import { createRoute, z } from "@hono/zod-openapi";
import { adminAuth, adminProblems, count, databaseProblems, integer, jsonResponse, problem, text, timestamp } from "../lib/openapi.ts";
import { pageLimit, rowCursor } from "../lib/params.ts";
import { ProviderName } from "../orders/orders.schemas.ts";

const tags = ["Admin"];

/** Runs are rows of a bigserial table: positive, and exact as JSON numbers. */
const RunId = integer(1, Number.MAX_SAFE_INTEGER);

const RunErrorSchema = z
	.object({
		event_id: text(255).nullable().openapi({ description: "The provider event that failed to apply; null when listing failed" }),
		code: z
			.string()
			.max(100)
			.regex(/^\w+$/)
			.openapi({ description: "`provider_unavailable`, `database_unavailable`, a domain error code, or the error's name" }),
		message: text(1000),
	})
	.openapi("ReconciliationRunError");

export const ReconciliationRunSchema = z
	.object({
		id: RunId,
		provider: ProviderName,
		status: z.enum(["running", "succeeded", "failed", "abandoned"]),
		started_at: timestamp(),
		finished_at: timestamp().nullable(),
		window: z.object({ from: timestamp(), to: timestamp() }).openapi({
			description: "Payments that succeeded in this window were asked for: the previous checkpoint less the overlap, to the run's start",
		}),
		checked: count().openapi({ description: "Succeeded payments the provider listed in the window" }),
		applied: count().openapi({ description: "Of those, the ones no order reflected, applied by this run" }),
		unmatched: count().openapi({ description: "Succeeded payments no order of ours matches (left alone)" }),
		errors: z.array(RunErrorSchema).max(1000),
		checkpoint: timestamp()
			.nullable()
			.openapi({ description: "Where the next run starts, less the overlap; null while running or when abandoned" }),
	})
	.openapi("ReconciliationRun");

export const listReconciliationRuns = createRoute({
	method: "get",
	path: "/admin/payments/reconciliation",
	operationId: "listReconciliationRuns",
	tags,
	security: adminAuth,
	summary: "Payment reconciliation runs, newest first",
	description:
		"Each run (every minute, from the cron trigger) lists the payments that succeeded at the provider since its checkpoint and applies those no order reflects, through the webhook's own path.",
	request: {
		query: z.object({
			limit: pageLimit(100, 20),
			cursor: rowCursor(),
		}),
	},
	responses: {
		200: jsonResponse(
			z.object({ data: z.array(ReconciliationRunSchema).max(100), next_cursor: RunId.nullable() }),
			"A page of reconciliation runs",
		),
		...databaseProblems,
		400: problem("Invalid query"),
		...adminProblems,
	},
});
