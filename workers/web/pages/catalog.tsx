import type { Context } from "hono";
import type { FC } from "hono/jsx";
import { maxUnitsPerSku } from "../../../durable-objects/cart.ts";
import type { AppEnv } from "../../api/types.ts";
import type { CategoryNode, ProductDetail, ProductSort } from "../../catalog/queries.ts";
import { effectiveSort, type ProductListBody, type ProductListParams } from "../../catalog/reads.ts";
import { MAX_FACET_FILTERS } from "../../catalog/search.ts";
import { DomainError } from "../../domain/errors.ts";
import { inventoryItem } from "../../inventory/reservations.ts";
import { srcsetOf } from "../../media/sizes.ts";
import { Alert } from "../components/alert.tsx";
import { FacetChoices, PriceBuckets } from "../components/facets.tsx";
import { ProductGrid } from "../components/product-grid.tsx";
import { StockBadge } from "../components/stock.tsx";
import { CATALOG_PAGE_CACHE, Layout, money, PERSONAL_PAGE_CACHE } from "../layout.tsx";
import { marketPicker } from "../market.ts";
import { catalogCategories, catalogProduct, catalogProducts, categoryPath, flattenCategories } from "./catalog-data.ts";
import { notFoundPage } from "./errors.tsx";

const PAGE_SIZE = 24;
const SLUG = /^[a-z0-9-]{1,120}$/;
/** A price as shoppers type it, in major units: "12", "12.5", "12,50". */
const MAJOR_PRICE = /^\d{1,7}(?:[.,]\d{1,2})?$/;
/** Facet filter values as the API takes them (catalog.schemas.ts): a brand, an option's `name:value`. */
const BRAND = /^.{1,500}$/;
const OPTION_PAIR = /^[^:]{1,50}:.{1,200}$/;

const SORT_LABELS: Record<ProductSort, string> = {
	relevance: "Best match",
	newest: "Newest",
	price_asc: "Price: low to high",
	price_desc: "Price: high to low",
};

/** The filters as the shopper typed them (echoed into the form) and as the catalog query takes them. */
interface Filters {
	form: {
		q: string;
		category: string;
		min_price: string;
		max_price: string;
		in_stock: boolean;
		sort: string;
		brand: string[];
		option: string[];
	};
	params: ProductListParams;
	problems: string[];
}

/** Major units to minor (the catalog's prices are in cents); undefined for an empty field. */
function minorUnits(text: string): number | undefined | "invalid" {
	if (text === "") return undefined;
	if (!MAJOR_PRICE.test(text)) return "invalid";
	return Math.round(Number(text.replace(",", ".")) * 100);
}

/**
 * Reads the filter query. Anything that does not parse is dropped with a
 * message rather than answered with an error page: a shopper who typed
 * "ten" into a price box still sees products.
 */
function readFilters(c: Context<AppEnv>, fixedCategory?: string): Filters {
	const raw = (name: string) => (c.req.query(name) ?? "").trim();
	const problems: string[] = [];
	const q = raw("q").slice(0, 200);
	const category = fixedCategory ?? (SLUG.test(raw("category")) ? raw("category") : "");
	let min = minorUnits(raw("min_price"));
	let max = minorUnits(raw("max_price"));
	if (min === "invalid" || max === "invalid") {
		problems.push("Enter prices as numbers, like 12 or 12.50.");
		if (min === "invalid") min = undefined;
		if (max === "invalid") max = undefined;
	}
	if (min !== undefined && max !== undefined && min > max) {
		problems.push("The lowest price is above the highest, so the price filter was not applied.");
		min = undefined;
		max = undefined;
	}
	const sortText = raw("sort");
	const sort = sortText in SORT_LABELS && (sortText !== "relevance" || q) ? (sortText as ProductSort) : undefined;
	const inStock = raw("in_stock") === "1";
	const cursor = raw("cursor").slice(0, 500);
	// Repeated parameters (ticked boxes); a value the API would refuse is dropped.
	const many = (name: string, shape: RegExp) =>
		[...new Set((c.req.queries(name) ?? []).filter((value) => shape.test(value)))].slice(0, MAX_FACET_FILTERS);
	const brand = many("brand", BRAND);
	const option = many("option", OPTION_PAIR);
	return {
		form: { q, category, min_price: raw("min_price"), max_price: raw("max_price"), in_stock: inStock, sort: sort ?? "", brand, option },
		params: {
			q: q || undefined,
			category: category || undefined,
			min_price: min,
			max_price: max,
			in_stock: inStock ? "true" : undefined,
			brand: brand.length > 0 ? brand : undefined,
			option: option.length > 0 ? option : undefined,
			sort,
			limit: PAGE_SIZE,
			cursor: cursor || undefined,
		},
		problems,
	};
}

/** The page's own address with the same filters and another cursor (or none). */
function pageHref(path: string, form: Filters["form"], fixedCategory: boolean, cursor?: string): string {
	const query = new URLSearchParams();
	if (form.q) query.set("q", form.q);
	if (form.category && !fixedCategory) query.set("category", form.category);
	if (form.min_price) query.set("min_price", form.min_price);
	if (form.max_price) query.set("max_price", form.max_price);
	if (form.in_stock) query.set("in_stock", "1");
	for (const brand of form.brand) query.append("brand", brand);
	for (const option of form.option) query.append("option", option);
	if (form.sort) query.set("sort", form.sort);
	if (cursor) query.set("cursor", cursor);
	const text = query.toString();
	return text ? `${path}?${text}` : path;
}

/** One page of products; a stale or foreign cursor falls back to the first page with a note. */
async function listing(c: Context<AppEnv>, filters: Filters): Promise<{ page: ProductListBody; restarted: boolean }> {
	try {
		return { page: await catalogProducts(c, filters.params), restarted: false };
	} catch (err) {
		if (!(err instanceof DomainError) || err.code !== "invalid_cursor") throw err;
		return { page: await catalogProducts(c, { ...filters.params, cursor: undefined }), restarted: true };
	}
}

/** A price bucket's major units as the price boxes take them: 2500 → "25", 4999 → "49.99". */
const majorUnits = (minor: number) => String(minor / 100);

const FilterForm: FC<{
	action: string;
	form: Filters["form"];
	page: ProductListBody;
	fixedCategory: boolean;
	categories?: CategoryNode[];
}> = ({ action, form, page, fixedCategory, categories }) => (
	<form class="card filters" action={action} method="get" aria-labelledby="filters-heading">
		<h2 id="filters-heading">Filter</h2>
		<div class="field">
			<label for="filter-q">Keywords</label>
			<input id="filter-q" type="search" name="q" value={form.q} maxlength={200} />
		</div>
		{categories ? (
			<div class="field">
				<label for="filter-category">Category</label>
				<select id="filter-category" name="category">
					<option value="">All categories</option>
					{flattenCategories(categories).map(({ node, depth }) => {
						const count = page.facets.categories.find((facet) => facet.slug === node.slug)?.count ?? 0;
						return (
							<option value={node.slug} selected={node.slug === form.category}>
								{`${"\u2003".repeat(depth)}${node.name} (${count})`}
							</option>
						);
					})}
				</select>
			</div>
		) : null}
		<fieldset class="price-range">
			<legend>Price (€)</legend>
			<div class="field-row">
				<div class="field">
					<label for="filter-min">Lowest</label>
					<input id="filter-min" name="min_price" value={form.min_price} inputmode="decimal" autocomplete="off" />
				</div>
				<div class="field">
					<label for="filter-max">Highest</label>
					<input id="filter-max" name="max_price" value={form.max_price} inputmode="decimal" autocomplete="off" />
				</div>
			</div>
			<PriceBuckets
				facets={page.facets}
				href={(min, max) =>
					pageHref(action, { ...form, min_price: majorUnits(min), max_price: max === null ? "" : majorUnits(max) }, fixedCategory)
				}
			/>
		</fieldset>
		<FacetChoices facets={page.facets} brands={form.brand} options={form.option} />
		<div class="field checkbox">
			<input id="filter-stock" type="checkbox" name="in_stock" value="1" checked={form.in_stock} />
			<label for="filter-stock">In stock only</label>
		</div>
		<div class="field">
			<label for="filter-sort">Sort by</label>
			<select id="filter-sort" name="sort">
				<option value="">{form.q ? "Best match" : "Newest"}</option>
				{(Object.keys(SORT_LABELS) as ProductSort[])
					.filter((sort) => sort !== "relevance" || form.q)
					.map((sort) => (
						<option value={sort} selected={sort === form.sort}>
							{SORT_LABELS[sort]}
						</option>
					))}
			</select>
		</div>
		<button type="submit">Apply filters</button>
	</form>
);

const Results: FC<{ page: ProductListBody; nextHref: string | undefined; firstHref: string | undefined; empty: string }> = ({
	page,
	nextHref,
	firstHref,
	empty,
}) => (
	<section aria-labelledby="results-heading">
		<h2 id="results-heading" class="visually-hidden">
			Products
		</h2>
		<ProductGrid products={page.data} empty={empty} />
		{nextHref || firstHref ? (
			<nav class="pagination" aria-label="Pages">
				{firstHref ? (
					<a class="button secondary" href={firstHref}>
						First page
					</a>
				) : null}
				{nextHref ? (
					<a class="button secondary" href={nextHref} rel="next">
						Next page
					</a>
				) : null}
			</nav>
		) : null}
	</section>
);

/** GET /search: full-text search and filters over every active product, keyset-paginated. */
export async function searchPage(c: Context<AppEnv>): Promise<Response> {
	const filters = readFilters(c);
	const [categories, { page, restarted }] = await Promise.all([catalogCategories(c), listing(c, filters)]);
	const sort = effectiveSort(filters.params);
	const heading = filters.form.q ? `Results for “${filters.form.q}”` : "All products";
	c.header("cache-control", CATALOG_PAGE_CACHE);
	return c.html(
		<Layout title={heading} categories={categories} query={filters.form.q} current="search" market={await marketPicker(c)}>
			<h1>{heading}</h1>
			<p class="muted">
				{page.total === 1 ? "1 product" : `${page.total} products`}, sorted by {SORT_LABELS[sort].toLowerCase()}.
			</p>
			{page.fuzzy && page.total > 0 ? (
				<p class="muted" data-fuzzy>
					Few products match “{filters.form.q}” exactly, so similar titles are shown too.
				</p>
			) : null}
			{filters.problems.map((problem) => (
				<Alert kind="error">{problem}</Alert>
			))}
			{restarted ? <Alert kind="info">That page link had expired, so here is the first page.</Alert> : null}
			<div class="layout-sidebar">
				<FilterForm action="/search" form={filters.form} page={page} fixedCategory={false} categories={categories} />
				<Results
					page={page}
					nextHref={page.next_cursor ? pageHref("/search", filters.form, false, page.next_cursor) : undefined}
					firstHref={filters.params.cursor && !restarted ? pageHref("/search", filters.form, false) : undefined}
					empty="No products match. Try other words or fewer filters."
				/>
			</div>
		</Layout>,
	);
}

/** GET /c/{slug}: a category (sub-categories included) with the same filters and pagination as search. */
export async function categoryPage(c: Context<AppEnv>): Promise<Response> {
	const slug = c.req.param("slug") ?? "";
	const categories = await catalogCategories(c);
	const path = SLUG.test(slug) ? categoryPath(categories, slug) : undefined;
	const category = path?.at(-1);
	if (!path || !category) return notFoundPage(c);
	const filters = readFilters(c, slug);
	const { page, restarted } = await listing(c, filters);
	const action = `/c/${slug}`;
	c.header("cache-control", CATALOG_PAGE_CACHE);
	return c.html(
		<Layout title={category.name} categories={categories} current="search" market={await marketPicker(c)}>
			<nav class="breadcrumbs" aria-label="Breadcrumb">
				<ol>
					<li>
						<a href="/">Home</a>
					</li>
					{path.slice(0, -1).map((parent) => (
						<li>
							<a href={`/c/${parent.slug}`}>{parent.name}</a>
						</li>
					))}
					<li aria-current="page">{category.name}</li>
				</ol>
			</nav>
			<h1>{category.name}</h1>
			{category.children.length > 0 ? (
				<ul class="chips" aria-label={`Within ${category.name}`}>
					{category.children.map((child) => (
						<li>
							<a class="chip" href={`/c/${child.slug}`}>
								{child.name}
							</a>
						</li>
					))}
				</ul>
			) : null}
			{filters.problems.map((problem) => (
				<Alert kind="error">{problem}</Alert>
			))}
			{restarted ? <Alert kind="info">That page link had expired, so here is the first page.</Alert> : null}
			<div class="layout-sidebar">
				<FilterForm action={action} form={filters.form} page={page} fixedCategory={true} />
				<Results
					page={page}
					nextHref={page.next_cursor ? pageHref(action, filters.form, true, page.next_cursor) : undefined}
					firstHref={filters.params.cursor && !restarted ? pageHref(action, filters.form, true) : undefined}
					empty="Nothing in this category matches these filters."
				/>
			</div>
		</Layout>,
	);
}

/** Units each variant can be sold now, asked of its InventoryItem (the authority; the catalog's flag lags). */
async function availability(env: Env, product: ProductDetail): Promise<Map<string, number>> {
	const figures = await Promise.all(product.variants.map((variant) => inventoryItem(env, variant.sku).available(variant.sku)));
	return new Map(figures.map((figure) => [figure.sku, figure.available]));
}

export interface ProductPageState {
	/** A message after the add-to-cart form: added, or why not. */
	notice?: { kind: "ok" | "error"; text: string } | undefined;
	sku?: string | undefined;
	quantity?: string | undefined;
}

/** An image's derivative widths; a product cached before derivatives existed lists none. */
const derivativeWidths = (media: ProductDetail["media"][number]) => (media.derivatives ?? []).map((derivative) => derivative.width);

/**
 * The product page: gallery, description, and the add-to-cart form with one
 * radio per live variant, each with its price and a live stock badge. Shared
 * by GET /p/{slug} and by POST /cart/items when the add is refused.
 */
export async function renderProductPage(
	c: Context<AppEnv>,
	product: ProductDetail,
	state: ProductPageState = {},
	status: 200 | 404 | 409 | 422 = 200,
): Promise<Response> {
	const [categories, stock, picker] = await Promise.all([catalogCategories(c), availability(c.env, product), marketPicker(c)]);
	const path = product.category ? (categoryPath(categories, product.category.slug) ?? []) : [];
	const sellable = product.variants.filter((variant) => (stock.get(variant.sku) ?? 0) > 0);
	const selected = state.sku ?? sellable[0]?.sku ?? product.variants[0]?.sku;
	const prices = product.variants.map((variant) => variant.price.amount);
	const currency = product.variants[0]?.price.currency ?? "EUR";
	const [hero, ...thumbs] = product.media;
	return c.html(
		<Layout title={product.title} categories={categories} description={product.description.slice(0, 160)} market={picker}>
			<nav class="breadcrumbs" aria-label="Breadcrumb">
				<ol>
					<li>
						<a href="/">Home</a>
					</li>
					{path.map((node) => (
						<li>
							<a href={`/c/${node.slug}`}>{node.name}</a>
						</li>
					))}
					<li aria-current="page">{product.title}</li>
				</ol>
			</nav>
			<div class="product-page">
				<div class="gallery">
					{hero ? (
						<img
							src={hero.url}
							srcset={srcsetOf(hero.url, derivativeWidths(hero))}
							sizes="(max-width: 820px) 100vw, 600px"
							alt={hero.alt || product.title}
							width="640"
							height="640"
						/>
					) : (
						<div class="placeholder" aria-hidden="true" />
					)}
					{thumbs.length > 0 ? (
						<ul class="thumbs">
							{thumbs.map((media) => (
								<li>
									<img
										src={media.url}
										srcset={srcsetOf(media.url, derivativeWidths(media))}
										sizes="72px"
										alt={media.alt || product.title}
										width="72"
										height="72"
										loading="lazy"
									/>
								</li>
							))}
						</ul>
					) : null}
				</div>
				<div class="product-info">
					<h1>{product.title}</h1>
					{prices.length > 0 ? (
						<p class="price lead">
							{Math.min(...prices) === Math.max(...prices)
								? money(Math.min(...prices), currency)
								: `${money(Math.min(...prices), currency)} – ${money(Math.max(...prices), currency)}`}{" "}
							<span class="muted tax-note">{picker.market.taxMode === "inclusive" ? "incl. VAT" : "plus sales tax"}</span>
						</p>
					) : null}
					{state.notice ? (
						<Alert kind={state.notice.kind}>
							{state.notice.text}
							{state.notice.kind === "ok" ? (
								<>
									{" "}
									<a href="/cart">View cart</a>
								</>
							) : null}
						</Alert>
					) : null}
					{product.variants.length === 0 ? (
						<p class="muted">This product is not available right now.</p>
					) : (
						<form class="card buy-box" action="/cart/items" method="post" data-stock-form>
							<input type="hidden" name="product" value={product.slug} />
							<fieldset class="variant-options">
								<legend>{product.variants.length > 1 ? "Choose an option" : "Option"}</legend>
								{product.variants.map((variant) => {
									const available = stock.get(variant.sku) ?? 0;
									const id = `variant-${variant.sku}`;
									return (
										<label class="variant-option" for={id}>
											<input
												id={id}
												type="radio"
												name="sku"
												value={variant.sku}
												checked={variant.sku === selected}
												disabled={available <= 0}
												required
											/>
											<span class="variant-title">{variant.title || "Standard"}</span>
											<span class="price">{money(variant.price.amount, variant.price.currency)}</span>
											<StockBadge sku={variant.sku} available={available} />
										</label>
									);
								})}
							</fieldset>
							<div class="field quantity">
								<label for="quantity">Quantity</label>
								<input
									id="quantity"
									type="number"
									name="quantity"
									min="1"
									max={String(maxUnitsPerSku(c.env))}
									step="1"
									value={state.quantity ?? "1"}
									required
								/>
							</div>
							<button type="submit" class="wide">
								Add to cart
							</button>
							{sellable.length === 0 ? <p class="hint">Out of stock right now. This page updates by itself when stock arrives.</p> : null}
						</form>
					)}
					{product.description ? (
						<section class="description" aria-labelledby="about-heading">
							<h2 id="about-heading">About this product</h2>
							{product.description
								.split(/\n\s*\n/)
								.filter((paragraph) => paragraph.trim())
								.map((paragraph) => (
									<p>{paragraph.trim()}</p>
								))}
						</section>
					) : null}
					{Object.keys(product.attributes ?? {}).length > 0 ? (
						<section aria-labelledby="details-heading">
							<h2 id="details-heading">Details</h2>
							<dl class="attributes">
								{Object.entries(product.attributes).map(([name, value]) => (
									<div>
										<dt>{name}</dt>
										<dd>{value}</dd>
									</div>
								))}
							</dl>
						</section>
					) : null}
					<p class="hint">Shipping and tax are calculated at checkout, before you pay.</p>
				</div>
			</div>
		</Layout>,
		status,
	);
}

/**
 * GET /p/{slug}. After an add (`?added={SKU}`) the page confirms it; that
 * copy reflects the shopper's action, so it is not cached.
 */
export async function productPage(c: Context<AppEnv>): Promise<Response> {
	const slug = c.req.param("slug") ?? "";
	const product = /^[\w-]{1,160}$/.test(slug) ? await catalogProduct(c, slug) : undefined;
	if (!product) return notFoundPage(c);
	const added = c.req.query("added");
	const addedVariant = added ? product.variants.find((variant) => variant.sku === added) : undefined;
	c.header("cache-control", added === undefined ? CATALOG_PAGE_CACHE : PERSONAL_PAGE_CACHE);
	return renderProductPage(c, product, addedVariant ? { notice: { kind: "ok", text: "Added to your cart." }, sku: addedVariant.sku } : {});
}
