import type { FC } from "hono/jsx";
import type { ProductSummary } from "../../catalog/reads.ts";
import { DERIVATIVE_WIDTHS, srcsetOf } from "../../media/sizes.ts";
import { money } from "../layout.tsx";

/**
 * How wide a card's image is drawn: half the screen in the two-column phone
 * grid, else at most about 280 CSS px (app.css `.grid`).
 */
const CARD_SIZES = "(max-width: 560px) 50vw, 280px";

/**
 * Product cards: image (from R2 through the media route), title, price or
 * price range. The list carries no image's widths, so `srcset` names all of
 * DERIVATIVE_WIDTHS: `?w=` answers the nearest copy an image has (or the
 * original, when it has none), so every candidate works.
 */
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
								<img
									class="thumb"
									src={product.image}
									srcset={srcsetOf(product.image, DERIVATIVE_WIDTHS)}
									sizes={CARD_SIZES}
									alt=""
									loading="lazy"
									width="400"
									height="400"
								/>
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
