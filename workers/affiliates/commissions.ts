import { eq, sql } from "drizzle-orm";
import type { Tx } from "../db/client.ts";
import { affiliateCommissions, affiliates, type orderLines, type orders, payments } from "../db/schema.ts";

/**
 * The commission of an attributed order, one row per order
 * (`affiliate_commissions`):
 *
 * - **Accrued** when the order becomes paid, in the transaction that marks it
 *   paid (`accrueCommission`), at the affiliate's rate at that moment. An
 *   order paid twice (a redelivered event, a revived order) keeps its first
 *   row: the order id is the key.
 * - **Reversed** by every refund, in the refund's transaction
 *   (`reverseCommission`): the share of the commission that the refunded
 *   share of the payment takes back, recomputed from the payment's
 *   `refunded_minor` each time, so a repeated or retried refund, or one whose
 *   provider call failed and was given back, leaves exactly the right figure.
 *   A full refund takes back all of it.
 *
 * Only what the order sold earns commission: its lines after their
 * discounts, without tax (taken out of an inclusive order's lines, never in
 * an exclusive one's) and without shipping.
 */

type OrderForCommission = Pick<typeof orders.$inferSelect, "id" | "affiliateId" | "currency" | "taxMode">;
type LineForCommission = Pick<typeof orderLines.$inferSelect, "lineTotalMinor" | "discountMinor" | "taxMinor">;

/** `numerator / denominator` of non-negative integers, rounded half up, in BigInt so no product loses digits. */
function roundedRatio(numerator: bigint, denominator: bigint): bigint {
	return (2n * numerator + denominator) / (2n * denominator);
}

/**
 * What an order sold, the amount its commission is a share of: every line's
 * total less its discount, less its tax when the order's prices include tax.
 */
export function commissionBase(order: Pick<OrderForCommission, "taxMode">, lines: readonly LineForCommission[]): number {
	const inclusive = order.taxMode === "inclusive";
	const base = lines.reduce((sum, line) => sum + line.lineTotalMinor - line.discountMinor - (inclusive ? line.taxMinor : 0), 0);
	return Math.max(0, base);
}

/** `rateBp` basis points of `base`, rounded half up to the minor unit (as orders/pricing.ts `share`). */
export function commissionOf(base: number, rateBp: number): number {
	return Number(roundedRatio(BigInt(base) * BigInt(rateBp), 10_000n));
}

/**
 * The part of a commission that refunds took back: the commission times the
 * refunded share of the payment, rounded half up, never more than the
 * commission (a full refund takes back all of it).
 */
export function reversalOf(commission: number, refunded: number, paid: number): number {
	if (commission <= 0 || refunded <= 0) return 0;
	if (paid <= 0 || refunded >= paid) return commission;
	return Math.min(commission, Number(roundedRatio(BigInt(commission) * BigInt(refunded), BigInt(paid))));
}

/**
 * Writes the commission of an order that has just become paid, inside the
 * transaction that made it paid. Nothing for an order without an affiliate;
 * nothing again for an order that already has its row.
 */
export async function accrueCommission(tx: Tx, order: OrderForCommission, lines: readonly LineForCommission[]): Promise<void> {
	if (!order.affiliateId) return;
	const [affiliate] = await tx.select({ rateBp: affiliates.commissionBp }).from(affiliates).where(eq(affiliates.id, order.affiliateId));
	if (!affiliate) return;
	const base = commissionBase(order, lines);
	await tx
		.insert(affiliateCommissions)
		.values({
			orderId: order.id,
			affiliateId: order.affiliateId,
			rateBp: affiliate.rateBp,
			baseMinor: base,
			commissionMinor: commissionOf(base, affiliate.rateBp),
			currency: order.currency,
		})
		.onConflictDoNothing({ target: affiliateCommissions.orderId });
}

/**
 * Brings an order's reversed commission in line with its payment's refunds,
 * inside the transaction that changed `refunded_minor` (after the change).
 * The commission row is locked; the payment is only read, so this never
 * waits on a payment row another refund holds.
 */
export async function reverseCommission(tx: Tx, orderId: string): Promise<void> {
	const [row] = await tx
		.select({
			commission: affiliateCommissions.commissionMinor,
			reversed: affiliateCommissions.reversedMinor,
			paid: payments.amountMinor,
			refunded: payments.refundedMinor,
		})
		.from(affiliateCommissions)
		.innerJoin(payments, eq(payments.orderId, affiliateCommissions.orderId))
		.where(eq(affiliateCommissions.orderId, orderId))
		.for("update", { of: affiliateCommissions });
	if (!row) return;
	const reversed = reversalOf(row.commission, row.refunded, row.paid);
	if (reversed === row.reversed) return;
	await tx
		.update(affiliateCommissions)
		.set({ reversedMinor: reversed, updatedAt: sql`now()` })
		.where(eq(affiliateCommissions.orderId, orderId));
}
