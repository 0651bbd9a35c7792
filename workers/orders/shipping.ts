import { and, asc, eq, sql } from "drizzle-orm";
import type { CartLine } from "../../durable-objects/cart.ts";
import { type Market, marketList, marketOfCountry, priceIn } from "../catalog/markets.ts";
import { isSellable, type SkuSource } from "../catalog/skus.ts";
import type { Db } from "../db/client.ts";
import { shippingMethods, shippingZones } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import type { TaxClass } from "./pricing.ts";
import { ShippingRateSchema, shippingPrice } from "./shipping-rate.ts";

/**
 * Shipping methods: a market's zones (country lists, which may overlap: a
 * pickup zone of one country inside a wider one) each offer methods. An
 * address is offered every active method of every zone of its market that
 * lists its country and whose rate has a price for the parcel.
 */

export interface ShippingMethod {
	id: string;
	kind: "standard" | "express" | "pickup";
	name: string;
	zone: string;
	taxClass: TaxClass;
	freeFromMinor: number | null;
	rate: ReturnType<typeof ShippingRateSchema.parse>;
}

/** A method with its price for one parcel. */
export interface ShippingOption extends ShippingMethod {
	price: number;
}

/** The active methods of `marketId` that ship to `country`, by position then name. */
export async function methodsFor(db: Db, marketId: string, country: string): Promise<ShippingMethod[]> {
	const rows = await db
		.select({
			id: shippingMethods.id,
			kind: shippingMethods.kind,
			name: shippingMethods.name,
			zone: shippingZones.name,
			taxClass: shippingMethods.taxClass,
			freeFromMinor: shippingMethods.freeFromMinor,
			rate: shippingMethods.rate,
		})
		.from(shippingMethods)
		.innerJoin(shippingZones, eq(shippingZones.id, shippingMethods.zoneId))
		.where(
			and(
				eq(shippingZones.marketId, marketId),
				eq(shippingMethods.active, true),
				sql`${country.toUpperCase()} = any(${shippingZones.countries})`,
			),
		)
		.orderBy(asc(shippingMethods.position), asc(shippingMethods.name), asc(shippingMethods.id));
	// A rate that fails its schema was written around the admin API: the method is left out, and said so.
	return rows.flatMap((row) => {
		const rate = ShippingRateSchema.safeParse(row.rate);
		if (rate.success) return [{ ...row, rate: rate.data }];
		console.error(JSON.stringify({ level: "error", msg: "shipping_rate_invalid", method: row.id }));
		return [];
	});
}

/** The methods that can take this parcel, priced on its discounted subtotal and weight. */
export function priceMethods(methods: readonly ShippingMethod[], subtotal: number, grams: number): ShippingOption[] {
	return methods.flatMap((method) => {
		const price = shippingPrice(method.rate, method.freeFromMinor, subtotal, grams);
		return price === null ? [] : [{ ...method, price }];
	});
}

/**
 * The option the shopper picked, or, when they named none, the first
 * standard method (else the first offered): a checkout that names no method
 * ships the usual way. A named method that is not offered for this address
 * and parcel is a 422, as is an address no method ships to.
 */
export function chooseMethod(options: readonly ShippingOption[], requested: string | undefined, country: string): ShippingOption {
	if (options.length === 0) {
		throw new DomainError("shipping_unavailable", {
			detail: `No shipping method delivers this order to ${country}.`,
			extensions: { country },
		});
	}
	if (requested === undefined) return options.find((option) => option.kind === "standard") ?? (options[0] as ShippingOption);
	const chosen = options.find((option) => option.id === requested);
	if (!chosen) {
		throw new DomainError("shipping_unavailable", {
			detail: `The shipping method ${requested} is not offered for this order to ${country}. Choose one of those offered.`,
			extensions: {
				errors: [{ path: "body.shipping_method", message: "not offered for this address" }],
				offered: options.map((option) => option.id),
			},
		});
	}
	return chosen;
}

/** 422 for an address outside the cart's market, naming the market that sells there. */
export function countryNotInMarket(market: Market, country: string, other: Market | undefined): DomainError {
	const hint = other ? ` Orders to ${country} are sold in the ${other.name} market (${other.currency}): switch the cart to it.` : "";
	return new DomainError("country_not_in_market", {
		detail: `This cart shops in the ${market.name} market, which does not ship to ${country}.${hint}`,
		extensions: {
			errors: [{ path: "shipping_address.country", message: `not a country of market ${market.id}` }],
			market: market.id,
			...(other ? { market_for_country: other.id } : {}),
		},
	});
}

/**
 * The methods offered for a cart's lines to `country`, priced on the lines'
 * subtotal in the market (before any discount code, which checkout applies)
 * and their weight. 422 when the market does not ship to the country.
 */
export async function shippingOptions(
	db: Db,
	market: Market,
	country: string,
	lines: readonly CartLine[],
	skus: SkuSource,
): Promise<ShippingOption[]> {
	const code = country.toUpperCase();
	if (!market.countries.includes(code)) throw countryNotInMarket(market, code, marketOfCountry(await marketList(db), code));
	const [rows, methods] = await Promise.all([skus(lines.map((line) => line.sku)), methodsFor(db, market.id, code)]);
	let subtotal = 0;
	let grams = 0;
	for (const line of lines) {
		const row = rows.get(line.sku);
		const price = row && isSellable(row) ? priceIn(market, row) : null;
		if (!row || price === null) continue;
		subtotal += price * line.quantity;
		grams += row.weightGrams * line.quantity;
	}
	return priceMethods(methods, subtotal, grams);
}
