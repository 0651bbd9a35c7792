import { createRoute, z } from "@hono/zod-openapi";
import { authProblems, bearerAuth, jsonResponse } from "../lib/openapi.ts";
import { problemResponse } from "../lib/problem.ts";

const tags = ["Admin"];

export const DeadLetterSchema = z
	.object({
		id: z.number().int(),
		queue: z.enum(["orders", "notifications"]).or(z.string()),
		message_id: z.string(),
		body: z.unknown(),
		attempts: z.number().int(),
		received_at: z.string(),
		replayed_at: z.string().nullable(),
	})
	.openapi("DeadLetter");

const forbidden = { 403: problemResponse("Not an admin") };

export const listDeadLetters = createRoute({
	method: "get",
	path: "/admin/dead-letters",
	tags,
	security: bearerAuth,
	summary: "Messages the queues gave up on, newest first",
	request: {
		query: z.object({
			queue: z.enum(["orders", "notifications"]).optional(),
			replayed: z.enum(["true", "false"]).optional(),
			limit: z.coerce.number().int().min(1).max(100).default(50),
			cursor: z.coerce.number().int().positive().optional().openapi({ description: "`next_cursor` of the previous page" }),
		}),
	},
	responses: {
		200: jsonResponse(z.object({ data: z.array(DeadLetterSchema), next_cursor: z.number().int().nullable() }), "A page of dead letters"),
		400: problemResponse("Invalid query"),
		...authProblems,
		...forbidden,
	},
});

export const replayDeadLetter = createRoute({
	method: "post",
	path: "/admin/dead-letters/{id}/replay",
	tags,
	security: bearerAuth,
	summary: "Put a dead letter back on its queue (consumers apply each event once, so a replay is safe)",
	request: {
		params: z.object({
			id: z.coerce
				.number()
				.int()
				.positive()
				.openapi({ param: { name: "id", in: "path" } }),
		}),
	},
	responses: {
		202: jsonResponse(DeadLetterSchema, "Re-queued"),
		...authProblems,
		...forbidden,
		404: problemResponse("No such dead letter"),
		409: problemResponse("Already replayed"),
		503: problemResponse("Queue unavailable; nothing changed"),
	},
});
