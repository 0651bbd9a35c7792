import { Database } from "../db/client.ts";
import { applyInventoryEvent, INVENTORY_EVENT_TYPES, ledgerRow, writeLedger } from "../inventory/ledger.ts";
import { notificationHandlers } from "../notifications/consumer.ts";
import { orderHandlers } from "../orders/handlers.ts";
import { recordDeadLetters } from "./dead-letters.ts";
import { type Envelope, EnvelopeSchema } from "./envelope.ts";
import { retryDelaySeconds } from "./retry.ts";

/** Applies one event; must be idempotent (I3). Throwing retries the message with backoff. */
export type EventHandler = (event: Envelope, context: { env: Env; db: Database }) => Promise<void>;

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

/** Event handlers by queue and event type. Features register theirs here. */
export const handlers: Record<"orders" | "notifications", Record<string, EventHandler>> = {
	orders: { ...Object.fromEntries(INVENTORY_EVENT_TYPES.map((type) => [type, applyInventoryEvent])), ...orderHandlers },
	notifications: { ...notificationHandlers },
};

function log(fields: Record<string, unknown>): void {
	console.log(JSON.stringify({ msg: "queue", ...fields }));
}

/**
 * The Worker's `queue` handler. Each message is acked or retried on its own,
 * so one bad message never holds back or replays its neighbours. A message
 * that can never apply (malformed, or a type nobody handles) is retried
 * without delay so it reaches the dead-letter queue quickly; a failing
 * handler retries with exponential backoff.
 */
export async function consumeQueueBatch(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
	const role = queueRole(batch.queue);
	const db = new Database(env);
	try {
		if (role === "dead-letter") {
			try {
				await recordDeadLetters(db.primary, batch.queue.replace(/-dlq$/, ""), batch.messages);
				batch.ackAll();
			} catch {
				log({ level: "error", queue: batch.queue, outcome: "dead_letter_store_failed", count: batch.messages.length });
				batch.retryAll({ delaySeconds: retryDelaySeconds(batch.messages[0]?.attempts ?? 1) });
			}
			return;
		}
		const registry = role ? handlers[role] : undefined;
		const rest = role === "orders" ? await writeLedgerBatch(db, batch.messages) : batch.messages;
		for (const message of rest) {
			const parsed = EnvelopeSchema.safeParse(message.body);
			const handler = parsed.success ? registry?.[parsed.data.type] : undefined;
			if (!parsed.success || !handler) {
				log({ level: "error", queue: batch.queue, message_id: message.id, outcome: parsed.success ? "unknown_type" : "malformed" });
				message.retry({ delaySeconds: 0 });
				continue;
			}
			try {
				await handler(parsed.data, { env, db });
				message.ack();
			} catch (err) {
				const delaySeconds = retryDelaySeconds(message.attempts);
				log({
					level: "warn",
					queue: batch.queue,
					message_id: message.id,
					type: parsed.data.type,
					outcome: "retry",
					attempts: message.attempts,
					delay_s: delaySeconds,
					error_name: err instanceof Error ? err.name : typeof err,
				});
				message.retry({ delaySeconds });
			}
		}
	} finally {
		ctx.waitUntil(db.close());
	}
}

/**
 * Writes the ledger rows of a batch's well-formed inventory events in one
 * statement and acks those messages, or retries each of them with backoff if
 * the write fails. Answers the other messages, for the per-message path.
 */
async function writeLedgerBatch(db: Database, messages: readonly Message<unknown>[]): Promise<readonly Message<unknown>[]> {
	const ledger: { message: Message<unknown>; row: NonNullable<ReturnType<typeof ledgerRow>> }[] = [];
	const rest: Message<unknown>[] = [];
	for (const message of messages) {
		const parsed = EnvelopeSchema.safeParse(message.body);
		const row = parsed.success && INVENTORY_EVENTS.has(parsed.data.type) ? ledgerRow(parsed.data) : undefined;
		if (row) ledger.push({ message, row });
		else rest.push(message);
	}
	if (ledger.length === 0) return rest;
	try {
		await writeLedger(
			db,
			ledger.map((entry) => entry.row),
		);
		for (const { message } of ledger) message.ack();
	} catch (err) {
		for (const { message } of ledger) {
			const delaySeconds = retryDelaySeconds(message.attempts);
			log({
				level: "warn",
				queue: "orders",
				message_id: message.id,
				type: "inventory ledger",
				outcome: "retry",
				attempts: message.attempts,
				delay_s: delaySeconds,
				error_name: err instanceof Error ? err.name : typeof err,
			});
			message.retry({ delaySeconds });
		}
	}
	return rest;
}

const INVENTORY_EVENTS: ReadonlySet<string> = new Set(INVENTORY_EVENT_TYPES);
