import { createRoute, z } from "@hono/zod-openapi";
import { authProblems, bearerAuth, jsonResponse } from "../lib/openapi.ts";
import { problemResponse } from "../lib/problem.ts";

const tags = ["Admin"];

const RunErrorSchema = z
	.object({
		event_id: z.string().nullable().openapi({ description: "The provider event that failed to apply; null when listing failed" }),
		code: z.string().openapi({ description: "`provider_unavailable`, `database_unavailable`, a domain error code, or the error's name" }),
		message: z.string(),
	})
	.openapi("ReconciliationRunError");

export const ReconciliationRunSchema = z
	.object({
		id: z.number().int(),
		provider: z.enum(["stripe", "test"]).or(z.string()),
		status: z.enum(["running", "succeeded", "failed", "abandoned"]),
		started_at: z.string().openapi({ format: "date-time" }),
		finished_at: z.string().nullable().openapi({ format: "date-time" }),
		window: z.object({ from: z.string().openapi({ format: "date-time" }), to: z.string().openapi({ format: "date-time" }) }).openapi({
			description: "Payments that succeeded in this window were asked for: the previous checkpoint less the overlap, to the run's start",
		}),
		checked: z.number().int().openapi({ description: "Succeeded payments the provider listed in the window" }),
		applied: z.number().int().openapi({ description: "Of those, the ones no order reflected, applied by this run" }),
		unmatched: z.number().int().openapi({ description: "Succeeded payments no order of ours matches (left alone)" }),
		errors: z.array(RunErrorSchema),
		checkpoint: z
			.string()
			.nullable()
			.openapi({ format: "date-time", description: "Where the next run starts, less the overlap; null while running or when abandoned" }),
	})
	.openapi("ReconciliationRun");

export const listReconciliationRuns = createRoute({
	method: "get",
	path: "/admin/payments/reconciliation",
	tags,
	security: bearerAuth,
	summary: "Payment reconciliation runs, newest first",
	description:
		"Each run (every minute, from the cron trigger) lists the payments that succeeded at the provider since its checkpoint and applies those no order reflects, through the webhook's own path.",
	request: {
		query: z.object({
			limit: z.coerce.number().int().min(1).max(100).default(20),
			cursor: z.coerce.number().int().positive().optional().openapi({ description: "`next_cursor` of the previous page" }),
		}),
	},
	responses: {
		200: jsonResponse(
			z.object({ data: z.array(ReconciliationRunSchema), next_cursor: z.number().int().nullable() }),
			"A page of reconciliation runs",
		),
		400: problemResponse("Invalid query"),
		...authProblems,
		403: problemResponse("Not an admin"),
	},
});
