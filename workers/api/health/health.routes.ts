import { createRoute, z } from "@hono/zod-openapi";
import { baseProblems, count, jsonResponse, problem, publicAccess, text } from "../lib/openapi.ts";

const CheckSchema = z.object({
	status: z.enum(["ok", "fail"]),
	duration_ms: count(),
	error: text(100).optional().openapi({ description: "What went wrong, without internals" }),
});

export const ReadinessSchema = z
	.object({
		status: z.literal("ok"),
		checks: z.object({ postgres: CheckSchema, kv: CheckSchema, r2: CheckSchema }),
	})
	.openapi("Readiness");

export const live = createRoute({
	method: "get",
	path: "/health/live",
	operationId: "checkLiveness",
	tags: ["Platform"],
	security: publicAccess,
	summary: "Liveness: the Worker answers; touches no dependency",
	description: "For load balancers and uptime checks: a 200 says the Worker runs, nothing about Postgres, KV or R2.",
	responses: {
		200: jsonResponse(z.object({ status: z.literal("ok") }).openapi("Liveness"), "The Worker is up"),
		...baseProblems,
	},
});

export const ready = createRoute({
	method: "get",
	path: "/health/ready",
	operationId: "checkReadiness",
	tags: ["Platform"],
	security: publicAccess,
	summary: "Readiness: Postgres, KV and R2 each answer",
	description: "Probes each dependency with a 3-second timeout and reports each one's outcome and duration.",
	responses: {
		200: jsonResponse(ReadinessSchema, "Every dependency answered"),
		...baseProblems,
		503: problem("`not_ready`: at least one dependency failed; `checks` names which (Retry-After)"),
	},
});
