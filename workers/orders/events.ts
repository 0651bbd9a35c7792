import { z } from "zod";
import { type EventHandler, type EventRoutes, envelope } from "../queues/envelope.ts";
import { applyPaymentEvent, expireOrder, restockOrder } from "./lifecycle.ts";

const PaymentEventData = z.object({
	id: z.string().min(1),
	type: z.enum(["payment.succeeded", "payment.failed", "payment.canceled", "refund.succeeded", "refund.failed"]),
	provider: z.enum(["stripe", "test"]),
	providerPaymentId: z.string().min(1),
	orderId: z.string().nullable(),
	amount: z.number().int(),
	currency: z.string(),
	occurredAt: z.number(),
});

const OrderRef = z.object({ order_id: z.string().regex(/^ord_/) });

/** A verified provider event, put on the `orders` queue by the webhook route. */
const onPaymentEvent: EventHandler = async (event, { env, db }) => {
	await applyPaymentEvent(env, db.primary, PaymentEventData.parse(event.data));
};

/**
 * The delayed backstop written at checkout: cancels the order if it is still
 * unpaid after its reservation expired. Delivered early, it is sent again for
 * the time that remains.
 */
const onExpiryCheck: EventHandler = async (event, { env, db }) => {
	const { order_id } = OrderRef.parse(event.data);
	if ((await expireOrder(env, db.primary, order_id)) === "not_due") {
		await env.ORDERS_QUEUE.send(envelope(event.id, event.type, event.data), { contentType: "json", delaySeconds: 60 });
	}
};

/**
 * An InventoryItem released an expired hold: the order it held stock for is
 * cancelled if still unpaid. The event's ledger row and stock level are the
 * inventory ledger's batch step, which runs first (see `inventoryEvents`).
 * A hold with no order behind it (a cart's hold, a checkout that never wrote
 * its order) finds nothing to cancel.
 */
const onReservationExpired: EventHandler = async (event, { env, db }) => {
	const reservationId = (event.data as { reservation_id?: unknown }).reservation_id;
	if (typeof reservationId === "string" && reservationId.startsWith("ord_")) {
		await expireOrder(env, db.primary, reservationId);
	}
};

/** Units of a cancelled paid order go back on hand (idempotent per order and SKU). */
const onRestock: EventHandler = async (event, { env, db }) => {
	const { order_id } = OrderRef.parse(event.data);
	await restockOrder(env, db.primary, order_id);
};

/** The `orders` queue events the order lifecycle consumes. */
export const orderEvents: EventRoutes = {
	"order.restock": { each: onRestock },
	"payment.event": { each: onPaymentEvent },
	"order.expiry_check": { each: onExpiryCheck },
	"inventory.reservation.expired": { each: onReservationExpired },
};
