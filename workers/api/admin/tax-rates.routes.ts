import { createRoute, z } from "@hono/zod-openapi";
import {
	MAX_UPSERT_ROWS,
	PutTaxRatesBody,
	TAX_CLASSES,
	TaxRateDeleteQuery,
	TaxRateListQuery,
	TaxRateListSchema,
	TaxRatesWrittenSchema,
} from "../../markets/admin.schemas.ts";
import { adminAuth, adminProblems, bodyProblems, databaseProblems, jsonBody, jsonResponse, problem } from "../lib/openapi.ts";

const tags = ["Admin"];

/** ZZ, ISO 3166's "unknown country", as the example: trying the delete with it removes no real rate. */
const TaxRateKeyParam = z.object({
	country: z
		.string()
		.regex(/^[A-Z]{2}$/, "An ISO 3166-1 alpha-2 code in capitals.")
		.openapi({ param: { name: "country", in: "path" }, example: "ZZ", maxLength: 2 }),
	class: z.enum(TAX_CLASSES).openapi({ param: { name: "class", in: "path" }, example: "standard" }),
});

export const listAdminTaxRates = createRoute({
	method: "get",
	path: "/admin/tax-rates",
	operationId: "listTaxRates",
	tags,
	security: adminAuth,
	summary: "Tax rates by country, region and tax class",
	description:
		"Every rate, or one country's with `country`. `region` is '' for the whole country; a region's rate (a US state's) wins over it. A country with no rate for a class charges no tax on it.",
	request: { query: TaxRateListQuery },
	responses: {
		200: jsonResponse(TaxRateListSchema, "The rates"),
		...databaseProblems,
		400: problem("Invalid query"),
		...adminProblems,
	},
});

export const putAdminTaxRates = createRoute({
	method: "put",
	path: "/admin/tax-rates",
	operationId: "upsertTaxRates",
	tags,
	security: adminAuth,
	summary: `Set up to ${MAX_UPSERT_ROWS} tax rates at once (audited)`,
	description:
		"Each row sets the rate of its country, region and class, replacing the one it had. Checkout prices with the new rates at once.",
	request: { body: jsonBody(PutTaxRatesBody) },
	responses: {
		200: jsonResponse(TaxRatesWrittenSchema, "The rows written"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
	},
});

export const deleteAdminTaxRate = createRoute({
	method: "delete",
	path: "/admin/tax-rates/{country}/{class}",
	operationId: "deleteTaxRate",
	tags,
	security: adminAuth,
	summary: "Remove one tax rate (audited)",
	description:
		"The country's rate for the class, or with `region` that region's. Without a rate the class is untaxed there (a region falls back to its country's).",
	request: { params: TaxRateKeyParam, query: TaxRateDeleteQuery },
	responses: {
		204: { description: "Removed" },
		...databaseProblems,
		...adminProblems,
		404: problem("No such rate"),
	},
});
