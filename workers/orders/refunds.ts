import { and, eq, sql } from "drizzle-orm";
import { reverseCommission } from "../affiliates/commissions.ts";
import type { Db } from "../db/client.ts";
import { orderLines, payments, refunds } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";
import { inventoryItem } from "../inventory/reservations.ts";
import { PaymentProviderError } from "../payments/provider.ts";
import { recordOrderAudit } from "./audit.ts";
import { applyTransition, type LoadedOrder, loadOrder, type OrderLineRow } from "./orders.ts";
import { enqueue, publish } from "./outbox.ts";
import { paymentsFor, providerFailed } from "./payments.ts";
import { transition } from "./state.ts";

/** What an admin asks to refund: an amount, or lines with quantities (priced as sold), or both; `restock` puts the lines' units back. */
export interface PartialRefundRequest {
	amount?: number | undefined;
	lines?: { sku: string; quantity: number }[] | undefined;
	restock: boolean;
	reason?: string | undefined;
}

function refused(detail: string, extensions: Record<string, unknown> = {}): DomainError {
	return new DomainError("refund_refused", { detail, extensions });
}

/**
 * What the shopper paid for the first `units` of a line: its amount after
 * discounts, plus its tax when the order added tax on top, spread over its
 * units and rounded half up, cumulatively, so refunding a line unit by unit
 * gives back exactly what refunding it at once does, and all of it in the end.
 */
export function paidForUnits(
	line: Pick<OrderLineRow, "lineTotalMinor" | "discountMinor" | "taxMinor" | "quantity">,
	taxMode: "inclusive" | "exclusive",
	units: number,
): number {
	const paid = BigInt(line.lineTotalMinor - line.discountMinor + (taxMode === "exclusive" ? line.taxMinor : 0));
	const quantity = BigInt(line.quantity);
	return Number((2n * paid * BigInt(units) + quantity) / (2n * quantity));
}

/**
 * The amount a request refunds: as given, or the lines as they were paid
 * (`paidForUnits`: discounts taken off, tax added where it was on top),
 * counting from the units already refunded. Lines must be the order's, each
 * asked for once.
 */
function amountOf(loaded: LoadedOrder, request: PartialRefundRequest): number {
	const bySku = new Map(loaded.lines.map((line) => [line.sku, line]));
	let fromLines = 0;
	const seen = new Set<string>();
	for (const line of request.lines ?? []) {
		const ordered = bySku.get(line.sku);
		if (!ordered || seen.has(line.sku))
			throw refused(`The order has no line ${line.sku} to refund, or it is named twice.`, { sku: line.sku });
		seen.add(line.sku);
		const from = Math.min(ordered.refundedQuantity, ordered.quantity);
		const to = Math.min(from + line.quantity, ordered.quantity);
		fromLines += paidForUnits(ordered, loaded.order.taxMode, to) - paidForUnits(ordered, loaded.order.taxMode, from);
	}
	const amount = request.amount ?? fromLines;
	if (!Number.isSafeInteger(amount) || amount <= 0) throw refused("Name an amount or the lines to refund.");
	return amount;
}

/**
 * Refunds part of a captured payment (or the rest of it). The amount and the
 * lines' units are taken off what may still be refunded in one conditional
 * statement each, inside the transaction that records the refund, before the
 * provider is asked: two refunds racing for more than the capture cannot both
 * pass, and the loser is refused with nothing sent to the provider. A
 * provider failure gives the amount and units back (502). After the
 * provider's refund: the order becomes `partially_refunded`, or `refunded`
 * once the whole capture is back; restocked units go back through each
 * SKU's InventoryItem (keyed by the refund, so a retry adds them once); the
 * shopper gets the refund e-mail with the amount.
 */
export async function refundPart(
	env: Env,
	db: Db,
	orderId: string,
	request: PartialRefundRequest,
	actorId: string,
	requestId?: string,
): Promise<LoadedOrder> {
	const loaded = await loadOrder(db, orderId);
	if (!loaded) throw new DomainError("not_found", { detail: "No such order." });
	const { order, payment } = loaded;
	if (!payment?.providerPaymentId || payment.status !== "succeeded" || !transition(order.status, "refund_part").ok) {
		throw new DomainError("invalid_transition", {
			detail: `An order that is ${order.status.replaceAll("_", " ")} has no captured payment to refund part of.`,
			extensions: { status_now: order.status },
		});
	}
	const amount = amountOf(loaded, request);
	const lines = request.lines ?? [];
	const refundId = newId("ref");

	await db.transaction(async (tx) => {
		const [held] = await tx
			.update(payments)
			.set({ refundedMinor: sql`${payments.refundedMinor} + ${amount}`, updatedAt: sql`now()` })
			.where(and(eq(payments.orderId, orderId), sql`${payments.refundedMinor} + ${amount} <= ${payments.amountMinor}`))
			.returning({ refunded: payments.refundedMinor });
		if (!held)
			throw refused("That is more than is left of the payment to refund.", { refundable: payment.amountMinor - payment.refundedMinor });
		for (const line of lines) {
			const [taken] = await tx
				.update(orderLines)
				.set({ refundedQuantity: sql`${orderLines.refundedQuantity} + ${line.quantity}` })
				.where(
					and(
						eq(orderLines.orderId, orderId),
						eq(orderLines.sku, line.sku),
						sql`${orderLines.refundedQuantity} + ${line.quantity} <= ${orderLines.quantity}`,
					),
				)
				.returning({ id: orderLines.id });
			if (!taken) throw refused(`More units of ${line.sku} than are left to refund.`, { sku: line.sku });
		}
		await tx.insert(refunds).values({
			id: refundId,
			orderId,
			amountMinor: amount,
			currency: order.currency,
			lines,
			restock: request.restock,
			reason: request.reason ?? null,
			actor: actorId,
		});
	});

	let providerRefundId: string;
	try {
		providerRefundId = (await paymentsFor(env).refund(payment.providerPaymentId, amount, `refund:${refundId}`, orderId)).refundId;
	} catch (err) {
		await db.transaction(async (tx) => {
			await tx
				.update(payments)
				.set({ refundedMinor: sql`${payments.refundedMinor} - ${amount}`, updatedAt: sql`now()` })
				.where(eq(payments.orderId, orderId));
			for (const line of lines) {
				await tx
					.update(orderLines)
					.set({ refundedQuantity: sql`${orderLines.refundedQuantity} - ${line.quantity}` })
					.where(and(eq(orderLines.orderId, orderId), eq(orderLines.sku, line.sku)));
			}
			await tx.update(refunds).set({ status: "failed" }).where(eq(refunds.id, refundId));
			// Another refund may have reversed commission for this amount while it was held: given back, it is recounted.
			await reverseCommission(tx, orderId);
		});
		if (err instanceof PaymentProviderError) throw providerFailed(err);
		throw err;
	}

	const ids = await db.transaction(async (tx) => {
		await tx.update(refunds).set({ status: "succeeded", providerRefundId }).where(eq(refunds.id, refundId));
		const current = await loadOrder(tx, orderId, { forUpdate: true });
		if (!current?.payment) return [];
		const whole = current.payment.refundedMinor >= current.payment.amountMinor;
		if (whole) {
			await tx.update(payments).set({ status: "refunded", providerRefundId, updatedAt: sql`now()` }).where(eq(payments.orderId, orderId));
		}
		// After the payment's row: a failed refund's give-back holds that row and then waits for the commission's.
		await reverseCommission(tx, orderId);
		const action = whole ? "refund" : "refund_part";
		if (transition(current.order.status, action).ok) {
			await applyTransition(tx, current.order, action, actorId, {
				data: { refund_id: refundId, amount, lines, restock: request.restock, reason: request.reason ?? null },
			});
		}
		// Audited with the refund's success, not its reservation: a refund the provider refused leaves no entry.
		const after = await loadOrder(tx, orderId);
		if (after) {
			await recordOrderAudit(tx, {
				actorId,
				requestId,
				action,
				before: loaded,
				after,
				details: {
					refund: {
						id: refundId,
						amount: { amount, currency: order.currency },
						lines,
						restock: request.restock,
						reason: request.reason ?? null,
					},
				},
			});
		}
		const restock = request.restock
			? [{ queue: "orders" as const, id: `refund.restock:${refundId}`, type: "refund.restock", data: { refund_id: refundId } }]
			: [];
		return enqueue(tx, [
			{
				queue: "notifications",
				id: `refunded:${refundId}`,
				type: "order.refunded",
				data: {
					order_id: orderId,
					email: current.order.email,
					user_id: current.order.userId,
					amount: { amount, currency: order.currency },
					reason: request.reason ?? "admin",
				},
			},
			...restock,
		]);
	});
	await publish(env, db, ids).catch(() => 0);
	return (await loadOrder(db, orderId)) ?? loaded;
}

/** The `refund.restock` message: a refund's units back on hand, once per refund and SKU. */
export async function restockRefund(env: Env, db: Db, refundId: string): Promise<void> {
	const [refund] = await db.select().from(refunds).where(eq(refunds.id, refundId));
	if (refund?.status !== "succeeded" || !refund.restock) return;
	for (const line of refund.lines) {
		const result = await inventoryItem(env, line.sku).adjust(
			line.sku,
			line.quantity,
			`refund ${refundId} of ${refund.orderId}`,
			`refund:${refundId}:${line.sku}`,
		);
		if (!result.ok && result.reason !== "key_reused") throw new Error(`restock of ${line.sku} for ${refundId} failed: ${result.reason}`);
	}
}
