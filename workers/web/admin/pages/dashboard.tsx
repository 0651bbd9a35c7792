import type { Context } from "hono";
import type { AppEnv } from "../../../api/types.ts";
import { recentFailures } from "../../../notifications/endpoints.ts";
import { listOrdersForAdmin, orderCountsByStatus } from "../../../orders/admin.ts";
import { ORDER_STATUSES } from "../../../orders/state.ts";
import { countWaitingDeadLetters } from "../../../queues/dead-letters.ts";
import { OrderTable } from "../../components/order.tsx";
import { AdminLayout, STATUS_TEXT, StatusBadge, Time } from "../layout.tsx";

const DAY_MS = 24 * 60 * 60 * 1000;

/** `GET /admin`: orders by status, what needs an operator now, and the newest orders. */
export async function dashboardPage(c: Context<AppEnv>): Promise<Response> {
	const db = c.get("database").primary;
	const [counts, waitingLetters, failures, recent] = await Promise.all([
		orderCountsByStatus(db),
		countWaitingDeadLetters(db),
		recentFailures(db, new Date(Date.now() - DAY_MS)),
		listOrdersForAdmin(db, { limit: 8 }),
	]);
	const attention = [
		{ href: "/admin/orders?status=paid", count: counts.paid, label: "Paid orders to fulfil" },
		{ href: "/admin/orders?status=fulfilled", count: counts.fulfilled, label: "Fulfilled orders to ship" },
		{ href: "/admin/dead-letters?replayed=false", count: waitingLetters, label: "Dead letters waiting" },
		{ href: "/admin/notifications?status=failed", count: failures.emails, label: "E-mails failed (24 h)" },
		{ href: "/admin/webhooks", count: failures.deliveries, label: "Webhook deliveries failed (24 h)" },
	];
	return c.html(
		<AdminLayout title="Dashboard" current="dashboard">
			<h1>Dashboard</h1>
			<section aria-labelledby="attention-heading">
				<h2 id="attention-heading">Needs attention</h2>
				<ul class="stats">
					{attention.map((item) => (
						<li class={item.count > 0 ? "attention" : undefined}>
							<a href={item.href}>
								<span class="count">{item.count}</span>
								<span class="label">{item.label}</span>
							</a>
						</li>
					))}
				</ul>
			</section>
			<section aria-labelledby="status-heading">
				<h2 id="status-heading">Orders by status</h2>
				<ul class="stats">
					{ORDER_STATUSES.map((status) => (
						<li>
							<a href={`/admin/orders?status=${status}`}>
								<span class="count">{counts[status]}</span>
								<span class="label">{STATUS_TEXT[status]}</span>
							</a>
						</li>
					))}
				</ul>
			</section>
			<section class="panel" aria-labelledby="recent-heading">
				<div class="page-head">
					<h2 id="recent-heading">Newest orders</h2>
					<a href="/admin/orders">All orders</a>
				</div>
				{recent.data.length === 0 ? (
					<p class="muted">No orders yet.</p>
				) : (
					<div class="table-wrap">
						<OrderTable
							badge={StatusBadge}
							email
							rows={recent.data.map((order) => ({
								id: order.id,
								href: `/admin/orders/${order.id}`,
								label: order.id,
								placed: <Time at={order.created_at} />,
								email: order.email,
								status: order.status,
								total: order.total,
							}))}
						/>
					</div>
				)}
			</section>
		</AdminLayout>,
	);
}
