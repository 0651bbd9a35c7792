import { describe, expect, it } from "vitest";
import { type FacetRow, facetsOf, MAX_FACET_VALUES, optionFilters, priceEdges } from "./search.ts";

describe("option filters", () => {
	it("group name:value pairs by name, values sorted without repeats, so any order is one query", () => {
		expect(optionFilters(["size:M", "colour:Red", "colour:Black", "size:M", "colour:Navy & Ecru"])).toEqual([
			{ name: "colour", values: ["Black", "Navy & Ecru", "Red"] },
			{ name: "size", values: ["M"] },
		]);
		// Only the first colon separates: a value may hold one.
		expect(optionFilters(["ratio:16:9"])).toEqual([{ name: "ratio", values: ["16:9"] }]);
		expect(optionFilters(undefined)).toEqual([]);
	});
});

describe("facet shapes", () => {
	it("puts price buckets in order with inclusive bounds in the currency's minor units", () => {
		expect(priceEdges("EUR")).toEqual([2500, 5000, 10000, 20000]);
		// The yen has no minor unit: ¥25 is 25.
		expect(priceEdges("JPY")).toEqual([25, 50, 100, 200]);
		const rows: FacetRow[] = [
			{ facet: "price", name: "4", label: null, count: 1 },
			{ facet: "price", name: "0", label: null, count: 3 },
			{ facet: "price", name: "2", label: null, count: 2 },
		];
		expect(facetsOf(rows, "EUR").prices).toEqual({
			currency: "EUR",
			buckets: [
				{ min: 0, max: 2499, count: 3 },
				{ min: 5000, max: 9999, count: 2 },
				{ min: 20000, max: null, count: 1 },
			],
		});
	});

	it("lists the most frequent values first, ties by name, and bounds every group", () => {
		const rows: FacetRow[] = [
			{ facet: "brand", name: "Halden", label: null, count: 2 },
			{ facet: "brand", name: "Fjellmark", label: null, count: 5 },
			{ facet: "brand", name: "Atelier Lune", label: null, count: 2 },
			{ facet: "option", name: "size", label: "M", count: 4 },
			{ facet: "option", name: "colour", label: "Black", count: 4 },
			{ facet: "option", name: "colour", label: "Red", count: 1 },
			{ facet: "category", name: "t-shirts", label: "T-Shirts", count: 3 },
			{ facet: "category", name: "apparel", label: "Apparel", count: 7 },
			...Array.from({ length: MAX_FACET_VALUES + 5 }, (_, i) => ({ facet: "option" as const, name: "model", label: `m${i}`, count: 1 })),
		];
		const facets = facetsOf(rows, "EUR");
		expect(facets.brands).toEqual([
			{ value: "Fjellmark", count: 5 },
			{ value: "Atelier Lune", count: 2 },
			{ value: "Halden", count: 2 },
		]);
		expect(facets.categories.map((c) => c.slug)).toEqual(["apparel", "t-shirts"]);
		expect(facets.options.map((o) => o.name)).toEqual(["colour", "size", "model"]);
		expect(facets.options[0]?.values).toEqual([
			{ value: "Black", count: 4 },
			{ value: "Red", count: 1 },
		]);
		expect(facets.options[2]?.values).toHaveLength(MAX_FACET_VALUES);
	});
});
