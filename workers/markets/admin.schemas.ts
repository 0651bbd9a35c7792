import { z } from "@hono/zod-openapi";
import { MAX_PRICE_MINOR } from "../catalog/admin.schemas.ts";
import { shippingKind, taxClass as taxClassEnum, taxMode } from "../db/schema.ts";

/**
 * Request and answer shapes of the markets, price lists, tax rates and
 * shipping admin (the API's `/v1/admin/markets…`, `/tax-rates…`,
 * `/shipping-…` and the console's forms). Bodies are strict: an unknown
 * field is a 400, never ignored.
 */

/** A market id: what the `markets_id_format` check of the schema allows ("eu", "us-west"). */
export const MARKET_ID = /^[a-z][a-z0-9-]{0,31}$/;
export const TAX_MODES = taxMode.enumValues;
export const TAX_CLASSES = taxClassEnum.enumValues;
export const SHIPPING_KINDS = shippingKind.enumValues;
export const RATE_TYPES = ["flat", "weight", "subtotal"] as const;

/** Rows one price-list or tax-rate upsert may carry. */
export const MAX_UPSERT_ROWS = 500;
/** Countries one market or zone may list: every two-letter code there is. */
export const MAX_COUNTRIES = 676;
export const MAX_PRICE_PAGE_SIZE = 200;
/** Largest conversion rate: a million units of the market currency per unit of the other (a typo guard). */
export const MAX_RATE_MICROS = 1_000_000_000_000;
/** Heaviest parcel a weight tier may bound, in grams (ShippingRateSchema's bound). */
export const MAX_TIER_GRAMS = 1_000_000;

const INT32_MAX = 2 ** 31 - 1;
const int32 = (min: number, max: number) => z.number().int().min(min).max(max).openapi({ format: "int32" });

const marketId = z
	.string()
	.max(32)
	.regex(MARKET_ID, "Use a lower-case letter, then up to 31 lower-case letters, digits or dashes.")
	.openapi({ example: "eu" });
const country = z
	.string()
	.regex(/^[A-Z]{2}$/, "Use an ISO 3166-1 alpha-2 code in capitals, e.g. DE.")
	.openapi({ example: "DE", maxLength: 2 });
const currency = z
	.string()
	.regex(/^[A-Z]{3}$/, "Use an ISO 4217 code in capitals, e.g. EUR.")
	.openapi({ example: "EUR", maxLength: 3 });
const name = z.string().trim().min(1).max(200);
const position = int32(0, 100_000);
const amountMinor = int32(0, MAX_PRICE_MINOR).openapi({ description: "Minor units (cents) of the market's currency" });
/** An amount as answers carry it: a converted price may pass the input bound (a rate above 1, a currency without decimals). */
const moneyOut = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).openapi({ format: "int64" });
const rateMicros = z
	.number()
	.int()
	.min(1)
	.max(MAX_RATE_MICROS)
	.openapi({ format: "int64", description: "Millionths of a unit of the market currency per unit of `convert_from`: 860000 = 0.86" });
const taxClass = z.enum(TAX_CLASSES);
const timestamp = z.iso.datetime().max(30);
const sku = z
	.string()
	.min(1)
	.max(64)
	.regex(/^[A-Z0-9]+(?:-[A-Z0-9]+)*$/, "Use uppercase letters, digits and single dashes between them.")
	.openapi({ example: "MCS-NAV-M" });
/** A region inside a country (ISO 3166-2's part after the dash: a US state), or '' for the whole country. */
const region = z
	.string()
	.regex(/^(?:[A-Z0-9]{1,3})?$/, "Use the subdivision code after the dash (CA for US-CA), or nothing for the whole country.")
	.openapi({ example: "CA", maxLength: 3 });
/** Ids as the app makes them (`newId`) or the seed names them (`shz_eu`): the prefix, then lower-case letters and digits. */
const rowId = (prefix: string, example: string) =>
	z
		.string()
		.max(64)
		.regex(new RegExp(`^${prefix}_[0-9a-z]{1,40}$`))
		.openapi({ example });
const cursor = z
	.string()
	.max(200)
	.regex(/^[A-Za-z0-9_-]+$/, "Use the next_cursor of a previous page.");

/** Flags the second and later occurrences of each value `keyOf` gives, so the error points at the duplicate. */
function unique<T>(keyOf: (item: T) => string, what: (key: string) => string) {
	return (items: readonly T[], ctx: z.RefinementCtx) => {
		const seen = new Set<string>();
		items.forEach((item, index) => {
			const key = keyOf(item);
			if (seen.has(key)) ctx.addIssue({ code: "custom", path: [index], message: `${what(key)} appears more than once.` });
			seen.add(key);
		});
	};
}

const countries = z
	.array(country)
	.max(MAX_COUNTRIES)
	.superRefine(
		unique(
			(code: string) => code,
			(code) => code,
		),
	);

/** Both conversion fields or neither, and never a conversion from the market's own currency. */
function refineConversion(
	body: { currency?: string | undefined; convert_from?: string | null | undefined; rate_micros?: number | null | undefined },
	ctx: z.RefinementCtx,
): void {
	const from = body.convert_from ?? null;
	const rate = body.rate_micros ?? null;
	if ((from === null) !== (rate === null)) {
		ctx.addIssue({
			code: "custom",
			path: [from === null ? "convert_from" : "rate_micros"],
			message: "Send convert_from and rate_micros together.",
		});
	}
	if (from !== null && body.currency !== undefined && from === body.currency) {
		ctx.addIssue({ code: "custom", path: ["convert_from"], message: "A market does not convert from its own currency." });
	}
}

export const CreateMarketBody = z
	.object({
		id: marketId,
		name,
		currency,
		tax_mode: z.enum(TAX_MODES).openapi({ description: "inclusive: shelf prices include tax (VAT); exclusive: tax is added at checkout" }),
		convert_from: currency.nullable().optional().openapi({ description: "Base prices in this currency are converted at `rate_micros`" }),
		rate_micros: rateMicros.nullable().optional(),
		countries: countries.optional().openapi({ description: "Countries the market sells to; none may belong to another market" }),
		is_default: z
			.boolean()
			.optional()
			.openapi({ description: "true makes this the default market (the previous default stops being one)" }),
		position: position.optional().openapi({ description: "Order among markets; default: after the last" }),
	})
	.strict()
	.superRefine(refineConversion)
	.openapi("AdminCreateMarketRequest");

export const PatchMarketBody = z
	.object({
		name: name.optional(),
		currency: currency
			.optional()
			.openapi({ description: "Refused (409) while the market has list prices: they are amounts in the old currency" }),
		tax_mode: z.enum(TAX_MODES).optional(),
		convert_from: currency.nullable().optional().openapi({ description: "Send with `rate_micros`; null (both) stops converting" }),
		rate_micros: rateMicros.nullable().optional(),
		countries: countries.optional().openapi({
			description:
				"Replaces the market's countries. A country of another market is refused (409 `country_taken`, naming it): remove it there first. A country one of this market's zones ships to cannot be removed (409 `country_in_zone`).",
		}),
		is_default: z.boolean().optional().openapi({
			description: "true makes this the default market and unsets the previous one; false on the default market is refused (409)",
		}),
		position: position.optional(),
	})
	.strict()
	.superRefine((body, ctx) => {
		if ("convert_from" in body !== "rate_micros" in body) {
			ctx.addIssue({
				code: "custom",
				path: ["convert_from" in body ? "rate_micros" : "convert_from"],
				message: "Send convert_from and rate_micros together.",
			});
			return;
		}
		refineConversion(body, ctx);
	})
	.refine((body) => Object.keys(body).length > 0, "Send at least one field to change.")
	.openapi("AdminPatchMarketRequest");

export const AdminMarketSchema = z
	.object({
		id: marketId,
		name: z.string().max(200),
		currency,
		tax_mode: z.enum(TAX_MODES),
		convert_from: currency.nullable(),
		rate_micros: rateMicros.nullable(),
		is_default: z.boolean(),
		position: int32(0, INT32_MAX),
		countries: z.array(country).max(MAX_COUNTRIES),
		zone_count: int32(0, INT32_MAX).openapi({ description: "Shipping zones of the market" }),
		created_at: timestamp,
		updated_at: timestamp,
	})
	.openapi("AdminMarket");

export const AdminMarketListSchema = z
	.object({ data: z.array(AdminMarketSchema).max(INT32_MAX).openapi({ description: "The default market first, then by position" }) })
	.openapi("AdminMarketList");

export const PriceListQuery = z
	.object({
		q: z
			.string()
			.trim()
			.min(1)
			.max(200)
			.optional()
			.openapi({ description: "Substring of the SKU or the product's title (case-insensitive)" }),
		limit: z.coerce.number().int().min(1).max(MAX_PRICE_PAGE_SIZE).default(50).openapi({ format: "int32" }),
		cursor: cursor.optional().openapi({ description: "`next_cursor` of the previous page" }),
	})
	.strict();

export const PriceRowSchema = z
	.object({
		sku,
		variant_id: rowId("var", "var_9q0x7v3b6n1c5d4f8k2m"),
		product_id: rowId("prod", "prod_9q0x7v3b6n1c5d4f8k2m"),
		product_title: z.string().max(200),
		variant_title: z.string().max(200),
		base_price_minor: moneyOut.openapi({ description: "The variant's own price, in `base_currency`" }),
		base_currency: currency,
		list_price_minor: moneyOut.nullable().openapi({ description: "The market's price list entry, or null for none" }),
		price_minor: moneyOut.nullable().openapi({
			description: "What the market charges: the list price, else the base price (converted when it must be); null: not sold there",
		}),
		currency: currency.openapi({ description: "The market's currency: what `list_price_minor` and `price_minor` are in" }),
	})
	.openapi("AdminMarketPrice");

export const PriceListPageSchema = z
	.object({ data: z.array(PriceRowSchema).max(MAX_PRICE_PAGE_SIZE), next_cursor: cursor.nullable() })
	.openapi("AdminMarketPricePage");

export const PutPricesBody = z
	.object({
		prices: z
			.array(z.object({ sku, amount_minor: amountMinor }).strict())
			.min(1)
			.max(MAX_UPSERT_ROWS)
			.superRefine(
				unique(
					(row: { sku: string }) => row.sku,
					(key) => `SKU ${key}`,
				),
			),
	})
	.strict()
	.openapi("AdminPutMarketPricesRequest");

export const PutPricesAnswerSchema = z
	.object({ data: z.array(PriceRowSchema).max(MAX_UPSERT_ROWS).openapi({ description: "The rows written, by SKU" }) })
	.openapi("AdminMarketPricesWritten");

export const TaxRateSchema = z
	.object({
		country,
		region,
		tax_class: taxClass,
		rate_bp: int32(0, 10_000).openapi({ description: "Basis points: 1900 = 19 %" }),
		updated_at: timestamp,
	})
	.openapi("AdminTaxRate");

export const TaxRateListSchema = z
	.object({ data: z.array(TaxRateSchema).max(INT32_MAX).openapi({ description: "By country, region ('' first) and class" }) })
	.openapi("AdminTaxRateList");

export const TaxRateListQuery = z.object({ country: country.optional().openapi({ description: "Only this country's rates" }) }).strict();

const TaxRateInput = z
	.object({
		country,
		region: region.optional().openapi({ description: "Default '': the whole country" }),
		tax_class: taxClass,
		rate_bp: int32(0, 10_000),
	})
	.strict();

export const PutTaxRatesBody = z
	.object({
		rates: z
			.array(TaxRateInput)
			.min(1)
			.max(MAX_UPSERT_ROWS)
			.superRefine(
				unique(
					(row: z.infer<typeof TaxRateInput>) => `${row.country}/${row.region ?? ""}/${row.tax_class}`,
					(key) => `The rate ${key}`,
				),
			),
	})
	.strict()
	.openapi("AdminPutTaxRatesRequest");

export const TaxRatesWrittenSchema = z
	.object({ data: z.array(TaxRateSchema).max(MAX_UPSERT_ROWS).openapi({ description: "The rows written" }) })
	.openapi("AdminTaxRatesWritten");

export const TaxRateDeleteQuery = z
	.object({ region: region.optional().openapi({ description: "Default '': the country-wide rate" }) })
	.strict();

const tierAmount = int32(0, MAX_PRICE_MINOR);

/**
 * The shape of a shipping rate as the API documents and reads it. The rules
 * (which fields each type needs, tiers ascending, only the last weight tier
 * unbounded, subtotal tiers from 0) are orders/shipping-rate.ts's
 * `ShippingRateSchema`, checked by the service: breaking one is a 422
 * `invalid_shipping_rate`, not a malformed request.
 */
export const ShippingRateShape = z
	.object({
		type: z.enum(RATE_TYPES),
		amount: tierAmount.optional().openapi({ description: "flat: the price" }),
		tiers: z
			.array(
				z
					.object({
						up_to_grams: int32(1, MAX_TIER_GRAMS)
							.nullable()
							.optional()
							.openapi({ description: "weight: heaviest parcel of the tier; null for the last, unbounded one" }),
						from: tierAmount.optional().openapi({ description: "subtotal: the discounted subtotal from which the tier applies" }),
						amount: tierAmount,
					})
					.strict(),
			)
			.max(20)
			.optional()
			.openapi({ description: "weight and subtotal: ascending; weight tiers end with an unbounded one, subtotal tiers start at 0" }),
	})
	.strict()
	.openapi("ShippingRate", {
		description:
			"Minor units of the market's currency (tax included in an inclusive market). `flat` takes `amount`; `weight` and `subtotal` take `tiers`.",
		example: {
			type: "weight",
			tiers: [
				{ up_to_grams: 1000, amount: 599 },
				{ up_to_grams: null, amount: 999 },
			],
		},
	});

export const ShippingMethodSchema = z
	.object({
		id: rowId("shm", "shm_eustandard"),
		zone_id: rowId("shz", "shz_eu"),
		kind: z.enum(SHIPPING_KINDS),
		name: z.string().max(200),
		rate: ShippingRateShape,
		free_from_minor: amountMinor.nullable().openapi({ description: "Free from this discounted subtotal; null: never free" }),
		tax_class: taxClass,
		active: z.boolean(),
		position: int32(0, INT32_MAX),
		created_at: timestamp,
		updated_at: timestamp,
	})
	.openapi("AdminShippingMethod");

export const ShippingZoneSchema = z
	.object({
		id: rowId("shz", "shz_eu"),
		market_id: marketId,
		name: z.string().max(200),
		countries: z.array(country).max(MAX_COUNTRIES),
		methods: z.array(ShippingMethodSchema).max(INT32_MAX).openapi({ description: "By position" }),
		created_at: timestamp,
		updated_at: timestamp,
	})
	.openapi("AdminShippingZone");

export const ShippingZoneListSchema = z.object({ data: z.array(ShippingZoneSchema).max(INT32_MAX) }).openapi("AdminShippingZoneList");

export const ShippingZoneListQuery = z
	.object({ market: marketId.optional().openapi({ description: "Only this market's zones" }) })
	.strict();

const zoneCountries = countries.min(1).openapi({ description: "Countries of the zone's market that its methods ship to" });

export const CreateZoneBody = z
	.object({ market_id: marketId, name, countries: zoneCountries })
	.strict()
	.openapi("AdminCreateShippingZoneRequest");

export const PatchZoneBody = z
	.object({ name: name.optional(), countries: zoneCountries.optional() })
	.strict()
	.refine((body) => Object.keys(body).length > 0, "Send at least one field to change.")
	.openapi("AdminPatchShippingZoneRequest");

export const CreateMethodBody = z
	.object({
		kind: z.enum(SHIPPING_KINDS),
		name,
		rate: ShippingRateShape,
		free_from_minor: amountMinor.nullable().optional(),
		tax_class: taxClass.optional().openapi({ description: "Default: standard" }),
		active: z.boolean().optional().openapi({ description: "Default: true" }),
		position: position.optional().openapi({ description: "Default: after the zone's last method" }),
	})
	.strict()
	.openapi("AdminCreateShippingMethodRequest");

export const PatchMethodBody = z
	.object({
		kind: z.enum(SHIPPING_KINDS).optional(),
		name: name.optional(),
		rate: ShippingRateShape.optional(),
		free_from_minor: amountMinor.nullable().optional(),
		tax_class: taxClass.optional(),
		active: z.boolean().optional(),
		position: position.optional(),
	})
	.strict()
	.refine((body) => Object.keys(body).length > 0, "Send at least one field to change.")
	.openapi("AdminPatchShippingMethodRequest");

export type AdminMarket = z.infer<typeof AdminMarketSchema>;
export type CreateMarketInput = z.infer<typeof CreateMarketBody>;
export type PatchMarketInput = z.infer<typeof PatchMarketBody>;
export type PriceRow = z.infer<typeof PriceRowSchema>;
export type PutPricesInput = z.infer<typeof PutPricesBody>;
export type TaxRate = z.infer<typeof TaxRateSchema>;
export type PutTaxRatesInput = z.infer<typeof PutTaxRatesBody>;
export type TaxClass = (typeof TAX_CLASSES)[number];
export type ShippingZone = z.infer<typeof ShippingZoneSchema>;
export type ShippingMethod = z.infer<typeof ShippingMethodSchema>;
export type CreateZoneInput = z.infer<typeof CreateZoneBody>;
export type PatchZoneInput = z.infer<typeof PatchZoneBody>;
export type CreateMethodInput = z.infer<typeof CreateMethodBody>;
export type PatchMethodInput = z.infer<typeof PatchMethodBody>;
