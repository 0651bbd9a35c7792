import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { type Market, marketPriceJoin, marketPriceSql } from "./markets.ts";

export type ProductSort = "relevance" | "newest" | "price_asc" | "price_desc";

export interface ProductQuery {
	q?: string | undefined;
	category?: string | undefined;
	minPrice?: number | undefined;
	maxPrice?: number | undefined;
	inStock?: boolean | undefined;
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
	currency: string;
	in_stock: boolean;
	image_key: string | null;
	created_at: string;
	/** The row's sort value, for the next cursor. */
	sort_value: string | number;
};

/**
 * Whether a SKU has units to sell: available (on hand minus live holds) above
 * zero, as its InventoryItem last reported through the orders queue
 * (`stock_levels`). A SKU with no report yet has never been stocked. Cached
 * answers stay right because the consumer bumps the stock version whenever
 * this flips (see catalog/cache.ts).
 */
const skuInStock = (sku: SQL) => sql`exists (select 1 from stock_levels s where s.sku = ${sku} and s.available > 0)`;

/**
 * One page of active products: full-text search (websearch syntax, ranked,
 * an exact title match first), category including its sub-categories, price
 * range (some live variant within it), in-stock, and a stable keyset order
 * (the sort value, then the id) so pages never repeat or skip a product, even
 * while products are added.
 */
export async function listProducts(db: Db, query: ProductQuery, market: Market): Promise<ProductSummaryRow[]> {
	const price = marketPriceSql(market);
	const join = marketPriceJoin(market);
	const tsquery = query.q ? sql`websearch_to_tsquery('english', ${query.q})` : undefined;
	const score = tsquery
		? sql`((case when lower(p.title) = lower(${query.q}) then 1 else 0 end) + ts_rank(p.search, ${tsquery}, 32))::float8`
		: sql`0::float8`;
	const sortValue: Record<ProductSort, SQL> = {
		relevance: score,
		newest: sql`to_char(p.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
		price_asc: sql`pr.price_min`,
		price_desc: sql`pr.price_min`,
	};
	const orderBy: Record<ProductSort, SQL> = {
		relevance: sql`${score} desc, p.id desc`,
		newest: sql`p.created_at desc, p.id desc`,
		price_asc: sql`pr.price_min asc, p.id asc`,
		price_desc: sql`pr.price_min desc, p.id desc`,
	};
	const conditions: SQL[] = [sql`p.status = 'active'`];
	if (tsquery) conditions.push(sql`p.search @@ ${tsquery}`);
	if (query.category) {
		conditions.push(sql`p.category_id in (
			with recursive tree as (
				select id from categories where slug = ${query.category}
				union all
				select c.id from categories c join tree on c.parent_id = tree.id
			)
			select id from tree
		)`);
	}
	if (query.minPrice !== undefined || query.maxPrice !== undefined) {
		conditions.push(sql`exists (
			select 1 from variants v ${join} where v.product_id = p.id and v.archived_at is null
			${query.minPrice !== undefined ? sql`and ${price} >= ${query.minPrice}` : sql``}
			${query.maxPrice !== undefined ? sql`and ${price} <= ${query.maxPrice}` : sql``}
		)`);
	}
	if (query.inStock) {
		conditions.push(
			sql`exists (select 1 from variants v where v.product_id = p.id and v.archived_at is null and ${skuInStock(sql`v.sku`)})`,
		);
	}
	if (query.after) {
		const { value, id } = query.after;
		const keyset: Record<ProductSort, SQL> = {
			relevance: sql`(${score}, p.id) < (${value}::float8, ${id})`,
			newest: sql`(p.created_at, p.id) < (${value}::timestamptz, ${id})`,
			price_asc: sql`(pr.price_min, p.id) > (${value}::bigint, ${id})`,
			price_desc: sql`(pr.price_min, p.id) < (${value}::bigint, ${id})`,
		};
		conditions.push(keyset[query.sort]);
	}
	const result = await db.execute<ProductSummaryRow>(sql`
		select p.id, p.slug, p.title, c.slug as category_slug,
			pr.price_min, pr.price_max, ${market.currency}::text as currency,
			exists (select 1 from variants v where v.product_id = p.id and v.archived_at is null and ${skuInStock(sql`v.sku`)}) as in_stock,
			(select m.key from media m where m.product_id = p.id order by m.position, m.created_at limit 1) as image_key,
			to_char(p.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at,
			${sortValue[query.sort]} as sort_value
		from products p
		join (
			select v.product_id, min(${price}) as price_min, max(${price}) as price_max
			from variants v ${join} where v.archived_at is null and ${price} is not null group by v.product_id
		) pr on pr.product_id = p.id
		left join categories c on c.id = p.category_id
		where ${sql.join(conditions, sql` and `)}
		order by ${orderBy[query.sort]}
		limit ${query.limit + 1}
	`);
	return result.rows.map((row) => ({
		...row,
		price_min: Number(row.price_min),
		price_max: Number(row.price_max),
		sort_value: typeof row.sort_value === "string" && query.sort !== "newest" ? Number(row.sort_value) : row.sort_value,
	}));
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
	media: { key: string; url: string; content_type: string; alt: string }[];
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
		db.execute<{ key: string; content_type: string; alt: string }>(sql`
			select m.key, m.content_type, m.alt from media m where m.product_id = ${product.id} order by m.position, m.created_at
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
		media: mediaRows.rows.map((m) => ({ key: m.key, url: `/v1/media/${m.key}`, content_type: m.content_type, alt: m.alt })),
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
