import { and, asc, eq, sql } from "drizzle-orm";
import type { Executor, Tx } from "../db/client.ts";
import { orderEvents, orderLines, orders, payments, type ShippingAddress } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import type { Money } from "../domain/money.ts";
import { ENTERED_AT, type OrderAction, type OrderStatus, transition } from "./state.ts";

export type OrderRow = typeof orders.$inferSelect;
export type OrderLineRow = typeof orderLines.$inferSelect;
export type PaymentRow = typeof payments.$inferSelect;

export interface OrderView {
	id: string;
	status: OrderStatus;
	email: string;
	lines: {
		sku: string;
		product_id: string;
		title: string;
		quantity: number;
		unit_price: Money;
		line_total: Money;
		discount: Money;
		tax: Money;
		tax_rate_bp: number;
	}[];
	/** The market the order was priced in; null for orders from before markets. */
	market: string | null;
	/** Whether the lines' and shipping's amounts include `tax` (VAT shown "included") or it was added to the total. */
	tax_included: boolean;
	tax_breakdown: { rate_bp: number; taxable: Money; tax: Money }[];
	subtotal: Money;
	discount: Money;
	discount_code: string | null;
	shipping: Money;
	shipping_method: { id: string; kind: "standard" | "express" | "pickup"; name: string } | null;
	tax: Money;
	total: Money;
	shipping_address: ShippingAddress;
	payment: { provider: string; status: string; refunded: Money } | null;
	tracking: { carrier: string | null; number: string } | null;
	reservation_expires_at: string;
	created_at: string;
	paid_at: string | null;
	fulfilled_at: string | null;
	shipped_at: string | null;
	delivered_at: string | null;
	cancelled_at: string | null;
	refunded_at: string | null;
	cancel_reason: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The public shape of an order; the one serializer every route uses. */
export function orderView(order: OrderRow, lines: readonly OrderLineRow[], payment: PaymentRow | null): OrderView {
	const money = (amount: number): Money => ({ amount, currency: order.currency });
	return {
		id: order.id,
		status: order.status,
		email: order.email,
		lines: lines.map((line) => ({
			sku: line.sku,
			product_id: line.productId,
			title: line.title,
			quantity: line.quantity,
			unit_price: money(line.unitPriceMinor),
			line_total: money(line.lineTotalMinor),
			discount: money(line.discountMinor),
			tax: money(line.taxMinor),
			tax_rate_bp: line.taxRateBp,
		})),
		market: order.marketId,
		tax_included: order.taxMode === "inclusive",
		tax_breakdown: order.taxBreakdown.map((entry) => ({
			rate_bp: entry.rate_bp,
			taxable: money(entry.taxable_minor),
			tax: money(entry.tax_minor),
		})),
		subtotal: money(order.subtotalMinor),
		discount: money(order.discountMinor),
		discount_code: order.discountCode,
		shipping: money(order.shippingMinor),
		shipping_method: order.shippingMethod,
		tax: money(order.taxMinor),
		total: money(order.totalMinor),
		shipping_address: order.shippingAddress,
		payment: payment ? { provider: payment.provider, status: payment.status, refunded: money(payment.refundedMinor) } : null,
		tracking: order.trackingNumber ? { carrier: order.carrier, number: order.trackingNumber } : null,
		reservation_expires_at: order.reservationExpiresAt.toISOString(),
		created_at: order.createdAt.toISOString(),
		paid_at: iso(order.paidAt),
		fulfilled_at: iso(order.fulfilledAt),
		shipped_at: iso(order.shippedAt),
		delivered_at: iso(order.deliveredAt),
		cancelled_at: iso(order.cancelledAt),
		refunded_at: iso(order.refundedAt),
		cancel_reason: order.cancelReason,
	};
}

export interface LoadedOrder {
	order: OrderRow;
	lines: OrderLineRow[];
	payment: PaymentRow | null;
}

/** An order with its lines and payment, or null. `forUpdate` locks the order row in the caller's transaction. */
export async function loadOrder(db: Executor, orderId: string, { forUpdate = false } = {}): Promise<LoadedOrder | null> {
	const query = db.select().from(orders).where(eq(orders.id, orderId));
	const [order] = forUpdate ? await query.for("update") : await query;
	if (!order) return null;
	const [lines, [payment]] = await Promise.all([
		db.select().from(orderLines).where(eq(orderLines.orderId, orderId)).orderBy(asc(orderLines.id)),
		db.select().from(payments).where(eq(payments.orderId, orderId)),
	]);
	return { order, lines, payment: payment ?? null };
}

export function viewOf(loaded: LoadedOrder): OrderView {
	return orderView(loaded.order, loaded.lines, loaded.payment);
}

export function invalidTransition(from: OrderStatus, action: OrderAction): DomainError {
	return new DomainError("invalid_transition", {
		detail: `An order that is ${from.replaceAll("_", " ")} cannot be ${
			{
				pay: "paid",
				review: "put under review",
				accept: "accepted",
				cancel: "cancelled",
				expire: "expired",
				fulfil: "fulfilled",
				ship: "shipped",
				deliver: "delivered",
				refund: "refunded",
				refund_part: "partly refunded",
			}[action]
		}.`,
		extensions: { status_now: from },
	});
}

/**
 * Applies `action` to the order as it is in the database: a conditional update
 * on the status the caller read, plus an `order_events` row, in the caller's
 * transaction. Returns the updated row, or null when the order had already
 * moved on (a concurrent change won; the caller decides whether that is a 409
 * or, for a redelivered event, nothing to do). Throws 409 for a transition the
 * state machine does not allow.
 */
export async function applyTransition(
	tx: Tx,
	order: OrderRow,
	action: OrderAction,
	actor: string,
	{ data = {}, set = {} }: { data?: Record<string, unknown>; set?: Partial<typeof orders.$inferInsert> } = {},
): Promise<OrderRow | null> {
	const step = transition(order.status, action);
	if (!step.ok) throw invalidTransition(order.status, action);
	const stamp = ENTERED_AT[step.to];
	const [updated] = await tx
		.update(orders)
		.set({ ...set, status: step.to, updatedAt: sql`now()`, ...(stamp ? { [stamp]: sql`now()` } : {}) })
		.where(and(eq(orders.id, order.id), eq(orders.status, order.status)))
		.returning();
	if (!updated) return null;
	await tx.insert(orderEvents).values({ orderId: order.id, type: action, fromStatus: step.from, toStatus: step.to, actor, data });
	return updated;
}

/**
 * A shipping address as an order keeps it, from any input with the same
 * field names (the API's body, the storefront's form, a queued event):
 * optional fields become null, the country its upper-case ISO code.
 */
export function shippingAddressOf(input: {
	name: string;
	line1: string;
	line2?: string | null | undefined;
	city: string;
	region?: string | null | undefined;
	postal_code: string;
	country: string;
	phone?: string | null | undefined;
}): ShippingAddress {
	return {
		name: input.name,
		line1: input.line1,
		line2: input.line2 ?? null,
		city: input.city,
		region: input.region ?? null,
		postal_code: input.postal_code,
		country: input.country.toUpperCase(),
		phone: input.phone ?? null,
	};
}
