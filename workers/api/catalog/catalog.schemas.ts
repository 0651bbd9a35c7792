import { z } from "@hono/zod-openapi";
import { MAX_LIVE_VARIANTS, MAX_PRICE_MINOR } from "../../catalog/admin.schemas.ts";
import {
	FUZZY_BELOW,
	MAX_FACET_FILTERS,
	MAX_FACET_OPTIONS,
	MAX_FACET_VALUES,
	MAX_SUGGESTIONS,
	PRICE_EDGES_MAJOR,
} from "../../catalog/search.ts";
import { DERIVATIVE_WIDTHS, MAX_IMAGE_PIXELS, MAX_REQUESTED_WIDTH } from "../../media/sizes.ts";
import { MAX_ALT_LENGTH } from "../../media/upload.ts";
import { MarketQuery } from "../lib/market.ts";
import { count, currencyCode, integer, minorUnits, text, timestamp } from "../lib/openapi.ts";
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

/** A query parameter that may repeat (`?brand=A&brand=B`): one value arrives as a string, several as an array. */
function repeatable<T extends z.ZodType>(item: T, description: string) {
	return z
		.preprocess((value) => (typeof value === "string" ? [value] : value), z.array(item).min(1).max(MAX_FACET_FILTERS))
		.optional()
		.openapi({ description });
}

/** A brand as products' `attributes.brand` holds it (control characters never get this far: api/app.ts refuses them). */
const Brand = z
	.string()
	.min(1)
	.max(500)
	.regex(/^.{1,500}$/)
	.openapi({ example: "Fjellmark" });

/** `name:value` of a variant option (names up to 50 characters without a colon, values up to 200; admin.schemas.ts). */
const OptionPair = z
	.string()
	.min(3)
	.max(251)
	.regex(/^[^:]{1,50}:.{1,200}$/, "Use name:value, like colour:Black.")
	.openapi({ example: "colour:Black" });

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
		brand: repeatable(Brand, "Brands (`attributes.brand`), repeatable: any of them"),
		option: repeatable(
			OptionPair,
			"Variant options as `name:value` (`option=colour:Black&option=size:M`), repeatable: for each name any of its values, and all names on one variant",
		),
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

const FacetCount = count().openapi({ description: "Products the query finds with this value as the group's only filter value" });

export const FacetsSchema = z
	.object({
		categories: z
			.array(z.object({ slug: Slug, name: text(100), count: FacetCount }))
			.max(1000)
			.openapi({
				description: "Per category, its sub-categories included (the `category` filter); counted without the query's own category filter",
			}),
		prices: z.object({
			currency: currencyCode(),
			buckets: z
				.array(
					z.object({
						min: minorUnits().openapi({ description: "`min_price` of the bucket" }),
						max: minorUnits().nullable().openapi({ description: "`max_price` of the bucket; null for the last, open one" }),
						count: FacetCount,
					}),
				)
				.max(PRICE_EDGES_MAJOR.length + 1)
				.openapi({
					description: `Non-empty buckets, edges at ${PRICE_EDGES_MAJOR.join(", ")} major units of the market's currency; a product counts in each bucket one of its variants is priced in; counted without the query's price filter`,
				}),
		}),
		brands: z
			.array(z.object({ value: text(500), count: FacetCount }))
			.max(MAX_FACET_VALUES)
			.openapi({ description: "Most frequent first; counted without the query's brand filter" }),
		options: z
			.array(
				z.object({
					name: text(50),
					values: z.array(z.object({ value: text(200), count: FacetCount })).max(MAX_FACET_VALUES),
				}),
			)
			.max(MAX_FACET_OPTIONS)
			.openapi({
				description:
					"Variant option values (colour, size, …), most frequent first; each name counted without the query's filter on that name",
			}),
	})
	.openapi("ProductFacets", {
		description:
			"What the query's products have, counted so that each value's count is exactly what the same query finds with that value as its group's only filter (the other groups applied). Values within a group are alternatives; groups combine.",
	});

export const ProductPageSchema = z
	.object({
		data: z.array(ProductSummarySchema).max(MAX_PAGE_SIZE),
		next_cursor: Cursor.nullable(),
		total: count().openapi({ description: "Products the query finds, over all pages" }),
		fuzzy: z.boolean().openapi({
			description: `True when full text found fewer than ${FUZZY_BELOW} products for \`q\` in the market, so titles similar to it (typos) are matched too, ranked after every full-text match`,
		}),
		facets: FacetsSchema,
	})
	.openapi("ProductPage");

export const SuggestQuery = z
	.object({
		q: z
			.string()
			.trim()
			.min(1)
			.max(100)
			.regex(/^.{1,100}$/)
			.openapi({ description: "What the shopper has typed so far", example: "meri" }),
		...MarketQuery.shape,
	})
	.strict();

export const SuggestionsSchema = z
	.object({
		data: z.array(z.object({ id: ProductId, slug: Slug, title: text(200) })).max(MAX_SUGGESTIONS),
	})
	.openapi("Suggestions");

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
			.array(
				z.object({
					key: MediaKey,
					url: MediaUrl,
					content_type: ImageType,
					alt: text(MAX_ALT_LENGTH),
					derivatives: z
						.array(
							z.object({
								width: integer(1, MAX_REQUESTED_WIDTH),
								height: integer(1, MAX_IMAGE_PIXELS),
								url: MediaUrl.openapi({
									example: "/v1/media/media/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.png?w=640",
								}),
							}),
						)
						.max(DERIVATIVE_WIDTHS.length)
						.openapi({ description: "WebP copies for `srcset`, narrowest first; each `url` is the media route with `?w=` that width" }),
				}),
			)
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
