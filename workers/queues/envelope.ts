import { z } from "zod";

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
