import type { Context } from "hono";
import type { AppEnv } from "../../api/types.ts";
import type { CategoryNode, ProductDetail } from "../../catalog/queries.ts";
import { cachedCategories, cachedProduct, cachedProductList, type ProductListBody, type ProductListParams } from "../../catalog/reads.ts";
import { pageMarket } from "../market.ts";

/**
 * The catalog as pages read it: through the same cache layers as the API
 * (memory, KV, Postgres), so a page view and an API call share entries.
 */

export async function catalogCategories(c: Context<AppEnv>): Promise<CategoryNode[]> {
	const entry = await cachedCategories(c.env.CATALOG, c.executionCtx, c.get("database"));
	return (JSON.parse(entry.body) as { data: CategoryNode[] }).data;
}

export async function catalogProducts(c: Context<AppEnv>, params: ProductListParams): Promise<ProductListBody> {
	const entry = await cachedProductList(c.env.CATALOG, c.executionCtx, c.get("database"), params, await pageMarket(c));
	return JSON.parse(entry.body) as ProductListBody;
}

export async function catalogProduct(c: Context<AppEnv>, slug: string): Promise<ProductDetail | undefined> {
	const entry = await cachedProduct(c.env.CATALOG, c.executionCtx, c.get("database"), slug, await pageMarket(c));
	return entry ? (JSON.parse(entry.body) as ProductDetail) : undefined;
}

/** Every category with its depth, parents before children (for a select). */
export function flattenCategories(nodes: readonly CategoryNode[], depth = 0): { node: CategoryNode; depth: number }[] {
	return nodes.flatMap((node) => [{ node, depth }, ...flattenCategories(node.children, depth + 1)]);
}

/** The path from a root to the category with `slug`, or undefined when there is none. */
export function categoryPath(nodes: readonly CategoryNode[], slug: string): CategoryNode[] | undefined {
	for (const node of nodes) {
		if (node.slug === slug) return [node];
		const below = categoryPath(node.children, slug);
		if (below) return [node, ...below];
	}
	return undefined;
}
