import { and, eq, sql } from "drizzle-orm";
import { cartStub } from "../carts/carts.ts";
import type { Db, Tx } from "../db/client.ts";
import { payments, processedEvents } from "../db/schema.ts";
import { inventoryItem, type Line, releaseAll } from "../inventory/reservations.ts";
import type { PaymentEvent } from "../payments/provider.ts";
import { unredeem } from "./discounts.ts";
import { applyTransition, type LoadedOrder, loadOrder, type OrderLineRow, type OrderRow, viewOf } from "./orders.ts";
import { enqueue, type OutboxMessage, publish } from "./outbox.ts";
import { paymentsFor } from "./payments.ts";

/**
 * The order lifecycle after checkout: payments, expiry, cancellation and
 * refunds. Every step is safe to repeat (I3): effects in Postgres commit with
 * a `processed_events` row or behind a conditional status update; effects in
 * Durable Objects are idempotent per order id; messages leave through the
 * outbox after the commit.
 */

const linesOf = (rows: readonly OrderLineRow[]): Line[] => rows.map((row) => ({ sku: row.sku, quantity: row.quantity }));

function notification(order: OrderRow, kind: string, data: Record<string, unknown> = {}): OutboxMessage {
	return {
		queue: "notifications",
		id: `${kind}:${order.id}`,
		type: `order.${kind}`,
		data: { order_id: order.id, email: order.email, user_id: order.userId, ...data },
	};
}

/** Records an event as applied inside `tx`; false when it already was (the caller then does nothing). */
export async function markProcessed(tx: Tx, source: string, eventId: string): Promise<boolean> {
	const [row] = await tx
		.insert(processedEvents)
		.values({ source, eventId })
		.onConflictDoNothing()
		.returning({ id: processedEvents.eventId });
	return Boolean(row);
}

async function alreadyProcessed(db: Db, source: string, eventId: string): Promise<boolean> {
	const [row] = await db
		.select({ id: processedEvents.eventId })
		.from(processedEvents)
		.where(and(eq(processedEvents.source, source), eq(processedEvents.eventId, eventId)));
	return Boolean(row);
}

/**
 * Cancels an order that is still unpaid: the status (conditional), the
 * discount use given back, the payment marked canceled, a notification; after
 * the commit the reservation is released. Returns false when the order was no
 * longer unpaid (paid meanwhile, or already cancelled): nothing changes.
 */
export async function cancelUnpaid(env: Env, db: Db, orderId: string, reason: string, actor: string): Promise<boolean> {
	const outcome = await db.transaction(async (tx) => {
		const loaded = await loadOrder(tx, orderId, { forUpdate: true });
		if (loaded?.order.status !== "pending_payment") return null;
		const updated = await applyTransition(tx, loaded.order, reason === "expired" ? "expire" : "cancel", actor, {
			data: { reason },
			set: { cancelReason: reason },
		});
		if (!updated) return null;
		if (loaded.order.discountCode) await unredeem(tx, loaded.order.discountCode);
		await tx.update(payments).set({ status: "canceled", updatedAt: sql`now()` }).where(eq(payments.orderId, orderId));
		const ids = await enqueue(tx, [notification(updated, "cancelled", { reason })]);
		return { lines: loaded.lines, ids };
	});
	if (!outcome) return false;
	await releaseAll(env, orderId, linesOf(outcome.lines));
	await publish(env, db, outcome.ids).catch(() => 0);
	return true;
}

/**
 * Turns every line's reservation into a sale. A line whose hold is gone (it
 * expired while the payment was on its way) is reserved again and committed
 * if stock allows. Returns the SKUs that could not be secured.
 */
async function secureStock(env: Env, orderId: string, lines: readonly Line[], ttlMs: number): Promise<string[]> {
	const missing: string[] = [];
	for (const line of lines) {
		const item = inventoryItem(env, line.sku);
		let result = await item.commit(line.sku, orderId);
		if (!result.ok) {
			const again = await item.reserve(line.sku, orderId, line.quantity, ttlMs);
			if (again.ok) result = await item.commit(line.sku, orderId);
		}
		if (!result.ok) missing.push(line.sku);
	}
	return missing;
}

/**
 * A successful payment. Unpaid order: commit the stock, mark it paid, settle
 * the cart, queue the confirmation. An order cancelled by expiry is revived
 * when its stock can be reserved again; otherwise, or when it was cancelled on
 * purpose, the payment is refunded automatically.
 */
async function paymentSucceeded(env: Env, db: Db, source: string, event: PaymentEvent, loaded: LoadedOrder): Promise<void> {
	const { order } = loaded;
	const lines = linesOf(loaded.lines);
	const revivable = order.status === "pending_payment" || (order.status === "cancelled" && order.cancelReason === "expired");
	if (!revivable) {
		if (order.status === "cancelled") await refundOrder(env, db, loaded, "payment_after_cancel", "system", event);
		else await db.transaction((tx) => markProcessed(tx, source, event.id));
		return;
	}
	const missing = await secureStock(env, order.id, lines, 5 * 60 * 1000);
	if (missing.length > 0) {
		await restock(env, order.id, lines, missing);
		await refundOrder(env, db, loaded, "out_of_stock", "system", event);
		return;
	}
	const paid = await db.transaction(async (tx) => {
		if (!(await markProcessed(tx, source, event.id))) return null;
		const current = await loadOrder(tx, order.id, { forUpdate: true });
		if (!current || (current.order.status !== "pending_payment" && current.order.status !== "cancelled")) return null;
		const updated = await applyTransition(tx, current.order, "pay", "payment", { data: { event_id: event.id } });
		if (!updated) return null;
		if (current.order.status === "cancelled" && current.order.discountCode) {
			// The cancellation gave the use back; the revived order takes it again.
			await tx.execute(sql`UPDATE discount_codes SET used_count = used_count + 1 WHERE code = ${current.order.discountCode}`);
		}
		await tx
			.update(payments)
			.set({ status: "succeeded", providerPaymentId: event.providerPaymentId, updatedAt: sql`now()` })
			.where(eq(payments.orderId, order.id));
		const view = viewOf({ ...current, order: updated });
		const ids = await enqueue(tx, [
			notification(updated, "confirmation", {
				lines: view.lines,
				subtotal: view.subtotal,
				discount: view.discount,
				shipping: view.shipping,
				tax: view.tax,
				total: view.total,
				shipping_address: view.shipping_address,
			}),
		]);
		return { ids, cartId: updated.cartId };
	});
	if (!paid) return;
	await cartStub(env, paid.cartId)
		.settle(order.id, lines)
		.catch(() => {});
	await publish(env, db, paid.ids).catch(() => 0);
}

/**
 * Gives back the units of lines that were committed when others could not be:
 * an adjustment per SKU, keyed by the order, so a retry restocks once.
 */
async function restock(env: Env, orderId: string, lines: readonly Line[], except: readonly string[] = []): Promise<void> {
	for (const line of lines) {
		if (except.includes(line.sku)) continue;
		const result = await inventoryItem(env, line.sku).adjust(line.sku, line.quantity, `restock for ${orderId}`, `restock:${orderId}`);
		if (!result.ok && result.reason !== "key_reused") throw new Error(`restock of ${line.sku} for ${orderId} failed: ${result.reason}`);
	}
}

/**
 * Refunds the order's payment with the provider (keyed by the order id, so a
 * retry refunds once) and marks the order refunded.
 */
export async function refundOrder(
	env: Env,
	db: Db,
	loaded: LoadedOrder,
	reason: string,
	actor: string,
	event?: PaymentEvent,
): Promise<LoadedOrder> {
	const { order, payment } = loaded;
	const providerPaymentId = event?.providerPaymentId ?? payment?.providerPaymentId;
	if (!providerPaymentId) throw new Error(`order ${order.id} has no payment to refund`);
	const amount = payment ? payment.amountMinor - payment.refundedMinor : (event?.amount ?? 0);
	const refund = amount > 0 ? await paymentsFor(env).refund(providerPaymentId, amount, `refund:${order.id}`, order.id) : null;
	const updated = await db.transaction(async (tx) => {
		if (event && !(await markProcessed(tx, `payment:${event.provider}`, event.id))) return null;
		const current = await loadOrder(tx, order.id, { forUpdate: true });
		if (!current || current.order.status === "refunded") return null;
		const next = await applyTransition(tx, current.order, "refund", actor, { data: { reason, refund_id: refund?.refundId ?? null } });
		if (!next) return null;
		await tx
			.update(payments)
			.set({
				status: "refunded",
				providerPaymentId,
				refundedMinor: sql`${payments.refundedMinor} + ${amount}`,
				providerRefundId: refund?.refundId ?? null,
				updatedAt: sql`now()`,
			})
			.where(eq(payments.orderId, order.id));
		const ids = await enqueue(tx, [notification(next, "refunded", { amount: { amount, currency: order.currency }, reason })]);
		return { ids };
	});
	if (updated) await publish(env, db, updated.ids).catch(() => 0);
	return (await loadOrder(db, order.id)) ?? loaded;
}

/** A failed or canceled payment cancels the unpaid order and releases its stock. */
async function paymentFailed(env: Env, db: Db, source: string, event: PaymentEvent, loaded: LoadedOrder): Promise<void> {
	if (loaded.order.status === "pending_payment") {
		await cancelUnpaid(env, db, loaded.order.id, event.type === "payment.failed" ? "payment_failed" : "payment_canceled", "payment");
	}
	await db.transaction((tx) => markProcessed(tx, source, event.id));
}

/** Applies one verified provider event, once. Events for orders we do not know are ignored. */
export async function applyPaymentEvent(env: Env, db: Db, event: PaymentEvent): Promise<void> {
	const source = `payment:${event.provider}`;
	if (await alreadyProcessed(db, source, event.id)) return;
	let orderId = event.orderId;
	if (!orderId) {
		const [row] = await db
			.select({ orderId: payments.orderId })
			.from(payments)
			.where(and(eq(payments.provider, event.provider), eq(payments.providerPaymentId, event.providerPaymentId)));
		orderId = row?.orderId ?? null;
	}
	const loaded = orderId ? await loadOrder(db, orderId) : null;
	if (!loaded) {
		console.log(JSON.stringify({ level: "warn", msg: "payment event for unknown order", event_id: event.id, type: event.type }));
		return;
	}
	switch (event.type) {
		case "payment.succeeded":
			return paymentSucceeded(env, db, source, event, loaded);
		case "payment.failed":
		case "payment.canceled":
			return paymentFailed(env, db, source, event, loaded);
		case "refund.succeeded":
		case "refund.failed":
			// Refunds are started here and recorded when the provider accepts them; the later event only confirms.
			await db.transaction((tx) => markProcessed(tx, source, event.id));
			return;
	}
}

/**
 * Expiry: an unpaid order whose reservation ran out is cancelled. Reached from
 * an InventoryItem's `reservation.expired` event and from the order's own
 * delayed `order.expiry_check` (a backstop should the first be lost). An early
 * check (a queue may deliver before the delay) is sent again for later.
 */
export async function expireOrder(env: Env, db: Db, orderId: string): Promise<"cancelled" | "not_due" | "nothing"> {
	const loaded = await loadOrder(db, orderId);
	if (loaded?.order.status !== "pending_payment") return "nothing";
	if (loaded.order.reservationExpiresAt.getTime() > Date.now()) return "not_due";
	return (await cancelUnpaid(env, db, orderId, "expired", "expiry")) ? "cancelled" : "nothing";
}

/**
 * Cancels a paid order that was not fulfilled yet: the payment is refunded
 * with the provider first (keyed by the order, so a retry refunds once), then
 * the status changes; the sold units go back to stock through the outbox
 * (`order.restock`), retried until they are back.
 */
export async function cancelPaid(env: Env, db: Db, loaded: LoadedOrder, reason: string, actor: string): Promise<void> {
	const { order, payment } = loaded;
	if (!payment?.providerPaymentId) throw new Error(`paid order ${order.id} has no provider payment`);
	const amount = payment.amountMinor - payment.refundedMinor;
	const refund = amount > 0 ? await paymentsFor(env).refund(payment.providerPaymentId, amount, `refund:${order.id}`, order.id) : null;
	const outcome = await db.transaction(async (tx) => {
		const current = await loadOrder(tx, order.id, { forUpdate: true });
		if (current?.order.status !== "paid") return null;
		const updated = await applyTransition(tx, current.order, "cancel", actor, {
			data: { reason, refund_id: refund?.refundId ?? null },
			set: { cancelReason: reason },
		});
		if (!updated) return null;
		await tx
			.update(payments)
			.set({
				status: "refunded",
				refundedMinor: sql`${payments.refundedMinor} + ${amount}`,
				providerRefundId: refund?.refundId ?? null,
				updatedAt: sql`now()`,
			})
			.where(eq(payments.orderId, order.id));
		return enqueue(tx, [
			notification(updated, "cancelled", { reason, refunded: { amount, currency: order.currency } }),
			{ queue: "orders", id: `order.restock:${order.id}`, type: "order.restock", data: { order_id: order.id } },
		]);
	});
	if (outcome) await publish(env, db, outcome).catch(() => 0);
}

/** The `order.restock` message: every line's units back on hand, once per order and SKU. */
export async function restockOrder(env: Env, db: Db, orderId: string): Promise<void> {
	const loaded = await loadOrder(db, orderId);
	if (!loaded) return;
	await restock(env, orderId, linesOf(loaded.lines));
}
