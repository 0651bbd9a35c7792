import type { Db } from "../db/client.ts";
import { deadLetters } from "../db/schema.ts";

/**
 * Records messages a queue gave up on, once per (queue, message id), so that
 * an admin can see and replay them. A redelivered dead letter is a no-op.
 */
export async function recordDeadLetters(db: Db, queue: string, messages: readonly Message<unknown>[]): Promise<void> {
	if (messages.length === 0) return;
	await db
		.insert(deadLetters)
		.values(
			messages.map((message) => ({
				queue,
				messageId: message.id,
				body: (message.body ?? null) as unknown,
				attempts: message.attempts,
			})),
		)
		.onConflictDoNothing({ target: [deadLetters.queue, deadLetters.messageId] });
}
