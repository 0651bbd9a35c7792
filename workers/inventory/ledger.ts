import { inventoryLedger } from "../db/schema.ts";
import type { EventHandler } from "../queues/index.ts";

/** Event types an InventoryItem emits on the `orders` queue, each one ledger row. */
export const INVENTORY_EVENT_TYPES = [
	"inventory.reserved",
	"inventory.released",
	"inventory.committed",
	"inventory.adjusted",
	"inventory.reservation.expired",
] as const;

/**
 * Writes one ledger row per inventory event, keyed by the event id, so a
 * redelivered event changes nothing (I3). `delta` is the change to on-hand
 * stock (zero for holds and releases).
 */
export const applyInventoryEvent: EventHandler = async (event, { db }) => {
	const data = event.data as { sku?: unknown; on_hand_delta?: unknown };
	if (typeof data.sku !== "string" || typeof data.on_hand_delta !== "number") throw new Error("malformed inventory event");
	await db.primary
		.insert(inventoryLedger)
		.values({
			eventId: event.id,
			sku: data.sku,
			delta: data.on_hand_delta,
			reason: event.type.replace(/^inventory\./, ""),
			occurredAt: new Date(event.occurred_at),
		})
		.onConflictDoNothing({ target: inventoryLedger.eventId });
};
