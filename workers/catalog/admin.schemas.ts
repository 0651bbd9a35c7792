import { z } from "@hono/zod-openapi";
import { taxClass as taxClassEnum } from "../db/schema.ts";

/** Live (non-archived) variants one product may have; archived ones stay for order history and do not count. */
export const MAX_LIVE_VARIANTS = 100;
/** Largest price in minor units (one million in a two-decimal currency): a typo guard, not a business rule. */
export const MAX_PRICE_MINOR = 100_000_000;
export const MAX_ADMIN_PAGE_SIZE = 100;

export const PRODUCT_STATUSES = ["draft", "active", "archived"] as const;

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
// Upper case only: SKUs are printed on labels and typed by warehouse staff, one spelling per SKU.
const SKU = /^[A-Z0-9]+(?:-[A-Z0-9]+)*$/;

const slug = z
	.string()
	.min(1)
	.max(120)
	.regex(SLUG, "Use lowercase letters, digits and single dashes between them.")
	.openapi({ example: "merino-crew-sweater" });
const sku = z
	.string()
	.min(1)
	.max(64)
	.regex(SKU, "Use uppercase letters, digits and single dashes between them.")
	.openapi({ example: "MCS-NAV-M" });
const title = z.string().trim().min(1).max(200);
const description = z.string().max(10_000);
const status = z.enum(PRODUCT_STATUSES);
const categoryId = z.string().min(1).max(64).nullable().openapi({ description: "An existing category's id, or null for none" });
const attributes = z
	.record(z.string().min(1).max(100), z.string().max(500))
	.refine((record) => Object.keys(record).length <= 50, "At most 50 attributes.")
	.openapi({ description: "Free-form facts shown on the product page (at most 50); replaced as a whole on PATCH" });
const options = z
	.record(z.string().min(1).max(50), z.string().max(200))
	.refine((record) => Object.keys(record).length <= 10, "At most 10 options.")
	.openapi({ example: { Colour: "Navy", Size: "M" } });
const priceMinor = z
	.number()
	.int()
	.min(0)
	.max(MAX_PRICE_MINOR)
	.openapi({ format: "int32", description: "Minor units (cents)", example: 8900 });
const taxClass = z
	.enum(taxClassEnum.enumValues)
	.openapi({ description: "What the product is taxed as: each country's rate for the class applies (tax rates admin)" });
/** Heaviest variant, in grams: a typo guard (a tonne), not a business rule. */
const weightGrams = z
	.number()
	.int()
	.min(0)
	.max(1_000_000)
	.openapi({ format: "int32", description: "Shipping weight in grams, for weight-tier shipping rates" });
// The pattern fixes the length; maxLength says so to readers of the OpenAPI document.
const currency = z
	.string()
	.regex(/^[A-Z]{3}$/, "Use an ISO 4217 code in capitals, e.g. EUR.")
	.openapi({ example: "EUR", maxLength: 3 });

/** Flags the second and later occurrences of each SKU, so the error points at the duplicate. */
function refineUniqueSkus(variants: readonly { sku: string }[], ctx: z.RefinementCtx): void {
	const seen = new Set<string>();
	variants.forEach((variant, index) => {
		if (seen.has(variant.sku))
			ctx.addIssue({ code: "custom", path: [index, "sku"], message: `SKU ${variant.sku} appears more than once.` });
		seen.add(variant.sku);
	});
}

/** Every variant of a product is sold in one currency (prices are compared and summed across variants). */
function refineOneCurrency(variants: readonly { currency?: string | undefined }[], ctx: z.RefinementCtx): void {
	const first = variants.find((variant) => variant.currency !== undefined)?.currency;
	variants.forEach((variant, index) => {
		if (variant.currency !== undefined && variant.currency !== first) {
			ctx.addIssue({ code: "custom", path: [index, "currency"], message: `All variants of a product share one currency (${first}).` });
		}
	});
}

const NewVariant = z
	.object({ sku, title, options: options.optional(), price_minor: priceMinor, currency, weight_grams: weightGrams.optional() })
	.strict()
	.openapi("AdminNewVariant");

export const CreateProductBody = z
	.object({
		title,
		slug: slug.optional().openapi({ description: "Derived from the title when absent" }),
		description: description.optional(),
		status: status.optional().openapi({ description: "Default: draft" }),
		category_id: categoryId.optional(),
		tax_class: taxClass.optional().openapi({ description: "Default: standard" }),
		attributes: attributes.optional(),
		variants: z
			.array(NewVariant)
			.min(1)
			.max(MAX_LIVE_VARIANTS)
			.superRefine((variants, ctx) => {
				refineUniqueSkus(variants, ctx);
				refineOneCurrency(variants, ctx);
			}),
	})
	.strict()
	.openapi("AdminCreateProductRequest");

const VariantUpsert = z
	.object({
		sku,
		title: title.optional(),
		options: options.optional(),
		price_minor: priceMinor.optional(),
		currency: currency.optional(),
		weight_grams: weightGrams.optional(),
		archived: z.boolean().optional().openapi({ description: "true stops selling the SKU (kept for order history); false revives it" }),
	})
	.strict()
	.openapi("AdminVariantUpsert");

export const PatchProductBody = z
	.object({
		title: title.optional(),
		slug: slug.optional(),
		description: description.optional(),
		status: status.optional(),
		category_id: categoryId.optional(),
		tax_class: taxClass.optional(),
		attributes: attributes.optional(),
		variants: z
			.array(VariantUpsert)
			.min(1)
			.max(MAX_LIVE_VARIANTS)
			.superRefine((variants, ctx) => {
				refineUniqueSkus(variants, ctx);
				refineOneCurrency(variants, ctx);
			})
			.optional()
			.openapi({
				description:
					"Upserts by SKU: an existing SKU of this product is updated, a new SKU is created (title, price_minor and currency required). Variants not listed are left alone.",
			}),
	})
	.strict()
	.refine((body) => Object.keys(body).length > 0, "Send at least one field to change.")
	.openapi("AdminPatchProductRequest");

// Answers are documented with the limits the requests above enforce.
const id = (prefix: string, example: string) =>
	z
		.string()
		.max(64)
		.regex(new RegExp(`^${prefix}_[0-9a-z]+$`))
		.openapi({ example });
const timestamp = z.iso.datetime().max(30);
const INT32_MAX = 2 ** 31 - 1;
/** Page cursors are base64url (domain/cursor.ts). */
const cursor = z
	.string()
	.max(200)
	.regex(/^[A-Za-z0-9_-]+$/, "Use the next_cursor of a previous page.");

export const AdminVariantSchema = z
	.object({
		id: id("var", "var_9q0x7v3b6n1c5d4f8k2m"),
		sku,
		title: z.string().max(200),
		options: z.record(z.string().max(50), z.string().max(200)).openapi({ maxProperties: 10 }),
		price_minor: priceMinor,
		currency,
		weight_grams: weightGrams,
		position: z.number().int().min(0).max(INT32_MAX).openapi({ format: "int32" }),
		archived: z.boolean(),
	})
	.openapi("AdminVariant");

export const AdminProductSchema = z
	.object({
		id: id("prod", "prod_9q0x7v3b6n1c5d4f8k2m"),
		slug,
		title: z.string().max(200),
		description,
		status: status,
		category_id: id("cat", "cat_0a1b2c3d4e5f6g7h8i9j").nullable(),
		tax_class: taxClass,
		attributes: z.record(z.string().max(100), z.string().max(500)).openapi({ maxProperties: 50 }),
		// Archived variants stay (orders reference them), so only the column type bounds how many there are.
		variants: z.array(AdminVariantSchema).max(INT32_MAX).openapi({ description: "Every variant, archived ones included, by position" }),
		created_at: timestamp,
		updated_at: timestamp,
	})
	.openapi("AdminProduct");

export const AdminProductPageSchema = z
	.object({ data: z.array(AdminProductSchema).max(MAX_ADMIN_PAGE_SIZE), next_cursor: cursor.nullable() })
	.openapi("AdminProductPage");

export const AdminProductListQuery = z
	.object({
		status: status.optional(),
		q: z
			.string()
			.trim()
			.min(1)
			.max(200)
			.optional()
			.openapi({ description: "Substring of the title, slug or a variant's SKU (case-insensitive)" }),
		limit: z.coerce.number().int().min(1).max(MAX_ADMIN_PAGE_SIZE).default(50).openapi({ format: "int32" }),
		cursor: cursor.optional().openapi({ description: "`next_cursor` of the previous page" }),
	})
	.strict();
