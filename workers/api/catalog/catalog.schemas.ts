import { z } from "@hono/zod-openapi";

export const MAX_PAGE_SIZE = 100;

const Money = z.object({ amount: z.number().int().openapi({ description: "Minor units (cents)" }), currency: z.string() });

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
			.optional()
			.openapi({ description: "Category slug; includes its sub-categories" }),
		min_price: z.coerce.number().int().min(0).optional().openapi({ description: "Minor units; some variant costs at least this" }),
		max_price: z.coerce.number().int().min(0).optional().openapi({ description: "Minor units; some variant costs at most this" }),
		in_stock: z.enum(["true", "false"]).optional(),
		sort: z
			.enum(["relevance", "newest", "price_asc", "price_desc"])
			.optional()
			.openapi({ description: "Default: relevance with q, newest without" }),
		limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(20),
		cursor: z.string().max(500).optional().openapi({ description: "`next_cursor` of the previous page" }),
	})
	.strict()
	.refine((q) => q.min_price === undefined || q.max_price === undefined || q.min_price <= q.max_price, {
		message: "min_price must not exceed max_price.",
		path: ["min_price"],
	})
	.refine((q) => q.sort !== "relevance" || q.q !== undefined, { message: "sort=relevance needs q.", path: ["sort"] });

export const ProductSummarySchema = z
	.object({
		id: z.string(),
		slug: z.string(),
		title: z.string(),
		category: z.string().nullable(),
		price: z.object({ min: z.number().int(), max: z.number().int(), currency: z.string() }),
		in_stock: z.boolean(),
		image: z.string().nullable(),
		created_at: z.string(),
	})
	.openapi("ProductSummary");

export const ProductPageSchema = z
	.object({ data: z.array(ProductSummarySchema), next_cursor: z.string().nullable() })
	.openapi("ProductPage");

export const ProductSchema = z
	.object({
		id: z.string(),
		slug: z.string(),
		title: z.string(),
		description: z.string(),
		attributes: z.record(z.string(), z.string()),
		category: z.object({ id: z.string(), slug: z.string(), name: z.string() }).nullable(),
		variants: z.array(
			z.object({
				id: z.string(),
				sku: z.string(),
				title: z.string(),
				options: z.record(z.string(), z.string()),
				price: Money,
				in_stock: z.boolean(),
			}),
		),
		media: z.array(z.object({ key: z.string(), url: z.string(), content_type: z.string(), alt: z.string() })),
		created_at: z.string(),
		updated_at: z.string(),
	})
	.openapi("Product");

type CategoryOut = { id: string; slug: string; name: string; children: CategoryOut[] };
export const CategorySchema: z.ZodType<CategoryOut> = z
	.object({
		id: z.string(),
		slug: z.string(),
		name: z.string(),
		children: z.array(z.lazy(() => CategorySchema)),
	})
	.openapi("Category");

export const IdOrSlugParam = z.object({
	idOrSlug: z
		.string()
		.regex(/^[A-Za-z0-9_-]{1,120}$/)
		.openapi({ param: { name: "idOrSlug", in: "path" }, example: "merino-crew-sweater" }),
});
