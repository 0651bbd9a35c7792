import type { Context } from "hono";
import type { AppEnv } from "../../api/types.ts";
import { ProductGrid } from "../components/product-grid.tsx";
import { CATALOG_PAGE_CACHE, Layout } from "../layout.tsx";
import { marketPicker } from "../market.ts";
import { catalogCategories, catalogProducts } from "./catalog-data.ts";

/** Home: the category list and the newest products. */
export async function homePage(c: Context<AppEnv>): Promise<Response> {
	const [categories, featured] = await Promise.all([catalogCategories(c), catalogProducts(c, { sort: "newest", limit: 8 })]);
	c.header("cache-control", CATALOG_PAGE_CACHE);
	return c.html(
		<Layout title="Home" categories={categories} current="home" description="Everyday goods, shipped fast." market={await marketPicker(c)}>
			<section class="hero">
				<h1>Good things, shipped fast</h1>
				<p>
					Browse {categories.length} categories of everyday goods. Prices include nothing hidden: shipping and tax are shown before you pay.
				</p>
				<a class="button" href="/search">
					Browse everything
				</a>
			</section>
			<section class="section" aria-labelledby="categories-heading">
				<h2 id="categories-heading">Shop by category</h2>
				<ul class="grid">
					{categories.map((category) => (
						<li class="card">
							<h3>
								<a href={`/c/${category.slug}`}>{category.name}</a>
							</h3>
							{category.children.length > 0 ? <p class="muted">{category.children.map((child) => child.name).join(" · ")}</p> : null}
						</li>
					))}
				</ul>
			</section>
			<section class="section" aria-labelledby="new-heading">
				<div class="section-head">
					<h2 id="new-heading">New in</h2>
					<a href="/search?sort=newest">See all</a>
				</div>
				<ProductGrid products={featured.data} />
			</section>
		</Layout>,
	);
}
