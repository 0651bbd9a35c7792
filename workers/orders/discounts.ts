import { and, count, eq, sql } from "drizzle-orm";
import type { Executor, Tx } from "../db/client.ts";
import { discountCodes, discountRedemptions, orderEvents } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import type { Discount } from "./pricing.ts";

export type DiscountRow = typeof discountCodes.$inferSelect;

export function normalizeCode(code: string): string {
	return code.trim().toUpperCase();
}

/** Who a use of a code counts against: the signed-in user, else the order's e-mail address. */
export function discountCustomer(userId: string | null | undefined, email: string): string {
	return userId ? `user:${userId}` : `email:${email.trim().toLowerCase()}`;
}

async function usesBy(db: Executor, code: string, customer: string): Promise<number> {
	const [row] = await db
		.select({ n: count() })
		.from(discountRedemptions)
		.where(and(eq(discountRedemptions.code, code), eq(discountRedemptions.customer, customer)));
	return row?.n ?? 0;
}

function invalid(detail: string): DomainError {
	return new DomainError("invalid_discount_code", {
		detail,
		extensions: { errors: [{ path: "body.discount_code", message: detail }] },
	});
}

/**
 * Checks a code against the order before anything is reserved: it exists, is
 * active, inside its validity window, not used up, in the order's currency
 * (fixed amounts), the subtotal reaches its minimum, and the customer has
 * uses left. Both limits are checked again, atomically, by `redeem()` in the
 * order's transaction.
 */
export async function validateDiscount(
	db: Executor,
	code: string,
	currency: string,
	subtotal: number,
	customer: string,
	now = new Date(),
): Promise<DiscountRow> {
	const [row] = await db
		.select()
		.from(discountCodes)
		.where(eq(discountCodes.code, normalizeCode(code)));
	if (!row?.active) throw invalid("This discount code does not exist.");
	if (row.startsAt && row.startsAt > now) throw invalid("This discount code is not valid yet.");
	if (row.endsAt && row.endsAt <= now) throw invalid("This discount code has expired.");
	if (row.maxUses !== null && row.usedCount >= row.maxUses) throw invalid("This discount code has been used up.");
	if (row.kind === "fixed" && row.currency !== currency) throw invalid(`This discount code applies to orders in ${row.currency}.`);
	if (subtotal < row.minSubtotalMinor) throw invalid("The order does not reach this discount code's minimum amount.");
	if (row.maxUsesPerCustomer !== null && (await usesBy(db, row.code, customer)) >= row.maxUsesPerCustomer) {
		throw invalid("You have already used this discount code.");
	}
	return row;
}

export function discountOf(row: DiscountRow): Discount {
	return { kind: row.kind, value: row.value };
}

/**
 * Counts one use for `orderId`, only if the code is still usable now: the
 * conditional increment is the check, so two last uses racing cannot both
 * succeed. It also locks the code's row until the transaction ends, so the
 * per-customer count read after it cannot race either: a second use by the
 * same customer waits, then sees the first.
 */
export async function redeem(tx: Tx, code: string, orderId: string, customer: string): Promise<void> {
	const [row] = await tx
		.update(discountCodes)
		.set({ usedCount: sql`${discountCodes.usedCount} + 1` })
		.where(
			and(
				eq(discountCodes.code, code),
				eq(discountCodes.active, true),
				sql`(${discountCodes.maxUses} IS NULL OR ${discountCodes.usedCount} < ${discountCodes.maxUses})`,
				sql`(${discountCodes.startsAt} IS NULL OR ${discountCodes.startsAt} <= now())`,
				sql`(${discountCodes.endsAt} IS NULL OR ${discountCodes.endsAt} > now())`,
			),
		)
		.returning({ code: discountCodes.code, perCustomer: discountCodes.maxUsesPerCustomer });
	if (!row) throw invalid("This discount code has been used up.");
	if (row.perCustomer !== null && (await usesBy(tx, code, customer)) >= row.perCustomer) {
		throw invalid("You have already used this discount code.");
	}
	await tx.insert(discountRedemptions).values({ orderId, code, customer });
}

/**
 * Gives the order's use back (its unpaid order was cancelled or expired).
 * Only a use on record is given back, so a repeat changes nothing.
 */
export async function unredeem(tx: Tx, code: string, orderId: string): Promise<void> {
	const [gone] = await tx
		.delete(discountRedemptions)
		.where(eq(discountRedemptions.orderId, orderId))
		.returning({ code: discountRedemptions.code });
	if (!gone) return;
	await tx
		.update(discountCodes)
		.set({ usedCount: sql`greatest(${discountCodes.usedCount} - 1, 0)` })
		.where(eq(discountCodes.code, code));
}

/**
 * A cancelled order revived by its late payment takes its use again, under
 * the same rules as a new one. The shopper has paid the discounted total
 * already, so a code used up (or ended) meanwhile does not stop the revival:
 * the over-use is recorded in the order's history, where admins see it,
 * instead of pushing the count past its limit.
 */
export async function redeemForRevival(tx: Tx, code: string, orderId: string, customer: string): Promise<void> {
	try {
		await tx.transaction((savepoint) => redeem(savepoint, code, orderId, customer));
	} catch (err) {
		if (!(err instanceof DomainError)) throw err;
		await tx.insert(orderEvents).values({
			orderId,
			type: "discount_over_limit",
			actor: "payment",
			data: { code, reason: err.detail ?? err.code },
		});
	}
}
