import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import type { MediaDerivative } from "../db/schema.ts";
import { mediaUrl } from "../media/sizes.ts";
import { type Market, marketPriceJoin, marketPriceSql } from "./markets.ts";
import {
	type FacetRow,
	FUZZY_BELOW,
	facetRowsSql,
	MAX_FACET_VALUES,
	type OptionFilter,
	optionsMatch,
	similarTitle,
	titleSimilarity,
} from "./search.ts";

export type ProductSort = "relevance" | "newest" | "price_asc" | "price_desc";

/**
 * How `q` matches: by full text only, or also by similar titles (catalog/search.ts);
 * "auto" decides by how many products full text finds. A cursor repeats the
 * mode of its first page, so pages never change mode midway.
 */
export type MatchMode = "auto" | "text" | "fuzzy";

export interface ProductQuery {
	q?: string | undefined;
	category?: string | undefined;
	minPrice?: number | undefined;
	maxPrice?: number | undefined;
	inStock?: boolean | undefined;
	/** Any of these brands (`attributes.brand`). */
	brands?: readonly string[] | undefined;
	/** For each, some variant with one of its values (all of them on one variant). */
	options?: readonly OptionFilter[] | undefined;
	match?: MatchMode | undefined;
	/** Whether to count the facets too (default true); the page's rows and total come either way. */
	withFacets?: boolean | undefined;
	sort: ProductSort;
	limit: number;
	/** Keyset position after which the page starts: the last row's sort value and id. */
	after?: { value: string | number; id: string } | undefined;
}

export type ProductSummaryRow = {
	id: string;
	slug: string;
	title: string;
	category_slug: string | null;
	price_min: number;
	price_max: number;
	in_stock: boolean;
	image_key: string | null;
	created_at: string;
	/** The row's sort value, for the next cursor. */
	sort_value: string | number;
};

/** A page of products with what describes the whole result: its size, its mode and its facets. */
export interface ProductPage {
	/** Up to `limit + 1` rows: one more than the page when there is a next page. */
	rows: ProductSummaryRow[];
	/** How many products the query finds, over all pages. */
	total: number;
	/** Whether similar titles were matched as well as full text. */
	fuzzy: boolean;
	/** Empty when the query asked for none (`withFacets: false`). */
	facets: FacetRow[];
}

/**
 * Whether a SKU has units to sell: available (on hand minus live holds) above
 * zero, as its InventoryItem last reported through the orders queue
 * (`stock_levels`). A SKU with no report yet has never been stocked. Cached
 * answers stay right because the consumer bumps the stock version whenever
 * this flips (see catalog/cache.ts).
 */
const skuInStock = (sku: SQL) => sql`exists (select 1 from stock_levels s where s.sku = ${sku} and s.available > 0)`;

/**
 * How `q` selects and ranks products. In "auto" mode similar titles count only
 * when full text finds fewer than FUZZY_BELOW active products sold in the
 * market: decided by the words and the market alone, so the page and every
 * facet count share one mode. Full-text hits score 2 and up (3 and up for an
 * exact title), similar titles their similarity (at most 1), so every
 * full-text hit ranks above every similar title.
 */
function matchWords(q: string, match: MatchMode, soldHere: SQL): { fuzzy: SQL; condition: SQL; score: SQL } {
	const tsquery = sql`websearch_to_tsquery('english', ${q})`;
	const textHit = sql`p.search @@ ${tsquery}`;
	const similar = similarTitle(q, sql`p.title`);
	const fuzzy =
		match === "auto"
			? sql`(select count(*) from (
					select 1 from products p where p.status = 'active' and ${textHit} and ${soldHere} limit ${FUZZY_BELOW}
				) t) < ${FUZZY_BELOW}`
			: sql.raw(String(match === "fuzzy"));
	// Each arm a query of its own, so each can search its index (a condition on the mode inside an OR would keep them from it).
	const condition =
		match === "text"
			? textHit
			: sql`p.id in (
					select p.id from products p where ${textHit}
					union
					select p.id from products p where ${match === "auto" ? sql`(select fuzzy from mode) and ` : sql``}${similar}
				)`;
	const score = sql`(case when ${textHit}
		then 2 + (case when lower(p.title) = lower(${q}) then 1 else 0 end) + ts_rank(p.search, ${tsquery}, 32)
		else ${titleSimilarity(q, sql`p.title`)} end)::float8`;
	return { fuzzy, condition, score };
}

/**
 * One page of active products sold in `market`, and its facets, in one
 * statement: full-text search (websearch syntax, ranked, an exact title match
 * first; similar titles too when full text finds little, ranked after every
 * full-text hit), category including its sub-categories, price range (some
 * live variant within it), brands, option values (one variant with all of
 * them), in-stock, and a stable keyset order (the sort value, then the id) so
 * pages never repeat or skip a product, even while products are added.
 *
 * The products the words and stock find are gathered once (`found`), their
 * variants priced in the market once (`mv`), and each product gets one flag
 * per facet filter (`matched`); the page takes those passing every flag, each
 * facet group those passing every flag but its own (catalog/search.ts).
 */
export async function listProducts(db: Db, query: ProductQuery, market: Market): Promise<ProductPage> {
	const price = marketPriceSql(market);
	const join = marketPriceJoin(market);
	const soldHere = sql`exists (select 1 from variants v ${join} where v.product_id = p.id and v.archived_at is null and ${price} is not null)`;
	const words = query.q ? matchWords(query.q, query.match ?? "auto", soldHere) : undefined;
	const conditions: SQL[] = [sql`p.status = 'active'`, ...(words ? [words.condition] : [])];
	if (query.inStock) {
		conditions.push(
			sql`exists (select 1 from variants v where v.product_id = p.id and v.archived_at is null and ${skuInStock(sql`v.sku`)})`,
		);
	}
	const inCategory = query.category
		? sql`p.category_id in (select a.category_id from ancestry a join categories c on c.id = a.ancestor_id where c.slug = ${query.category})`
		: sql`true`;
	const inPriceRange =
		query.minPrice !== undefined || query.maxPrice !== undefined
			? sql`(true ${query.minPrice !== undefined ? sql`and mv.price >= ${query.minPrice}` : sql``} ${query.maxPrice !== undefined ? sql`and mv.price <= ${query.maxPrice}` : sql``})`
			: sql`true`;
	const ofBrand = query.brands?.length ? sql`coalesce(p.attributes->>'brand', '') in ${query.brands}` : sql`true`;
	const sortValue: Record<ProductSort, SQL> = {
		relevance: sql`h.score`,
		newest: sql`to_char(h.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
		price_asc: sql`h.price_min`,
		price_desc: sql`h.price_min`,
	};
	const orderBy: Record<ProductSort, SQL> = {
		relevance: sql`h.score desc, h.id desc`,
		newest: sql`h.created_at desc, h.id desc`,
		price_asc: sql`h.price_min asc, h.id asc`,
		price_desc: sql`h.price_min desc, h.id desc`,
	};
	let keyset = sql`true`;
	if (query.after) {
		const { value, id } = query.after;
		const after: Record<ProductSort, SQL> = {
			relevance: sql`(h.score, h.id) < (${value}::float8, ${id})`,
			newest: sql`(h.created_at, h.id) < (${value}::timestamptz, ${id})`,
			price_asc: sql`(h.price_min, h.id) > (${value}::bigint, ${id})`,
			price_desc: sql`(h.price_min, h.id) < (${value}::bigint, ${id})`,
		};
		keyset = after[query.sort];
	}
	const result = await db.execute<{ fuzzy: boolean; total: number; rows: ProductSummaryRow[]; facets: FacetRow[] }>(sql`
		with recursive
		mode as (select ${words?.fuzzy ?? sql`false`} as fuzzy),
		ancestry(category_id, ancestor_id) as (
			select id, id from categories
			union all
			select a.category_id, c.parent_id from ancestry a join categories c on c.id = a.ancestor_id where c.parent_id is not null
		),
		found as (
			select p.id, p.slug, p.title, p.category_id, p.created_at, coalesce(p.attributes->>'brand', '') as brand,
				${inCategory} as f_category, ${ofBrand} as f_brand, ${words?.score ?? sql`0::float8`} as score
			from products p
			where ${sql.join(conditions, sql` and `)}
		),
		mv as (
			select v.product_id, v.options, ${price} as price
			from found f join variants v on v.product_id = f.id ${join}
			where v.archived_at is null and ${price} is not null
		),
		matched as (
			select f.*, pr.price_min, pr.price_max, pr.f_price, pr.f_option
			from found f join (
				select mv.product_id, min(mv.price) as price_min, max(mv.price) as price_max,
					bool_or(${inPriceRange}) as f_price, bool_or(${optionsMatch(sql`mv.options`, query.options ?? [])}) as f_option
				from mv group by mv.product_id
			) pr on pr.product_id = f.id
		),
		hits as (select * from matched where f_category and f_price and f_brand and f_option),
		page as (
			select h.id, h.slug, h.title, c.slug as category_slug, h.price_min, h.price_max,
				exists (select 1 from variants v where v.product_id = h.id and v.archived_at is null and ${skuInStock(sql`v.sku`)}) as in_stock,
				(select m.key from media m where m.product_id = h.id order by m.position, m.created_at limit 1) as image_key,
				to_char(h.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at,
				${sortValue[query.sort]} as sort_value,
				row_number() over (order by ${orderBy[query.sort]}) as position
			from hits h left join categories c on c.id = h.category_id
			where ${keyset}
			order by ${orderBy[query.sort]}
			limit ${query.limit + 1}
		),
		facet_rows as (${
			query.withFacets === false
				? sql`select null::text as facet, null::text as name, null::text as label, 0 as count where false`
				: facetRowsSql(query.options ?? [], market.currency)
		})
		select (select fuzzy from mode) as fuzzy,
			(select count(*) from hits)::int as total,
			coalesce((select json_agg(page order by page.position) from page), '[]'::json) as rows,
			coalesce((
				select json_agg(json_build_object('facet', f.facet, 'name', f.name, 'label', f.label, 'count', f.count)) from (
					select facet, name, label, count,
						row_number() over (partition by facet, case when facet = 'option' then name end order by count desc, coalesce(label, name)) as rank
					from facet_rows
				) f
				where f.facet in ('category', 'price') or f.rank <= ${MAX_FACET_VALUES}
			), '[]'::json) as facets
	`);
	const answer = result.rows[0];
	if (!answer) throw new Error("the product list statement returned no row");
	return {
		rows: answer.rows.map((row) => ({
			id: row.id,
			slug: row.slug,
			title: row.title,
			category_slug: row.category_slug,
			price_min: Number(row.price_min),
			price_max: Number(row.price_max),
			in_stock: row.in_stock,
			image_key: row.image_key,
			created_at: row.created_at,
			sort_value: query.sort === "newest" ? String(row.sort_value) : Number(row.sort_value),
		})),
		total: Number(answer.total),
		fuzzy: Boolean(answer.fuzzy),
		facets: answer.facets,
	};
}

export interface ProductDetail {
	id: string;
	slug: string;
	title: string;
	description: string;
	attributes: Record<string, string>;
	category: { id: string; slug: string; name: string } | null;
	variants: {
		id: string;
		sku: string;
		title: string;
		options: Record<string, string>;
		price: { amount: number; currency: string };
		in_stock: boolean;
	}[];
	media: {
		key: string;
		url: string;
		content_type: string;
		alt: string;
		/** The WebP copies made at upload, narrowest first; `url` asks the media route for that width. */
		derivatives: { width: number; height: number; url: string }[];
	}[];
	created_at: string;
	updated_at: string;
}

/**
 * An active product by id (`prod_…`) or slug, with its live variants priced
 * in `market` (a variant not sold there is left out) and media; undefined
 * when there is none, or none of its variants is sold in the market.
 */
export async function getProduct(db: Db, idOrSlug: string, market: Market): Promise<ProductDetail | undefined> {
	const products = await db.execute<{
		id: string;
		slug: string;
		title: string;
		description: string;
		attributes: Record<string, string>;
		category_id: string | null;
		category_slug: string | null;
		category_name: string | null;
		created_at: string;
		updated_at: string;
	}>(sql`
		select p.id, p.slug, p.title, p.description, p.attributes,
			c.id as category_id, c.slug as category_slug, c.name as category_name,
			to_char(p.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at,
			to_char(p.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as updated_at
		from products p left join categories c on c.id = p.category_id
		where p.status = 'active' and ${idOrSlug.startsWith("prod_") ? sql`p.id = ${idOrSlug}` : sql`p.slug = ${idOrSlug}`}
	`);
	const product = products.rows[0];
	if (!product) return undefined;
	const [variantRows, mediaRows] = await Promise.all([
		db.execute<{
			id: string;
			sku: string;
			title: string;
			options: Record<string, string>;
			price_minor: number;
			currency: string;
			in_stock: boolean;
		}>(sql`
			select v.id, v.sku, v.title, v.options, ${marketPriceSql(market)} as price_minor, ${market.currency}::text as currency,
				${skuInStock(sql`v.sku`)} as in_stock
			from variants v ${marketPriceJoin(market)}
			where v.product_id = ${product.id} and v.archived_at is null and ${marketPriceSql(market)} is not null
			order by v.position, v.sku
		`),
		db.execute<{ key: string; content_type: string; alt: string; derivatives: MediaDerivative[] }>(sql`
			select m.key, m.content_type, m.alt, m.derivatives from media m where m.product_id = ${product.id} order by m.position, m.created_at
		`),
	]);
	if (variantRows.rows.length === 0) return undefined;
	return {
		id: product.id,
		slug: product.slug,
		title: product.title,
		description: product.description,
		attributes: product.attributes,
		category: product.category_id
			? { id: product.category_id, slug: product.category_slug ?? "", name: product.category_name ?? "" }
			: null,
		variants: variantRows.rows.map((v) => ({
			id: v.id,
			sku: v.sku,
			title: v.title,
			options: v.options,
			price: { amount: Number(v.price_minor), currency: v.currency },
			in_stock: v.in_stock,
		})),
		media: mediaRows.rows.map((m) => ({
			key: m.key,
			url: mediaUrl(m.key),
			content_type: m.content_type,
			alt: m.alt,
			derivatives: m.derivatives.map((d) => ({ width: d.width, height: d.height, url: mediaUrl(m.key, d.width) })),
		})),
		created_at: product.created_at,
		updated_at: product.updated_at,
	};
}

export interface CategoryNode {
	id: string;
	slug: string;
	name: string;
	children: CategoryNode[];
}

/** The whole category tree, siblings by position then name. */
export async function categoryTree(db: Db): Promise<CategoryNode[]> {
	const rows = await db.execute<{ id: string; parent_id: string | null; slug: string; name: string }>(
		sql`select id, parent_id, slug, name from categories order by position, name`,
	);
	const nodes = new Map(rows.rows.map((row) => [row.id, { id: row.id, slug: row.slug, name: row.name, children: [] as CategoryNode[] }]));
	const roots: CategoryNode[] = [];
	for (const row of rows.rows) {
		const node = nodes.get(row.id) as CategoryNode;
		const parent = row.parent_id ? nodes.get(row.parent_id) : undefined;
		(parent ? parent.children : roots).push(node);
	}
	return roots;
}

/** Each category's id with the ids above it (itself first), from the tree: what a category promotion matches. */
export function ancestryOf(tree: readonly CategoryNode[]): Map<string, string[]> {
	const ancestry = new Map<string, string[]>();
	const walk = (nodes: readonly CategoryNode[], above: string[]) => {
		for (const node of nodes) {
			const chain = [node.id, ...above];
			ancestry.set(node.id, chain);
			walk(node.children, chain);
		}
	};
	walk(tree, []);
	return ancestry;
}
