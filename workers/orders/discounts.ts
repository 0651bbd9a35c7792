import { and, eq, sql } from "drizzle-orm";
import type { Executor, Tx } from "../db/client.ts";
import { discountCodes } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import type { Discount } from "./pricing.ts";

export type DiscountRow = typeof discountCodes.$inferSelect;

export function normalizeCode(code: string): string {
	return code.trim().toUpperCase();
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
 * (fixed amounts) and the subtotal reaches its minimum. The usage limit is
 * checked again, atomically, by `redeem()` in the order's transaction.
 */
export async function validateDiscount(
	db: Executor,
	code: string,
	currency: string,
	subtotal: number,
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
	return row;
}

export function discountOf(row: DiscountRow): Discount {
	return { kind: row.kind, value: row.value };
}

/**
 * Counts one use, only if the code is still usable now: the conditional
 * increment is the check, so two last uses racing cannot both succeed.
 */
export async function redeem(tx: Tx, code: string): Promise<void> {
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
		.returning({ code: discountCodes.code });
	if (!row) throw invalid("This discount code has been used up.");
}

/** Gives a use back when an unpaid order is cancelled. */
export async function unredeem(tx: Tx, code: string): Promise<void> {
	await tx
		.update(discountCodes)
		.set({ usedCount: sql`greatest(${discountCodes.usedCount} - 1, 0)` })
		.where(eq(discountCodes.code, code));
}
