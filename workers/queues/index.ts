import { Database } from "../db/client.ts";
import { inventoryEvents } from "../inventory/ledger.ts";
import { notificationEvents } from "../notifications/consumer.ts";
import { orderEvents } from "../orders/events.ts";
import { storeDeadLetters } from "./dead-letters.ts";
import { type BatchStep, type Envelope, EnvelopeSchema, type EventContext, type EventRoute, type EventRoutes } from "./envelope.ts";
import { deadLetterRetryDelaySeconds, retryDelaySeconds } from "./retry.ts";

export type QueueRole = "orders" | "notifications" | "dead-letter";

/**
 * Queue names carry an environment prefix in staging and production
 * (`staging-orders`), and dead-letter queues end in `-dlq`.
 */
export function queueRole(queueName: string): QueueRole | undefined {
	if (queueName.endsWith("-dlq")) return "dead-letter";
	if (queueName === "orders" || queueName.endsWith("-orders")) return "orders";
	if (queueName === "notifications" || queueName.endsWith("-notifications")) return "notifications";
	return undefined;
}

/**
 * Joins features' routes into one table. Two features may serve the same
 * type (the inventory ledger and the order expiry both consume
 * `inventory.reservation.expired`), one with its batch step and the other
 * with its per-event handler; a slot claimed twice throws at load, so no
 * feature silently replaces another's handling.
 */
export function mergeRoutes(...tables: EventRoutes[]): Record<string, EventRoute> {
	const merged: Record<string, EventRoute> = {};
	for (const table of tables) {
		for (const [type, route] of Object.entries(table)) {
			const current = merged[type] ?? {};
			if ((route.batch && current.batch) || (route.each && current.each)) {
				throw new Error(`event type ${type} is routed twice`);
			}
			merged[type] = { ...current, ...route };
		}
	}
	return merged;
}

/**
 * The one registry: every message of a queue is applied through its type's
 * route here, and a type without a route is never acked. Features declare
 * their routes next to their code.
 */
export const registry: Record<"orders" | "notifications", Record<string, EventRoute>> = {
	orders: mergeRoutes(inventoryEvents, orderEvents),
	notifications: mergeRoutes(notificationEvents),
};

interface Delivery {
	message: Message<unknown>;
	event: Envelope;
	route: EventRoute;
}

function log(fields: Record<string, unknown>): void {
	console.log(JSON.stringify({ msg: "queue", ...fields }));
}

/** A message that can never apply: retried at once, so it reaches the dead-letter queue after its few attempts. */
function giveUp(queue: string, message: Message<unknown>, outcome: "malformed" | "unknown_type", type?: string): void {
	log({ level: "error", queue, message_id: message.id, type, outcome });
	message.retry({ delaySeconds: 0 });
}

/** A message that failed for now: retried with backoff. */
function retryLater(queue: string, delivery: Delivery, err: unknown, step?: string): void {
	const delaySeconds = retryDelaySeconds(delivery.message.attempts);
	log({
		level: "warn",
		queue,
		message_id: delivery.message.id,
		type: delivery.event.type,
		step,
		outcome: "retry",
		attempts: delivery.message.attempts,
		delay_s: delaySeconds,
		error_name: err instanceof Error ? err.name : typeof err,
	});
	delivery.message.retry({ delaySeconds });
}

/**
 * The Worker's `queue` handler. Each message is acked or retried on its own,
 * so one bad message never holds back or replays its neighbours. A message
 * that can never apply (malformed, a type nobody routes, or refused by its
 * batch step) is retried without delay so it reaches the dead-letter queue
 * quickly; a failing step retries with exponential backoff.
 *
 * Per batch: first every batch step once, with all the events that name it;
 * then, in delivery order, the per-event handler of each message whose batch
 * step applied. A redelivered message runs both again, so both are idempotent.
 */
export async function consumeQueueBatch(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
	const role = queueRole(batch.queue);
	const db = new Database(env);
	try {
		if (role === "dead-letter") {
			await drainDeadLetters(batch, db);
			return;
		}
		const routes = role ? registry[role] : undefined;
		const deliveries: Delivery[] = [];
		for (const message of batch.messages) {
			const parsed = EnvelopeSchema.safeParse(message.body);
			if (!parsed.success) {
				giveUp(batch.queue, message, "malformed");
				continue;
			}
			const route = routes?.[parsed.data.type];
			if (!route) {
				giveUp(batch.queue, message, "unknown_type", parsed.data.type);
				continue;
			}
			deliveries.push({ message, event: parsed.data, route });
		}
		const context: EventContext = { env, db };
		for (const delivery of await runBatchSteps(batch.queue, deliveries, context)) {
			try {
				await delivery.route.each?.(delivery.event, context);
				delivery.message.ack();
			} catch (err) {
				retryLater(batch.queue, delivery, err);
			}
		}
	} finally {
		ctx.waitUntil(db.close());
	}
}

/**
 * The dead-letter consumer: stores every message for admins and acks only
 * what Postgres holds. The rest is retried with the dead-letter backoff,
 * for as many attempts as the consumer's max_retries allows (the platform's
 * 100), and every failure logs an alert-level line with counts and the
 * error's name, never a body (bodies carry e-mail addresses and order data).
 */
async function drainDeadLetters(batch: MessageBatch<unknown>, db: Database): Promise<void> {
	const { unstored, error } = await storeDeadLetters(db.primary, batch.queue.replace(/-dlq$/, ""), batch.messages);
	if (unstored.length === 0) {
		batch.ackAll();
		return;
	}
	const attempts = Math.max(...unstored.map((message) => message.attempts));
	const delaySeconds = deadLetterRetryDelaySeconds(attempts);
	if (unstored.length === batch.messages.length) {
		batch.retryAll({ delaySeconds });
	} else {
		const failed = new Set(unstored);
		for (const message of batch.messages) {
			if (failed.has(message)) message.retry({ delaySeconds });
			else message.ack();
		}
	}
	console.log(
		JSON.stringify({
			level: "error",
			msg: "dead_letter_store_failed",
			queue: batch.queue,
			count: batch.messages.length,
			stored: batch.messages.length - unstored.length,
			unstored: unstored.length,
			max_attempts: attempts,
			delay_s: delaySeconds,
			error_name: error instanceof Error ? error.name : typeof error,
			error_code: sqlState(error),
		}),
	);
}

/** The SQLSTATE of a Postgres error, however the driver wraps it: tells an outage from a refused value without logging the message, which may quote the value. */
function sqlState(err: unknown): string | null {
	for (let current = err, depth = 0; current && depth < 5; depth++) {
		const code = (current as { code?: unknown }).code;
		if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
		current = (current as { cause?: unknown }).cause;
	}
	return null;
}

/** Runs each batch step once over its deliveries; answers the deliveries that may go on to their per-event handler. */
async function runBatchSteps(queue: string, deliveries: readonly Delivery[], context: EventContext): Promise<Delivery[]> {
	const byStep = new Map<BatchStep, Delivery[]>();
	for (const delivery of deliveries) {
		const step = delivery.route.batch;
		if (step) byStep.set(step, [...(byStep.get(step) ?? []), delivery]);
	}
	const stopped = new Set<Delivery>();
	for (const [step, group] of byStep) {
		try {
			const outcome = await step.apply(
				group.map((delivery) => delivery.event),
				context,
			);
			for (const delivery of group) {
				if (!outcome?.rejected.has(delivery.event)) continue;
				giveUp(queue, delivery.message, "malformed", delivery.event.type);
				stopped.add(delivery);
			}
		} catch (err) {
			for (const delivery of group) {
				retryLater(queue, delivery, err, step.name);
				stopped.add(delivery);
			}
		}
	}
	return deliveries.filter((delivery) => !stopped.has(delivery));
}
