import type { RouteHandler } from "@hono/zod-openapi";
import { and, desc, eq, isNotNull, isNull, lt, sql } from "drizzle-orm";
import { deadLetters } from "../../db/schema.ts";
import { AppError } from "../lib/problem.ts";
import type { AppEnv } from "../types.ts";
import type { listDeadLetters, replayDeadLetter } from "./dead-letters.routes.ts";

type DeadLetterRow = typeof deadLetters.$inferSelect;

function publicDeadLetter(row: DeadLetterRow) {
	return {
		id: row.id,
		queue: row.queue,
		message_id: row.messageId,
		body: row.body,
		attempts: row.attempts,
		received_at: row.receivedAt.toISOString(),
		replayed_at: row.replayedAt?.toISOString() ?? null,
	};
}

export const listDeadLettersHandler: RouteHandler<typeof listDeadLetters, AppEnv> = async (c) => {
	const { queue, replayed, limit, cursor } = c.req.valid("query");
	const rows = await c
		.get("database")
		.primary.select()
		.from(deadLetters)
		.where(
			and(
				queue ? eq(deadLetters.queue, queue) : undefined,
				replayed === undefined ? undefined : replayed === "true" ? isNotNull(deadLetters.replayedAt) : isNull(deadLetters.replayedAt),
				cursor ? lt(deadLetters.id, cursor) : undefined,
			),
		)
		.orderBy(desc(deadLetters.id))
		.limit(limit + 1);
	const page = rows.slice(0, limit);
	const next = rows.length > limit ? (page.at(-1)?.id ?? null) : null;
	return c.json({ data: page.map(publicDeadLetter), next_cursor: next }, 200);
};

/**
 * Marks the letter replayed and re-queues its body in one transaction: if the
 * queue refuses, the mark is rolled back and the admin can try again.
 */
export const replayDeadLetterHandler: RouteHandler<typeof replayDeadLetter, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const row = await c.get("database").primary.transaction(async (tx) => {
		const [claimed] = await tx
			.update(deadLetters)
			.set({ replayedAt: sql`now()` })
			.where(and(eq(deadLetters.id, id), isNull(deadLetters.replayedAt)))
			.returning();
		if (!claimed) {
			const [exists] = await tx.select({ id: deadLetters.id }).from(deadLetters).where(eq(deadLetters.id, id));
			throw exists
				? new AppError(409, "already_replayed", "Already replayed", { detail: "This dead letter was already put back on its queue." })
				: new AppError(404, "not_found", "Not found", { detail: "No dead letter with this id." });
		}
		const queue =
			claimed.queue === "orders" ? c.env.ORDERS_QUEUE : claimed.queue === "notifications" ? c.env.NOTIFICATIONS_QUEUE : undefined;
		if (!queue) throw new AppError(409, "unknown_queue", "Unknown queue", { detail: `No producer for queue ${claimed.queue}.` });
		try {
			await queue.send(claimed.body, { contentType: "json" });
		} catch (cause) {
			throw new AppError(503, "queue_unavailable", "Service temporarily unavailable", {
				detail: "The queue refused the message; nothing changed. Retry shortly.",
				headers: { "retry-after": "5" },
				cause,
			});
		}
		return claimed;
	});
	return c.json(publicDeadLetter(row), 202);
};
