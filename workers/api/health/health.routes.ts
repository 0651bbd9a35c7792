import { createRoute, z } from "@hono/zod-openapi";
import { problemResponse } from "../lib/problem.ts";

const CheckSchema = z.object({
	status: z.enum(["ok", "fail"]),
	duration_ms: z.number(),
	error: z.string().optional().openapi({ description: "What went wrong, without internals" }),
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
	tags: ["Platform"],
	summary: "Liveness: the Worker answers; touches no dependency",
	responses: {
		200: {
			description: "The Worker is up",
			content: { "application/json": { schema: z.object({ status: z.literal("ok") }).openapi("Liveness") } },
		},
	},
});

export const ready = createRoute({
	method: "get",
	path: "/health/ready",
	tags: ["Platform"],
	summary: "Readiness: Postgres, KV and R2 each answer",
	responses: {
		200: { description: "Every dependency answered", content: { "application/json": { schema: ReadinessSchema } } },
		503: problemResponse("At least one dependency failed; `checks` names which"),
	},
});
