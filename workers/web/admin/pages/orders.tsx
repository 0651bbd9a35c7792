import type { Context } from "hono";
import type { FC } from "hono/jsx";
import { ShipBody } from "../../../api/orders/orders.schemas.ts";
import type { AppEnv } from "../../../api/types.ts";
import { DomainError } from "../../../domain/errors.ts";
import {
	acceptPayment,
	deliverOrder,
	fulfilOrder,
	listOrdersForAdmin,
	orderHistory,
	orderNotFound,
	refundable,
	refundOrderAsAdmin,
	shipOrder,
} from "../../../orders/admin.ts";
import { reviewedPayment } from "../../../orders/lifecycle.ts";
import { loadOrder, viewOf } from "../../../orders/orders.ts";
import { ORDER_STATUSES, type OrderStatus } from "../../../orders/state.ts";
import { AddressBlock, OrderLines, OrderTable, OrderTotals } from "../../components/order.tsx";
import { money } from "../../layout.tsx";
import { IDEMPOTENCY_FIELD, idempotentAction, newFormKey } from "../actions.ts";
import { AdminLayout, listUrl, NextPage, STATUS_TEXT, StatusBadge, Time } from "../layout.tsx";
import { type Messages, messagesOf } from "../messages.ts";

const ORDER_ID = /^ord_[0-9a-z]{20}$/;
const PAGE_SIZE = 25;

/** What the history calls each order event. */
const EVENT_TEXT: Record<string, string> = {
	place: "Placed",
	pay: "Payment received",
	review: "Payment does not match the order: under review",
	accept: "Payment accepted",
	cancel: "Cancelled",
	expire: "Reservation expired",
	fulfil: "Fulfilled",
	ship: "Shipped",
	deliver: "Delivered",
	refund: "Refunded",
	refund_part: "Partly refunded",
};

function isStatus(value: string | undefined): value is OrderStatus {
	return value !== undefined && (ORDER_STATUSES as readonly string[]).includes(value);
}

/** `GET /admin/orders?status=&email=&cursor=`: every order, newest first, with the filters an operator uses. */
export async function ordersPage(c: Context<AppEnv>): Promise<Response> {
	const statusParam = c.req.query("status");
	const status = isStatus(statusParam) ? statusParam : undefined;
	const email = c.req.query("email")?.trim().toLowerCase().slice(0, 254) || undefined;
	const cursor = c.req.query("cursor") || undefined;
	let messages: Messages = messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") });
	let page: Awaited<ReturnType<typeof listOrdersForAdmin>>;
	try {
		page = await listOrdersForAdmin(c.get("database").primary, { status, email, limit: PAGE_SIZE, cursor });
	} catch (err) {
		if (!(err instanceof DomainError) || err.code !== "invalid_cursor") throw err;
		messages = { error: "That page link is no longer valid; showing the newest orders." };
		page = await listOrdersForAdmin(c.get("database").primary, { status, email, limit: PAGE_SIZE });
	}
	const filtered = status !== undefined || email !== undefined;
	return c.html(
		<AdminLayout title="Orders" current="orders" messages={messages}>
			<h1>Orders</h1>
			<form class="filters panel" method="get" action="/admin/orders" aria-label="Filter orders">
				<div class="field">
					<label for="order-status">Status</label>
					<select id="order-status" name="status">
						<option value="">Any status</option>
						{ORDER_STATUSES.map((value) => (
							<option value={value} selected={value === status}>
								{STATUS_TEXT[value]}
							</option>
						))}
					</select>
				</div>
				<div class="field grow">
					<label for="order-email">Email</label>
					<input id="order-email" type="email" name="email" value={email ?? ""} autocomplete="off" placeholder="customer@example.com" />
				</div>
				<button type="submit">Filter</button>
				{filtered ? (
					<a class="button secondary" href="/admin/orders">
						Clear
					</a>
				) : null}
			</form>
			{page.data.length === 0 ? (
				<p class="panel">{filtered ? "No orders match these filters." : "No orders yet."}</p>
			) : (
				<div class="table-wrap">
					<OrderTable
						badge={StatusBadge}
						cards
						email
						items
						caption="Orders, newest first"
						rows={page.data.map((order) => ({
							id: order.id,
							href: `/admin/orders/${order.id}`,
							label: order.id,
							placed: <Time at={order.created_at} />,
							email: order.email,
							items: order.lines.reduce((sum, line) => sum + line.quantity, 0),
							status: order.status,
							total: order.total,
						}))}
					/>
				</div>
			)}
			<NextPage href={page.next_cursor ? listUrl("/admin/orders", { status, email, cursor: page.next_cursor }) : null} />
		</AdminLayout>,
	);
}

const HiddenKey: FC = () => <input type="hidden" name={IDEMPOTENCY_FIELD} value={newFormKey()} />;

/** `GET /admin/orders/{id}`: the order, its history, and the actions its status allows. */
export async function orderPage(c: Context<AppEnv>): Promise<Response> {
	const id = c.req.param("id") ?? "";
	const db = c.get("database").primary;
	const loaded = ORDER_ID.test(id) ? await loadOrder(db, id) : null;
	if (!loaded) throw orderNotFound();
	const order = viewOf(loaded);
	const history = await orderHistory(db, id);
	const canRefund = refundable(loaded);
	const received = order.status === "payment_review" ? await reviewedPayment(c.get("database").primary, order.id) : null;
	const total = received ? money(received.amount, received.currency) : money(order.total.amount, order.total.currency);
	return c.html(
		<AdminLayout
			title={`Order ${order.id}`}
			current="orders"
			messages={messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") })}
		>
			<p>
				<a href="/admin/orders">← All orders</a>
			</p>
			<div class="page-head">
				<h1>Order {order.id}</h1>
				<StatusBadge status={order.status} />
			</div>
			<div class="two-col">
				<div>
					<section class="panel" aria-labelledby="summary-heading">
						<h2 id="summary-heading">Summary</h2>
						<dl class="facts">
							<dt>Status</dt>
							<dd>{STATUS_TEXT[order.status]}</dd>
							<dt>Email</dt>
							<dd>
								<a href={listUrl("/admin/orders", { email: order.email })}>{order.email}</a>
							</dd>
							<dt>Placed</dt>
							<dd>
								<Time at={order.created_at} />
							</dd>
							<dt>Payment</dt>
							<dd>
								{order.payment
									? `${order.payment.provider}, ${order.payment.status}${order.payment.refunded.amount > 0 ? `, ${money(order.payment.refunded.amount, order.payment.refunded.currency)} refunded` : ""}`
									: "none"}
							</dd>
							{order.cancel_reason ? (
								<>
									<dt>Cancel reason</dt>
									<dd>{order.cancel_reason}</dd>
								</>
							) : null}
						</dl>
						{order.tracking ? (
							<div class="tracking">
								<p>Tracking number: {order.tracking.number}</p>
								{order.tracking.carrier ? <p>Carrier: {order.tracking.carrier}</p> : null}
							</div>
						) : null}
					</section>
					<section class="panel" aria-labelledby="actions-heading">
						<h2 id="actions-heading">Actions</h2>
						<div class="stack">
							{order.status === "paid" ? (
								<form method="post" action={`/admin/orders/${order.id}/fulfil`}>
									<HiddenKey />
									<p class="hint">The items are packed and ready to ship.</p>
									<button type="submit">Mark fulfilled</button>
								</form>
							) : null}
							{order.status === "fulfilled" ? (
								<form method="post" action={`/admin/orders/${order.id}/ship`} class="ship-form">
									<HiddenKey />
									<div class="field">
										<label for="tracking-number">Tracking number</label>
										<input id="tracking-number" name="tracking_number" required maxlength={100} autocomplete="off" />
									</div>
									<div class="field">
										<label for="carrier">Carrier</label>
										<input id="carrier" name="carrier" maxlength={100} placeholder="e.g. DHL" />
									</div>
									<p class="hint">The customer gets an e-mail with the tracking number.</p>
									<button type="submit">Mark shipped</button>
								</form>
							) : null}
							{order.status === "shipped" ? (
								<form method="post" action={`/admin/orders/${order.id}/deliver`}>
									<HiddenKey />
									<p class="hint">The carrier reports the parcel delivered.</p>
									<button type="submit">Mark delivered</button>
								</form>
							) : null}
							{received ? (
								<form method="post" action={`/admin/orders/${order.id}/accept-payment`}>
									<HiddenKey />
									<p class="hint">
										A payment of {total} arrived ({received.provider} {received.provider_payment_id}); it differs from the order in{" "}
										{received.mismatch.join(", ")}. Accepting commits the stock and marks the order paid.
									</p>
									<button type="submit">Accept payment</button>
								</form>
							) : null}
							{canRefund ? (
								<form
									method="post"
									action={`/admin/orders/${order.id}/refund`}
									data-confirm={`Refund ${total} to ${order.email}? This cannot be undone.`}
								>
									<HiddenKey />
									<div class="field">
										<label for="refund-reason">Refund reason</label>
										<input id="refund-reason" name="reason" maxlength={200} placeholder="Optional, e.g. damaged in transit" />
									</div>
									<p class="hint">
										Refunds {received ? "the payment that arrived" : "the whole payment"} ({total}) through the payment provider.
									</p>
									<button type="submit" class="danger">
										Refund
									</button>
								</form>
							) : null}
							{order.status !== "paid" && order.status !== "fulfilled" && !canRefund ? (
								<p class="muted">No actions are possible for an order that is {STATUS_TEXT[order.status].toLowerCase()}.</p>
							) : null}
						</div>
					</section>
					<section class="panel" aria-labelledby="items-heading">
						<h2 id="items-heading">Items</h2>
						<OrderLines order={order} />
						<OrderTotals order={order} />
					</section>
				</div>
				<div>
					<section class="panel" aria-labelledby="address-heading">
						<h2 id="address-heading">Shipping address</h2>
						<AddressBlock address={order.shipping_address} />
					</section>
					<section class="panel" aria-labelledby="history-heading">
						<h2 id="history-heading">History</h2>
						<ol class="history">
							{history.map((event) => (
								<li>
									<Time at={event.createdAt} /> — {EVENT_TEXT[event.type] ?? event.type}
									{event.toStatus && STATUS_TEXT[event.toStatus] !== EVENT_TEXT[event.type]
										? ` (now ${STATUS_TEXT[event.toStatus].toLowerCase()})`
										: ""}{" "}
									<span class="muted">by {event.actorEmail ?? event.actor}</span>
								</li>
							))}
						</ol>
					</section>
				</div>
			</div>
		</AdminLayout>,
	);
}

function orderIdOf(c: Context<AppEnv>): string {
	const id = c.req.param("id") ?? "";
	if (!ORDER_ID.test(id)) throw orderNotFound();
	return id;
}

/** `POST /admin/orders/{id}/fulfil`: paid → fulfilled, once per form. */
export async function fulfilAction(c: Context<AppEnv>): Promise<Response> {
	const id = orderIdOf(c);
	return idempotentAction(c, {
		route: "/admin/orders/:id/fulfil",
		back: `/admin/orders/${id}`,
		run: async () => {
			await fulfilOrder(c.env, c.get("database").primary, c.executionCtx, id, c.get("auth").userId, c.get("requestId"));
			return "fulfilled";
		},
	});
}

/** `POST /admin/orders/{id}/ship`: fulfilled → shipped with its tracking number, once per form. */
export async function shipAction(c: Context<AppEnv>): Promise<Response> {
	const id = orderIdOf(c);
	return idempotentAction(c, {
		route: "/admin/orders/:id/ship",
		back: `/admin/orders/${id}`,
		run: async (_key, fields) => {
			const parsed = ShipBody.safeParse({
				tracking_number: fields.get("tracking_number") ?? "",
				carrier: fields.get("carrier")?.trim() || undefined,
			});
			if (!parsed.success) throw new DomainError("validation_failed");
			await shipOrder(
				c.env,
				c.get("database").primary,
				c.executionCtx,
				id,
				c.get("auth").userId,
				{ trackingNumber: parsed.data.tracking_number, carrier: parsed.data.carrier },
				c.get("requestId"),
			);
			return "shipped";
		},
	});
}

/** `POST /admin/orders/{id}/deliver`: shipped → delivered, once per form. */
export async function deliverAction(c: Context<AppEnv>): Promise<Response> {
	const id = orderIdOf(c);
	return idempotentAction(c, {
		route: "/admin/orders/:id/deliver",
		back: `/admin/orders/${id}`,
		run: async () => {
			await deliverOrder(c.env, c.get("database").primary, c.executionCtx, id, c.get("auth").userId, c.get("requestId"));
			return "delivered";
		},
	});
}

/** `POST /admin/orders/{id}/accept-payment`: a payment under review accepted, once per form. */
export async function acceptPaymentAction(c: Context<AppEnv>): Promise<Response> {
	const id = orderIdOf(c);
	return idempotentAction(c, {
		route: "/admin/orders/:id/accept-payment",
		back: `/admin/orders/${id}`,
		run: async () => {
			await acceptPayment(c.env, c.get("database").primary, id, c.get("auth").userId, c.get("requestId"));
			return "payment_accepted";
		},
	});
}

/** `POST /admin/orders/{id}/refund`: the whole payment back through the provider, once per form. */
export async function refundAction(c: Context<AppEnv>): Promise<Response> {
	const id = orderIdOf(c);
	return idempotentAction(c, {
		route: "/admin/orders/:id/refund",
		back: `/admin/orders/${id}`,
		run: async (_key, fields) => {
			const reason = fields.get("reason")?.trim().slice(0, 200) || undefined;
			await refundOrderAsAdmin(c.env, c.get("database").primary, id, reason, c.get("auth").userId, {}, c.get("requestId"));
			return "refunded";
		},
	});
}
