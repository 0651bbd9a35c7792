import { and, count, desc, eq, isNotNull, isNull, lt, sql } from "drizzle-orm";
import { type AuditActor, recordAudit } from "../catalog/audit.ts";
import { type Db, isDatabaseUnavailable } from "../db/client.ts";
import { deadLetters } from "../db/schema.ts";
import { DomainError, notFound } from "../domain/errors.ts";
import { redactSecrets } from "../notifications/redaction.ts";

/**
 * Records messages a queue gave up on, once per (queue, message id), so that
 * an admin can see and replay them. A redelivered dead letter is a no-op.
 *
 * Bodies are stored with their secrets redacted (notifications/redaction.ts):
 * a verification or reset e-mail's event carries its link's token, and an
 * admin reading the letter must not be able to use it. The token travels on
 * the queue only as long as the consumer needs it; once it gives up, the
 * token is gone, and a replayed letter records its e-mail as failed instead
 * of sending a dead link (the customer asks for a new one). Everything else
 * in a body is kept, so every other letter replays as it was.
 */
export async function recordDeadLetters(
	db: Db,
	queue: string,
	messages: readonly Message<unknown>[],
	bodyOf: (message: Message<unknown>) => unknown = (message) => redactSecrets(message.body ?? null),
): Promise<void> {
	if (messages.length === 0) return;
	await db
		.insert(deadLetters)
		.values(
			messages.map((message) => ({
				queue,
				messageId: message.id,
				body: bodyOf(message),
				attempts: message.attempts,
			})),
		)
		.onConflictDoNothing({ target: [deadLetters.queue, deadLetters.messageId] });
}

/** What `storeDeadLetters` could not store, and the first error that stopped it. */
export interface DeadLetterStoreOutcome {
	unstored: Message<unknown>[];
	error?: unknown;
}

/**
 * Stores a dead-letter batch and answers the messages it could not store,
 * which the caller must not ack. One statement for the batch; when Postgres
 * refuses it for a reason other than an outage (a body jsonb cannot hold,
 * such as a string with a NUL character, or a value JSON cannot encode),
 * each message is stored on its own, and a body refused again is kept as
 * its JSON text (`{ unstorable_body }`), so no message holds back its
 * neighbours or is retried until the platform drops it.
 */
export async function storeDeadLetters(db: Db, queue: string, messages: readonly Message<unknown>[]): Promise<DeadLetterStoreOutcome> {
	try {
		await recordDeadLetters(db, queue, messages);
		return { unstored: [] };
	} catch (err) {
		if (isDatabaseUnavailable(err)) return { unstored: [...messages], error: err };
	}
	const outcome: DeadLetterStoreOutcome = { unstored: [] };
	for (const [index, message] of messages.entries()) {
		try {
			await recordDeadLetters(db, queue, [message]);
			continue;
		} catch (err) {
			if (isDatabaseUnavailable(err)) return { unstored: [...outcome.unstored, ...messages.slice(index)], error: err };
		}
		try {
			await recordDeadLetters(db, queue, [message], (m) => ({ unstorable_body: bodyText(redactSecrets(m.body)) }));
		} catch (err) {
			if (isDatabaseUnavailable(err)) return { unstored: [...outcome.unstored, ...messages.slice(index)], error: err };
			outcome.unstored.push(message);
			outcome.error ??= err;
		}
	}
	return outcome;
}

/** A body as JSON text, which escapes what jsonb refuses; bigints as decimal strings; "[unserializable]" for cycles. */
function bodyText(body: unknown): string {
	try {
		return JSON.stringify(body ?? null, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)) ?? "null";
	} catch {
		return "[unserializable]";
	}
}

type DeadLetterRow = typeof deadLetters.$inferSelect;

/** A dead letter as the API and the admin console show it. */
export interface DeadLetterView {
	id: number;
	queue: string;
	message_id: string;
	body: unknown;
	attempts: number;
	received_at: string;
	replayed_at: string | null;
}

function deadLetterView(row: DeadLetterRow): DeadLetterView {
	return {
		id: row.id,
		queue: row.queue,
		message_id: row.messageId,
		// Stored redacted already; letters stored before that was so are redacted here.
		body: redactSecrets(row.body),
		attempts: row.attempts,
		received_at: row.receivedAt.toISOString(),
		replayed_at: row.replayedAt?.toISOString() ?? null,
	};
}

export interface DeadLetterQuery {
	queue?: string | undefined;
	/** true: only replayed ones; false: only those still waiting; undefined: both. */
	replayed?: boolean | undefined;
	limit: number;
	/** The id of the last letter of the previous page. */
	cursor?: number | undefined;
}

/** What the queues gave up on, newest first. */
export async function listDeadLetters(db: Db, query: DeadLetterQuery): Promise<{ data: DeadLetterView[]; next_cursor: number | null }> {
	const { queue, replayed, limit, cursor } = query;
	const rows = await db
		.select()
		.from(deadLetters)
		.where(
			and(
				queue ? eq(deadLetters.queue, queue) : undefined,
				replayed === undefined ? undefined : replayed ? isNotNull(deadLetters.replayedAt) : isNull(deadLetters.replayedAt),
				cursor ? lt(deadLetters.id, cursor) : undefined,
			),
		)
		.orderBy(desc(deadLetters.id))
		.limit(limit + 1);
	const page = rows.slice(0, limit);
	const next = rows.length > limit ? (page.at(-1)?.id ?? null) : null;
	return { data: page.map(deadLetterView), next_cursor: next };
}

/** How many letters still wait for a replay. */
export async function countWaitingDeadLetters(db: Db): Promise<number> {
	const [row] = await db.select({ n: count() }).from(deadLetters).where(isNull(deadLetters.replayedAt));
	return row?.n ?? 0;
}

/**
 * Marks the letter replayed, audits it and re-queues its body in one
 * transaction: if the queue refuses, the mark and the entry are rolled back
 * and the admin can try again. 409 when it was already replayed, 404 when
 * there is no such letter.
 */
export async function replayDeadLetter(env: Env, db: Db, id: number, actor: AuditActor): Promise<DeadLetterView> {
	const row = await db.transaction(async (tx) => {
		const [claimed] = await tx
			.update(deadLetters)
			.set({ replayedAt: sql`now()` })
			.where(and(eq(deadLetters.id, id), isNull(deadLetters.replayedAt)))
			.returning();
		if (!claimed) {
			const [exists] = await tx.select({ id: deadLetters.id }).from(deadLetters).where(eq(deadLetters.id, id));
			throw exists
				? new DomainError("already_replayed", { detail: "This dead letter was already put back on its queue." })
				: notFound("No dead letter with this id.");
		}
		const queue = claimed.queue === "orders" ? env.ORDERS_QUEUE : claimed.queue === "notifications" ? env.NOTIFICATIONS_QUEUE : undefined;
		if (!queue) throw new DomainError("unknown_queue", { detail: `No producer for queue ${claimed.queue}.` });
		// The letter without its body: the body is in the letter itself, and a log of changes needs only which letter went back.
		const letter = { queue: claimed.queue, message_id: claimed.messageId, attempts: claimed.attempts };
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "dead_letter.replay",
			entityType: "dead_letter",
			entityId: String(claimed.id),
			before: { ...letter, replayed_at: null },
			after: { ...letter, replayed_at: claimed.replayedAt?.toISOString() ?? null },
			requestId: actor.requestId,
		});
		try {
			await queue.send(claimed.body, { contentType: "json" });
		} catch (cause) {
			throw new DomainError("queue_unavailable", {
				detail: "The queue refused the message; nothing changed. Retry shortly.",
				retryAfterSeconds: 5,
				cause,
			});
		}
		return claimed;
	});
	return deadLetterView(row);
}
