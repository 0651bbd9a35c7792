import { z } from "zod";
import type { Database } from "../db/client.ts";

/**
 * Every message on every queue has this shape. `id` is the event's
 * deterministic id, which consumers use to make their effect happen once.
 */
export const EnvelopeSchema = z
	.object({
		id: z.string().min(1).max(200),
		type: z.string().regex(/^[a-z]+(\.[a-z_]+)+$/),
		occurred_at: z.iso.datetime({ offset: true }),
		data: z.record(z.string(), z.unknown()),
	})
	.strict();

export type Envelope = z.infer<typeof EnvelopeSchema>;

/** Builds an envelope for producers; `id` must be deterministic for the event. */
export function envelope(id: string, type: string, data: Record<string, unknown>, occurredAt = new Date()): Envelope {
	return EnvelopeSchema.parse({ id, type, occurred_at: occurredAt.toISOString(), data });
}

/** What a consumer step gets besides its events: the Worker's bindings and the batch's database handles. */
export interface EventContext {
	env: Env;
	db: Database;
}

/** Applies one event; must be idempotent (I3). Throwing retries the message with backoff. */
export type EventHandler = (event: Envelope, context: EventContext) => Promise<void>;

/**
 * Applies many events in one go, where one statement for the batch beats one
 * per event. One step may serve several event types: the consumer hands it
 * every event of the batch whose route names it, in delivery order,
 * duplicates included. Must be idempotent (I3). It answers the events it
 * refuses as malformed (they go towards the dead-letter queue without delay,
 * the rest of the batch applies); throwing retries all of its events with
 * backoff, and none of them reaches its per-event handler.
 */
export interface BatchStep {
	/** Names the step in logs. */
	readonly name: string;
	apply(events: readonly Envelope[], context: EventContext): Promise<{ rejected: ReadonlySet<Envelope> } | undefined>;
}

/**
 * How the consumer applies one event type: its batch step, if any, then its
 * per-event handler, if any. A message is acked once both have applied.
 */
export interface EventRoute {
	readonly batch?: BatchStep;
	readonly each?: EventHandler;
}

/** Routes by event type, as a feature declares the events it consumes. */
export type EventRoutes = Readonly<Record<string, EventRoute>>;
