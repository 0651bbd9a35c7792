import type { Database } from "../db/client.ts";
import { inventoryLedger } from "../db/schema.ts";
import type { Envelope } from "../queues/envelope.ts";
import type { EventHandler } from "../queues/index.ts";

/** Event types an InventoryItem emits on the `orders` queue, each one ledger row. */
export const INVENTORY_EVENT_TYPES = [
	"inventory.reserved",
	"inventory.released",
	"inventory.committed",
	"inventory.adjusted",
	"inventory.reservation.expired",
] as const;

/** The ledger row of an inventory event, or undefined when the event lacks what a row needs. */
export function ledgerRow(event: Envelope): typeof inventoryLedger.$inferInsert | undefined {
	const data = event.data as { sku?: unknown; on_hand_delta?: unknown };
	if (typeof data.sku !== "string" || typeof data.on_hand_delta !== "number") return undefined;
	return {
		eventId: event.id,
		sku: data.sku,
		delta: data.on_hand_delta,
		reason: event.type.replace(/^inventory\./, ""),
		occurredAt: new Date(event.occurred_at),
	};
}

/**
 * Writes one ledger row per inventory event, keyed by the event id, so a
 * redelivered event changes nothing (I3). `delta` is the change to on-hand
 * stock (zero for holds and releases). A batch's rows go in one statement:
 * every hold and release is an event, and one round trip per event would
 * make the ledger the busiest writer of a flash sale.
 */
export async function writeLedger(db: Database, rows: (typeof inventoryLedger.$inferInsert)[]): Promise<void> {
	if (rows.length === 0) return;
	await db.primary.insert(inventoryLedger).values(rows).onConflictDoNothing({ target: inventoryLedger.eventId });
}

export const applyInventoryEvent: EventHandler = async (event, { db }) => {
	const row = ledgerRow(event);
	if (!row) throw new Error("malformed inventory event");
	await writeLedger(db, [row]);
};
