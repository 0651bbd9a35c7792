import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { minorDigits } from "../domain/money.ts";
import { type Market, marketPriceJoin, marketPriceSql } from "./markets.ts";

/**
 * What search adds to the catalog list (issue 18): typo tolerance, facets and
 * suggestions. catalog/queries.ts `listProducts` runs the facets in the same
 * statement as the page; this module holds the rules and the SQL pieces.
 *
 * Typo tolerance. A search whose words find fewer than `FUZZY_BELOW` active
 * products sold in the market by full text also matches titles by trigrams
 * (pg_trgm's `<%` and `<<%`, which the GIN index products_title_trgm_idx
 * serves; see `similarTitle`): "merrino" finds "Merino Base Layer Tee" (0.67),
 * "sweter" the Lambswool Crewneck Sweater (0.5). The decision looks at
 * the words and the market only, never at the other filters, so every facet
 * count is computed in the same mode as the page it describes. Full-text hits
 * rank above every similar title.
 *
 * Facets ("disjunctive"): each group is counted with every filter applied except
 * its own, so a value's count is exactly the number of products the same query
 * finds with that group's filter set to that value alone. Values within a group
 * are alternatives (brand=A&brand=B is A or B); groups combine (and).
 */

/** Full text finding fewer products than this turns on trigram matching for the query. */
export const FUZZY_BELOW = 3;

/**
 * What a similar title must reach, either of: pg_trgm's `word_similarity`
 * (the query against the best stretch of the title: forgives a doubled or
 * dropped letter, "skillwt") or its `strict_word_similarity` (against whole
 * words: forgives a wrong letter in a longer word, "stonware"). These are the
 * extension's defaults (`pg_trgm.word_similarity_threshold`,
 * `strict_word_similarity_threshold`), which `<%` and `<<%` use to search the
 * index. They are never SET per query (a pooled session would keep the
 * setting); they are compared again explicitly, so a server configured lower
 * cannot widen what matches.
 */
export const WORD_SIMILARITY = 0.6;
export const STRICT_WORD_SIMILARITY = 0.5;

/** Price bucket edges in major units of the market's currency: 0–25, 25–50, 50–100, 100–200, 200 and up. */
export const PRICE_EDGES_MAJOR = [25, 50, 100, 200] as const;

/** At most this many brands, values per option and option names come back (the most frequent first). */
export const MAX_FACET_VALUES = 50;
export const MAX_FACET_OPTIONS = 20;

/** At most this many `brand` or `option` values filter one query. */
export const MAX_FACET_FILTERS = 20;

/** At most this many suggestions answer one prefix. */
export const MAX_SUGGESTIONS = 10;

/** Products of an option filter: a variant whose option `name` is one of `values`. */
export interface OptionFilter {
	name: string;
	values: string[];
}

/** `name:value` pairs (as `?option=` carries them) grouped by name, each list sorted and without repeats, names sorted. */
export function optionFilters(pairs: readonly string[] | undefined): OptionFilter[] {
	const byName = new Map<string, Set<string>>();
	for (const pair of pairs ?? []) {
		const colon = pair.indexOf(":");
		if (colon <= 0 || colon === pair.length - 1) continue;
		const name = pair.slice(0, colon);
		const values = byName.get(name) ?? new Set<string>();
		values.add(pair.slice(colon + 1));
		byName.set(name, values);
	}
	return [...byName].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, values]) => ({ name, values: [...values].sort() }));
}

/** Sorted, without repeats: the same selection always makes the same cache key and cursor. */
export function distinctSorted(values: readonly string[] | undefined): string[] {
	return [...new Set(values ?? [])].sort();
}

/** A title similar to `q` by trigrams: the operators search the GIN index, the comparisons pin the thresholds. */
export function similarTitle(q: string, title: SQL): SQL {
	return sql`((${q} <% ${title} and word_similarity(${q}, ${title}) >= ${sql.raw(String(WORD_SIMILARITY))})
		or (${q} <<% ${title} and strict_word_similarity(${q}, ${title}) >= ${sql.raw(String(STRICT_WORD_SIMILARITY))}))`;
}

/** How similar a title is to `q` (at most 1): the better of the two measures `similarTitle` uses. */
export function titleSimilarity(q: string, title: SQL): SQL {
	return sql`greatest(word_similarity(${q}, ${title}), strict_word_similarity(${q}, ${title}))::float8`;
}

/** Every option filter holds for the variant whose options are `options`, except the one named by `except` (an SQL text). */
export function optionsMatch(options: SQL, filters: readonly OptionFilter[], except?: SQL): SQL {
	if (filters.length === 0) return sql`true`;
	return sql.join(
		filters.map((filter) =>
			except
				? sql`(${except} = ${filter.name} or (${options}->>${filter.name}) in ${filter.values})`
				: sql`(${options}->>${filter.name}) in ${filter.values}`,
		),
		sql` and `,
	);
}

/** The bucket edges in minor units of `currency`. */
export function priceEdges(currency: string): number[] {
	const unit = 10 ** minorDigits(currency);
	return PRICE_EDGES_MAJOR.map((edge) => edge * unit);
}

/**
 * The facet groups as one SQL union over the caller's CTEs: `matched` (every
 * product the words and the non-facet filters find, with one boolean per facet
 * filter: f_category, f_price, f_brand, f_option, and `category_id`, `brand`),
 * `mv` (the live variants sold in the market: product_id, options, price) and
 * `ancestry` (each category with every category above it, itself included).
 * Rows: (facet, name, label, count), at most MAX_FACET_VALUES per group.
 */
export function facetRowsSql(filters: readonly OptionFilter[], currency: string): SQL {
	const edges = sql.raw(`array[${priceEdges(currency).join(", ")}]::bigint[]`);
	return sql`
		select 'category'::text as facet, c.slug as name, c.name as label, count(*)::int as count
		from matched m join ancestry a on a.category_id = m.category_id join categories c on c.id = a.ancestor_id
		where m.f_price and m.f_brand and m.f_option
		group by c.slug, c.name
		union all
		select 'price', width_bucket(mv.price::bigint, ${edges})::text, null, count(distinct m.id)::int
		from matched m join mv on mv.product_id = m.id
		where m.f_category and m.f_brand and m.f_option
		group by 2
		union all
		select 'brand', m.brand, null, count(*)::int
		from matched m
		where m.brand <> '' and m.f_category and m.f_price and m.f_option
		group by m.brand
		union all
		select 'option', o.key, o.value, count(distinct m.id)::int
		from matched m join mv on mv.product_id = m.id cross join lateral jsonb_each_text(mv.options) o
		where o.value <> '' and strpos(o.key, ':') = 0 and m.f_category and m.f_price and m.f_brand
			and ${optionsMatch(sql`mv.options`, filters, sql`o.key`)}
		group by o.key, o.value
	`;
}

/** One row of `facetRowsSql`, as the list statement returns it. */
export interface FacetRow {
	facet: "category" | "price" | "brand" | "option";
	name: string;
	label: string | null;
	count: number;
}

/** The facets of a product list, as the API answers them (see catalog.schemas.ts `FacetsSchema`). */
export interface Facets {
	categories: { slug: string; name: string; count: number }[];
	prices: { currency: string; buckets: { min: number; max: number | null; count: number }[] };
	brands: { value: string; count: number }[];
	options: { name: string; values: { value: string; count: number }[] }[];
}

const byCount =
	<T extends { count: number }>(key: (row: T) => string) =>
	(a: T, b: T) =>
		b.count - a.count || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** Shapes the facet rows: most frequent first (ties by name), buckets in price order, groups bounded. */
export function facetsOf(rows: readonly FacetRow[], currency: string): Facets {
	const edges = priceEdges(currency);
	const of = (facet: FacetRow["facet"]) => rows.filter((row) => row.facet === facet);
	const options = new Map<string, { value: string; count: number }[]>();
	for (const row of of("option")) {
		const values = options.get(row.name) ?? [];
		values.push({ value: row.label ?? "", count: row.count });
		options.set(row.name, values);
	}
	return {
		categories: of("category")
			.map((row) => ({ slug: row.name, name: row.label ?? row.name, count: row.count }))
			.sort(byCount((row) => row.slug)),
		prices: {
			currency,
			buckets: of("price")
				.map((row) => {
					const index = Number(row.name);
					return {
						index,
						min: index === 0 ? 0 : (edges[index - 1] as number),
						max: index < edges.length ? (edges[index] as number) - 1 : null,
						count: row.count,
					};
				})
				.sort((a, b) => a.index - b.index)
				.map(({ min, max, count }) => ({ min, max, count })),
		},
		brands: of("brand")
			.map((row) => ({ value: row.name, count: row.count }))
			.sort(byCount((row) => row.value))
			.slice(0, MAX_FACET_VALUES),
		options: [...options]
			.map(([name, values]) => ({ name, values: values.sort(byCount((row) => row.value)).slice(0, MAX_FACET_VALUES) }))
			.sort((a, b) => (b.values[0]?.count ?? 0) - (a.values[0]?.count ?? 0) || (a.name < b.name ? -1 : 1))
			.slice(0, MAX_FACET_OPTIONS),
	};
}

export interface Suggestion {
	id: string;
	slug: string;
	title: string;
}

const likeEscape = (text: string) => text.replace(/[\\%_]/g, "\\$&");
const regexEscape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Up to MAX_SUGGESTIONS active products sold in `market` for what a shopper
 * has typed so far: titles that start with it, then titles with a word that
 * starts with it (alphabetical within each), then titles similar by trigrams
 * (most similar first). Case is ignored throughout; the trigram index serves
 * all three once `q` has a trigram's worth of characters.
 */
export async function suggestProducts(db: Db, q: string, market: Market): Promise<Suggestion[]> {
	const price = marketPriceSql(market);
	const startsWith = sql`p.title ilike ${`${likeEscape(q)}%`}`;
	const wordStartsWith = sql`p.title ~* ${`\\m${regexEscape(q)}`}`;
	const similar = similarTitle(q, sql`p.title`);
	// Each tier its own query, cut to the limit, so a common prefix never ranks every title it finds.
	const tier = (rank: 0 | 1 | 2, condition: SQL) => sql`(
		select p.id, p.slug, p.title, ${sql.raw(String(rank))} as tier, ${rank === 2 ? titleSimilarity(q, sql`p.title`) : sql`0::float8`} as similarity
		from products p
		where p.status = 'active' and ${condition}
			and exists (
				select 1 from variants v ${marketPriceJoin(market)}
				where v.product_id = p.id and v.archived_at is null and ${price} is not null
			)
		order by ${rank === 2 ? sql`similarity desc, ` : sql``}lower(p.title), p.id
		limit ${MAX_SUGGESTIONS}
	)`;
	const result = await db.execute<{ id: string; slug: string; title: string }>(sql`
		select s.id, s.slug, s.title from (
			${tier(0, startsWith)}
			union all
			${tier(1, sql`${wordStartsWith} and not ${startsWith}`)}
			union all
			${tier(2, sql`${similar} and not ${startsWith} and not ${wordStartsWith}`)}
		) s
		order by s.tier, s.similarity desc, lower(s.title), s.id
		limit ${MAX_SUGGESTIONS}
	`);
	return result.rows.map((row) => ({ id: row.id, slug: row.slug, title: row.title }));
}
