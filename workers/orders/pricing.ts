import { z } from "zod";

/**
 * Shipping and tax rules, from configuration (wrangler.toml vars), so an
 * operator changes rates without a deploy of code.
 *
 * - SHIPPING_RATES: per currency, a flat rate in minor units and an optional
 *   threshold (on the discounted subtotal) from which shipping is free:
 *   `{"EUR":{"flat":495,"free_from":5000}}`. A currency without a rule cannot
 *   be checked out (422), rather than shipped for free by accident.
 * - TAX_RATES: per destination country (ISO 3166-1 alpha-2), in basis points
 *   (1900 = 19 %), with `default` for the others: `{"default":0,"DE":1900}`.
 *
 * Catalog prices are net. Tax applies to the discounted subtotal plus
 * shipping, computed once per order and rounded half up to the minor unit.
 */
const ShippingRates = z.record(
	z.string().regex(/^[A-Z]{3}$/),
	z.object({ flat: z.number().int().min(0), free_from: z.number().int().min(0).optional() }).strict(),
);
const TaxRates = z.record(z.string().regex(/^([A-Z]{2}|default)$/), z.number().int().min(0).max(10000));

export type ShippingRules = z.infer<typeof ShippingRates>;
export type TaxRules = z.infer<typeof TaxRates>;

export interface PricingConfig {
	shipping: ShippingRules;
	tax: TaxRules;
}

const parsed = new Map<string, PricingConfig>();

/** Parses the rules once per isolate; a malformed rule is a deployment error and fails loudly. */
export function pricingConfig(env: { SHIPPING_RATES?: string; TAX_RATES?: string }): PricingConfig {
	const cacheKey = `${env.SHIPPING_RATES}\n${env.TAX_RATES}`;
	const cached = parsed.get(cacheKey);
	if (cached) return cached;
	const config = {
		shipping: ShippingRates.parse(JSON.parse(env.SHIPPING_RATES || "{}")),
		tax: TaxRates.parse(JSON.parse(env.TAX_RATES || '{"default":0}')),
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

/** Half-up rounding of a non-negative integer ratio, without floating point. */
function divideRoundHalfUp(numerator: number, denominator: number): number {
	return Math.floor((2 * numerator + denominator) / (2 * denominator));
}

/**
 * The order's totals in minor units. A discount never exceeds the subtotal;
 * shipping is free from the currency's threshold on the discounted subtotal.
 * Returns null when the currency has no shipping rule.
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
	const off = discount
		? Math.min(subtotal, discount.kind === "percentage" ? divideRoundHalfUp(subtotal * discount.value, 10000) : discount.value)
		: 0;
	const net = subtotal - off;
	const shipping = rule.free_from !== undefined && net >= rule.free_from ? 0 : rule.flat;
	const taxRate = config.tax[country] ?? config.tax.default ?? 0;
	const tax = divideRoundHalfUp((net + shipping) * taxRate, 10000);
	return { subtotal, discount: off, shipping, tax, total: net + shipping + tax, taxRate };
}
