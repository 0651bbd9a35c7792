import { sql } from "drizzle-orm";
import { z } from "zod";
import { bumpStockVersion } from "../catalog/cache.ts";
import type { Database } from "../db/client.ts";
import { inventoryLedger, stockLevels } from "../db/schema.ts";
import type { BatchStep, Envelope, EventRoutes } from "../queues/envelope.ts";

/** Event types an InventoryItem emits on the `orders` queue, each one ledger row. */
export const INVENTORY_EVENT_TYPES = [
	"inventory.reserved",
	"inventory.released",
	"inventory.committed",
	"inventory.adjusted",
	"inventory.reservation.expired",
] as const;

/**
 * What every InventoryItem event carries (`#record` in
 * durable-objects/inventory-item.ts): `seq` counts the object's events,
 * `available` is the figure after the change, `on_hand_delta` the change to
 * on-hand stock (zero for holds and releases).
 */
const InventoryEventData = z
	.object({
		sku: z.string().min(1),
		seq: z.number().int().positive(),
		available: z.number().int(),
		on_hand_delta: z.number().int(),
	})
	.loose();

interface InventoryEvent {
	id: string;
	reason: string;
	occurredAt: Date;
	sku: string;
	seq: number;
	available: number;
	delta: number;
}

function parseInventoryEvent(event: Envelope): InventoryEvent | undefined {
	const data = InventoryEventData.safeParse(event.data);
	if (!data.success) return undefined;
	return {
		id: event.id,
		reason: event.type.replace(/^inventory\./, ""),
		occurredAt: new Date(event.occurred_at),
		sku: data.data.sku,
		seq: data.data.seq,
		available: data.data.available,
		delta: data.data.on_hand_delta,
	};
}

const inStock = (available: number | null) => (available ?? 0) > 0;

/**
 * Writes the events' ledger rows and moves each SKU's stock level to its
 * newest event, in one statement: every hold and release is an event, and one
 * round trip per event would make this the busiest writer of a flash sale.
 * Ledger rows are keyed by event id and stock levels guarded by `seq`, so a
 * redelivered, duplicated or reordered event changes nothing (I3). Answers
 * the SKUs the events flipped between in stock and sold out.
 *
 * The flip is computed by Postgres against the row it locked (the previous
 * figure is kept on the row), so two consumers applying neighbouring events
 * of one SKU concurrently each see the other's result, and a flip is never
 * missed between them. Redelivering the newest event reports its flip again,
 * so a flip whose version bump failed is bumped by the retry.
 */
async function applyInventoryEvents(db: Database, events: readonly InventoryEvent[]): Promise<string[]> {
	if (events.length === 0) return [];
	const ledgerRows = new Map<string, typeof inventoryLedger.$inferInsert>();
	const newest = new Map<string, InventoryEvent>();
	for (const event of events) {
		ledgerRows.set(event.id, { eventId: event.id, sku: event.sku, delta: event.delta, reason: event.reason, occurredAt: event.occurredAt });
		const seen = newest.get(event.sku);
		if (!seen || seen.seq < event.seq) newest.set(event.sku, event);
	}
	const ledger = db.primary
		.insert(inventoryLedger)
		.values([...ledgerRows.values()])
		.onConflictDoNothing({ target: inventoryLedger.eventId });
	const levels = db.primary
		.insert(stockLevels)
		.values([...newest.values()].map((e) => ({ sku: e.sku, available: e.available, seq: e.seq, updatedAt: e.occurredAt })))
		.onConflictDoUpdate({
			target: stockLevels.sku,
			set: {
				available: sql`excluded.available`,
				previousAvailable: sql`case when ${stockLevels.seq} = excluded.seq then ${stockLevels.previousAvailable} else ${stockLevels.available} end`,
				seq: sql`excluded.seq`,
				updatedAt: sql`excluded.updated_at`,
			},
			setWhere: sql`${stockLevels.seq} <= excluded.seq`,
		})
		.returning();
	const applied = await db.primary.execute<{ sku: string; available: number; previous_available: number | null }>(
		sql`with ledger as (${ledger.getSQL()}), levels as (${levels.getSQL()}) select sku, available, previous_available from levels`,
	);
	return applied.rows.filter((row) => inStock(Number(row.available)) !== inStock(row.previous_available)).map((row) => row.sku);
}

/**
 * The batch step of every inventory event: ledger rows and stock levels for
 * the whole batch, then, if any SKU flipped, a new stock version so cached
 * catalog answers showing the old state are unreachable at once. Bumping only
 * on flips keeps KV writes rare while a flash sale moves a SKU's figure with
 * every checkout. A bump KV refuses fails the step, and the retry bumps.
 */
const inventoryLedgerStep: BatchStep = {
	name: "inventory ledger",
	async apply(events, { env, db }) {
		const rejected = new Set<Envelope>();
		const parsed: InventoryEvent[] = [];
		for (const event of events) {
			const inventoryEvent = parseInventoryEvent(event);
			if (inventoryEvent) parsed.push(inventoryEvent);
			else rejected.add(event);
		}
		const flipped = await applyInventoryEvents(db, parsed);
		if (flipped.length > 0) await bumpStockVersion(env.CATALOG);
		return { rejected };
	},
};

/** Every InventoryItem event goes through the ledger step; other features may add a per-event handler. */
export const inventoryEvents: EventRoutes = Object.fromEntries(INVENTORY_EVENT_TYPES.map((type) => [type, { batch: inventoryLedgerStep }]));
