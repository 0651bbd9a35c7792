import { z } from "zod";
import { type PaymentEvent, PaymentProviderError } from "../payments/provider.ts";
import { type Envelope, type EventHandler, type EventRoutes, envelope } from "../queues/envelope.ts";
import { applyPaymentEvent, expireOrder, restockOrder } from "./lifecycle.ts";
import { paymentsFor } from "./payments.ts";
import { restockRefund } from "./refunds.ts";

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

/**
 * The `payment.event` message of a verified provider event, keyed by the
 * provider's event id: the webhook route queues it, reconciliation applies
 * it directly (`onPaymentEvent`), so a payment seen by both is one event.
 */
export function paymentEnvelope(event: PaymentEvent): Envelope {
	return envelope(`payment:${event.provider}:${event.id}`, "payment.event", { ...event });
}

/**
 * A verified provider event, from the `orders` queue (put there by the
 * webhook route) or from reconciliation: one path, applied once per provider
 * event id (`processed_events`).
 */
export const onPaymentEvent: EventHandler = async (event, { env, db }) => {
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

const PaymentCancel = z.object({
	order_id: z.string().regex(/^ord_/),
	provider: z.enum(["stripe", "test"]),
	provider_payment_id: z.string().min(1).max(255),
});

/**
 * A cancelled or expired unpaid order's payment is cancelled with the
 * provider, so it can no longer be paid. Retried while the provider is
 * unreachable; one it refuses (already paid, say) is left to the payment's
 * own event, which refunds it.
 */
const onPaymentCancel: EventHandler = async (event, { env }) => {
	const data = PaymentCancel.parse(event.data);
	const provider = paymentsFor(env);
	if (provider.name !== data.provider) return;
	try {
		const outcome = await provider.cancelPayment(data.provider_payment_id, `cancel:${data.order_id}`);
		if (outcome === "not_cancelable") {
			console.log(JSON.stringify({ level: "warn", msg: "payment not cancelable", order_id: data.order_id, provider: data.provider }));
		}
	} catch (err) {
		if (err instanceof PaymentProviderError && err.kind === "rejected") {
			console.log(JSON.stringify({ level: "warn", msg: "payment cancel refused", order_id: data.order_id, code: err.code }));
			return;
		}
		throw err;
	}
};

/** A partial refund's units back on hand through each SKU's InventoryItem, once per refund and SKU. */
const onRefundRestock: EventHandler = async (event, { env, db }) => {
	const { refund_id } = z.object({ refund_id: z.string().regex(/^ref_/) }).parse(event.data);
	await restockRefund(env, db.primary, refund_id);
};

/** The `orders` queue events the order lifecycle consumes. */
export const orderEvents: EventRoutes = {
	"order.restock": { each: onRestock },
	"payment.cancel": { each: onPaymentCancel },
	"refund.restock": { each: onRefundRestock },
	"payment.event": { each: onPaymentEvent },
	"order.expiry_check": { each: onExpiryCheck },
	"inventory.reservation.expired": { each: onReservationExpired },
};
