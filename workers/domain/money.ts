/** An amount in integer minor units (cents) and its ISO 4217 code, as orders store it. */
export interface Money {
	amount: number;
	currency: string;
}

/**
 * ISO 4217 minor-unit exponents other than 2. The split into minor units
 * follows ISO, as payment providers do, not Intl: Intl's digits come from
 * CLDR, which shows some currencies without decimals although their minor
 * unit exists (HUF and IQD format with 0 digits, while 1 Ft is 100 minor
 * units and 1 IQD is 1000), and dividing by CLDR's digits would misprice them.
 */
const ZERO_DECIMAL = new Set([
	"BIF",
	"CLP",
	"DJF",
	"GNF",
	"ISK",
	"JPY",
	"KMF",
	"KRW",
	"PYG",
	"RWF",
	"UGX",
	"UYI",
	"VND",
	"VUV",
	"XAF",
	"XOF",
	"XPF",
]);
const THREE_DECIMAL = new Set(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]);
const FOUR_DECIMAL = new Set(["CLF", "UYW"]);

/** How many minor-unit digits a currency has: 100 cents to the euro is 2, the yen is 0. */
export function minorDigits(currency: string): number {
	if (ZERO_DECIMAL.has(currency)) return 0;
	if (THREE_DECIMAL.has(currency)) return 3;
	if (FOUR_DECIMAL.has(currency)) return 4;
	return 2;
}

/**
 * `{ amount: 1234, currency: "EUR" }` → `€12.34`, `{ amount: 500, currency: "JPY" }` → `¥500`.
 * Intl chooses the symbol and grouping; decimals are shown the way the locale
 * shows that currency unless the amount has a fraction it would hide.
 */
export function formatMoney(money: Money, locale = "en-US"): string {
	const digits = minorDigits(money.currency);
	const localDigits =
		new Intl.NumberFormat(locale, { style: "currency", currency: money.currency }).resolvedOptions().maximumFractionDigits ?? digits;
	const hasFraction = money.amount % 10 ** digits !== 0;
	return new Intl.NumberFormat(locale, {
		style: "currency",
		currency: money.currency,
		minimumFractionDigits: hasFraction ? digits : Math.min(localDigits, digits),
		maximumFractionDigits: digits,
	}).format(money.amount / 10 ** digits);
}

/**
 * The factors that turn minor units of `from` into minor units of `to` at
 * `rateMicros` (millionths of a unit of `to` per unit of `from`): multiply,
 * then divide, with the power of ten between their minor units folded in.
 */
export function conversionTerms(from: string, to: string, rateMicros: number): { multiply: bigint; divide: bigint } {
	const shift = minorDigits(to) - minorDigits(from);
	return {
		multiply: BigInt(rateMicros) * 10n ** BigInt(Math.max(shift, 0)),
		divide: 1_000_000n * 10n ** BigInt(Math.max(-shift, 0)),
	};
}

/**
 * `amount` minor units of `from` in minor units of `to` at `rateMicros`,
 * rounded half up (exact, in BigInt): €39.00 at 0.86 is £33.54.
 */
export function convertMinor(amount: number, from: string, to: string, rateMicros: number): number {
	const { multiply, divide } = conversionTerms(from, to, rateMicros);
	return Number((2n * BigInt(amount) * multiply + divide) / (2n * divide));
}
