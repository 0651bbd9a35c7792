import { z } from "@hono/zod-openapi";
import { MAX_LIVE_VARIANTS, MAX_PRICE_MINOR } from "../../catalog/admin.schemas.ts";
import { MAX_ALT_LENGTH } from "../../media/upload.ts";
import { MarketQuery } from "../lib/market.ts";
import { currencyCode, minorUnits, text, timestamp } from "../lib/openapi.ts";
import { Cursor, catalogIdPattern, ProductId, pageLimit, prefixedId, Sku } from "../lib/params.ts";
import { ImageType, MediaKey } from "../media/media.routes.ts";

export const MAX_PAGE_SIZE = 100;

/** Product and category slugs as the admin API accepts them (catalog/admin.schemas.ts). */
const Slug = z
	.string()
	.max(120)
	.regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/)
	.openapi({ example: "merino-crew-sweater" });
const CategoryId = prefixedId(catalogIdPattern("cat"), "cat_0a1b2c3d4e5f6g7h8i9j");
const VariantId = prefixedId(catalogIdPattern("var"), "var_9q0x7v3b6n1c5d4f8k2m");
/** Where GET /v1/media/{key} serves an image: a path on this server. */
const MediaUrl = z
	.string()
	.max(200)
	.openapi({ format: "uri-reference", example: "/v1/media/media/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.png" });
/** Free-form name → value pairs (attributes, options), at most 50 of them. */
const Facts = z.record(text(100), text(500)).openapi({ maxProperties: 50 });

const Money = z.object({ amount: minorUnits().openapi({ description: "Minor units (cents)" }), currency: currencyCode() });

const priceFilter = z.coerce.number().int().min(0).max(MAX_PRICE_MINOR).openapi({ format: "int32" });

export const ProductListQuery = z
	.object({
		q: z
			.string()
			.trim()
			.min(1)
			.max(200)
			.optional()
			.openapi({ description: 'Full-text search (web search syntax: words, "phrases", -exclusions)' }),
		category: z
			.string()
			.regex(/^[a-z0-9-]{1,120}$/)
			.max(120)
			.optional()
			.openapi({ description: "Category slug; includes its sub-categories" }),
		min_price: priceFilter.optional().openapi({ description: "Minor units of the market's currency; some variant costs at least this" }),
		max_price: priceFilter.optional().openapi({ description: "Minor units of the market's currency; some variant costs at most this" }),
		in_stock: z.enum(["true", "false"]).optional(),
		sort: z
			.enum(["relevance", "newest", "price_asc", "price_desc"])
			.optional()
			.openapi({ description: "Default: relevance with q, newest without" }),
		limit: pageLimit(MAX_PAGE_SIZE, 20),
		cursor: Cursor.optional(),
		...MarketQuery.shape,
	})
	.strict()
	.refine((q) => q.min_price === undefined || q.max_price === undefined || q.min_price <= q.max_price, {
		message: "min_price must not exceed max_price.",
		path: ["min_price"],
	})
	.refine((q) => q.sort !== "relevance" || q.q !== undefined, { message: "sort=relevance needs q.", path: ["sort"] });

export const ProductSummarySchema = z
	.object({
		id: ProductId,
		slug: Slug,
		title: text(200),
		category: Slug.nullable().openapi({ description: "The category's slug" }),
		price: z.object({ min: minorUnits(), max: minorUnits(), currency: currencyCode() }),
		in_stock: z.boolean(),
		image: MediaUrl.nullable(),
		created_at: timestamp(),
	})
	.openapi("ProductSummary");

export const ProductPageSchema = z
	.object({ data: z.array(ProductSummarySchema).max(MAX_PAGE_SIZE), next_cursor: Cursor.nullable() })
	.openapi("ProductPage");

export const ProductSchema = z
	.object({
		id: ProductId,
		slug: Slug,
		title: text(200),
		description: text(10_000),
		attributes: Facts,
		category: z.object({ id: CategoryId, slug: Slug, name: text(100) }).nullable(),
		variants: z
			.array(
				z.object({
					id: VariantId,
					sku: Sku,
					title: text(200),
					options: Facts,
					price: Money,
					in_stock: z.boolean(),
				}),
			)
			.max(MAX_LIVE_VARIANTS)
			.openapi({ description: "The variants on sale" }),
		media: z
			.array(z.object({ key: MediaKey, url: MediaUrl, content_type: ImageType, alt: text(MAX_ALT_LENGTH) }))
			.max(1000)
			.openapi({ description: "Images in display order" }),
		created_at: timestamp(),
		updated_at: timestamp(),
	})
	.openapi("Product");

type CategoryOut = { id: string; slug: string; name: string; children: CategoryOut[] };
export const CategorySchema: z.ZodType<CategoryOut> = z
	.object({
		id: CategoryId,
		slug: Slug,
		name: text(100),
		children: z.array(z.lazy(() => CategorySchema)).max(1000),
	})
	.openapi("Category");

export const IdOrSlugParam = z.object({
	idOrSlug: z
		.string()
		.regex(/^[A-Za-z0-9_-]{1,120}$/)
		.max(120)
		.openapi({
			param: { name: "idOrSlug", in: "path" },
			description: "A product id (`prod_…`) or its slug",
			example: "merino-crew-sweater",
		}),
});
