import { z } from "zod";
import { DomainError } from "../domain/errors.ts";
import { formatMoney } from "../domain/money.ts";

/**
 * Shipping and tax rules and the largest order, from configuration
 * (wrangler.toml vars), so an operator changes them without a deploy of code.
 *
 * - SHIPPING_RATES: per currency, a flat rate in minor units and an optional
 *   threshold (on the discounted subtotal) from which shipping is free:
 *   `{"EUR":{"flat":495,"free_from":5000}}`. A currency without a rule cannot
 *   be checked out (422), rather than shipped for free by accident.
 * - TAX_RATES: per destination country (ISO 3166-1 alpha-2), in basis points
 *   (1900 = 19 %), with `default` for the others: `{"default":0,"DE":1900}`.
 * - MAX_ORDER_TOTAL_MINOR: the largest order total, in minor units of the
 *   order's currency (default 100,000,000); above it checkout answers 422
 *   `order_too_large`. It bounds every amount an order, its payment and its
 *   refunds store, so it must be a safe integer (money columns are bigints
 *   read as JS numbers: db/schema.ts `minorUnits`).
 *
 * Catalog prices are net. Tax applies to the discounted subtotal plus
 * shipping, computed once per order and rounded half up to the minor unit.
 */
const ShippingRates = z.record(
	z.string().regex(/^[A-Z]{3}$/),
	z.object({ flat: z.number().int().min(0), free_from: z.number().int().min(0).optional() }).strict(),
);
const TaxRates = z.record(z.string().regex(/^([A-Z]{2}|default)$/), z.number().int().min(0).max(10000));
const MaxOrderTotal = z
	.string()
	.regex(/^[1-9][0-9]*$/, "a positive whole number of minor units")
	.transform(Number)
	.refine(Number.isSafeInteger, "at most Number.MAX_SAFE_INTEGER");

/** MAX_ORDER_TOTAL_MINOR when it is not set: the most Stripe takes in one payment in most currencies. */
const DEFAULT_MAX_ORDER_TOTAL_MINOR = 99_999_999;

export type ShippingRules = z.infer<typeof ShippingRates>;
export type TaxRules = z.infer<typeof TaxRates>;

export interface PricingConfig {
	shipping: ShippingRules;
	tax: TaxRules;
	/** The largest order total accepted, in minor units. */
	maxTotal: number;
}

type PricingEnv = { SHIPPING_RATES?: string; TAX_RATES?: string; MAX_ORDER_TOTAL_MINOR?: string };

const parsed = new Map<string, PricingConfig>();

/** Parses the rules once per isolate; a malformed rule is a deployment error and fails loudly. */
export function pricingConfig(env: PricingEnv): PricingConfig {
	const cacheKey = `${env.SHIPPING_RATES}\n${env.TAX_RATES}\n${env.MAX_ORDER_TOTAL_MINOR}`;
	const cached = parsed.get(cacheKey);
	if (cached) return cached;
	const config = {
		shipping: ShippingRates.parse(JSON.parse(env.SHIPPING_RATES || "{}")),
		tax: TaxRates.parse(JSON.parse(env.TAX_RATES || '{"default":0}')),
		maxTotal: env.MAX_ORDER_TOTAL_MINOR ? MaxOrderTotal.parse(env.MAX_ORDER_TOTAL_MINOR) : DEFAULT_MAX_ORDER_TOTAL_MINOR,
	};
	parsed.set(cacheKey, config);
	return config;
}

export interface Discount {
	kind: "percentage" | "fixed";
	/** Basis points or minor units. */
	value: number;
}

export interface Totals {
	subtotal: number;
	discount: number;
	shipping: number;
	tax: number;
	total: number;
	taxRate: number;
}

/**
 * `basisPoints` of a non-negative amount, rounded half up to the minor unit:
 * in BigInt, so the product is exact whatever the amount (a Number product
 * past 2^53 would lose its last digits).
 */
function share(amount: number, basisPoints: number): number {
	return Number((2n * BigInt(amount) * BigInt(basisPoints) + 10000n) / 20000n);
}

/** The 422 for an order above the maximum total, both amounts in the order's currency. */
function orderTooLarge(maxTotal: number, total: number, currency: string): DomainError {
	const max = { amount: maxTotal, currency };
	return new DomainError("order_too_large", {
		detail: `An order may total at most ${formatMoney(max)}; this one totals ${formatMoney({ amount: total, currency })}. Remove some items to check out.`,
		extensions: { max_total: max, total: { amount: total, currency } },
	});
}

/**
 * The order's totals in minor units. A discount never exceeds the subtotal;
 * shipping is free from the currency's threshold on the discounted subtotal.
 * Returns null when the currency has no shipping rule; throws 422
 * `order_too_large` when the total is above the configured maximum, so no
 * total this returns can overflow what an order stores.
 */
export function computeTotals(
	config: PricingConfig,
	currency: string,
	country: string,
	subtotal: number,
	discount: Discount | null,
): Totals | null {
	const rule = config.shipping[currency];
	if (!rule) return null;
	// Past the safe range the sums below are no longer exact, and such an order is above any maximum anyway.
	if (!Number.isSafeInteger(subtotal)) throw orderTooLarge(config.maxTotal, subtotal, currency);
	const off = discount ? Math.min(subtotal, discount.kind === "percentage" ? share(subtotal, discount.value) : discount.value) : 0;
	const net = subtotal - off;
	const shipping = rule.free_from !== undefined && net >= rule.free_from ? 0 : rule.flat;
	const taxRate = config.tax[country] ?? config.tax.default ?? 0;
	const tax = share(net + shipping, taxRate);
	const total = net + shipping + tax;
	if (total > config.maxTotal) throw orderTooLarge(config.maxTotal, total, currency);
	return { subtotal, discount: off, shipping, tax, total, taxRate };
}
