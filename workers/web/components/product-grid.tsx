import type { FC } from "hono/jsx";
import type { ProductSummary } from "../../catalog/reads.ts";
import { money } from "../layout.tsx";

/** Product cards: image (from R2 through the media route), title, price or price range. */
export const ProductGrid: FC<{ products: ProductSummary[]; empty?: string }> = ({ products, empty = "No products here yet." }) =>
	products.length === 0 ? (
		<p class="muted">{empty}</p>
	) : (
		<ul class="grid">
			{products.map((product) => (
				<li>
					<article class="product-card">
						<a href={`/p/${product.slug}`}>
							{product.image ? (
								<img class="thumb" src={product.image} alt="" loading="lazy" width="400" height="400" />
							) : (
								<div class="thumb" aria-hidden="true" />
							)}
							<div class="body">
								<h3>{product.title}</h3>
								<span class="price">
									{product.price.min === product.price.max
										? money(product.price.min, product.price.currency)
										: `From ${money(product.price.min, product.price.currency)}`}
								</span>
								{product.in_stock ? null : <span class="muted">Out of stock</span>}
							</div>
						</a>
					</article>
				</li>
			))}
		</ul>
	);
