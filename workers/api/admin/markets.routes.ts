import { createRoute, z } from "@hono/zod-openapi";
import {
	AdminMarketListSchema,
	AdminMarketSchema,
	CreateMarketBody,
	MARKET_ID,
	MAX_UPSERT_ROWS,
	PatchMarketBody,
	PriceListPageSchema,
	PriceListQuery,
	PutPricesAnswerSchema,
	PutPricesBody,
} from "../../markets/admin.schemas.ts";
import { adminAuth, adminProblems, bodyProblems, databaseProblems, jsonBody, jsonResponse, problem } from "../lib/openapi.ts";
import { prefixedId, Sku } from "../lib/params.ts";

const tags = ["Admin"];
const notFound = { 404: problem("No such market") };

/** A market id in the path: the schema's own format. The example names no market, so trying an operation with it changes nothing. */
export const MarketId = prefixedId(MARKET_ID, "example-market");
export const MarketIdParam = z.object({ id: MarketId.openapi({ param: { name: "id", in: "path" } }) });
const MarketSkuParam = z.object({
	id: MarketId.openapi({ param: { name: "id", in: "path" } }),
	sku: Sku.openapi({ param: { name: "sku", in: "path" } }),
});

export const listAdminMarkets = createRoute({
	method: "get",
	path: "/admin/markets",
	operationId: "listAdminMarkets",
	tags,
	security: adminAuth,
	summary: "Every market with its countries and number of shipping zones",
	description:
		"The default market first, then by position. Each market lists the countries it sells to and how many shipping zones it has.",
	responses: {
		200: jsonResponse(AdminMarketListSchema, "The markets"),
		...databaseProblems,
		...adminProblems,
	},
});

export const createAdminMarket = createRoute({
	method: "post",
	path: "/admin/markets",
	operationId: "createMarket",
	tags,
	security: adminAuth,
	summary: "Create a market (audited)",
	description:
		"A market sells to its countries in one currency, prices with or without tax included, and may convert base prices from another currency at a fixed rate. `is_default: true` takes the default from the current default market.",
	request: { body: jsonBody(CreateMarketBody) },
	responses: {
		201: jsonResponse(AdminMarketSchema, "Created"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		409: problem("`market_id_taken`, or `country_taken` (a country belongs to another market; `countries[]` names the market)"),
	},
});

export const updateAdminMarket = createRoute({
	method: "patch",
	path: "/admin/markets/{id}",
	operationId: "updateMarket",
	tags,
	security: adminAuth,
	summary: "Change a market's settings, countries or default flag (audited)",
	description:
		"Only the fields sent change; `countries` is replaced as a whole. Moving a country from another market is refused, naming that market: remove it there first. Cached catalog reads re-price at once.",
	request: { params: MarketIdParam, body: jsonBody(PatchMarketBody) },
	responses: {
		200: jsonResponse(AdminMarketSchema, "Updated"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		...notFound,
		409: problem(
			"`country_taken` (another market sells there), `country_in_zone` (a zone of this market still ships to a removed country), `default_market` (`is_default: false` on the default market) or `market_currency_locked` (a currency change while the market has list prices)",
		),
	},
});

export const deleteAdminMarket = createRoute({
	method: "delete",
	path: "/admin/markets/{id}",
	operationId: "deleteMarket",
	tags,
	security: adminAuth,
	summary: "Delete a market with its countries, price list and shipping zones (audited)",
	description: "Refused for the default market and for a market orders were placed in: an order keeps naming the market it was priced in.",
	request: { params: MarketIdParam },
	responses: {
		204: { description: "Deleted" },
		...databaseProblems,
		...adminProblems,
		...notFound,
		409: problem("`default_market` or `market_in_use` (orders were placed in it; `orders` counts them)"),
	},
});

export const listAdminMarketPrices = createRoute({
	method: "get",
	path: "/admin/markets/{id}/prices",
	operationId: "listMarketPrices",
	tags,
	security: adminAuth,
	summary: "A market's price list: every live variant with its base, list and effective price",
	description:
		"By SKU. `price_minor` is what the market charges: its list price, else the base price in the market's currency, else the base price converted at the market's rate; null when the variant is not sold there.",
	request: { params: MarketIdParam, query: PriceListQuery },
	responses: {
		200: jsonResponse(PriceListPageSchema, "A page of the price list"),
		...databaseProblems,
		400: problem("Invalid query or cursor"),
		...adminProblems,
		...notFound,
	},
});

export const putAdminMarketPrices = createRoute({
	method: "put",
	path: "/admin/markets/{id}/prices",
	operationId: "upsertMarketPrices",
	tags,
	security: adminAuth,
	summary: `Set list prices for up to ${MAX_UPSERT_ROWS} SKUs at once, all or nothing (audited)`,
	description:
		"Each row sets the SKU's price in the market's currency (tax included in an inclusive market), replacing any it had. An unknown SKU writes nothing and is named in the 422.",
	request: { params: MarketIdParam, body: jsonBody(PutPricesBody) },
	responses: {
		200: jsonResponse(PutPricesAnswerSchema, "The rows written"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		...notFound,
		422: problem("`unknown_sku`: `skus` lists every SKU no variant has; nothing was written"),
	},
});

export const deleteAdminMarketPrice = createRoute({
	method: "delete",
	path: "/admin/markets/{id}/prices/{sku}",
	operationId: "deleteMarketPrice",
	tags,
	security: adminAuth,
	summary: "Remove a SKU's list price in a market (audited)",
	description: "The market then charges the variant's base price, converted at the market's rate when its currency differs.",
	request: { params: MarketSkuParam },
	responses: {
		204: { description: "Removed" },
		...databaseProblems,
		...adminProblems,
		404: problem("No such market, SKU, or list price for the SKU there"),
	},
});
