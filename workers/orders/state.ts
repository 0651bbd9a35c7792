/**
 * The order state machine: the one place that says which status may follow
 * which. Every status change goes through `transition()` and is applied as a
 * conditional update on the status it was read in (see orders.ts), so two
 * racing changes cannot both win.
 *
 *   pending_payment ─pay─▶ paid ─fulfil─▶ fulfilled ─ship─▶ shipped ─deliver─▶ delivered
 *         │   │             │                 │              │                   │
 *         │ review        cancel            refund         refund              refund
 *         │   ▼             ▼                 ▼              ▼                   ▼
 *         │ payment_review ─accept─▶ paid     refunded       refunded            refunded
 *         │   └─refund─▶ refunded
 *       cancel/expire
 *         ▼
 *     cancelled ──────▶ refunded (late payment with no stock)
 *         └─pay (late payment, stock re-reserved)─▶ paid
 *
 * `partially_refunded`: part of the capture went back (refund_part, from paid
 * onwards, again and again); refunding the rest makes it `refunded`. A
 * partially refunded order is not fulfilled or shipped any further.
 *
 * `payment_review`: a payment arrived whose provider, payment id, amount or
 * currency differs from the order's; nothing is committed or shipped until an
 * admin accepts it (stock committed, paid) or refunds it.
 */
export const ORDER_STATUSES = [
	"pending_payment",
	"payment_review",
	"paid",
	"fulfilled",
	"shipped",
	"delivered",
	"partially_refunded",
	"cancelled",
	"refunded",
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export type OrderAction = "pay" | "review" | "accept" | "cancel" | "expire" | "fulfil" | "ship" | "deliver" | "refund" | "refund_part";

const TRANSITIONS: Record<OrderAction, Partial<Record<OrderStatus, OrderStatus>>> = {
	// Part of a captured payment refunded (an amount, or lines); the whole capture refunded is `refund`.
	refund_part: {
		paid: "partially_refunded",
		fulfilled: "partially_refunded",
		shipped: "partially_refunded",
		delivered: "partially_refunded",
		partially_refunded: "partially_refunded",
	},
	// A payment that lands after the order was cancelled revives it when stock can be re-reserved.
	pay: { pending_payment: "paid", cancelled: "paid" },
	// A payment that does not match the order's (amount, currency, provider or its id) waits for an admin.
	review: { pending_payment: "payment_review" },
	// An admin accepts the reviewed payment: the stock is committed and the order is paid.
	accept: { payment_review: "paid" },
	// Customers and admins cancel while unpaid, or paid and not yet fulfilled (the payment is refunded).
	cancel: { pending_payment: "cancelled", paid: "cancelled" },
	// The reservation ran out before the payment arrived.
	expire: { pending_payment: "cancelled" },
	fulfil: { paid: "fulfilled" },
	ship: { fulfilled: "shipped" },
	deliver: { shipped: "delivered" },
	// A refund of a captured payment; from `pending_payment` or `cancelled` when the payment arrived after the stock was gone.
	refund: {
		pending_payment: "refunded",
		payment_review: "refunded",
		partially_refunded: "refunded",
		paid: "refunded",
		fulfilled: "refunded",
		shipped: "refunded",
		delivered: "refunded",
		cancelled: "refunded",
	},
};

export type Transition = { ok: true; from: OrderStatus; to: OrderStatus } | { ok: false; from: OrderStatus; action: OrderAction };

/** The status `action` leads to from `from`, or a refusal (answered as 409 `invalid_transition`). */
export function transition(from: OrderStatus, action: OrderAction): Transition {
	const to = TRANSITIONS[action][from];
	return to ? { ok: true, from, to } : { ok: false, from, action };
}

/** Statuses from which `action` is allowed. */
export function sourcesOf(action: OrderAction): OrderStatus[] {
	return Object.keys(TRANSITIONS[action]) as OrderStatus[];
}

/** The timestamp column each status sets when it is entered. */
export const ENTERED_AT: Partial<
	Record<OrderStatus, "paidAt" | "fulfilledAt" | "shippedAt" | "deliveredAt" | "cancelledAt" | "refundedAt">
> = {
	paid: "paidAt",
	fulfilled: "fulfilledAt",
	shipped: "shippedAt",
	delivered: "deliveredAt",
	cancelled: "cancelledAt",
	refunded: "refundedAt",
};
