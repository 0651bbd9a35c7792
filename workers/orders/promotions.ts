import { and, count, eq, isNull, sql } from "drizzle-orm";
import { readThrough } from "../catalog/cache.ts";
import type { Executor, Tx } from "../db/client.ts";
import { type OrderPromotion, orderEvents, promotionRedemptions, promotions } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import { type Discount, share } from "./pricing.ts";

/**
 * Promotions (db/schema.ts `promotions`): which apply to an order, what each
 * takes off, and their uses.
 *
 * **Stacking rule.** An order gets at most one promotion of each class, the
 * one that saves the most (the earlier-created on a tie); a discount code
 * competes in its class like an automatic promotion, and a shopper's code
 * that another promotion beats is not used (the cart and checkout say so):
 *
 * 1. **Product promotions** (`percentage` or `fixed` on products or
 *    categories, and `buy_x_get_y`): each line takes the largest saving any
 *    one of them gives it; savings on one line never add up.
 * 2. **Order promotions** (`percentage` or `fixed` on the order): the one
 *    saving the most on what is left after product promotions, allocated to
 *    the lines (orders/pricing.ts).
 * 3. **Free shipping**: the chosen method costs nothing.
 *
 * A promotion applies only inside its window, with uses left, from its
 * minimum subtotal (the order's, before discounts, in the promotion's
 * currency), and for `fixed` and minimum subtotals only in that currency.
 */

export type PromotionRow = typeof promotions.$inferSelect;

export function normalizeCode(code: string): string {
	return code.trim().toUpperCase();
}

/** Who a use counts against: the signed-in user, else the order's e-mail address. */
export function discountCustomer(userId: string | null | undefined, email: string): string {
	return userId ? `user:${userId}` : `email:${email.trim().toLowerCase()}`;
}

function invalid(detail: string): DomainError {
	return new DomainError("invalid_discount_code", {
		detail,
		extensions: { errors: [{ path: "body.discount_code", message: detail }] },
	});
}

async function usesBy(db: Executor, promotionId: string, customer: string): Promise<number> {
	const [row] = await db
		.select({ n: count() })
		.from(promotionRedemptions)
		.where(and(eq(promotionRedemptions.promotionId, promotionId), eq(promotionRedemptions.customer, customer)));
	return row?.n ?? 0;
}

const live = (now: Date) =>
	and(
		eq(promotions.active, true),
		sql`(${promotions.startsAt} IS NULL OR ${promotions.startsAt} <= ${now.toISOString()}::timestamptz)`,
		sql`(${promotions.endsAt} IS NULL OR ${promotions.endsAt} > ${now.toISOString()}::timestamptz)`,
		sql`(${promotions.maxUses} IS NULL OR ${promotions.usedCount} < ${promotions.maxUses})`,
	);

/** The automatic promotions running now with uses left (per-customer limits are checked by `forCustomer`). */
export async function automaticPromotions(db: Executor, now = new Date()): Promise<PromotionRow[]> {
	return db
		.select()
		.from(promotions)
		.where(and(isNull(promotions.code), live(now)))
		.orderBy(promotions.createdAt, promotions.id);
}

type StoredPromotion = Omit<PromotionRow, "startsAt" | "endsAt" | "createdAt" | "updatedAt"> & {
	startsAt: string | null;
	endsAt: string | null;
	createdAt: string;
	updatedAt: string;
};

/**
 * The automatic promotions running now, through the catalog cache (every
 * promotion write bumps its version), for cart views: informative, like the
 * cart's prices; checkout reads them from the primary. The cache keeps every
 * active one and the window is checked here, so one that starts or ends
 * needs no write to show or go.
 */
export async function cachedAutomaticPromotions(
	env: Env,
	ctx: { waitUntil(promise: Promise<unknown>): void },
	db: Executor,
): Promise<PromotionRow[]> {
	const entry = await readThrough(env.CATALOG, ctx, "promotions:automatic", () =>
		db
			.select()
			.from(promotions)
			.where(and(isNull(promotions.code), eq(promotions.active, true)))
			.orderBy(promotions.createdAt, promotions.id),
	);
	const now = Date.now();
	const rows = entry ? (JSON.parse(entry.body) as StoredPromotion[]) : [];
	return rows
		.map((row) => ({
			...row,
			startsAt: row.startsAt ? new Date(row.startsAt) : null,
			endsAt: row.endsAt ? new Date(row.endsAt) : null,
			createdAt: new Date(row.createdAt),
			updatedAt: new Date(row.updatedAt),
		}))
		.filter(
			(row) =>
				(!row.startsAt || row.startsAt.getTime() <= now) &&
				(!row.endsAt || row.endsAt.getTime() > now) &&
				(row.maxUses === null || row.usedCount < row.maxUses),
		);
}

/**
 * The promotion of a code, checked against the order before anything is
 * reserved: it exists, is active, inside its window, not used up, in the
 * order's currency where it names one, the subtotal reaches its minimum, and
 * the customer has uses left. 422 `invalid_discount_code` says which. Both
 * limits are checked again, atomically, by `redeem()` in the order's
 * transaction.
 */
export async function codePromotion(
	db: Executor,
	code: string,
	currency: string,
	subtotal: number,
	customer: string | null,
	now = new Date(),
): Promise<PromotionRow> {
	const [row] = await db
		.select()
		.from(promotions)
		.where(eq(promotions.code, normalizeCode(code)));
	if (!row?.active) throw invalid("This discount code does not exist.");
	if (row.startsAt && row.startsAt > now) throw invalid("This discount code is not valid yet.");
	if (row.endsAt && row.endsAt <= now) throw invalid("This discount code has expired.");
	if (row.maxUses !== null && row.usedCount >= row.maxUses) throw invalid("This discount code has been used up.");
	if (row.currency !== null && row.currency !== currency) throw invalid(`This discount code applies to orders in ${row.currency}.`);
	if (subtotal < row.minSubtotalMinor) throw invalid("The order does not reach this discount code's minimum amount.");
	if (customer && row.maxUsesPerCustomer !== null && (await usesBy(db, row.id, customer)) >= row.maxUsesPerCustomer) {
		throw invalid("You have already used this discount code.");
	}
	return row;
}

/** Leaves out automatic promotions the customer has used as often as they may. */
export async function forCustomer(db: Executor, rows: readonly PromotionRow[], customer: string | null): Promise<PromotionRow[]> {
	const limited = rows.filter((row) => row.maxUsesPerCustomer !== null);
	if (!customer || limited.length === 0) return [...rows];
	const used = await Promise.all(limited.map(async (row) => [row.id, await usesBy(db, row.id, customer)] as const));
	const spent = new Set(used.filter(([id, n]) => n >= (rows.find((r) => r.id === id)?.maxUsesPerCustomer ?? Infinity)).map(([id]) => id));
	return rows.filter((row) => !spent.has(row.id));
}

/** One line as promotions see it. */
export interface PromotionLine {
	productId: string;
	/** The line's category and every category above it. */
	categories: readonly string[];
	unitPrice: number;
	quantity: number;
}

export interface PromotionOutcome {
	/** Per line, in input order: what product promotions take off it. */
	lineDiscounts: number[];
	/** Which promotion gave each line its discount (null: none). */
	linePromotion: (PromotionRow | null)[];
	/** The order promotion that applies, as pricing takes it. */
	order: { promotion: PromotionRow; discount: Discount } | null;
	freeShipping: PromotionRow | null;
	/** The shopper's code, when it was offered and another promotion beat it or it did not apply to these lines. */
	codeNotApplied: boolean;
}

function eligible(row: PromotionRow, currency: string, subtotal: number): boolean {
	if (row.currency !== null && row.currency !== currency) return false;
	return subtotal >= row.minSubtotalMinor;
}

function targets(row: PromotionRow, line: PromotionLine): boolean {
	if (row.target === "products") return row.targetIds.includes(line.productId);
	if (row.target === "categories") return line.categories.some((id) => row.targetIds.includes(id));
	return true;
}

/** What one product promotion takes off each line. */
function productSavings(row: PromotionRow, lines: readonly PromotionLine[]): number[] {
	const amount = (line: PromotionLine) => line.unitPrice * line.quantity;
	if (row.kind === "percentage") return lines.map((line) => (targets(row, line) ? share(amount(line), row.value) : 0));
	if (row.kind === "fixed") return lines.map((line) => (targets(row, line) ? Math.min(row.value, line.unitPrice) * line.quantity : 0));
	if (row.kind !== "buy_x_get_y" || row.buyQuantity === null || row.getQuantity === null) return lines.map(() => 0);
	// Every targeted unit, dearest first; of each group of buy + get units, the cheapest `get` are discounted.
	const units = lines.flatMap((line, index) =>
		targets(row, line) ? Array.from({ length: line.quantity }, () => ({ index, price: line.unitPrice })) : [],
	);
	units.sort((a, b) => b.price - a.price || a.index - b.index);
	const group = row.buyQuantity + row.getQuantity;
	const savings = lines.map(() => 0);
	for (let start = 0; start + group <= units.length; start += group) {
		for (const unit of units.slice(start + row.buyQuantity, start + group)) {
			savings[unit.index] = (savings[unit.index] ?? 0) + share(unit.price, row.value);
		}
	}
	return savings;
}

/**
 * Applies the stacking rule to an order's lines (pure). `rows` are the
 * automatic promotions running plus the shopper's code's, if any (`code`
 * names which one it is).
 */
export function applyPromotions(
	rows: readonly PromotionRow[],
	lines: readonly PromotionLine[],
	currency: string,
	codeId: string | null = null,
): PromotionOutcome {
	const subtotal = lines.reduce((sum, line) => sum + line.unitPrice * line.quantity, 0);
	const usable = rows.filter((row) => eligible(row, currency, subtotal));
	const lineDiscounts = lines.map(() => 0);
	const linePromotion: (PromotionRow | null)[] = lines.map(() => null);
	for (const row of usable.filter((r) => r.target !== "order" || r.kind === "buy_x_get_y")) {
		const savings = productSavings(row, lines);
		savings.forEach((saving, i) => {
			const line = lines[i] as PromotionLine;
			const capped = Math.min(saving, line.unitPrice * line.quantity);
			if (capped > (lineDiscounts[i] ?? 0)) {
				lineDiscounts[i] = capped;
				linePromotion[i] = row;
			}
		});
	}
	const left = subtotal - lineDiscounts.reduce((a, b) => a + b, 0);
	let order: PromotionOutcome["order"] = null;
	let best = 0;
	for (const row of usable.filter((r) => r.target === "order" && (r.kind === "percentage" || r.kind === "fixed"))) {
		const kind = row.kind as "percentage" | "fixed";
		const saving = Math.min(left, kind === "percentage" ? share(left, row.value) : row.value);
		if (saving > best) {
			best = saving;
			order = { promotion: row, discount: { kind, value: row.value } };
		}
	}
	const freeShipping = usable.find((row) => row.kind === "free_shipping") ?? null;
	const used = new Set([...linePromotion.filter((row) => row !== null).map((row) => row.id), order?.promotion.id, freeShipping?.id]);
	return { lineDiscounts, linePromotion, order, freeShipping, codeNotApplied: codeId !== null && !used.has(codeId) };
}

/** The promotions an order used and what each saved, from the outcome and the priced order. */
export function usedPromotions(outcome: PromotionOutcome, orderDiscount: number, shippingSaved: number): OrderPromotion[] {
	const byId = new Map<string, OrderPromotion>();
	const add = (row: PromotionRow, amount: number) => {
		const entry = byId.get(row.id) ?? { id: row.id, code: row.code, name: row.name, amount_minor: 0 };
		entry.amount_minor += amount;
		byId.set(row.id, entry);
	};
	outcome.linePromotion.forEach((row, i) => {
		if (row) add(row, outcome.lineDiscounts[i] ?? 0);
	});
	if (outcome.order && orderDiscount > 0) add(outcome.order.promotion, orderDiscount);
	if (outcome.freeShipping) add(outcome.freeShipping, shippingSaved);
	return [...byId.values()];
}

function usedUp(code: string | null): DomainError {
	if (code) return invalid("This discount code has been used up.");
	return new DomainError("promotion_changed", {
		detail: "A promotion this order counted on has just ended. Check out again to see the new total.",
		retryAfterSeconds: 1,
	});
}

/**
 * Counts one use of a promotion for `orderId`, only if it is still usable
 * now: the conditional increment is the check, so two last uses racing
 * cannot both succeed. It also locks the promotion's row until the
 * transaction ends, so the per-customer count read after it cannot race
 * either: a second use by the same customer waits, then sees the first.
 */
export async function redeem(tx: Tx, promotion: Pick<OrderPromotion, "id" | "code">, orderId: string, customer: string): Promise<void> {
	const [row] = await tx
		.update(promotions)
		.set({ usedCount: sql`${promotions.usedCount} + 1` })
		.where(
			and(
				eq(promotions.id, promotion.id),
				eq(promotions.active, true),
				sql`(${promotions.maxUses} IS NULL OR ${promotions.usedCount} < ${promotions.maxUses})`,
				sql`(${promotions.startsAt} IS NULL OR ${promotions.startsAt} <= now())`,
				sql`(${promotions.endsAt} IS NULL OR ${promotions.endsAt} > now())`,
			),
		)
		.returning({ id: promotions.id, perCustomer: promotions.maxUsesPerCustomer });
	if (!row) throw usedUp(promotion.code);
	if (row.perCustomer !== null && (await usesBy(tx, promotion.id, customer)) >= row.perCustomer) {
		if (promotion.code) throw invalid("You have already used this discount code.");
		throw usedUp(null);
	}
	await tx.insert(promotionRedemptions).values({ orderId, promotionId: promotion.id, customer });
}

/**
 * Gives the order's uses back (its unpaid order was cancelled or expired).
 * Only uses on record are given back, so a repeat changes nothing.
 */
export async function unredeem(tx: Tx, orderId: string): Promise<void> {
	const gone = await tx
		.delete(promotionRedemptions)
		.where(eq(promotionRedemptions.orderId, orderId))
		.returning({ promotionId: promotionRedemptions.promotionId });
	for (const { promotionId } of gone) {
		await tx
			.update(promotions)
			.set({ usedCount: sql`greatest(${promotions.usedCount} - 1, 0)` })
			.where(eq(promotions.id, promotionId));
	}
}

/**
 * A cancelled order revived by its late payment takes its uses again, under
 * the same rules as a new one. The shopper has paid the discounted total
 * already, so a promotion used up (or ended) meanwhile does not stop the
 * revival: the over-use is recorded in the order's history, where admins see
 * it, instead of pushing the count past its limit.
 */
export async function redeemForRevival(tx: Tx, used: readonly OrderPromotion[], orderId: string, customer: string): Promise<void> {
	for (const promotion of used) {
		try {
			await tx.transaction((savepoint) => redeem(savepoint, promotion, orderId, customer));
		} catch (err) {
			if (!(err instanceof DomainError)) throw err;
			await tx.insert(orderEvents).values({
				orderId,
				type: "discount_over_limit",
				actor: "payment",
				data: { promotion: promotion.id, code: promotion.code, reason: err.detail ?? err.code },
			});
		}
	}
}
