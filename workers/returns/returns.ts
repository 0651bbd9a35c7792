import { and, asc, count, desc, eq, inArray, isNull, type SQL, sql } from "drizzle-orm";
import { hashToken } from "../auth/secrets.ts";
import { recordAudit } from "../catalog/audit.ts";
import type { Db, Executor, Tx } from "../db/client.ts";
import { orderLines, orders, refunds, returnLines, returns } from "../db/schema.ts";
import { CURSOR_TIMESTAMP, decodeCursor, encodeCursor, invalidCursor } from "../domain/cursor.ts";
import { DomainError, notFound } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";
import type { Money } from "../domain/money.ts";
import { orderNotFound } from "../orders/admin.ts";
import { type LoadedOrder, loadOrder, type OrderLineRow, type OrderRow } from "../orders/orders.ts";
import { enqueue, publish } from "../orders/outbox.ts";
import { refundPart } from "../orders/refunds.ts";
import type { OrderStatus } from "../orders/state.ts";
import { RETURN_ENTERED_AT, type ReturnAction, type ReturnStatus, returnTransition } from "./state.ts";

/**
 * Returns: a shopper asks to send back units of a shipped or delivered order
 * within the return window; an admin approves (the shopper is e-mailed the
 * instructions) or rejects it, marks the parcel received, and refunds those
 * lines through `refundPart`, restocking them or not. The one implementation
 * behind `/v1/orders/{id}/returns`, `/v1/admin/returns`, the order page and
 * the admin console.
 *
 * Units: `order_lines.return_quantity` counts the units of a line in open or
 * finished returns. A request takes its units with one conditional UPDATE
 * per line (within what was ordered, less what is already in returns and
 * what was refunded outside one), so two requests racing for the last unit
 * cannot both pass; a rejection or a cancellation gives them back.
 *
 * Steps: each is a conditional update on the status it was read in, audited
 * in the same transaction; the loser of two admins racing gets 409
 * `invalid_return_transition`. The refund first claims the return (received
 * → refunded) and only then asks the provider, so two refunds of one return
 * cannot both send money; a refund that did not happen puts it back.
 */

export type ReturnRow = typeof returns.$inferSelect;

/** A return as its shopper sees it: the lines with their titles and prices as sold, each step's time, the refund once made. */
export interface ReturnView {
	id: string;
	order_id: string;
	status: ReturnStatus;
	reason: string;
	/** The shop's message: the instructions once approved, the reason once rejected. */
	note: string | null;
	restock: boolean | null;
	lines: { sku: string; title: string; quantity: number; unit_price: Money }[];
	refund: { id: string; amount: Money; status: "pending" | "succeeded" | "failed" } | null;
	created_at: string;
	approved_at: string | null;
	received_at: string | null;
	refunded_at: string | null;
	closed_at: string | null;
}

/** A return as admins see it: its order's e-mail and who asked for it too. */
export interface AdminReturnView extends ReturnView {
	email: string;
	requested_by: string;
}

/** What a shopper may still ask to return, and until when. */
export interface ReturnOffer {
	closes_at: string;
	lines: { sku: string; title: string; quantity: number }[];
}

/** What a shopper shows for an order: a verified session's user id, or the order token a guest was given. */
export interface OrderProof {
	userId?: string | undefined;
	orderToken?: string | undefined;
}

/** Who takes an admin step, for the audit log. */
export interface ReturnActor {
	userId: string;
	requestId?: string | undefined;
}

export interface ReturnRequest {
	lines: { sku: string; quantity: number }[];
	reason?: string | undefined;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Returns one order may have, whatever their status: a shopper asking and cancelling again and again stores no more. */
export const MAX_RETURNS_PER_ORDER = 20;
/** Orders a return may be asked for: shipped, delivered, or partly refunded after shipping (checked with `shipped_at`). */
const RETURNABLE: readonly OrderStatus[] = ["shipped", "delivered", "partially_refunded"];

export const returnNotFound = () => notFound("No such return.");

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function invalidReturnTransition(from: ReturnStatus, action: ReturnAction): DomainError {
	const verb = { approve: "approved", reject: "rejected", receive: "marked received", refund: "refunded", cancel: "cancelled" }[action];
	return new DomainError("invalid_return_transition", {
		detail: `A return that is ${from} cannot be ${verb} (it may have changed meanwhile).`,
		extensions: { status_now: from },
	});
}

/** RETURN_WINDOW_DAYS: whole days, 30 when unset or not a number of days. */
export function returnWindowDays(env: Pick<Env, "RETURN_WINDOW_DAYS">): number {
	const days = Number(env.RETURN_WINDOW_DAYS);
	return Number.isInteger(days) && days >= 0 && days <= 3650 ? days : 30;
}

/** When the order's window closes: RETURN_WINDOW_DAYS after delivery, or after shipping when no delivery was reported. */
export function returnWindowEnd(env: Pick<Env, "RETURN_WINDOW_DAYS">, order: OrderRow): Date | null {
	const from = order.deliveredAt ?? order.shippedAt;
	return from ? new Date(from.getTime() + returnWindowDays(env) * DAY_MS) : null;
}

/** Why the order takes no return at `now`, or null when it does. */
function refusalOf(env: Env, order: OrderRow, now: number): DomainError | null {
	if (!RETURNABLE.includes(order.status) || !order.shippedAt) {
		return new DomainError("return_not_allowed", {
			detail: `An order that is ${order.status.replaceAll("_", " ")} takes no returns: only shipped or delivered orders do.`,
			extensions: { status_now: order.status },
		});
	}
	const end = returnWindowEnd(env, order);
	if (!end || now > end.getTime()) {
		return new DomainError("return_window_closed", {
			detail: `Returns for this order could be asked for until ${end?.toISOString().slice(0, 10)}.`,
			extensions: { closed_at: end?.toISOString() },
		});
	}
	return null;
}

/**
 * The order if the proof opens it: its user's session, or a guest order's
 * token. Anything else is the same 404 as a missing order.
 */
export async function shopperOrder(db: Db, orderId: string, proof: OrderProof): Promise<LoadedOrder> {
	const loaded = await loadOrder(db, orderId);
	if (loaded) {
		const { order } = loaded;
		if (proof.userId && order.userId === proof.userId) return loaded;
		if (proof.orderToken && order.accessTokenHash && order.accessTokenHash === (await hashToken(proof.orderToken))) return loaded;
	}
	throw orderNotFound();
}

/**
 * Units of a line refunded by refunded returns, for the UPDATE of that line
 * (its `return_quantity` holds them already; the rest of `refunded_quantity`
 * was refunded outside a return and cannot be returned).
 */
const refundedByReturns = sql`(select coalesce(sum(${returnLines.quantity}), 0) from ${returnLines} inner join ${returns} on ${returns.id} = ${returnLines.returnId} where ${returns.orderId} = ${orderLines.orderId} and ${returnLines.sku} = ${orderLines.sku} and ${returns.status} = 'refunded')`;

/** Per SKU, the units refunded by the order's refunded returns. */
async function refundedReturnUnits(db: Executor, orderId: string): Promise<Map<string, number>> {
	const rows = await db
		.select({ sku: returnLines.sku, units: sql<number>`sum(${returnLines.quantity})::int` })
		.from(returnLines)
		.innerJoin(returns, eq(returns.id, returnLines.returnId))
		.where(and(eq(returns.orderId, orderId), eq(returns.status, "refunded")))
		.groupBy(returnLines.sku);
	return new Map(rows.map((row) => [row.sku, Number(row.units)]));
}

/** Units of `line` a shopper may still ask to return: ordered, less those in returns and those refunded outside one. */
function unitsLeft(line: OrderLineRow, refundedByReturn: number): number {
	return Math.max(0, line.quantity - line.returnQuantity - Math.max(line.refundedQuantity - refundedByReturn, 0));
}

/** What the order may still have returned, or null when its window is closed, it takes no returns or nothing is left. */
export async function returnOffer(env: Env, db: Executor, loaded: LoadedOrder, now = Date.now()): Promise<ReturnOffer | null> {
	if (refusalOf(env, loaded.order, now)) return null;
	const refunded = await refundedReturnUnits(db, loaded.order.id);
	const lines = loaded.lines
		.map((line) => ({ sku: line.sku, title: line.title, quantity: unitsLeft(line, refunded.get(line.sku) ?? 0) }))
		.filter((line) => line.quantity > 0);
	const end = returnWindowEnd(env, loaded.order);
	return lines.length > 0 && end ? { closes_at: end.toISOString(), lines } : null;
}

/**
 * Lines in SKU order: every transaction that changes several lines of an
 * order (a request, a release, a refund) locks them in this one order, so two
 * of them cannot each hold a line the other waits for.
 */
function bySku<T extends { sku: string }>(lines: readonly T[]): T[] {
	return [...lines].sort((x, y) => (x.sku < y.sku ? -1 : x.sku > y.sku ? 1 : 0));
}

function exceeded(sku: string, left: number): DomainError {
	return new DomainError("return_quantity_exceeded", {
		detail:
			left > 0
				? `At most ${left} unit${left === 1 ? "" : "s"} of ${sku} can still be returned.`
				: `No units of ${sku} are left to return on this order.`,
		extensions: { sku, returnable: left },
	});
}

/**
 * A shopper's request to return units of their order. Refused with 422 when
 * the order takes no returns (`return_not_allowed`), its window has closed
 * (`return_window_closed`) or a line asks for more than is left
 * (`return_quantity_exceeded`); nothing is kept then.
 */
export async function requestReturn(
	env: Env,
	db: Db,
	loaded: LoadedOrder,
	request: ReturnRequest,
	requestedBy: string,
): Promise<ReturnView> {
	const refusal = refusalOf(env, loaded.order, Date.now());
	if (refusal) throw refusal;
	const orderId = loaded.order.id;
	const known = new Set(loaded.lines.map((line) => line.sku));
	const seen = new Set<string>();
	for (const line of request.lines) {
		if (seen.has(line.sku) || !Number.isSafeInteger(line.quantity) || line.quantity < 1) {
			throw new DomainError("validation_failed", { detail: "Name each line once, with a quantity of at least 1." });
		}
		seen.add(line.sku);
		if (!known.has(line.sku)) throw exceeded(line.sku, 0);
	}
	if (request.lines.length === 0) throw new DomainError("validation_failed", { detail: "Choose at least one unit to return." });
	const id = newId("ret");
	await db.transaction(async (tx) => {
		const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(returns).where(eq(returns.orderId, orderId));
		if (n >= MAX_RETURNS_PER_ORDER) {
			throw new DomainError("return_not_allowed", {
				detail: `This order has had ${MAX_RETURNS_PER_ORDER} returns already; contact the shop for another.`,
			});
		}
		for (const line of bySku(request.lines)) {
			// One statement takes the units or nothing: a concurrent request for the same units waits for this row and then fails the check.
			const [taken] = await tx
				.update(orderLines)
				.set({ returnQuantity: sql`${orderLines.returnQuantity} + ${line.quantity}` })
				.where(
					and(
						eq(orderLines.orderId, orderId),
						eq(orderLines.sku, line.sku),
						sql`${orderLines.returnQuantity} + ${line.quantity} + greatest(${orderLines.refundedQuantity} - ${refundedByReturns}, 0) <= ${orderLines.quantity}`,
					),
				)
				.returning({ id: orderLines.id });
			if (!taken) {
				const [current] = await tx
					.select()
					.from(orderLines)
					.where(and(eq(orderLines.orderId, orderId), eq(orderLines.sku, line.sku)));
				const refunded = await refundedReturnUnits(tx, orderId);
				throw exceeded(line.sku, current ? unitsLeft(current, refunded.get(line.sku) ?? 0) : 0);
			}
		}
		await tx.insert(returns).values({ id, orderId, reason: request.reason ?? "", requestedBy });
		await tx.insert(returnLines).values(request.lines.map((line) => ({ returnId: id, sku: line.sku, quantity: line.quantity })));
	});
	const view = await returnView(db, id);
	if (!view) throw returnNotFound();
	return shopperView(view);
}

/** Gives a closed return's units back to its order's lines. */
async function releaseUnits(tx: Tx, row: ReturnRow): Promise<void> {
	const lines = await tx.select().from(returnLines).where(eq(returnLines.returnId, row.id));
	for (const line of bySku(lines)) {
		await tx
			.update(orderLines)
			.set({ returnQuantity: sql`${orderLines.returnQuantity} - ${line.quantity}` })
			.where(and(eq(orderLines.orderId, row.orderId), eq(orderLines.sku, line.sku)));
	}
}

/**
 * Applies `action` to the return as read in `tx`: a conditional update on
 * that status, so of two concurrent steps one wins and the other is a 409.
 */
async function applyStep(tx: Tx, row: ReturnRow, action: ReturnAction, set: Partial<typeof returns.$inferInsert> = {}): Promise<ReturnRow> {
	const step = returnTransition(row.status, action);
	if (!step.ok) throw invalidReturnTransition(row.status, action);
	const stamp = RETURN_ENTERED_AT[step.to];
	const [updated] = await tx
		.update(returns)
		.set({ ...set, status: step.to, updatedAt: sql`now()`, [stamp]: sql`now()` })
		.where(and(eq(returns.id, row.id), eq(returns.status, row.status)))
		.returning();
	if (updated) return updated;
	const [now] = await tx.select({ status: returns.status }).from(returns).where(eq(returns.id, row.id));
	throw invalidReturnTransition(now?.status ?? row.status, action);
}

/** What the audit log keeps of a return before and after a step. */
const auditState = (row: ReturnRow) => ({ status: row.status, note: row.note, restock: row.restock, refund_id: row.refundId });

/** A shopper cancels their own return while it is still only requested; its units may be asked for again. */
export async function cancelReturn(db: Db, loaded: LoadedOrder, returnId: string): Promise<ReturnView> {
	await db.transaction(async (tx) => {
		const [row] = await tx
			.select()
			.from(returns)
			.where(and(eq(returns.id, returnId), eq(returns.orderId, loaded.order.id)));
		if (!row) throw notFound("No such return among this order's.");
		await applyStep(tx, row, "cancel");
		await releaseUnits(tx, row);
	});
	const view = await returnView(db, returnId);
	if (!view) throw returnNotFound();
	return shopperView(view);
}

/** The e-mail of an approval (the instructions) or a rejection (the reason), queued in the step's transaction. */
async function returnMail(tx: Tx, row: ReturnRow, kind: "approved" | "rejected", note: string): Promise<number[]> {
	const loaded = await loadOrder(tx, row.orderId);
	if (!loaded) return [];
	const lines = await tx.select().from(returnLines).where(eq(returnLines.returnId, row.id));
	const titles = new Map(loaded.lines.map((line) => [line.sku, line.title]));
	return enqueue(tx, [
		{
			queue: "notifications",
			id: `return.${kind}:${row.id}`,
			type: `return.${kind}`,
			data: {
				order_id: row.orderId,
				email: loaded.order.email,
				user_id: loaded.order.userId,
				return_id: row.id,
				lines: lines.map((line) => ({ sku: line.sku, title: titles.get(line.sku) ?? line.sku, quantity: line.quantity })),
				note,
			},
		},
	]);
}

/** One admin step in one transaction: the conditional status change, its side effects, its audit entry. */
async function adminStep(
	env: Env,
	db: Db,
	returnId: string,
	action: "approve" | "reject" | "receive",
	actor: ReturnActor,
	note?: string,
): Promise<AdminReturnView> {
	const ids = await db.transaction(async (tx) => {
		const [row] = await tx.select().from(returns).where(eq(returns.id, returnId));
		if (!row) throw returnNotFound();
		const updated = await applyStep(tx, row, action, note === undefined ? {} : { note });
		if (updated.status === "rejected") await releaseUnits(tx, row);
		await recordAudit(tx, {
			actorId: actor.userId,
			action: `return.${action}`,
			entityType: "return",
			entityId: returnId,
			before: auditState(row),
			after: auditState(updated),
			requestId: actor.requestId,
		});
		return action === "receive" ? [] : returnMail(tx, updated, action === "approve" ? "approved" : "rejected", note ?? "");
	});
	await publish(env, db, ids).catch(() => 0);
	const view = await returnView(db, returnId);
	if (!view) throw returnNotFound();
	return view;
}

/** requested → approved; the shopper is e-mailed `note`, the instructions for sending the parcel. */
export function approveReturn(env: Env, db: Db, returnId: string, note: string, actor: ReturnActor): Promise<AdminReturnView> {
	return adminStep(env, db, returnId, "approve", actor, note);
}

/** requested or approved → rejected; the shopper is e-mailed `note`, the reason, and the units may be asked for again. */
export function rejectReturn(env: Env, db: Db, returnId: string, note: string, actor: ReturnActor): Promise<AdminReturnView> {
	return adminStep(env, db, returnId, "reject", actor, note);
}

/** approved → received: the parcel is back at the shop. */
export function receiveReturn(env: Env, db: Db, returnId: string, actor: ReturnActor): Promise<AdminReturnView> {
	return adminStep(env, db, returnId, "receive", actor);
}

/** The reason a return's refund is recorded with: it names the return, so the refund can be found from it. */
const refundReason = (returnId: string) => `return ${returnId}`;

/** The refund made for a return (found by the reason it was made with), else its latest attempt. */
async function refundOfReturn(db: Executor, row: ReturnRow): Promise<typeof refunds.$inferSelect | undefined> {
	const attempts = await db
		.select()
		.from(refunds)
		.where(and(eq(refunds.orderId, row.orderId), eq(refunds.reason, refundReason(row.id))))
		.orderBy(desc(refunds.createdAt));
	return attempts.find((refund) => refund.status === "succeeded") ?? attempts[0];
}

/** Records a claimed return's succeeded refund on it, audited; nothing when it already is. */
async function settleRefund(db: Db, returnId: string, refundId: string, before: ReturnRow, actor: ReturnActor): Promise<void> {
	await db.transaction(async (tx) => {
		const [updated] = await tx
			.update(returns)
			.set({ refundId, refundedAt: sql`now()`, closedAt: sql`now()`, updatedAt: sql`now()` })
			.where(and(eq(returns.id, returnId), eq(returns.status, "refunded"), isNull(returns.refundId)))
			.returning();
		if (!updated) return;
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "return.refund",
			entityType: "return",
			entityId: returnId,
			before: auditState(before),
			after: auditState(updated),
			requestId: actor.requestId,
		});
	});
}

/** `updated_at` to the microsecond, as text: what names one claim on a return's refund. */
const claimToken = sql<string>`to_char(${returns.updatedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const refundUnderWay = () =>
	new DomainError("invalid_return_transition", {
		detail: "A refund of this return is under way. Reload in a moment.",
		extensions: { status_now: "refunded" },
	});

type RefundClaim =
	| { kind: "settle"; row: ReturnRow; refundId: string }
	| { kind: "refund"; row: ReturnRow; token: string; lines: { sku: string; quantity: number }[] };

/**
 * Claims the refund of a return, in `tx`: received → refunded, without
 * `refunded_at` until the refund is made; or a claim whose last attempt
 * failed (and gave everything back), taken over. A claim whose refund was
 * made is only left to record; one whose refund is unknown (under way, or its
 * request died in the middle) is a 409: nobody refunds it blind a second time.
 */
async function claimRefund(tx: Tx, returnId: string, restock: boolean): Promise<RefundClaim> {
	const [read] = await tx.select({ row: returns, token: claimToken }).from(returns).where(eq(returns.id, returnId));
	if (!read) throw returnNotFound();
	const { row, token } = read;
	if (row.status === "refunded" && row.refundId === null) {
		const attempt = await refundOfReturn(tx, row);
		if (attempt?.status === "succeeded") return { kind: "settle", row, refundId: attempt.id };
		if (attempt?.status !== "failed") throw refundUnderWay();
	} else {
		const step = returnTransition(row.status, "refund");
		if (!step.ok) throw invalidReturnTransition(row.status, "refund");
	}
	// Conditional on the claim read: of two admins refunding at once, or taking over one failed claim, one wins.
	const [won] = await tx
		.update(returns)
		.set({ status: "refunded", restock, updatedAt: sql`now()` })
		.where(and(eq(returns.id, returnId), eq(returns.status, row.status), sql`${claimToken} = ${token}`))
		.returning({ token: claimToken });
	if (!won) throw row.status === "refunded" ? refundUnderWay() : invalidReturnTransition("refunded", "refund");
	const lines = await tx.select().from(returnLines).where(eq(returnLines.returnId, returnId));
	return { kind: "refund", row, token: won.token, lines: bySku(lines).map((line) => ({ sku: line.sku, quantity: line.quantity })) };
}

/**
 * received → refunded: the return's lines are refunded through `refundPart`
 * (a partial refund of those lines as it prices them, with or without
 * restocking), which also e-mails the shopper the amount.
 *
 * The return is claimed first, so a second admin's refund is a 409 before
 * any money moves. When `refundPart` fails, what happened to the money
 * decides: a refund that was made is recorded on the return; one that was
 * not (refused, or the provider failed and it gave everything back) gives
 * the claim back, the return is received again and the error is answered
 * (409, 502); one whose outcome is unknown leaves the claim as it is.
 */
export async function refundReturn(env: Env, db: Db, returnId: string, restock: boolean, actor: ReturnActor): Promise<AdminReturnView> {
	const claim = await db.transaction((tx) => claimRefund(tx, returnId, restock));
	// For the audit log, the step is received → refunded, however many attempts it took.
	const before: ReturnRow = { ...claim.row, status: "received", refundId: null };
	if (claim.kind === "settle") {
		await settleRefund(db, returnId, claim.refundId, before, actor);
	} else {
		try {
			await refundPart(env, db, claim.row.orderId, { lines: claim.lines, restock, reason: refundReason(returnId) }, actor.userId);
		} catch (err) {
			const attempt = await refundOfReturn(db, claim.row);
			if (attempt?.status !== "succeeded") {
				if (attempt === undefined || attempt.status === "failed") {
					await db
						.update(returns)
						.set({ status: "received", restock: null, updatedAt: sql`now()` })
						.where(
							and(eq(returns.id, returnId), eq(returns.status, "refunded"), isNull(returns.refundId), sql`${claimToken} = ${claim.token}`),
						);
				}
				throw err;
			}
		}
		const attempt = await refundOfReturn(db, claim.row);
		if (attempt?.status === "succeeded") await settleRefund(db, returnId, attempt.id, before, actor);
	}
	const view = await returnView(db, returnId);
	if (!view) throw returnNotFound();
	return view;
}

/** Views of `rows`, their lines, orders and refunds read in three queries. */
async function viewsOf(db: Executor, rows: readonly ReturnRow[]): Promise<AdminReturnView[]> {
	if (rows.length === 0) return [];
	const orderIds = [...new Set(rows.map((row) => row.orderId))];
	const refundIds = rows.map((row) => row.refundId).filter((id): id is string => id !== null);
	const [lines, ordered, owners, made] = await Promise.all([
		db
			.select()
			.from(returnLines)
			.where(
				inArray(
					returnLines.returnId,
					rows.map((row) => row.id),
				),
			),
		db.select().from(orderLines).where(inArray(orderLines.orderId, orderIds)).orderBy(asc(orderLines.id)),
		db.select({ id: orders.id, email: orders.email, currency: orders.currency }).from(orders).where(inArray(orders.id, orderIds)),
		refundIds.length > 0 ? db.select().from(refunds).where(inArray(refunds.id, refundIds)) : Promise.resolve([]),
	]);
	return rows.map((row) => {
		const owner = owners.find((o) => o.id === row.orderId);
		const currency = owner?.currency ?? "EUR";
		const mine = lines.filter((line) => line.returnId === row.id);
		const refund = made.find((r) => r.id === row.refundId);
		return {
			id: row.id,
			order_id: row.orderId,
			status: row.status,
			reason: row.reason,
			note: row.note,
			restock: row.restock,
			lines: ordered
				.filter((line) => line.orderId === row.orderId)
				.flatMap((line) => {
					const returned = mine.find((r) => r.sku === line.sku);
					return returned
						? [
								{
									sku: line.sku,
									title: line.title,
									quantity: returned.quantity,
									unit_price: { amount: line.unitPriceMinor, currency },
								},
							]
						: [];
				}),
			refund: refund ? { id: refund.id, amount: { amount: refund.amountMinor, currency: refund.currency }, status: refund.status } : null,
			created_at: row.createdAt.toISOString(),
			approved_at: iso(row.approvedAt),
			received_at: iso(row.receivedAt),
			refunded_at: iso(row.refundedAt),
			closed_at: iso(row.closedAt),
			email: owner?.email ?? "",
			requested_by: row.requestedBy,
		};
	});
}

/** One return as admins see it, or undefined. */
export async function returnView(db: Executor, returnId: string): Promise<AdminReturnView | undefined> {
	const rows = await db.select().from(returns).where(eq(returns.id, returnId));
	return (await viewsOf(db, rows))[0];
}

/** The shopper's view: without the admin's fields. */
export function shopperView(view: AdminReturnView): ReturnView {
	const { email: _email, requested_by: _by, ...shopper } = view;
	return shopper;
}

/** The order's returns, newest first, and what may still be returned. */
export async function returnsOfOrder(
	env: Env,
	db: Db,
	loaded: LoadedOrder,
): Promise<{ data: ReturnView[]; returnable: ReturnOffer | null }> {
	const rows = await db
		.select()
		.from(returns)
		.where(eq(returns.orderId, loaded.order.id))
		.orderBy(desc(returns.createdAt), desc(returns.id));
	const [views, returnable] = await Promise.all([viewsOf(db, rows), returnOffer(env, db, loaded)]);
	return { data: views.map(shopperView), returnable };
}

/** Timestamps as text with microseconds: a Date would round them to milliseconds and break keyset cursors. */
const createdAtText = sql<string>`to_char(${returns.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const RETURN_ID = /^ret_[0-9a-z]{20}$/;

export interface AdminReturnFilter {
	status?: ReturnStatus | undefined;
	limit: number;
	cursor?: string | undefined;
}

/** Every return, newest first, optionally of one status; `next_cursor` continues the same query. */
export async function listReturnsForAdmin(
	db: Db,
	filter: AdminReturnFilter,
): Promise<{ data: AdminReturnView[]; next_cursor: string | null }> {
	const where: SQL[] = [];
	if (filter.status) where.push(eq(returns.status, filter.status));
	if (filter.cursor) {
		const value = decodeCursor(filter.cursor);
		// Checked before it reaches SQL: a malformed timestamp would fail the cast and answer 500.
		if (!Array.isArray(value) || value.length !== 2) throw invalidCursor();
		const [at, id] = value as unknown[];
		if (typeof at !== "string" || typeof id !== "string" || !CURSOR_TIMESTAMP.test(at) || !RETURN_ID.test(id)) throw invalidCursor();
		where.push(sql`(${returns.createdAt}, ${returns.id}) < (${at}::timestamptz, ${id})`);
	}
	const rows = await db
		.select({ row: returns, at: createdAtText })
		.from(returns)
		.where(where.length > 0 ? and(...where) : undefined)
		.orderBy(desc(returns.createdAt), desc(returns.id))
		.limit(filter.limit + 1);
	const shown = rows.slice(0, filter.limit);
	const last = shown.at(-1);
	return {
		data: await viewsOf(
			db,
			shown.map((r) => r.row),
		),
		next_cursor: rows.length > filter.limit && last ? encodeCursor([last.at, last.row.id]) : null,
	};
}
