import type { FC } from "hono/jsx";
import type { ProductSummaryRow } from "../../catalog/queries.ts";
import { money } from "../layout.tsx";

/** Product cards: image (from R2 through the media route), title, price or price range. */
export const ProductGrid: FC<{ products: ProductSummaryRow[] }> = ({ products }) =>
	products.length === 0 ? (
		<p class="muted">No products here yet.</p>
	) : (
		<ul class="grid">
			{products.map((product) => (
				<li>
					<article class="product-card">
						<a href={`/p/${product.slug}`}>
							{product.image_key ? (
								<img class="thumb" src={`/v1/media/${product.image_key}`} alt="" loading="lazy" width="400" height="400" />
							) : (
								<div class="thumb" aria-hidden="true" />
							)}
							<div class="body">
								<h3>{product.title}</h3>
								<span class="price">
									{product.price_min === product.price_max
										? money(product.price_min, product.currency)
										: `From ${money(product.price_min, product.currency)}`}
								</span>
								{product.in_stock ? null : <span class="muted">Out of stock</span>}
							</div>
						</a>
					</article>
				</li>
			))}
		</ul>
	);
