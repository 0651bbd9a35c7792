import { z } from "zod";
import type { ShippingRate } from "../db/schema.ts";

/** Largest amount a shipping rate may charge, in minor units: a price's bound (catalog/admin.schemas.ts). */
const MAX_RATE_MINOR = 100_000_000;
const Amount = z.number().int().min(0).max(MAX_RATE_MINOR);

/**
 * The shape of `shipping_methods.rate` (db/schema.ts `ShippingRate`), checked
 * where admins write it and again where checkout reads it. Weight tiers
 * ascend by `up_to_grams`, only the last may be unbounded; subtotal tiers
 * ascend by `from` and the first starts at 0, so every subtotal has a price.
 */
export const ShippingRateSchema: z.ZodType<ShippingRate> = z.discriminatedUnion("type", [
	z.object({ type: z.literal("flat"), amount: Amount }).strict(),
	z
		.object({
			type: z.literal("weight"),
			tiers: z
				.array(z.object({ up_to_grams: z.number().int().min(1).max(1_000_000).nullable(), amount: Amount }).strict())
				.min(1)
				.max(20),
		})
		.strict()
		.refine(
			(rate) =>
				rate.tiers.every((tier, i) => {
					const next = rate.tiers[i + 1];
					if (!next) return true;
					return tier.up_to_grams !== null && (next.up_to_grams === null || next.up_to_grams > tier.up_to_grams);
				}),
			{ message: "weight tiers ascend by up_to_grams and only the last may be unbounded (null)", path: ["tiers"] },
		),
	z
		.object({
			type: z.literal("subtotal"),
			tiers: z
				.array(z.object({ from: z.number().int().min(0).max(MAX_RATE_MINOR), amount: Amount }).strict())
				.min(1)
				.max(20),
		})
		.strict()
		.refine((rate) => rate.tiers[0]?.from === 0 && rate.tiers.every((tier, i) => i === 0 || tier.from > (rate.tiers[i - 1]?.from ?? 0)), {
			message: "subtotal tiers start at 0 and ascend by from",
			path: ["tiers"],
		}),
]);

/**
 * What a method charges for a parcel of `grams` whose discounted subtotal is
 * `subtotal`, or null when its rate has no tier for that weight (the method
 * is not offered). Free from `freeFrom` when set.
 */
export function shippingPrice(rate: ShippingRate, freeFrom: number | null, subtotal: number, grams: number): number | null {
	let price: number | null;
	if (rate.type === "flat") price = rate.amount;
	else if (rate.type === "weight")
		price = rate.tiers.find((tier) => tier.up_to_grams === null || grams <= tier.up_to_grams)?.amount ?? null;
	else price = rate.tiers.findLast((tier) => subtotal >= tier.from)?.amount ?? null;
	if (price === null) return null;
	return freeFrom !== null && subtotal >= freeFrom ? 0 : price;
}
