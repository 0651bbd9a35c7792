import { recordAudit } from "../catalog/audit.ts";
import type { Tx } from "../db/client.ts";
import type { Money } from "../domain/money.ts";
import type { LoadedOrder } from "./orders.ts";
import type { OrderStatus } from "./state.ts";

/**
 * The audit entries of admin order actions (fulfil, ship, deliver, refunds,
 * accepting a reviewed payment). Each is written in the transaction that
 * changes the order, so the entry and the change commit together or not at
 * all; a refused action (409, a provider failure) writes none.
 */

/**
 * What an entry records of an order: its status and the facts admin actions
 * change. Not the whole order: the shipping address and e-mail are in the
 * order itself, and the access token's hash never leaves it.
 */
export interface OrderAuditState {
	status: OrderStatus;
	total: Money;
	payment: { status: string; refunded: Money } | null;
	tracking: { carrier: string | null; number: string } | null;
}

export function orderAuditState({ order, payment }: Pick<LoadedOrder, "order" | "payment">): OrderAuditState {
	const money = (amount: number): Money => ({ amount, currency: order.currency });
	return {
		status: order.status,
		total: money(order.totalMinor),
		payment: payment ? { status: payment.status, refunded: money(payment.refundedMinor) } : null,
		tracking: order.trackingNumber ? { carrier: order.carrier, number: order.trackingNumber } : null,
	};
}

/** Records one admin order action inside its transaction: `order.<action>`, the order before and after (plus `details`). */
export async function recordOrderAudit(
	tx: Tx,
	entry: {
		actorId: string;
		requestId?: string | undefined;
		action: string;
		before: Pick<LoadedOrder, "order" | "payment">;
		after: Pick<LoadedOrder, "order" | "payment">;
		details?: Record<string, unknown>;
	},
): Promise<void> {
	await recordAudit(tx, {
		actorId: entry.actorId,
		action: `order.${entry.action}`,
		entityType: "order",
		entityId: entry.before.order.id,
		before: orderAuditState(entry.before),
		after: { ...orderAuditState(entry.after), ...entry.details },
		requestId: entry.requestId,
	});
}
