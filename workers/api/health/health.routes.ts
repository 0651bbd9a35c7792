import { createRoute, z } from "@hono/zod-openapi";
import { ALERT_KINDS } from "../../ops/alerts.ts";
import { baseProblems, count, jsonResponse, problem, publicAccess, text, timestamp } from "../lib/openapi.ts";

const CheckSchema = z.object({
	status: z.enum(["ok", "fail"]),
	duration_ms: count(),
	error: text(100).optional().openapi({ description: "What went wrong, without internals" }),
});

const ReasonSchema = z
	.object({
		kind: z.enum(ALERT_KINDS),
		summary: text(500).openapi({ description: "What holds, in counts and names: never an order id, an address or a message body" }),
		since: timestamp().openapi({ description: "When the incident opened" }),
	})
	.openapi("ReadinessReason");

export const ReadinessSchema = z
	.object({
		status: z.enum(["ok", "degraded"]).openapi({
			description:
				"`degraded`: every dependency answers, but an alert incident is open (dead letters waiting, stock drift, a payment in review, the outbox lagging); still 200, so a load balancer keeps serving from this Worker",
		}),
		checks: z.object({ postgres: CheckSchema, kv: CheckSchema, r2: CheckSchema }),
		reasons: z.array(ReasonSchema).max(20).openapi({ description: "The open incidents, oldest first (at most 20); empty when `ok`" }),
		open_incidents: count().openapi({ description: "How many incidents are open in all" }),
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
	summary: "Readiness: Postgres, KV and R2 each answer; open alert incidents make it `degraded`",
	description:
		"Probes each dependency with a 3-second timeout and reports each one's outcome and duration. The Postgres probe reads the open alert incidents, which the every-minute alerting job opens and resolves, so the answer lags a condition by up to a minute: it never evaluates the conditions itself.",
	responses: {
		200: jsonResponse(ReadinessSchema, "Every dependency answered: `ok`, or `degraded` with the open incidents in `reasons`"),
		...baseProblems,
		503: problem("`not_ready`: at least one dependency failed; `checks` names which (Retry-After)"),
	},
});
