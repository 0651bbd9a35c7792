import type { Child, FC } from "hono/jsx";
import type { CategoryNode } from "../catalog/queries.ts";
import { formatMoney } from "../domain/money.ts";
import { assets } from "./assets.ts";
import type { MarketPicker } from "./market.ts";

export interface LayoutProps {
	title: string;
	/** The market prices are shown in, and the others to pick from (pages that show prices). */
	market?: MarketPicker | undefined;
	/**
	 * The signed-in viewer, on personal pages only (cart, checkout, account).
	 * Catalog pages pass nothing personal, so one cached copy serves everyone.
	 */
	viewer?: { role: "customer" | "admin" } | undefined;
	categories?: CategoryNode[];
	/** Items in the cart, shown on the cart link (personal pages only). */
	cartCount?: number | undefined;
	query?: string;
	/** Which top navigation entry is the current page. */
	current?: "home" | "search" | "cart" | "account" | "signin";
	description?: string;
	/** Reload the page after this many seconds (an order waiting for its payment to be confirmed). */
	refresh?: number | undefined;
	/**
	 * Scripts this page needs besides app.js, run in this order after it
	 * (deferred). One from another origin needs the page's CSP to allow it
	 * (csp.ts): only the Stripe pay page has one.
	 */
	scripts?: readonly string[];
	children?: Child;
}

export const SHOP_NAME = "Edge Commerce";

/**
 * Catalog pages hold nothing personal, so the CDN may cache them, but they
 * show what is in stock: no longer than the few seconds stock takes to reach
 * the catalog.
 */
export const CATALOG_PAGE_CACHE = "public, max-age=5, s-maxage=30, stale-while-revalidate=30";
/** Cart, checkout, account and admin pages: never stored anywhere. */
export const PERSONAL_PAGE_CACHE = "private, no-store";

/** Money in minor units, formatted for the storefront's locale by the one money formatter. */
export function money(amount: number, currency: string): string {
	return formatMoney({ amount, currency }, "en-IE");
}

/**
 * The storefront's page frame: skip link, header with search, account and
 * cart, the category bar, and the footer. One stylesheet and one deferred
 * script, both from Workers static assets under hashed names; nothing from
 * other origins, except Stripe.js on the Stripe pay page.
 */
export const Layout: FC<LayoutProps> = ({
	title,
	viewer,
	categories = [],
	cartCount,
	query = "",
	current,
	description,
	refresh,
	scripts = [],
	market,
	children,
}) => (
	<html lang="en">
		<head>
			<meta charset="utf-8" />
			<meta name="viewport" content="width=device-width, initial-scale=1" />
			{/* Our own form posts carry their Origin (the CSRF check reads it); other sites still learn nothing. */}
			<meta name="referrer" content="same-origin" />
			<title>{`${title} · ${SHOP_NAME}`}</title>
			{description ? <meta name="description" content={description} /> : null}
			{refresh ? <meta http-equiv="refresh" content={String(refresh)} /> : null}
			<link rel="icon" href={assets["favicon.svg"]} type="image/svg+xml" />
			<link rel="stylesheet" href={assets["app.css"]} />
			<script src={assets["app.js"]} defer />
			{scripts.map((src) => (
				<script src={src} defer />
			))}
		</head>
		<body>
			<a class="skip-link" href="#main">
				Skip to content
			</a>
			<header class="site-header">
				<div class="container">
					<a class="brand" href="/">
						<img src={assets["logo.svg"]} alt="" width="28" height="28" />
						<span>{SHOP_NAME}</span>
					</a>
					<search class="search">
						{/* app.js lists suggestions (GET /v1/search/suggest) under the box as the shopper types; without it the form just submits. */}
						<form action="/search" method="get" data-suggest={market ? market.market.id : ""}>
							<label class="visually-hidden" for="site-search">
								Search products
							</label>
							<input id="site-search" type="search" name="q" value={query} placeholder="Search products" autocomplete="off" />
							<button type="submit" class="secondary">
								Search
							</button>
							<ul class="suggestions" id="site-search-suggestions" aria-label="Suggestions" hidden />
						</form>
					</search>
					<nav class="nav" aria-label="Account">
						{viewer?.role === "admin" ? <a href="/admin">Admin</a> : null}
						<a href="/account" aria-current={current === "account" || current === "signin" ? "page" : undefined}>
							Account
						</a>
						<a href="/cart" aria-current={current === "cart" ? "page" : undefined}>
							Cart
							{cartCount !== undefined ? (
								<>
									{" "}
									<span class="cart-count">{cartCount}</span>
									<span class="visually-hidden"> items</span>
								</>
							) : null}
						</a>
					</nav>
					{market ? (
						<form class="market-picker" method="get" aria-label="Shipping to">
							<label for="market-picker">Ship to</label>
							<select id="market-picker" name="market" data-autosubmit>
								{market.all.map((m) => (
									<option value={m.id} selected={m.id === market.market.id}>
										{m.name} ({m.currency})
									</option>
								))}
							</select>
							<button type="submit" class="secondary">
								Change
							</button>
						</form>
					) : null}
				</div>
				{categories.length > 0 ? (
					<nav class="category-bar" aria-label="Categories">
						<ul class="container">
							{categories.map((category) => (
								<li>
									<a href={`/c/${category.slug}`}>{category.name}</a>
								</li>
							))}
						</ul>
					</nav>
				) : null}
			</header>
			<main id="main" class="container">
				{children}
			</main>
			<footer class="site-footer">
				<div class="container row">
					<span>© {SHOP_NAME}. Served from the edge.</span>
					<a href="/docs">API reference</a>
				</div>
			</footer>
		</body>
	</html>
);
