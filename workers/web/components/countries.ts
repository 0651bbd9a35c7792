/**
 * Countries the checkout offers, by ISO 3166-1 alpha-2 code, names in English.
 * A fixed list rather than Intl.DisplayNames: the select must read the same in
 * every runtime, and tax rates (TAX_RATES) are configured per code anyway.
 */
export const COUNTRIES: readonly (readonly [code: string, name: string])[] = [
	["AT", "Austria"],
	["AU", "Australia"],
	["BE", "Belgium"],
	["BG", "Bulgaria"],
	["CA", "Canada"],
	["CH", "Switzerland"],
	["CY", "Cyprus"],
	["CZ", "Czechia"],
	["DE", "Germany"],
	["DK", "Denmark"],
	["EE", "Estonia"],
	["ES", "Spain"],
	["FI", "Finland"],
	["FR", "France"],
	["GB", "United Kingdom"],
	["GR", "Greece"],
	["HR", "Croatia"],
	["HU", "Hungary"],
	["IE", "Ireland"],
	["IS", "Iceland"],
	["IT", "Italy"],
	["JP", "Japan"],
	["LI", "Liechtenstein"],
	["LT", "Lithuania"],
	["LU", "Luxembourg"],
	["LV", "Latvia"],
	["MT", "Malta"],
	["NL", "Netherlands"],
	["NO", "Norway"],
	["NZ", "New Zealand"],
	["PL", "Poland"],
	["PT", "Portugal"],
	["RO", "Romania"],
	["SE", "Sweden"],
	["SI", "Slovenia"],
	["SK", "Slovakia"],
	["US", "United States"],
];

const NAMES = new Map(COUNTRIES);

export const DEFAULT_COUNTRY = "DE";

export function isCountry(code: string): boolean {
	return NAMES.has(code);
}

/** The country's name, or its code when it is not in the list (an order placed through the API). */
export function countryName(code: string): string {
	return NAMES.get(code.toUpperCase()) ?? code.toUpperCase();
}
