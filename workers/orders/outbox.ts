import { and, asc, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import type { Db, Tx } from "../db/client.ts";
import { outbox } from "../db/schema.ts";
import { type Envelope, envelope } from "../queues/envelope.ts";

export type OutboxQueue = "orders" | "notifications";

export interface OutboxMessage {
	queue: OutboxQueue;
	id: string;
	type: string;
	data: Record<string, unknown>;
	delaySeconds?: number;
}

/**
 * Writes messages in the caller's transaction: they exist exactly when the
 * change they announce was committed. Returns the row ids for `publish()`.
 */
export async function enqueue(tx: Tx, messages: readonly OutboxMessage[]): Promise<number[]> {
	if (messages.length === 0) return [];
	const rows = await tx.insert(outbox).values(outboxRows(messages)).returning({ id: outbox.id });
	return rows.map((row) => row.id);
}

/** The outbox rows of `messages`, for an insert of the caller's own (see checkout's one-statement placement). */
export function outboxRows(messages: readonly OutboxMessage[]): (typeof outbox.$inferInsert)[] {
	return messages.map((m) => ({
		queue: m.queue,
		body: envelope(m.id, m.type, m.data) as unknown as Record<string, unknown>,
		delaySeconds: m.delaySeconds ?? 0,
	}));
}

function queueOf(env: Env, name: string): Queue {
	return name === "notifications" ? env.NOTIFICATIONS_QUEUE : env.ORDERS_QUEUE;
}

/**
 * Sends committed outbox rows and marks them published. A row is marked only
 * after its queue accepted it, so a crash in between sends it again later
 * (consumers de-duplicate by the envelope id). Failures are left for the relay.
 */
export async function publish(env: Env, db: Db, ids: readonly number[]): Promise<number> {
	if (ids.length === 0) return 0;
	const rows = await db
		.select()
		.from(outbox)
		.where(and(inArray(outbox.id, [...ids]), isNull(outbox.publishedAt)))
		.orderBy(asc(outbox.id));
	let sent = 0;
	for (const row of rows) {
		try {
			await queueOf(env, row.queue).send(row.body as unknown as Envelope, {
				contentType: "json",
				...(row.delaySeconds > 0 ? { delaySeconds: row.delaySeconds } : {}),
			});
		} catch {
			await db
				.update(outbox)
				.set({ attempts: sql`${outbox.attempts} + 1` })
				.where(eq(outbox.id, row.id))
				.catch(() => {});
			continue;
		}
		await db.update(outbox).set({ publishedAt: sql`now()` }).where(eq(outbox.id, row.id));
		sent++;
	}
	return sent;
}

/**
 * The scheduled relay: publishes rows that their writer did not (it crashed, or
 * the queue refused), oldest first, leaving fresh rows to their writer for a
 * little while. Published rows are dropped after a week.
 */
export async function relayOutbox(env: Env, db: Db, { olderThanSeconds = 30, limit = 200 } = {}): Promise<number> {
	const stale = await db
		.select({ id: outbox.id })
		.from(outbox)
		.where(and(isNull(outbox.publishedAt), lt(outbox.createdAt, sql`now() - make_interval(secs => ${olderThanSeconds})`)))
		.orderBy(asc(outbox.id))
		.limit(limit);
	const sent = await publish(
		env,
		db,
		stale.map((row) => row.id),
	);
	await db.delete(outbox).where(lt(outbox.publishedAt, sql`now() - interval '7 days'`));
	return sent;
}
