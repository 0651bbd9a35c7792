import type { Context } from "hono";
import type { FC } from "hono/jsx";
import type { AppEnv } from "../../../api/types.ts";
import { CUSTOMER_ORDERS_SHOWN, type CustomerSummary, getCustomer, listCustomers } from "../../../customers/admin.ts";
import { DomainError, notFound } from "../../../domain/errors.ts";
import type { Money } from "../../../domain/money.ts";
import { money } from "../../layout.tsx";
import { AdminLayout, listUrl, NextPage, StatusBadge, Time } from "../layout.tsx";
import type { Messages } from "../messages.ts";

const USER_ID = /^usr_[0-9a-z]{20}$/;
const PAGE_SIZE = 25;

/** What each currency came to, "€120.00 · $35.00"; a dash for nothing. */
function spent(totals: Money[]): string {
	return totals.length === 0 ? "—" : totals.map((total) => money(total.amount, total.currency)).join(" · ");
}

const RoleBadge: FC<{ role: CustomerSummary["role"] }> = ({ role }) =>
	role === "admin" ? <span class="badge info">Admin</span> : <span class="badge">Customer</span>;

const VerifiedBadge: FC<{ verified: boolean }> = ({ verified }) =>
	verified ? <span class="badge ok">Verified</span> : <span class="badge warn">Not verified</span>;

/** `GET /admin/customers?q=&cursor=`: accounts, newest first, searchable by part of the e-mail address or the name. */
export async function customersPage(c: Context<AppEnv>): Promise<Response> {
	const q = c.req.query("q")?.trim().slice(0, 200) || undefined;
	const cursor = c.req.query("cursor") || undefined;
	const db = c.get("database").primary;
	let messages: Messages = {};
	let page: Awaited<ReturnType<typeof listCustomers>>;
	try {
		page = await listCustomers(db, { q, limit: PAGE_SIZE, cursor });
	} catch (err) {
		if (!(err instanceof DomainError) || err.code !== "invalid_cursor") throw err;
		messages = { error: "That page link is no longer valid; showing the newest customers." };
		page = await listCustomers(db, { q, limit: PAGE_SIZE });
	}
	return c.html(
		<AdminLayout title="Customers" current="customers" messages={messages}>
			<h1>Customers</h1>
			<form class="filters panel" method="get" action="/admin/customers" aria-label="Search customers">
				<div class="field grow">
					<label for="customer-q">Search</label>
					<input id="customer-q" type="search" name="q" value={q ?? ""} maxlength={200} placeholder="Part of an e-mail address or a name" />
				</div>
				<button type="submit">Search</button>
			</form>
			{page.data.length === 0 ? (
				<p class="panel">{q ? "No customers match." : "No customers yet."}</p>
			) : (
				<div class="table-wrap">
					<table class="cards">
						<caption class="visually-hidden">Customers, newest first</caption>
						<thead>
							<tr>
								<th scope="col">Customer</th>
								<th scope="col">Account</th>
								<th scope="col" class="num">
									Paid orders
								</th>
								<th scope="col">Spent</th>
								<th scope="col">Joined</th>
							</tr>
						</thead>
						<tbody>
							{page.data.map((customer) => (
								<tr>
									<td>
										<a href={`/admin/customers/${customer.id}`}>{customer.email}</a>
										<div class="hint">{customer.name}</div>
									</td>
									<td data-label="Account">
										<RoleBadge role={customer.role} /> <VerifiedBadge verified={customer.email_verified} />
									</td>
									<td class="num" data-label="Paid orders">
										{customer.order_count}
									</td>
									<td class="nowrap" data-label="Spent">
										{spent(customer.total_spent)}
									</td>
									<td class="nowrap" data-label="Joined">
										<Time at={customer.created_at} />
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
			<NextPage href={page.next_cursor ? listUrl("/admin/customers", { q, cursor: page.next_cursor }) : null} />
		</AdminLayout>,
	);
}

/** `GET /admin/customers/{id}`: the profile, saved addresses and the account's newest orders, each linked. */
export async function customerPage(c: Context<AppEnv>): Promise<Response> {
	const id = c.req.param("id") ?? "";
	if (!USER_ID.test(id)) throw notFound("No customer with this id.");
	const customer = await getCustomer(c.get("database").primary, id);
	return c.html(
		<AdminLayout title={customer.email} current="customers">
			<p>
				<a href="/admin/customers">← All customers</a>
			</p>
			<div class="page-head">
				<h1>{customer.name || customer.email}</h1>
				<p class="row">
					<RoleBadge role={customer.role} /> <VerifiedBadge verified={customer.email_verified} />
				</p>
			</div>
			<div class="two-col">
				<section class="panel" aria-labelledby="profile-heading">
					<h2 id="profile-heading">Profile</h2>
					<dl class="facts">
						<dt>E-mail</dt>
						<dd>{customer.email}</dd>
						<dt>Name</dt>
						<dd>{customer.name}</dd>
						<dt>Joined</dt>
						<dd>
							<Time at={customer.created_at} />
						</dd>
						<dt>Paid orders</dt>
						<dd>{customer.order_count}</dd>
						<dt>Spent</dt>
						<dd>{spent(customer.total_spent)}</dd>
						<dt>Cart reminders</dt>
						<dd>{customer.abandoned_cart_emails ? "Yes" : "No"}</dd>
						<dt>Account id</dt>
						<dd>
							<code>{customer.id}</code>
						</dd>
					</dl>
				</section>
				<section class="panel" aria-labelledby="addresses-heading">
					<h2 id="addresses-heading">Saved addresses</h2>
					{customer.addresses.length === 0 ? (
						<p class="muted">No saved addresses.</p>
					) : (
						<ul class="addresses">
							{customer.addresses.map((address) => (
								<li>
									<address>
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
										{address.country}
										{address.phone ? (
											<>
												<br />
												{address.phone}
											</>
										) : null}
									</address>
									{address.is_default ? <span class="badge ok">Default</span> : null}
								</li>
							))}
						</ul>
					)}
				</section>
			</div>
			<section class="panel" aria-labelledby="orders-heading">
				<h2 id="orders-heading">Orders</h2>
				<p class="hint">
					{customer.orders_placed === 0
						? "No orders yet."
						: customer.orders_placed > customer.orders.length
							? `The newest ${CUSTOMER_ORDERS_SHOWN} of ${customer.orders_placed} orders.`
							: `${customer.orders_placed} order${customer.orders_placed === 1 ? "" : "s"}, newest first.`}
				</p>
				{customer.orders.length > 0 ? (
					<div class="table-wrap">
						<table class="cards">
							<caption class="visually-hidden">The customer's orders, newest first</caption>
							<thead>
								<tr>
									<th scope="col">Order</th>
									<th scope="col">Status</th>
									<th scope="col" class="num">
										Items
									</th>
									<th scope="col">Total</th>
									<th scope="col">Placed</th>
								</tr>
							</thead>
							<tbody>
								{customer.orders.map((order) => (
									<tr>
										<td>
											<a href={`/admin/orders/${order.id}`}>{order.id}</a>
										</td>
										<td data-label="Status">
											<StatusBadge status={order.status} />
										</td>
										<td class="num" data-label="Items">
											{order.items}
										</td>
										<td class="nowrap" data-label="Total">
											{money(order.total.amount, order.total.currency)}
											{order.refunded.amount > 0 ? (
												<div class="hint">{money(order.refunded.amount, order.refunded.currency)} refunded</div>
											) : null}
										</td>
										<td class="nowrap" data-label="Placed">
											<Time at={order.created_at} />
										</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				) : null}
			</section>
		</AdminLayout>,
	);
}
