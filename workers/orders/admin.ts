import { and, asc, count, desc, eq, gte, inArray, lt, lte, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { orderEvents, orderLines, orders, payments, users } from "../db/schema.ts";
import { decodeCursor, encodeCursor, invalidCursor } from "../domain/cursor.ts";
import { notFound } from "../domain/errors.ts";
import type { WaitUntil } from "../domain/runtime.ts";
import { PaymentProviderError } from "../payments/provider.ts";
import { recordOrderAudit } from "./audit.ts";
import { acceptReviewedPayment, refundOrder, reviewedPayment } from "./lifecycle.ts";
import {
	applyTransition,
	invalidTransition,
	type LoadedOrder,
	loadOrder,
	type OrderRow,
	type OrderView,
	orderView,
	viewOf,
} from "./orders.ts";
import { enqueue, publish } from "./outbox.ts";
import { providerFailed } from "./payments.ts";
import { refundPart } from "./refunds.ts";

export { providerFailed };

import { ORDER_STATUSES, type OrderStatus, transition } from "./state.ts";

/**
 * Order reads and the admin transitions (fulfil, ship, deliver, refund), shared by the
 * `/v1/orders` and `/v1/admin/orders` API and the admin console's order pages.
 */

export const orderNotFound = () => notFound("No such order among yours.");

/** The 502 for a refund the payment provider would not make: nothing changed, so a retry is safe. */

export interface OrderPage {
	data: OrderView[];
	next_cursor: string | null;
}

/** Lines and payments of a page of orders in two queries. */
async function views(db: Db, rows: readonly OrderRow[]): Promise<OrderView[]> {
	if (rows.length === 0) return [];
	const ids = rows.map((row) => row.id);
	const [lines, pays] = await Promise.all([
		db.select().from(orderLines).where(inArray(orderLines.orderId, ids)).orderBy(orderLines.id),
		db.select().from(payments).where(inArray(payments.orderId, ids)),
	]);
	return rows.map((row) =>
		orderView(
			row,
			lines.filter((line) => line.orderId === row.id),
			pays.find((pay) => pay.orderId === row.id) ?? null,
		),
	);
}

/** Keyset pagination on (created_at, id) descending; the cursor carries the last row's pair. */
export async function pageOfOrders(db: Db, filters: SQL[], limit: number, cursor: string | undefined): Promise<OrderPage> {
	const where = [...filters];
	if (cursor) {
		const value = decodeCursor(cursor);
		if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== "string" || typeof value[1] !== "string") throw invalidCursor();
		const [at, id] = value as [string, string];
		if (Number.isNaN(Date.parse(at)) || !/^ord_[0-9a-z]{20}$/.test(id)) throw invalidCursor();
		where.push(or(lt(orders.createdAt, new Date(at)), and(eq(orders.createdAt, new Date(at)), lt(orders.id, id))) as SQL);
	}
	const rows = await db
		.select()
		.from(orders)
		.where(and(...where))
		.orderBy(desc(orders.createdAt), desc(orders.id))
		.limit(limit + 1);
	const more = rows.length > limit;
	const shown = rows.slice(0, limit);
	const last = shown.at(-1);
	return {
		data: await views(db, shown),
		next_cursor: more && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
	};
}

export interface AdminOrderFilter {
	status?: OrderStatus | undefined;
	/** The customer's address, exactly (addresses are stored in lower case). */
	email?: string | undefined;
	createdFrom?: string | undefined;
	createdTo?: string | undefined;
	limit: number;
	cursor?: string | undefined;
}

/** Every order, newest first, filtered by status, e-mail and creation date. */
export function listOrdersForAdmin(db: Db, filter: AdminOrderFilter): Promise<OrderPage> {
	const filters: SQL[] = [];
	if (filter.status) filters.push(eq(orders.status, filter.status));
	if (filter.email) filters.push(eq(orders.email, filter.email));
	if (filter.createdFrom) filters.push(gte(orders.createdAt, new Date(filter.createdFrom)));
	if (filter.createdTo) filters.push(lte(orders.createdAt, new Date(filter.createdTo)));
	return pageOfOrders(db, filters.length ? filters : [sql`true`], filter.limit, filter.cursor);
}

/** How many orders are in each status (every status present, zero when none). */
export async function orderCountsByStatus(db: Db): Promise<Record<OrderStatus, number>> {
	const rows = await db.select({ status: orders.status, n: count() }).from(orders).groupBy(orders.status);
	const counts = Object.fromEntries(ORDER_STATUSES.map((status) => [status, 0])) as Record<OrderStatus, number>;
	for (const row of rows) counts[row.status] = row.n;
	return counts;
}

export type OrderEventRow = typeof orderEvents.$inferSelect;

/** An order's history, oldest first; `actorEmail` names the account behind a user id actor. */
export async function orderHistory(db: Db, orderId: string): Promise<(OrderEventRow & { actorEmail: string | null })[]> {
	const rows = await db
		.select({ event: orderEvents, actorEmail: users.email })
		.from(orderEvents)
		.leftJoin(users, eq(users.id, orderEvents.actor))
		.where(eq(orderEvents.orderId, orderId))
		.orderBy(asc(orderEvents.id));
	return rows.map((row) => ({ ...row.event, actorEmail: row.actorEmail }));
}

/**
 * An admin transition: conditional on the status read, 409 when not allowed
 * or when another change won. Shipping queues the shopper's notification
 * through the outbox in the same transaction, which also writes the audit entry.
 */
async function adminTransition(
	env: Env,
	db: Db,
	ctx: WaitUntil,
	orderId: string,
	action: "fulfil" | "ship" | "deliver",
	actorId: string,
	set: Partial<typeof orders.$inferInsert> = {},
	requestId?: string,
): Promise<OrderView> {
	const outcome = await db.transaction(async (tx) => {
		const loaded = await loadOrder(tx, orderId, { forUpdate: true });
		if (!loaded) throw orderNotFound();
		const updated = await applyTransition(tx, loaded.order, action, actorId, { set, data: set });
		if (!updated) throw invalidTransition(loaded.order.status, action);
		await recordOrderAudit(tx, { actorId, requestId, action, before: loaded, after: { ...loaded, order: updated } });
		const ids =
			action === "ship"
				? await enqueue(tx, [
						{
							queue: "notifications",
							id: `shipped:${orderId}`,
							type: "order.shipped",
							data: {
								order_id: orderId,
								email: updated.email,
								user_id: updated.userId,
								carrier: updated.carrier,
								tracking_number: updated.trackingNumber,
							},
						},
					])
				: [];
		return { ids };
	});
	ctx.waitUntil(publish(env, db, outcome.ids).catch(() => 0));
	const after = await loadOrder(db, orderId);
	if (!after) throw orderNotFound();
	return viewOf(after);
}

/** paid → fulfilled. */
export function fulfilOrder(env: Env, db: Db, ctx: WaitUntil, orderId: string, actorId: string, requestId?: string): Promise<OrderView> {
	return adminTransition(env, db, ctx, orderId, "fulfil", actorId, {}, requestId);
}

/** fulfilled → shipped, with the tracking number; the shopper is notified. */
export function shipOrder(
	env: Env,
	db: Db,
	ctx: WaitUntil,
	orderId: string,
	actorId: string,
	tracking: { trackingNumber: string; carrier?: string | null | undefined },
	requestId?: string,
): Promise<OrderView> {
	return adminTransition(
		env,
		db,
		ctx,
		orderId,
		"ship",
		actorId,
		{ trackingNumber: tracking.trackingNumber, carrier: tracking.carrier ?? null },
		requestId,
	);
}

/**
 * shipped → delivered, as the carrier reported it to an admin. Recorded in the
 * order's events (the time it happened); no e-mail: the parcel is its own news.
 */
export function deliverOrder(env: Env, db: Db, ctx: WaitUntil, orderId: string, actorId: string, requestId?: string): Promise<OrderView> {
	return adminTransition(env, db, ctx, orderId, "deliver", actorId, {}, requestId);
}

/**
 * Whether an admin may refund the order now: a transition the state machine
 * allows, of a captured payment, or of the payment a review holds.
 */
export function refundable(loaded: LoadedOrder): boolean {
	if (loaded.order.status === "payment_review") return true;
	return (
		transition(loaded.order.status, "refund").ok && loaded.order.status !== "pending_payment" && loaded.payment?.status === "succeeded"
	);
}

/**
 * Refunds through the provider. With an amount, lines or restock: part of
 * the capture (see `refundPart`). Otherwise the whole remaining capture, or
 * for an order under review the payment that arrived, for what it brought;
 * the order becomes refunded. 502 when the provider fails.
 */
export async function refundOrderAsAdmin(
	env: Env,
	db: Db,
	orderId: string,
	reason: string | undefined,
	actorId: string,
	part: { amount?: number | undefined; lines?: { sku: string; quantity: number }[] | undefined; restock?: boolean | undefined } = {},
	requestId?: string,
): Promise<OrderView> {
	if (part.amount !== undefined || part.lines !== undefined || part.restock) {
		return viewOf(
			await refundPart(
				env,
				db,
				orderId,
				{ amount: part.amount, lines: part.lines, restock: part.restock ?? false, reason },
				actorId,
				requestId,
			),
		);
	}
	const loaded = await loadOrder(db, orderId);
	if (!loaded) throw orderNotFound();
	// Refuse before money moves: only a captured payment can be refunded.
	if (!refundable(loaded)) throw invalidTransition(loaded.order.status, "refund");
	const received = loaded.order.status === "payment_review" ? await reviewedPayment(db, orderId) : null;
	let after: LoadedOrder;
	try {
		after = await refundOrder(env, db, loaded, reason ?? "admin", actorId, {
			...(received ? { received } : {}),
			audit: { userId: actorId, requestId },
		});
	} catch (err) {
		if (err instanceof PaymentProviderError) throw providerFailed(err);
		throw err;
	}
	return viewOf(after);
}

/** payment_review → paid: the admin accepts the payment that arrived; its stock is committed. */
export async function acceptPayment(env: Env, db: Db, orderId: string, actorId: string, requestId?: string): Promise<OrderView> {
	return viewOf(await acceptReviewedPayment(env, db, orderId, actorId, requestId));
}
