import type { Context } from "hono";
import { type CartResult, maxUnitsPerSku } from "../../../durable-objects/cart.ts";
import type { AppEnv } from "../../api/types.ts";
import { cartFailure, cartStub } from "../../carts/carts.ts";
import { type CartView, viewCart } from "../../carts/view.ts";
import { assertSellable } from "../../catalog/skus.ts";
import { DomainError } from "../../domain/errors.ts";
import { inventoryItem } from "../../inventory/reservations.ts";
import { Alert } from "../components/alert.tsx";
import { formText } from "../components/form.tsx";
import { StockBadge } from "../components/stock.tsx";
import { Layout, money, PERSONAL_PAGE_CACHE } from "../layout.tsx";
import { marketPicker } from "../market.ts";
import { cartForChange, findCart, followPickedMarket } from "../session.ts";
import { renderProductPage } from "./catalog.tsx";
import { catalogCategories, catalogProduct } from "./catalog-data.ts";
import { notFoundPage } from "./errors.tsx";

/** The SKU shape of the catalog (upper-case words joined by hyphens). */
const SKU = /^[A-Z0-9]+(?:-[A-Z0-9]+){0,15}$/;

/** Shoppers' words for the Cart object's refusals. */
const CART_REFUSALS: Record<string, string> = {
	line_limit: "Your cart holds at most 50 different items. Remove something first.",
	line_not_found: "That item is no longer in your cart.",
	not_found: "Your cart has expired. Please add the items again.",
	unknown_sku: "Sorry, this item is no longer sold.",
};

const NOTICES: Record<string, string> = {
	updated: "Your cart was updated.",
	removed: "The item was removed from your cart.",
};

/** A quantity from a form: a whole number within `min`..99, else undefined. */
function quantityOf(text: string, min: number): number | undefined {
	if (!/^\d{1,2}$/.test(text)) return undefined;
	const n = Number(text);
	return n >= min && n <= 99 ? n : undefined;
}

/**
 * Units available now per SKU (InventoryItem), for the cart's stock badges;
 * one call per line, in parallel.
 */
async function stockOf(env: Env, skus: readonly string[]): Promise<Map<string, number>> {
	const figures = await Promise.all(skus.map((sku) => inventoryItem(env, sku).available(sku)));
	return new Map(figures.map((figure) => [figure.sku, figure.available]));
}

interface CartPageState {
	notice?: { kind: "ok" | "error"; text: string } | undefined;
}

async function renderCart(c: Context<AppEnv>, state: CartPageState = {}, status: 200 | 404 | 409 | 422 = 200): Promise<Response> {
	const current = await findCart(c);
	const found = current ? await followPickedMarket(c, current) : undefined;
	const view: CartView | undefined = found
		? await viewCart(c.env, c.executionCtx, c.get("database").read, c.get("database").read, found.state)
		: undefined;
	const [categories, stock] = await Promise.all([
		catalogCategories(c),
		view
			? stockOf(
					c.env,
					view.lines.filter((line) => line.available).map((line) => line.sku),
				)
			: Promise.resolve(new Map<string, number>()),
	]);
	const lines = view?.lines ?? [];
	const unavailable = lines.filter((line) => !line.available);
	const short = lines.filter((line) => line.available && (stock.get(line.sku) ?? 0) < line.quantity);
	c.header("cache-control", PERSONAL_PAGE_CACHE);
	return c.html(
		<Layout
			title="Your cart"
			viewer={c.get("viewer")}
			categories={categories}
			cartCount={view?.item_count ?? 0}
			current="cart"
			market={await marketPicker(c)}
		>
			<h1>Your cart</h1>
			{state.notice ? <Alert kind={state.notice.kind}>{state.notice.text}</Alert> : null}
			{lines.length === 0 ? (
				<div class="card empty-state">
					<p>Your cart is empty.</p>
					<a class="button" href="/search">
						Start shopping
					</a>
				</div>
			) : (
				<div class="stack">
					{unavailable.length > 0 ? (
						<Alert kind="error">
							Some items are no longer sold. Remove them to check out: {unavailable.map((line) => line.title ?? line.sku).join(", ")}.
						</Alert>
					) : null}
					{short.length > 0 ? (
						<Alert kind="info">
							Some items have less stock than you want: {short.map((line) => line.title ?? line.sku).join(", ")}. Lower the quantity to
							check out.
						</Alert>
					) : null}
					<div class="table-wrap card flush">
						<table class="cart-table">
							<caption class="visually-hidden">Items in your cart</caption>
							<thead>
								<tr>
									<th scope="col">Item</th>
									<th scope="col" class="num">
										Price
									</th>
									<th scope="col">Quantity</th>
									<th scope="col" class="num">
										Total
									</th>
									<th scope="col">
										<span class="visually-hidden">Remove</span>
									</th>
								</tr>
							</thead>
							<tbody>
								{lines.map((line) => {
									const title = line.title ?? line.sku;
									const action = `/cart/items/${encodeURIComponent(line.sku)}`;
									const inputId = `qty-${line.sku}`;
									return (
										<tr>
											<th scope="row" class="item">
												<span class="item-title">{title}</span>
												<span class="muted small">{line.sku}</span>
												{line.available ? (
													<StockBadge sku={line.sku} available={stock.get(line.sku) ?? 0} />
												) : (
													<span class="badge danger">No longer sold</span>
												)}
											</th>
											<td class="num" data-label="Price">
												{line.unit_price ? money(line.unit_price.amount, line.unit_price.currency) : "—"}
											</td>
											<td data-label="Quantity">
												<form class="qty-form" action={action} method="post">
													<label for={inputId}>
														Quantity<span class="visually-hidden"> for {title}</span>
													</label>
													<input
														id={inputId}
														type="number"
														name="quantity"
														min="0"
														max={String(maxUnitsPerSku(c.env))}
														step="1"
														value={String(line.quantity)}
														required
													/>
													<button type="submit" class="secondary">
														Update
													</button>
												</form>
											</td>
											<td class="num" data-label="Total">
												{line.line_total && line.available ? money(line.line_total.amount, line.line_total.currency) : "—"}
											</td>
											<td>
												<form action={`${action}/remove`} method="post">
													<button type="submit" class="link">
														Remove
													</button>
												</form>
											</td>
										</tr>
									);
								})}
							</tbody>
						</table>
					</div>
					<div class="card cart-summary">
						<dl class="totals">
							<div>
								<dt>Subtotal</dt>
								<dd>{view ? money(view.subtotal.amount, view.subtotal.currency) : ""}</dd>
							</div>
							{view?.promotions.map((promotion) => (
								<div class="saving">
									<dt>{promotion.name}</dt>
									<dd>{promotion.saving.amount > 0 ? `−${money(promotion.saving.amount, promotion.saving.currency)}` : "Free shipping"}</dd>
								</div>
							))}
							<div class="grand">
								<dt>{view && view.discount.amount > 0 ? "After savings" : "Total before shipping"}</dt>
								<dd>{view ? money(view.subtotal.amount - view.discount.amount, view.subtotal.currency) : ""}</dd>
							</div>
						</dl>
						<p class="hint">
							{view?.market.tax_included ? "Prices include VAT. " : "Sales tax is added at checkout. "}
							Shipping and discount codes are applied at checkout, before you pay.
						</p>
						<div class="row end">
							<a class="button secondary" href="/search">
								Continue shopping
							</a>
							<a class="button" href="/checkout">
								Checkout
							</a>
						</div>
					</div>
				</div>
			)}
		</Layout>,
		status,
	);
}

/** GET /cart. */
export function cartPage(c: Context<AppEnv>): Promise<Response> {
	const notice = NOTICES[c.req.query("notice") ?? ""];
	return renderCart(c, notice ? { notice: { kind: "ok", text: notice } } : {});
}

/** Carries out a Cart object change; a cart that vanished in between (expired) is a refusal like the others. */
function refusalOf<T>(c: Context<AppEnv>, result: CartResult<T>): string | undefined {
	if (result.ok) return undefined;
	// Too many changes to this cart: the 429 error page, with Retry-After.
	if (result.reason === "rate_limited") throw cartFailure(result.reason, undefined, undefined, result.rateLimit);
	if (result.reason === "quantity_limit") return `You can have at most ${maxUnitsPerSku(c.env)} of one item in your cart.`;
	return CART_REFUSALS[result.reason] ?? "Your cart could not be changed. Please try again.";
}

/**
 * POST /cart/items (sku, quantity, product): adds to the cart, creating one
 * when needed, then 303 back to the product page with `?added={SKU}`. A
 * refusal re-renders the product page with the reason.
 */
export async function addToCart(c: Context<AppEnv>): Promise<Response> {
	const body = await c.req.parseBody();
	const sku = formText(body, "sku");
	const slug = formText(body, "product");
	const quantityText = formText(body, "quantity") || "1";
	const product = /^[\w-]{1,160}$/.test(slug) ? await catalogProduct(c, slug) : undefined;
	if (!product) return notFoundPage(c);
	const refuse = (text: string) => {
		c.header("cache-control", PERSONAL_PAGE_CACHE);
		return renderProductPage(c, product, { notice: { kind: "error", text }, sku: sku || undefined, quantity: quantityText }, 422);
	};
	if (!sku) return refuse("Choose an option first.");
	if (!SKU.test(sku) || !product.variants.some((variant) => variant.sku === sku)) return refuse("Sorry, this option is no longer sold.");
	const quantity = quantityOf(quantityText, 1);
	if (quantity === undefined) return refuse("Enter a quantity from 1 to 99.");
	try {
		// The catalog is checked here, before the object: a Durable Object makes no network calls mid-change.
		await assertSellable(c.get("database").read, sku);
	} catch (err) {
		if (err instanceof DomainError && err.code === "unknown_sku") return refuse(CART_REFUSALS.unknown_sku as string);
		throw err;
	}
	const cart = await cartForChange(c);
	const refusal = refusalOf(c, await cartStub(c.env, cart.id).addLine(cart.caller, sku, quantity));
	if (refusal) return refuse(refusal);
	return c.redirect(`/p/${product.slug}?added=${encodeURIComponent(sku)}`, 303);
}

/** POST /cart/items/{sku} (quantity): sets a line's quantity; 0 removes it. */
export async function updateLine(c: Context<AppEnv>): Promise<Response> {
	const sku = c.req.param("sku") ?? "";
	const body = await c.req.parseBody();
	const quantity = quantityOf(formText(body, "quantity"), 0);
	const cart = await findCart(c);
	if (!cart || !SKU.test(sku)) return renderCart(c, { notice: { kind: "error", text: CART_REFUSALS.line_not_found as string } }, 404);
	if (quantity === undefined) return renderCart(c, { notice: { kind: "error", text: "Enter a quantity from 0 to 99." } }, 422);
	if (quantity > 0) {
		// Lowering a line whose product went off sale stays possible; raising it does not.
		const current = cart.state.lines.find((line) => line.sku === sku)?.quantity ?? 0;
		if (quantity > current) {
			try {
				await assertSellable(c.get("database").read, sku);
			} catch (err) {
				if (err instanceof DomainError && err.code === "unknown_sku") {
					return renderCart(c, { notice: { kind: "error", text: CART_REFUSALS.unknown_sku as string } }, 422);
				}
				throw err;
			}
		}
	}
	const refusal = refusalOf(c, await cartStub(c.env, cart.id).setQuantity(cart.caller, sku, quantity));
	if (refusal) return renderCart(c, { notice: { kind: "error", text: refusal } }, 422);
	return c.redirect(`/cart?notice=${quantity === 0 ? "removed" : "updated"}`, 303);
}

/** POST /cart/items/{sku}/remove. Removing a line that is already gone succeeds. */
export async function removeLine(c: Context<AppEnv>): Promise<Response> {
	const sku = c.req.param("sku") ?? "";
	const cart = await findCart(c);
	if (cart && SKU.test(sku)) {
		const refusal = refusalOf(c, await cartStub(c.env, cart.id).removeLine(cart.caller, sku));
		if (refusal) return renderCart(c, { notice: { kind: "error", text: refusal } }, 422);
	}
	return c.redirect("/cart?notice=removed", 303);
}
