import { z } from "zod";
import type { TaxBreakdownLine } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import { formatMoney } from "../domain/money.ts";

/**
 * How an order's totals are computed, in integer minor units of the market's
 * currency, from the shelf prices of its lines (tax included in an inclusive
 * market, without it in an exclusive one). The steps, in order:
 *
 * 1. **Lines.** A line's amount is its unit price times its quantity; the
 *    subtotal is their sum.
 * 2. **Discounts.** Line discounts (promotions on products) stay on their
 *    lines. An order discount (a percentage or amount off the order) is
 *    allocated to the lines in proportion to what is left of each after its
 *    own discounts: each line gets the floor of its share, and the minor
 *    units left over go one each to the lines with the largest remainders
 *    (the earlier line on a tie). A line is never discounted below zero.
 * 3. **Shipping** is priced by the chosen method on the discounted subtotal
 *    and the parcel's weight (orders/shipping.ts), unless a promotion makes
 *    it free.
 * 4. **Tax**, per line and then summed: each line's discounted amount, and
 *    shipping as one more line, at the rate of its tax class in the
 *    destination (orders/tax.ts), rounded half up to the minor unit:
 *    - inclusive: tax = amount × rate / (1 + rate), inside the amount;
 *    - exclusive: tax = amount × rate, added on top.
 * 5. **Total** = discounted subtotal + shipping, plus the tax when exclusive.
 *
 * Per line then summed (not once on the order total) is what the order's
 * lines, refunds and invoices show: each line carries its own tax, and a
 * refund of a line gives back exactly that line's share.
 *
 * MAX_ORDER_TOTAL_MINOR: the largest order total, in minor units of the
 * order's currency (default 99,999,999); above it checkout answers 422
 * `order_too_large`. It bounds every amount an order, its payment and its
 * refunds store, so it must be a safe integer (db/schema.ts `minorUnits`).
 */

const MaxOrderTotal = z
	.string()
	.regex(/^[1-9][0-9]*$/, "a positive whole number of minor units")
	.transform(Number)
	.refine(Number.isSafeInteger, "at most Number.MAX_SAFE_INTEGER");

/** MAX_ORDER_TOTAL_MINOR when it is not set: the most Stripe takes in one payment in most currencies. */
const DEFAULT_MAX_ORDER_TOTAL_MINOR = 99_999_999;

export interface PricingConfig {
	/** The largest order total accepted, in minor units. */
	maxTotal: number;
}

const parsed = new Map<string, PricingConfig>();

/** Parses the configuration once per isolate; a malformed value is a deployment error and fails loudly. */
export function pricingConfig(env: { MAX_ORDER_TOTAL_MINOR?: string }): PricingConfig {
	const cacheKey = env.MAX_ORDER_TOTAL_MINOR ?? "";
	const cached = parsed.get(cacheKey);
	if (cached) return cached;
	const config = {
		maxTotal: env.MAX_ORDER_TOTAL_MINOR ? MaxOrderTotal.parse(env.MAX_ORDER_TOTAL_MINOR) : DEFAULT_MAX_ORDER_TOTAL_MINOR,
	};
	parsed.set(cacheKey, config);
	return config;
}

export type TaxMode = "inclusive" | "exclusive";
export type TaxClass = "standard" | "reduced" | "zero";

/** An order discount: basis points of the order, or minor units off it. */
export interface Discount {
	kind: "percentage" | "fixed";
	value: number;
}

/** One line to price: its shelf amount (unit × quantity) and what line promotions take off it. */
export interface LineInput {
	key: string;
	amount: number;
	taxClass: TaxClass;
	/** Line discounts already decided (promotions on products), at most `amount`. */
	lineDiscount?: number;
}

export interface DiscountedLine extends LineInput {
	/** Line and order discounts together. */
	discount: number;
}

/**
 * `basisPoints` of a non-negative amount, rounded half up to the minor unit,
 * in BigInt so the product is exact whatever the amount.
 */
export function share(amount: number, basisPoints: number): number {
	return Number((2n * BigInt(amount) * BigInt(basisPoints) + 10000n) / 20000n);
}

/** The tax of `amount` at `rateBp`: inside it (inclusive) or on top (exclusive), rounded half up. */
export function taxOn(amount: number, rateBp: number, mode: TaxMode): number {
	if (rateBp === 0 || amount === 0) return 0;
	const denominator = mode === "inclusive" ? 10000n + BigInt(rateBp) : 10000n;
	return Number((2n * BigInt(amount) * BigInt(rateBp) + denominator) / (2n * denominator));
}

/**
 * Steps 1 and 2: the subtotal, the order discount's amount, and each line's
 * discount (its own plus its share of the order's).
 */
export function discountLines(
	lines: readonly LineInput[],
	discount: Discount | null,
): { subtotal: number; discount: number; lines: DiscountedLine[] } {
	const subtotal = lines.reduce((sum, line) => sum + line.amount, 0);
	const own = lines.map((line) => Math.min(line.amount, Math.max(0, line.lineDiscount ?? 0)));
	const left = lines.map((line, i) => line.amount - (own[i] ?? 0));
	const base = left.reduce((sum, amount) => sum + amount, 0);
	const wanted = discount ? (discount.kind === "percentage" ? share(base, discount.value) : discount.value) : 0;
	const orderOff = Math.min(base, wanted);
	const allocated = allocate(orderOff, left);
	const discounted = lines.map((line, i) => ({ ...line, discount: (own[i] ?? 0) + (allocated[i] ?? 0) }));
	return { subtotal, discount: discounted.reduce((sum, line) => sum + line.discount, 0), lines: discounted };
}

/**
 * Splits `total` over `weights` in proportion, in whole minor units that sum
 * to `total` exactly: floors first, then one unit each to the largest
 * remainders, earlier first on a tie. `total` is at most the sum of weights,
 * so no share exceeds its weight.
 */
export function allocate(total: number, weights: readonly number[]): number[] {
	const sum = weights.reduce((a, b) => a + b, 0);
	if (total === 0 || sum === 0) return weights.map(() => 0);
	const big = BigInt(total);
	const bigSum = BigInt(sum);
	const parts = weights.map((weight, index) => {
		const exact = big * BigInt(weight);
		return { index, floor: exact / bigSum, remainder: exact % bigSum };
	});
	let left = total - parts.reduce((n, part) => n + Number(part.floor), 0);
	const byRemainder = [...parts].sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
	const shares = parts.map((part) => Number(part.floor));
	for (const part of byRemainder) {
		if (left === 0) break;
		shares[part.index] = (shares[part.index] ?? 0) + 1;
		left--;
	}
	return shares;
}

/** A tax provider's answer for one line (or shipping): the rate applied and the tax. */
export interface LineTax {
	rateBp: number;
	tax: number;
}

export interface Totals {
	subtotal: number;
	discount: number;
	shipping: number;
	tax: number;
	total: number;
	mode: TaxMode;
	/** Per line, in the order of the input. */
	lines: (DiscountedLine & LineTax)[];
	shippingTax: LineTax;
	breakdown: TaxBreakdownLine[];
}

/** The 422 for an order above the maximum total, both amounts in the order's currency. */
export function orderTooLarge(maxTotal: number, total: number, currency: string): DomainError {
	const max = { amount: maxTotal, currency };
	return new DomainError("order_too_large", {
		detail: `An order may total at most ${formatMoney(max)}; this one totals ${formatMoney({ amount: total, currency })}. Remove some items to check out.`,
		extensions: { max_total: max, total: { amount: total, currency } },
	});
}

/**
 * Step 5: the totals from the discounted lines, the shipping price and the
 * tax of each (as the tax provider answered, in the same order). Throws 422
 * `order_too_large` above the configured maximum, so no total this returns
 * can overflow what an order stores.
 */
export function totalsOf(input: {
	config: PricingConfig;
	currency: string;
	mode: TaxMode;
	discounted: { subtotal: number; discount: number; lines: DiscountedLine[] };
	shipping: number;
	lineTaxes: readonly LineTax[];
	shippingTax: LineTax;
}): Totals {
	const { config, currency, mode, discounted, shipping, lineTaxes, shippingTax } = input;
	// Past the safe range the sums are no longer exact, and such an order is above any maximum anyway.
	if (!Number.isSafeInteger(discounted.subtotal)) throw orderTooLarge(config.maxTotal, discounted.subtotal, currency);
	const lines = discounted.lines.map((line, i) => {
		const tax = lineTaxes[i];
		if (!tax) throw new Error(`no tax for line ${line.key}`);
		return { ...line, ...tax };
	});
	const tax = lines.reduce((sum, line) => sum + line.tax, 0) + shippingTax.tax;
	const net = discounted.subtotal - discounted.discount;
	const total = net + shipping + (mode === "exclusive" ? tax : 0);
	if (total > config.maxTotal) throw orderTooLarge(config.maxTotal, total, currency);
	const byRate = new Map<number, TaxBreakdownLine>();
	const add = (rateBp: number, taxable: number, amount: number) => {
		if (taxable === 0 && amount === 0) return;
		const entry = byRate.get(rateBp) ?? { rate_bp: rateBp, taxable_minor: 0, tax_minor: 0 };
		entry.taxable_minor += taxable;
		entry.tax_minor += amount;
		byRate.set(rateBp, entry);
	};
	for (const line of lines) add(line.rateBp, line.amount - line.discount, line.tax);
	add(shippingTax.rateBp, shipping, shippingTax.tax);
	const breakdown = [...byRate.values()].sort((a, b) => b.rate_bp - a.rate_bp);
	return { subtotal: discounted.subtotal, discount: discounted.discount, shipping, tax, total, mode, lines, shippingTax, breakdown };
}
