import { createRoute, z } from "@hono/zod-openapi";
import { adminAuth, adminProblems, count, databaseProblems, integer, jsonResponse, problem, text, timestamp } from "../lib/openapi.ts";
import { pageLimit, rowCursor } from "../lib/params.ts";

const tags = ["Admin"];

/** Dead letters are rows of a bigserial table: positive, and exact as JSON numbers. */
const DeadLetterId = integer(1, Number.MAX_SAFE_INTEGER);

export const DeadLetterSchema = z
	.object({
		id: DeadLetterId,
		queue: z
			.string()
			.max(64)
			.regex(/^[a-z][a-z0-9-]*$/)
			.openapi({ description: "The queue the message gave up on, e.g. `orders` or `notifications`" }),
		message_id: text(128),
		body: z.unknown().openapi({ description: "The message as it was queued, secrets redacted" }),
		attempts: count(),
		received_at: timestamp(),
		replayed_at: timestamp().nullable(),
	})
	.openapi("DeadLetter");

export const listDeadLetters = createRoute({
	method: "get",
	path: "/admin/dead-letters",
	operationId: "listDeadLetters",
	tags,
	security: adminAuth,
	summary: "Messages the queues gave up on, newest first",
	description:
		"Each letter keeps the message's body, secrets redacted, and how often delivery was tried; filter by queue and by whether it was replayed.",
	request: {
		query: z.object({
			queue: z.enum(["orders", "notifications"]).optional(),
			replayed: z.enum(["true", "false"]).optional(),
			limit: pageLimit(100, 50),
			cursor: rowCursor(),
		}),
	},
	responses: {
		200: jsonResponse(
			z.object({ data: z.array(DeadLetterSchema).max(100), next_cursor: DeadLetterId.nullable() }),
			"A page of dead letters",
		),
		...databaseProblems,
		400: problem("Invalid query"),
		...adminProblems,
	},
});

export const replayDeadLetter = createRoute({
	method: "post",
	path: "/admin/dead-letters/{id}/replay",
	operationId: "replayDeadLetter",
	tags,
	security: adminAuth,
	summary: "Put a dead letter back on its queue (consumers apply each event once, so a replay is safe)",
	description: "A letter is replayed at most once; its `replayed_at` then records when.",
	request: {
		params: z.object({
			id: z.coerce
				.number()
				.int()
				.min(1)
				.max(Number.MAX_SAFE_INTEGER)
				.openapi({ format: "int64", param: { name: "id", in: "path" }, example: 42 }),
		}),
	},
	responses: {
		202: jsonResponse(DeadLetterSchema, "Re-queued"),
		...databaseProblems,
		...adminProblems,
		404: problem("No such dead letter"),
		409: problem("Already replayed"),
		503: problem("The queue or the database is unavailable; nothing changed"),
	},
});
