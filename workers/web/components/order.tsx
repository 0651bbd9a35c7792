import type { Child, FC } from "hono/jsx";
import type { ShippingAddress } from "../../db/schema.ts";
import type { Money } from "../../domain/money.ts";
import type { OrderView } from "../../orders/orders.ts";
import type { OrderStatus } from "../../orders/state.ts";
import { money } from "../layout.tsx";
import { countryName } from "./countries.ts";

/** The words shoppers and admins see for each status (the UI contract's exact texts). */
export const STATUS_TEXT: Record<OrderStatus, string> = {
	pending_payment: "Awaiting payment",
	payment_review: "Payment under review",
	paid: "Paid",
	fulfilled: "Fulfilled",
	shipped: "Shipped",
	delivered: "Delivered",
	partially_refunded: "Partly refunded",
	cancelled: "Cancelled",
	refunded: "Refunded",
};

const STATUS_TONE: Record<OrderStatus, "" | "ok" | "warn" | "danger"> = {
	pending_payment: "warn",
	payment_review: "warn",
	paid: "ok",
	fulfilled: "ok",
	shipped: "ok",
	delivered: "ok",
	partially_refunded: "",
	cancelled: "danger",
	refunded: "",
};

/** Why an order was cancelled, in the shopper's words. */
export const CANCEL_REASON_TEXT: Record<string, string> = {
	expired: "The payment did not arrive in time, so the items were released.",
	payment_failed: "The payment failed. Nothing was charged.",
	payment_canceled: "The payment was cancelled. Nothing was charged.",
	payment_rejected: "The payment provider refused the payment. Nothing was charged.",
	payment_unavailable: "The payment could not be set up. Nothing was charged.",
	customer: "You cancelled this order.",
};

/** The short reference shown in headings and e-mails: the id's first eight characters after the prefix, upper case. */
export function shortOrderId(id: string): string {
	return id.replace(/^ord_/, "").slice(0, 8).toUpperCase();
}

export const StatusBadge: FC<{ status: OrderStatus }> = ({ status }) => (
	<span class={`badge status-badge ${STATUS_TONE[status]}`.trim()} data-status={status}>
		{STATUS_TEXT[status]}
	</span>
);

/** The lines of a placed order, with the prices it was placed at. */
export const OrderLines: FC<{ order: OrderView }> = ({ order }) => (
	<div class="table-wrap">
		<table>
			<caption class="visually-hidden">Items in this order</caption>
			<thead>
				<tr>
					<th scope="col">Item</th>
					<th scope="col" class="num">
						Price
					</th>
					<th scope="col" class="num">
						Quantity
					</th>
					<th scope="col" class="num">
						Total
					</th>
				</tr>
			</thead>
			<tbody>
				{order.lines.map((line) => (
					<tr>
						<td>
							{line.title}
							<div class="muted small">{line.sku}</div>
						</td>
						<td class="num">{money(line.unit_price.amount, line.unit_price.currency)}</td>
						<td class="num">{line.quantity}</td>
						<td class="num">{money(line.line_total.amount, line.line_total.currency)}</td>
					</tr>
				))}
			</tbody>
		</table>
	</div>
);

/** Subtotal, discount, shipping, tax and total of a placed order. */
export const OrderTotals: FC<{ order: OrderView }> = ({ order }) => (
	<dl class="totals">
		<div>
			<dt>Subtotal</dt>
			<dd>{money(order.subtotal.amount, order.subtotal.currency)}</dd>
		</div>
		{order.discount.amount > 0 ? (
			<div>
				<dt>Discount{order.discount_code ? ` (${order.discount_code})` : ""}</dt>
				<dd>−{money(order.discount.amount, order.discount.currency)}</dd>
			</div>
		) : null}
		<div>
			<dt>Shipping{order.shipping_method ? ` (${order.shipping_method.name})` : ""}</dt>
			<dd>{order.shipping.amount === 0 ? "Free" : money(order.shipping.amount, order.shipping.currency)}</dd>
		</div>
		{order.tax_included ? null : (
			<div>
				<dt>Tax</dt>
				<dd>{money(order.tax.amount, order.tax.currency)}</dd>
			</div>
		)}
		<div class="grand">
			<dt>Total</dt>
			<dd>{money(order.total.amount, order.total.currency)}</dd>
		</div>
		{order.tax_included
			? order.tax_breakdown
					.filter((entry) => entry.tax.amount > 0)
					.map((entry) => (
						<div class="muted">
							<dt>Includes VAT {entry.rate_bp / 100} %</dt>
							<dd>{money(entry.tax.amount, entry.tax.currency)}</dd>
						</div>
					))
			: null}
	</dl>
);

export const AddressBlock: FC<{ address: ShippingAddress }> = ({ address }) => (
	<address class="address">
		{address.name}
		<br />
		{address.line1}
		{address.line2 ? (
			<>
				<br />
				{address.line2}
			</>
		) : null}
		<br />
		{address.postal_code} {address.city}
		{address.region ? `, ${address.region}` : ""}
		<br />
		{countryName(address.country)}
		{address.phone ? (
			<>
				<br />
				{address.phone}
			</>
		) : null}
	</address>
);

/** One order in a list of orders. */
export interface OrderRow {
	id: string;
	/** Where the order's page is (the shopper's or the admin's). */
	href: string;
	/** The link text: the short id for shoppers, the full id for admins. */
	label: string;
	/** When it was placed, already rendered (a date, or the admin's `<Time>`). */
	placed: Child;
	status: OrderStatus;
	total: Money;
	email?: string;
	items?: number;
}

/**
 * A list of orders as every view shows one (the shopper's account, the admin
 * dashboard and order list): order, placed, optional e-mail and item count,
 * status and total. `cards` lays rows out as cards on narrow screens.
 */
export const OrderTable: FC<{
	rows: OrderRow[];
	caption?: string;
	cards?: boolean;
	email?: boolean;
	items?: boolean;
	/** The status badge of the surface (the admin console tones statuses its own way). */
	badge?: FC<{ status: OrderStatus }>;
}> = ({ rows, caption, cards, email, items, badge: Badge = StatusBadge }) => (
	<table class={cards ? "cards" : undefined}>
		{caption ? <caption class="visually-hidden">{caption}</caption> : null}
		<thead>
			<tr>
				<th scope="col">Order</th>
				<th scope="col">Placed</th>
				{email ? <th scope="col">Email</th> : null}
				{items ? <th scope="col">Items</th> : null}
				<th scope="col">Status</th>
				<th scope="col" class="num">
					Total
				</th>
			</tr>
		</thead>
		<tbody>
			{rows.map((row) => (
				<tr>
					<td>
						<a href={row.href}>{row.label}</a>
					</td>
					<td class="nowrap" data-label="Placed">
						{row.placed}
					</td>
					{email ? (
						<td class="wrap" data-label="Email">
							{row.email}
						</td>
					) : null}
					{items ? (
						<td class="num" data-label="Items">
							{row.items}
						</td>
					) : null}
					<td data-label="Status">
						<Badge status={row.status} />
					</td>
					<td class="num" data-label="Total">
						{money(row.total.amount, row.total.currency)}
					</td>
				</tr>
			))}
		</tbody>
	</table>
);
