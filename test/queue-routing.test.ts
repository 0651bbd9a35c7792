import { env, runDurableObjectAlarm } from "cloudflare:test";
import { eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { inventoryLedger, orders, stockLevels } from "../workers/db/schema.ts";
import { INVENTORY_EVENT_TYPES } from "../workers/inventory/ledger.ts";
import { inventoryItem } from "../workers/inventory/reservations.ts";
import { registry } from "../workers/queues/index.ts";
import { at, withDb } from "./helpers.ts";
import { available, Bus, checkoutOk, guestCart, newSku, orderStatus, stock } from "./orders-helpers.ts";

describe("orders queue routing", () => {
	it("an expired hold's event, in one batch with the order's other stock events, cancels the unpaid order and writes every ledger row; redelivered, it changes nothing more", async () => {
		const bus = new Bus();
		const { sku } = await newSku(2000);
		await bus.watch(sku);
		await stock(sku, 3);
		const placed = await checkoutOk(bus, await guestCart([[sku, 2]]));
		expect(placed.order.status).toBe("pending_payment");
		const [order] = await withDb((db) => db.primary.select().from(orders).where(eq(orders.id, placed.order.id)));
		const expiry = order?.reservationExpiresAt.getTime() ?? 0;

		// The hold runs out: the object's alarm releases it and queues its event, as the runtime would at expiry.
		await at(expiry + 1000, () => runDurableObjectAlarm(inventoryItem(env, sku)));
		const events = bus.orders.take((s) => s.body.type.startsWith("inventory."));
		expect(events.map((s) => s.body.type)).toEqual(["inventory.adjusted", "inventory.reserved", "inventory.reservation.expired"]);
		const expired = events[2]?.body;
		if (!expired) throw new Error("no expiry event");
		expect(expired.data).toMatchObject({ reservation_id: placed.order.id, quantity: 2, available: 3 });

		const first = await at(expiry + 2000, () => bus.deliver(events.map((s) => s.body)));
		expect(first.retryMessages).toEqual([]);
		expect(first.explicitAcks).toHaveLength(3);
		const after = {
			status: await orderStatus(placed.order.id),
			ledger: await withDb((db) =>
				db.primary
					.select({ eventId: inventoryLedger.eventId, reason: inventoryLedger.reason, delta: inventoryLedger.delta })
					.from(inventoryLedger)
					.where(
						inArray(
							inventoryLedger.eventId,
							events.map((s) => s.body.id),
						),
					)
					.orderBy(inventoryLedger.eventId),
			),
			level: await withDb((db) => db.primary.select().from(stockLevels).where(eq(stockLevels.sku, sku))),
		};
		expect(after.status).toEqual(["place:pending_payment", "expire:cancelled"]);
		expect(after.ledger.map((r) => `${r.reason}:${r.delta}`)).toEqual(["adjusted:3", "reserved:0", "reservation.expired:0"]);
		expect(after.level.map((r) => [r.available, r.seq])).toEqual([[3, 3]]);
		expect(bus.notifications.sent.filter((s) => s.body.type === "order.cancelled")).toHaveLength(1);
		expect(await available(sku)).toMatchObject({ available: 3, reserved: 0 });

		// Delivered again (the ack was lost), twice in one batch: acked, and nothing moves.
		const again = await at(expiry + 3000, () => bus.deliver([expired, expired]));
		expect(again.explicitAcks).toHaveLength(2);
		expect(await orderStatus(placed.order.id)).toEqual(after.status);
		expect(
			await withDb((db) =>
				db.primary.select({ eventId: inventoryLedger.eventId }).from(inventoryLedger).where(eq(inventoryLedger.sku, sku)),
			),
		).toHaveLength(3);
		expect(await withDb((db) => db.primary.select().from(stockLevels).where(eq(stockLevels.sku, sku)))).toEqual(after.level);
		expect(bus.notifications.sent.filter((s) => s.body.type === "order.cancelled")).toHaveLength(1);
	});

	it("routes every InventoryItem event through one ledger step, and an expiry also through the order lifecycle", () => {
		const steps = new Set(INVENTORY_EVENT_TYPES.map((type) => registry.orders[type]?.batch));
		expect(steps.size).toBe(1);
		expect([...steps][0]).toBeDefined();
		expect(INVENTORY_EVENT_TYPES.filter((type) => registry.orders[type]?.each !== undefined)).toEqual(["inventory.reservation.expired"]);
	});
});
