import { DomainError } from "../domain/errors.ts";
import { envelope } from "./envelope.ts";

/**
 * Puts an event on a queue. `id` must be deterministic for the event so the
 * consumer can apply it once. A queue that refuses is an outage (503): the
 * caller's transaction, if any, then rolls back and nothing is half-done.
 */
async function produce(queue: Queue, id: string, type: string, data: Record<string, unknown>): Promise<void> {
	try {
		await queue.send(envelope(id, type, data), { contentType: "json" });
	} catch (cause) {
		throw new DomainError("queue_unavailable", {
			detail: "An event could not be queued. Retry shortly.",
			retryAfterSeconds: 5,
			cause,
		});
	}
}

export function queueNotification(env: Env, id: string, type: string, data: Record<string, unknown>): Promise<void> {
	return produce(env.NOTIFICATIONS_QUEUE, id, type, data);
}

export function queueOrderEvent(env: Env, id: string, type: string, data: Record<string, unknown>): Promise<void> {
	return produce(env.ORDERS_QUEUE, id, type, data);
}
