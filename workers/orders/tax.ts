import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { taxRates } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import { type LineTax, type TaxClass, type TaxMode, taxOn } from "./pricing.ts";

/**
 * Tax providers: who says what tax an order's lines owe. The built-in one
 * (`table`, the default) reads `tax_rates` in Postgres and applies the
 * rounding rule of orders/pricing.ts; an external tax service plugs in behind
 * the same interface, named by TAX_PROVIDER, as payment providers do
 * (payments/index.ts). A provider answers per line, in the order asked, so
 * the order stores each line's tax and the refund of a line gives it back.
 */

/** One amount to tax: a line's discounted amount, or shipping. */
export interface TaxableLine {
	key: string;
	taxClass: TaxClass;
	/** Minor units; tax included when the mode is inclusive. */
	amount: number;
}

export interface TaxQuoteRequest {
	currency: string;
	mode: TaxMode;
	/** The shipping address's country (ISO 3166-1 alpha-2, upper case) and region, e.g. a US state. */
	country: string;
	region: string | null;
	lines: readonly TaxableLine[];
	shipping: TaxableLine;
}

export interface TaxQuote {
	lines: LineTax[];
	shipping: LineTax;
}

export interface TaxProvider {
	readonly name: string;
	quote(request: TaxQuoteRequest): Promise<TaxQuote>;
}

/** The rates of a destination per class: a region's row wins over its country's; no row is 0. */
export async function ratesFor(db: Db, country: string, region: string | null): Promise<Record<TaxClass, number>> {
	const regions = region ? ["", region.toUpperCase()] : [""];
	const rows = await db
		.select({ region: taxRates.region, taxClass: taxRates.taxClass, rateBp: taxRates.rateBp })
		.from(taxRates)
		.where(and(eq(taxRates.country, country.toUpperCase()), inArray(taxRates.region, regions)));
	const rates: Record<TaxClass, number> = { standard: 0, reduced: 0, zero: 0 };
	// Country-wide rows first, so a region's row overwrites its class.
	for (const row of [...rows].sort((a, b) => a.region.length - b.region.length)) rates[row.taxClass] = row.rateBp;
	return rates;
}

/** The built-in provider: `tax_rates` from the given database (the primary, at checkout). */
export function tableTaxProvider(db: Db): TaxProvider {
	return {
		name: "table",
		async quote(request) {
			const rates = await ratesFor(db, request.country, request.region);
			const of = (line: TaxableLine): LineTax => {
				const rateBp = rates[line.taxClass];
				return { rateBp, tax: taxOn(line.amount, rateBp, request.mode) };
			};
			return { lines: request.lines.map(of), shipping: of(request.shipping) };
		},
	};
}

/**
 * The provider TAX_PROVIDER names (`table` when unset). An unknown name is a
 * deployment error, answered 503 so checkout charges nothing it cannot tax.
 */
export function taxProviderFor(env: { TAX_PROVIDER?: string }, db: Db): TaxProvider {
	const name = env.TAX_PROVIDER || "table";
	if (name === "table") return tableTaxProvider(db);
	console.error(JSON.stringify({ level: "error", msg: "tax_provider_unknown", provider: name }));
	throw new DomainError("tax_unavailable", { detail: "Tax cannot be computed right now. Retry later.", retryAfterSeconds: 30 });
}

/**
 * Checks a provider's answer before any order stores it: one entry per line,
 * whole non-negative amounts, and inclusive tax never more than the amount.
 * A provider that breaks this is a fault of the provider (502), not a price.
 */
export function checkedQuote(request: TaxQuoteRequest, quote: TaxQuote): TaxQuote {
	const valid = (line: TaxableLine, tax: LineTax | undefined) =>
		tax !== undefined &&
		Number.isSafeInteger(tax.tax) &&
		tax.tax >= 0 &&
		Number.isInteger(tax.rateBp) &&
		tax.rateBp >= 0 &&
		tax.rateBp <= 10000 &&
		(request.mode === "exclusive" || tax.tax <= line.amount);
	const ok =
		quote.lines.length === request.lines.length &&
		request.lines.every((line, i) => valid(line, quote.lines[i])) &&
		valid(request.shipping, quote.shipping);
	if (!ok) throw new DomainError("tax_provider_failed", { detail: "The tax provider answered something that is not a tax. Retry later." });
	return quote;
}
