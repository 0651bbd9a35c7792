import type { CartLine } from "../../durable-objects/cart.ts";
import { type Market, marketList, marketOfCountry, priceIn } from "../catalog/markets.ts";
import { ancestryOf, categoryTree } from "../catalog/queries.ts";
import { isSellable, type SkuRow, skuRows } from "../catalog/skus.ts";
import type { Db } from "../db/client.ts";
import type { OrderPromotion } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import { discountLines, pricingConfig, type Totals, totalsOf } from "./pricing.ts";
import { applyPromotions, automaticPromotions, codePromotion, forCustomer, normalizeCode, usedPromotions } from "./promotions.ts";
import { chooseMethod, countryNotInMarket, methodsFor, priceMethods, type ShippingOption } from "./shipping.ts";
import { checkedQuote, taxProviderFor } from "./tax.ts";

/** What to price: a cart's lines in its market, shipped to an address by a method, with a code. */
export interface OrderQuoteRequest {
	/** The cart's market (null: the default market). */
	market: string | null;
	lines: readonly CartLine[];
	country: string;
	region: string | null;
	shippingMethod?: string | undefined;
	discountCode?: string | undefined;
	/** Who a use of a promotion counts against (orders/promotions.ts `discountCustomer`); null before the shopper is known. */
	customer: string | null;
}

export interface OrderQuote {
	market: Market;
	currency: string;
	priced: { line: CartLine; row: SkuRow; price: number }[];
	totals: Totals;
	/** The normalised discount code, when it applies. */
	code: string | null;
	/** True when the shopper's code is valid but another promotion saves more (orders/promotions.ts stacking rule). */
	codeNotApplied: boolean;
	/** The promotions used and what each saves. */
	promotions: OrderPromotion[];
	method: ShippingOption;
	/** Every method offered for this order, priced; `method` is one of them. */
	options: ShippingOption[];
}

/**
 * Prices an order (orders/pricing.ts has the rules) from the given database
 * (the Postgres primary at checkout: never the cart, KV, a replica or the
 * client), in the cart's market as it is now: each line's price there, the
 * discount code, the shipping method for the address and parcel, and the
 * tax provider's tax per line. Checkout stores exactly this; the storefront
 * shows it before the shopper pays.
 */
export async function priceOrder(env: Env, db: Db, request: OrderQuoteRequest): Promise<OrderQuote> {
	const [markets, rows] = await Promise.all([
		marketList(db),
		skuRows(
			db,
			request.lines.map((line) => line.sku),
		),
	]);
	const market = markets.find((m) => m.id === request.market) ?? markets.find((m) => m.isDefault) ?? markets[0];
	if (!market) throw new DomainError("currency_not_supported", { detail: "This shop has no market to sell in." });
	const country = request.country.toUpperCase();
	if (!market.countries.includes(country)) throw countryNotInMarket(market, country, marketOfCountry(markets, country));
	const priced = request.lines.flatMap((line) => {
		const row = rows.get(line.sku);
		const price = row && isSellable(row) ? priceIn(market, row) : null;
		return row && price !== null ? [{ line, row, price }] : [];
	});
	if (priced.length < request.lines.length) {
		const sold = new Set(priced.map(({ line }) => line.sku));
		const missing = request.lines.filter((line) => !sold.has(line.sku)).map((line) => line.sku);
		const offSale = missing.filter((sku) => {
			const row = rows.get(sku);
			return !row || !isSellable(row);
		});
		if (offSale.length > 0) {
			throw new DomainError("items_unavailable", {
				detail: "Remove the items that are no longer sold, then check out again.",
				extensions: { skus: offSale },
			});
		}
		throw new DomainError("not_sold_in_market", {
			detail: `Some items are not sold in the ${market.name} market. Remove them, then check out again.`,
			extensions: { skus: missing, market: market.id },
		});
	}
	const currency = market.currency;
	const subtotal = priced.reduce((sum, { line, price }) => sum + price * line.quantity, 0);
	const asked = request.discountCode ? normalizeCode(request.discountCode) : null;
	const [coded, automatic, methods, tree] = await Promise.all([
		asked ? codePromotion(db, asked, currency, subtotal, request.customer) : null,
		automaticPromotions(db).then((rows) => forCustomer(db, rows, request.customer)),
		methodsFor(db, market.id, country),
		categoryTree(db),
	]);
	const ancestry = ancestryOf(tree);
	const outcome = applyPromotions(
		coded ? [...automatic, coded] : automatic,
		priced.map(({ line, row, price }) => ({
			productId: row.productId,
			categories: row.categoryId ? (ancestry.get(row.categoryId) ?? [row.categoryId]) : [],
			unitPrice: price,
			quantity: line.quantity,
		})),
		currency,
		coded?.id ?? null,
	);
	const discounted = discountLines(
		priced.map(({ line, row, price }, i) => ({
			key: line.sku,
			amount: price * line.quantity,
			taxClass: row.taxClass,
			lineDiscount: outcome.lineDiscounts[i] ?? 0,
		})),
		outcome.order?.discount ?? null,
	);
	const grams = priced.reduce((sum, { line, row }) => sum + row.weightGrams * line.quantity, 0);
	const options = priceMethods(methods, discounted.subtotal - discounted.discount, grams);
	const offered = chooseMethod(options, request.shippingMethod, country);
	const method = outcome.freeShipping ? { ...offered, price: 0 } : offered;
	const lineOff = outcome.lineDiscounts.reduce((a, b) => a + b, 0);
	const used = usedPromotions(outcome, discounted.discount - lineOff, offered.price);
	const code = coded && !outcome.codeNotApplied ? coded.code : null;
	const taxRequest = {
		currency,
		mode: market.taxMode,
		country,
		region: request.region ?? null,
		lines: discounted.lines.map((line) => ({ key: line.key, taxClass: line.taxClass, amount: line.amount - line.discount })),
		shipping: { key: "shipping", taxClass: method.taxClass, amount: method.price },
	};
	const quote = checkedQuote(taxRequest, await taxProviderFor(env, db).quote(taxRequest));
	const totals = totalsOf({
		config: pricingConfig(env),
		currency,
		mode: market.taxMode,
		discounted,
		shipping: method.price,
		lineTaxes: quote.lines,
		shippingTax: quote.shipping,
	});
	return { market, currency, priced, totals, code, codeNotApplied: outcome.codeNotApplied, promotions: used, method, options };
}
