import { and, desc, eq, sql } from "drizzle-orm";
import { accrueCommission, reverseCommission } from "../affiliates/commissions.ts";
import { cartStub } from "../carts/carts.ts";
import type { AuditActor } from "../catalog/audit.ts";
import type { Db, Tx } from "../db/client.ts";
import { orderEvents, payments, processedEvents } from "../db/schema.ts";
import { DomainError, notFound } from "../domain/errors.ts";
import { inventoryItem, type Line, releaseAll } from "../inventory/reservations.ts";
import type { PaymentEvent } from "../payments/provider.ts";
import { recordOrderAudit } from "./audit.ts";
import {
	applyTransition,
	invalidTransition,
	type LoadedOrder,
	loadOrder,
	type OrderLineRow,
	type OrderRow,
	type PaymentRow,
	viewOf,
} from "./orders.ts";
import { enqueue, type OutboxMessage, publish } from "./outbox.ts";
import { paymentsFor } from "./payments.ts";
import { discountCustomer, redeemForRevival, unredeem } from "./promotions.ts";

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
		await unredeem(tx, orderId);
		await tx.update(payments).set({ status: "canceled", updatedAt: sql`now()` }).where(eq(payments.orderId, orderId));
		const payment = loaded.payment;
		// The provider's payment is cancelled too, so it can no longer be paid (a payment already on its way is refunded).
		const cancelPayment: OutboxMessage[] =
			payment?.providerPaymentId && reason !== "payment_canceled"
				? [
						{
							queue: "orders",
							id: `payment.cancel:${orderId}`,
							type: "payment.cancel",
							data: { order_id: orderId, provider: payment.provider, provider_payment_id: payment.providerPaymentId },
						},
					]
				: [];
		// A guest's address was never proven: anyone can type a stranger's into the checkout form, so an
		// order nobody paid for mails nobody (merchants' webhooks still hear of it). A paid order's
		// payer, and a signed-in customer, are told.
		const mail = updated.userId !== null;
		const ids = await enqueue(tx, [notification(updated, "cancelled", { reason, mail }), ...cancelPayment]);
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
 * What of a succeeded payment differs from the order's own payment (I8): its
 * provider, its payment id (when the order has one recorded), its amount or
 * its currency. Empty when the payment is the one the order asked for.
 */
export function paymentMismatch(payment: PaymentRow | null, event: PaymentEvent): string[] {
	if (!payment) return ["payment"];
	const differs: string[] = [];
	if (payment.provider !== event.provider) differs.push("provider");
	if (payment.providerPaymentId && payment.providerPaymentId !== event.providerPaymentId) differs.push("provider_payment_id");
	if (payment.amountMinor !== event.amount) differs.push("amount");
	if (payment.currency !== event.currency) differs.push("currency");
	return differs;
}

/** What the review records of the payment that arrived, so an admin can accept or refund exactly it. */
export interface ReceivedPayment {
	event_id: string;
	provider: string;
	provider_payment_id: string;
	amount: number;
	currency: string;
	mismatch: string[];
}

/**
 * A payment that does not match its unpaid order: the order waits in
 * `payment_review`, nothing is committed, and the admins are told. The
 * reservation runs its course; accepting later commits the stock again if
 * it can.
 */
async function holdForReview(env: Env, db: Db, source: string, event: PaymentEvent, loaded: LoadedOrder, mismatch: string[]) {
	const received: ReceivedPayment = {
		event_id: event.id,
		provider: event.provider,
		provider_payment_id: event.providerPaymentId,
		amount: event.amount,
		currency: event.currency,
		mismatch,
	};
	const ids = await db.transaction(async (tx) => {
		if (!(await markProcessed(tx, source, event.id))) return null;
		const current = await loadOrder(tx, loaded.order.id, { forUpdate: true });
		if (current?.order.status !== "pending_payment") return null;
		const updated = await applyTransition(tx, current.order, "review", "payment", { data: { received } });
		if (!updated) return null;
		return enqueue(tx, [
			{
				queue: "notifications",
				id: `payment_review:${updated.id}`,
				type: "order.payment_review",
				data: {
					order_id: updated.id,
					expected: { amount: current.payment?.amountMinor ?? 0, currency: updated.currency },
					received: { amount: event.amount, currency: event.currency },
					provider: event.provider,
					provider_payment_id: event.providerPaymentId,
					mismatch,
				},
			},
		]);
	});
	if (ids) await publish(env, db, ids).catch(() => 0);
}

/**
 * A successful payment. A payment that does not match its unpaid order goes
 * to review (`holdForReview`). Unpaid order: commit the stock, mark it paid, settle
 * the cart, queue the confirmation. An order cancelled by expiry is revived
 * when its stock can be reserved again; otherwise, or when it was cancelled on
 * purpose, the payment is refunded automatically.
 */
async function paymentSucceeded(env: Env, db: Db, source: string, event: PaymentEvent, loaded: LoadedOrder): Promise<void> {
	const { order } = loaded;
	const lines = linesOf(loaded.lines);
	const mismatch = paymentMismatch(loaded.payment, event);
	if (mismatch.length > 0 && order.status === "pending_payment") return holdForReview(env, db, source, event, loaded, mismatch);
	const revivable =
		mismatch.length === 0 && (order.status === "pending_payment" || (order.status === "cancelled" && order.cancelReason === "expired"));
	if (!revivable) {
		if (order.status === "cancelled") await refundOrder(env, db, loaded, "payment_after_cancel", "system", { event, keepStatus: true });
		else await db.transaction((tx) => markProcessed(tx, source, event.id));
		return;
	}
	const missing = await secureStock(env, order.id, lines, 5 * 60 * 1000);
	if (missing.length > 0) {
		await restock(env, order.id, lines, missing);
		await refundOrder(env, db, loaded, "out_of_stock", "system", { event });
		return;
	}
	// The status is checked again under the row lock, in the transaction that changes it: a customer's
	// cancel that landed while the stock was being committed wins, and this payment is refunded.
	const paid = await db.transaction(async (tx) => {
		const current = await loadOrder(tx, order.id, { forUpdate: true });
		if (!current) return null;
		const { status, cancelReason } = current.order;
		if (status !== "pending_payment" && !(status === "cancelled" && cancelReason === "expired")) return { lost: current };
		if (!(await markProcessed(tx, source, event.id))) return null;
		return markPaid(tx, current, "pay", "payment", { event_id: event.id }, event.providerPaymentId);
	});
	if (!paid) return;
	if ("lost" in paid) {
		// Cancelled meanwhile: the units just committed go back, the money back to the shopper. Any other
		// state (paid by a twin event, say) already owns the stock: only the event is recorded.
		if (paid.lost.order.status === "cancelled") {
			await restock(env, order.id, lines);
			await refundOrder(env, db, paid.lost, "payment_after_cancel", "system", { event, keepStatus: true });
		} else await db.transaction((tx) => markProcessed(tx, source, event.id));
		return;
	}
	await settlePaid(env, db, order.id, lines, paid);
}

/**
 * The paid order's writes, inside the caller's transaction: the transition
 * (conditional on the status read), the payment succeeded, a revived order's
 * discount use taken again, the confirmation queued. Null when another change
 * won the order.
 */
async function markPaid(
	tx: Tx,
	current: LoadedOrder,
	action: "pay" | "accept",
	actor: string,
	data: Record<string, unknown>,
	providerPaymentId: string,
): Promise<{ ids: number[]; cartId: string } | null> {
	const updated = await applyTransition(tx, current.order, action, actor, { data });
	if (!updated) return null;
	if (current.order.status === "cancelled" && current.order.promotions.length > 0) {
		// The cancellation gave the uses back; the revived order takes them again, under the promotions' rules.
		const customer = discountCustomer(current.order.userId, current.order.email);
		await redeemForRevival(tx, current.order.promotions, current.order.id, customer);
	}
	await tx
		.update(payments)
		.set({ status: "succeeded", providerPaymentId, updatedAt: sql`now()` })
		.where(eq(payments.orderId, current.order.id));
	// The affiliate's commission is earned with the payment, in its transaction (once per order).
	await accrueCommission(tx, updated, current.lines);
	const view = viewOf({ ...current, order: updated });
	const ids = await enqueue(tx, [
		notification(updated, "confirmation", {
			lines: view.lines,
			subtotal: view.subtotal,
			discount: view.discount,
			shipping: view.shipping,
			tax: view.tax,
			total: view.total,
			tax_included: view.tax_included,
			tax_breakdown: view.tax_breakdown,
			shipping_method: view.shipping_method,
			shipping_address: view.shipping_address,
		}),
	]);
	return { ids, cartId: updated.cartId };
}

/** After a paid order's commit: the cart loses the ordered lines, the confirmation leaves the outbox. */
async function settlePaid(env: Env, db: Db, orderId: string, lines: readonly Line[], paid: { ids: number[]; cartId: string }) {
	await cartStub(env, paid.cartId)
		.settle(orderId, lines)
		.catch(() => {});
	await publish(env, db, paid.ids).catch(() => 0);
}

/** The payment a review holds: what the `review` transition recorded. */
export async function reviewedPayment(db: Db, orderId: string): Promise<ReceivedPayment | null> {
	const [row] = await db
		.select({ data: orderEvents.data })
		.from(orderEvents)
		.where(and(eq(orderEvents.orderId, orderId), eq(orderEvents.type, "review")))
		.orderBy(desc(orderEvents.id))
		.limit(1);
	const received = (row?.data as { received?: ReceivedPayment } | undefined)?.received;
	return received ?? null;
}

/**
 * An admin accepts a payment under review: every line's stock is committed
 * (reserved again if its hold ran out), then the order is paid as if the
 * payment had matched. Stock that cannot be had any more is a 409: the units
 * already committed go back, the order stays in review, to be refunded.
 */
export async function acceptReviewedPayment(env: Env, db: Db, orderId: string, actorId: string, requestId?: string): Promise<LoadedOrder> {
	const loaded = await loadOrder(db, orderId);
	if (!loaded) throw notFound("No such order.");
	if (loaded.order.status !== "payment_review") throw invalidTransition(loaded.order.status, "accept");
	const received = await reviewedPayment(db, orderId);
	if (!received) throw new Error(`order ${orderId} is under review without a received payment`);
	const lines = linesOf(loaded.lines);
	const missing = await secureStock(env, orderId, lines, 5 * 60 * 1000);
	if (missing.length > 0) {
		await restock(env, orderId, lines, missing);
		throw new DomainError("out_of_stock", {
			detail: "The order's stock is gone; refund the payment instead.",
			extensions: { skus: missing },
		});
	}
	const paid = await db.transaction(async (tx) => {
		const current = await loadOrder(tx, orderId, { forUpdate: true });
		if (current?.order.status !== "payment_review") return null;
		const accepted = await markPaid(
			tx,
			current,
			"accept",
			actorId,
			{ event_id: received.event_id, received },
			received.provider_payment_id,
		);
		const after = accepted ? await loadOrder(tx, orderId) : null;
		if (after) await recordOrderAudit(tx, { actorId, requestId, action: "accept_payment", before: current, after });
		return accepted;
	});
	if (!paid) {
		const now = await loadOrder(db, orderId);
		throw invalidTransition(now?.order.status ?? loaded.order.status, "accept");
	}
	await settlePaid(env, db, orderId, lines, paid);
	return (await loadOrder(db, orderId)) ?? loaded;
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
 * Refunds a payment of the order with the provider and marks the order
 * refunded (with `keepStatus`, a cancelled order stays cancelled and the
 * refund is recorded in its history): the order's own payment, or the one that arrived (`event`, or a
 * reviewed payment's `received` record), for exactly what it brought. The
 * provider's idempotency key names the order and, for a payment other than
 * the order's own, that payment too, so a retry refunds once and a second
 * unwanted payment is refunded on its own.
 */
export async function refundOrder(
	env: Env,
	db: Db,
	loaded: LoadedOrder,
	reason: string,
	actor: string,
	{
		event,
		received,
		keepStatus = false,
		audit,
	}: {
		event?: PaymentEvent;
		received?: ReceivedPayment;
		keepStatus?: boolean;
		/** The admin who asked for the refund: their audit entry commits with it. Absent for the system's own refunds. */
		audit?: AuditActor;
	} = {},
): Promise<LoadedOrder> {
	const { order, payment } = loaded;
	const providerPaymentId = event?.providerPaymentId ?? received?.provider_payment_id ?? payment?.providerPaymentId;
	if (!providerPaymentId) throw new Error(`order ${order.id} has no payment to refund`);
	const arrived = event?.amount ?? received?.amount;
	const amount = arrived ?? (payment ? payment.amountMinor - payment.refundedMinor : 0);
	const own = !payment?.providerPaymentId || payment.providerPaymentId === providerPaymentId;
	const key = own ? `refund:${order.id}` : `refund:${order.id}:${providerPaymentId}`;
	const refund = amount > 0 ? await paymentsFor(env).refund(providerPaymentId, amount, key, order.id) : null;
	const updated = await db.transaction(async (tx) => {
		if (event && !(await markProcessed(tx, `payment:${event.provider}`, event.id))) return null;
		const current = await loadOrder(tx, order.id, { forUpdate: true });
		if (!current || current.order.status === "refunded") return null;
		// The provider answered a refund it had already made (same idempotency key): it is on record once.
		if (refund && current.payment?.providerRefundId === refund.refundId) return null;
		const data = { reason, refund_id: refund?.refundId ?? null, provider_payment_id: providerPaymentId, amount };
		let next: OrderRow | null = current.order;
		if (keepStatus) {
			// Money nobody asked for goes back; the order keeps the status its owner chose.
			const status = current.order.status;
			await tx
				.insert(orderEvents)
				.values({ orderId: order.id, type: "refund_unwanted", fromStatus: status, toStatus: status, actor, data });
		} else next = await applyTransition(tx, current.order, "refund", actor, { data });
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
		await reverseCommission(tx, order.id);
		const currency = event?.currency ?? received?.currency ?? order.currency;
		const after = audit ? await loadOrder(tx, order.id) : null;
		if (audit && after) {
			await recordOrderAudit(tx, {
				actorId: audit.userId,
				requestId: audit.requestId,
				action: "refund",
				before: current,
				after,
				details: { refund: { amount: { amount, currency }, reason, provider_refund_id: refund?.refundId ?? null } },
			});
		}
		const ids = await enqueue(tx, [notification(next, "refunded", { amount: { amount, currency }, reason })]);
		return { ids };
	});
	if (updated) await publish(env, db, updated.ids).catch(() => 0);
	return (await loadOrder(db, order.id)) ?? loaded;
}

/**
 * A declined attempt (`payment.failed`) leaves the order payable: it stays
 * `pending_payment` with its stock until the reservation expires, its payment
 * marked failed so the pay page says so, and the shopper may try another
 * card. A payment the provider canceled can never be paid: that cancels the
 * unpaid order and releases its stock.
 */
async function paymentFailed(env: Env, db: Db, source: string, event: PaymentEvent, loaded: LoadedOrder): Promise<void> {
	if (event.type === "payment.canceled") {
		if (loaded.order.status === "pending_payment") await cancelUnpaid(env, db, loaded.order.id, "payment_canceled", "payment");
		await db.transaction((tx) => markProcessed(tx, source, event.id));
		return;
	}
	await db.transaction(async (tx) => {
		if (!(await markProcessed(tx, source, event.id))) return;
		const current = await loadOrder(tx, loaded.order.id, { forUpdate: true });
		if (current?.order.status !== "pending_payment") return;
		await tx
			.update(payments)
			.set({ status: "failed", updatedAt: sql`now()` })
			.where(and(eq(payments.orderId, current.order.id), eq(payments.status, "requires_action")));
		await tx.insert(orderEvents).values({
			orderId: current.order.id,
			type: "payment_declined",
			fromStatus: "pending_payment",
			toStatus: "pending_payment",
			actor: "payment",
			data: { event_id: event.id, provider_payment_id: event.providerPaymentId },
		});
	});
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
		await reverseCommission(tx, order.id);
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
