import { createRoute, z } from "@hono/zod-openapi";
import { MarketQuery, MarketSchema } from "../lib/market.ts";
import { databaseProblems, jsonResponse, problem, publicAccess } from "../lib/openapi.ts";
import {
	CategorySchema,
	IdOrSlugParam,
	ProductListQuery,
	ProductPageSchema,
	ProductSchema,
	SuggestionsSchema,
	SuggestQuery,
} from "./catalog.schemas.ts";

const tags = ["Catalog"];
const notModified = { 304: { description: "Not modified (If-None-Match matched the ETag)" } };

export const listProducts = createRoute({
	method: "get",
	path: "/products",
	operationId: "listProducts",
	tags,
	security: publicAccess,
	summary: "Search and browse active products (cursor pagination, cacheable)",
	description:
		"Filters combine: full-text `q`, a category with its sub-categories, a price range, brands, variant options and stock. Pages follow `next_cursor`; a cursor only continues the query that made it. " +
		"When full text finds too little for `q`, titles similar to it are matched too (`fuzzy`: a typo such as `merrino` finds Merino). Every page carries `total` and `facets`: counts per category, price bucket, brand and option value, each group counted without its own filter. " +
		"Prices, price filters and price sorting are in the market's currency (`?market=`, else `?country=`, else the request's country, else the default market); products with no variant sold in the market are left out.",
	request: { query: ProductListQuery },
	responses: {
		200: jsonResponse(ProductPageSchema, "A page of products; ETag and Cache-Control set"),
		...notModified,
		...databaseProblems,
		400: problem("Invalid query or cursor"),
		422: problem("`unknown_market`"),
	},
});

export const getProduct = createRoute({
	method: "get",
	path: "/products/{idOrSlug}",
	operationId: "getProduct",
	tags,
	security: publicAccess,
	summary: "An active product with its variants, prices and media",
	description:
		"Found by its id or its slug. Drafts and archived products answer 404, as unknown ones do, and so does a product none of whose variants is sold in the market. " +
		"Prices are the market's: `?market=`, else the market of `?country=`, else that of the request's country, else the default; tax is included where the market says so (GET /v1/markets).",
	request: { params: IdOrSlugParam, query: MarketQuery.strict() },
	responses: {
		200: jsonResponse(ProductSchema, "The product; ETag and Cache-Control set"),
		...notModified,
		...databaseProblems,
		400: problem("Malformed `market` or `country`"),
		404: problem("No active product with this id or slug"),
		422: problem("`unknown_market`"),
	},
});

export const listCategories = createRoute({
	method: "get",
	path: "/categories",
	operationId: "listCategories",
	tags,
	security: publicAccess,
	summary: "The category tree",
	description: "Top-level categories with their sub-categories nested under `children`, in display order.",
	responses: {
		200: jsonResponse(z.object({ data: z.array(CategorySchema).max(1000) }), "Categories"),
		...notModified,
		...databaseProblems,
	},
});

export const listMarkets = createRoute({
	method: "get",
	path: "/markets",
	operationId: "listMarkets",
	tags,
	security: publicAccess,
	summary: "The markets the shop sells in",
	description:
		"Each market's countries, currency and whether its prices include tax. Catalog reads and carts take one with `?market=` (or `?country=`); `default` names the market used otherwise.",
	responses: {
		200: jsonResponse(
			z.object({ data: z.array(MarketSchema).max(100), default: MarketSchema.shape.id }).openapi("MarketList"),
			"Markets, the default first",
		),
		...notModified,
		...databaseProblems,
	},
});

export const suggestProducts = createRoute({
	method: "get",
	path: "/search/suggest",
	operationId: "suggestProducts",
	tags,
	security: publicAccess,
	summary: "Product titles for what a shopper is typing (at most 10, cacheable)",
	description:
		"Active products sold in the market (`?market=`, else `?country=`, else the request's country, else the default) whose title starts with `q`, then those with a word that starts with it, then titles similar to it (typos), at most 10. Case is ignored. " +
		"Answers are cached like other catalog reads (ETag, Cache-Control), so a search box may ask on every keystroke.",
	request: { query: SuggestQuery },
	responses: {
		200: jsonResponse(SuggestionsSchema, "Suggestions, best first; ETag and Cache-Control set"),
		...notModified,
		...databaseProblems,
		400: problem("Missing, empty or over-long `q`, or a malformed `market` or `country`"),
		422: problem("`unknown_market`"),
	},
});
