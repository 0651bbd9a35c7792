import type { Child, FC } from "hono/jsx";
import type { OrderStatus } from "../../orders/state.ts";
import { assets } from "../assets.ts";
import { STATUS_TEXT } from "../components/order.tsx";
import { SHOP_NAME } from "../layout.tsx";
import type { Messages } from "./messages.ts";

export type AdminSection =
	| "dashboard"
	| "products"
	| "markets"
	| "tax-rates"
	| "shipping"
	| "categories"
	| "inventory"
	| "orders"
	| "returns"
	| "customers"
	| "dead-letters"
	| "notifications"
	| "webhooks"
	| "audit-log"
	| "affiliates"
	| "promotions"
	| "stock-reconciliation";

const SECTIONS: { key: AdminSection; href: string; label: string }[] = [
	{ key: "dashboard", href: "/admin", label: "Dashboard" },
	{ key: "products", href: "/admin/products", label: "Products" },
	{ key: "markets", href: "/admin/markets", label: "Markets" },
	{ key: "tax-rates", href: "/admin/tax-rates", label: "Tax rates" },
	{ key: "shipping", href: "/admin/shipping", label: "Shipping" },
	{ key: "categories", href: "/admin/categories", label: "Categories" },
	{ key: "inventory", href: "/admin/inventory", label: "Inventory" },
	{ key: "orders", href: "/admin/orders", label: "Orders" },
	{ key: "returns", href: "/admin/returns", label: "Returns" },
	{ key: "customers", href: "/admin/customers", label: "Customers" },
	{ key: "dead-letters", href: "/admin/dead-letters", label: "Dead letters" },
	{ key: "notifications", href: "/admin/notifications", label: "Notifications" },
	{ key: "webhooks", href: "/admin/webhooks", label: "Webhooks" },
	{ key: "audit-log", href: "/admin/audit-log", label: "Audit log" },
	{ key: "affiliates", href: "/admin/affiliates", label: "Affiliates" },
	{ key: "promotions", href: "/admin/promotions", label: "Promotions" },
	{ key: "stock-reconciliation", href: "/admin/stock-reconciliation", label: "Stock reconciliation" },
];

// Operators and shoppers read the same words for a status: the storefront owns them.
export { STATUS_TEXT };

const STATUS_TONE: Record<OrderStatus, string> = {
	pending_payment: "warn",
	payment_review: "danger",
	paid: "info",
	fulfilled: "info",
	shipped: "ok",
	delivered: "ok",
	partially_refunded: "warn",
	cancelled: "danger",
	refunded: "danger",
};

export const StatusBadge: FC<{ status: OrderStatus }> = ({ status }) => (
	<span class={`badge status ${STATUS_TONE[status]}`} data-status={status}>
		{STATUS_TEXT[status]}
	</span>
);

/** A timestamp for operators: UTC, to the minute, unambiguous across time zones. */
export function when(iso: string | Date | null | undefined): string {
	if (!iso) return "—";
	const date = typeof iso === "string" ? new Date(iso) : iso;
	return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** A `<time>` element with the machine-readable instant and the operator-readable text. */
export const Time: FC<{ at: string | Date | null | undefined }> = ({ at }) =>
	at ? <time datetime={typeof at === "string" ? at : at.toISOString()}>{when(at)}</time> : <span class="muted">—</span>;

/** The success and error messages of a page: `role="status"` and `role="alert"`, as every page of the shop. */
export const Flash: FC<{ messages?: Messages | undefined }> = ({ messages }) => (
	<>
		{messages?.notice ? (
			<div class="alert ok" role="status">
				{messages.notice}
			</div>
		) : null}
		{messages?.error ? (
			<div class="alert error" role="alert">
				<p>{messages.error}</p>
				{messages.details?.length ? (
					<ul>
						{messages.details.map((detail) => (
							<li>{detail}</li>
						))}
					</ul>
				) : null}
			</div>
		) : null}
	</>
);

/** "Next page" to the same list with the cursor of the page shown. */
export const NextPage: FC<{ href?: string | null | undefined }> = ({ href }) =>
	href ? (
		<nav class="pagination" aria-label="Pagination">
			<a class="button secondary" href={href} rel="next">
				Next page
			</a>
		</nav>
	) : null;

/** A list URL with the given query, empty values left out. */
export function listUrl(path: string, query: Record<string, string | number | undefined | null>): string {
	const params = new URLSearchParams();
	for (const [name, value] of Object.entries(query)) {
		if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
	}
	const search = params.toString();
	return search ? `${path}?${search}` : path;
}

export interface AdminLayoutProps {
	title: string;
	current?: AdminSection | undefined;
	messages?: Messages | undefined;
	children?: Child;
}

/**
 * The console's frame: the section navigation (a sidebar on wide screens, a
 * wrapping bar on phones) and the main column with the page's messages on
 * top. The storefront's stylesheet plus the console's own; one small script
 * that only adds confirmations (every form works without it).
 */
export const AdminLayout: FC<AdminLayoutProps> = ({ title, current, messages, children }) => (
	<html lang="en">
		<head>
			<meta charset="utf-8" />
			<meta name="viewport" content="width=device-width, initial-scale=1" />
			<meta name="robots" content="noindex" />
			<title>{`${title} · Admin · ${SHOP_NAME}`}</title>
			<link rel="icon" href={assets["favicon.svg"]} type="image/svg+xml" />
			<link rel="stylesheet" href={assets["app.css"]} />
			<link rel="stylesheet" href={assets["admin.css"]} />
			<script src={assets["admin.js"]} defer />
		</head>
		<body class="admin">
			<a class="skip-link" href="#main">
				Skip to content
			</a>
			<div class="admin-shell">
				<nav class="admin-nav" aria-label="Admin">
					<a class="admin-brand" href="/admin">
						<img src={assets["logo.svg"]} alt="" width="24" height="24" />
						<span>
							{SHOP_NAME}
							<small>Admin console</small>
						</span>
					</a>
					<ul>
						{SECTIONS.map((section) => (
							<li>
								<a href={section.href} aria-current={section.key === current ? "page" : undefined}>
									{section.label}
								</a>
							</li>
						))}
					</ul>
					<a class="admin-shop-link" href="/">
						View shop
					</a>
				</nav>
				<main id="main" class="admin-main">
					<Flash messages={messages} />
					{children}
				</main>
			</div>
		</body>
	</html>
);
