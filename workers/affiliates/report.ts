import { and, asc, desc, eq, gte, lt, notInArray, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Db } from "../db/client.ts";
import { affiliateCommissions, affiliates, orders } from "../db/schema.ts";
import { CURSOR_TIMESTAMP, decodeCursor, encodeCursor, invalidCursor } from "../domain/cursor.ts";
import type { Money } from "../domain/money.ts";
import type { OrderStatus } from "../orders/state.ts";
import { affiliateNotFound, readAffiliate } from "./affiliates.ts";

/**
 * What affiliates earned, for admins: per affiliate and currency over a date
 * range (`affiliateReport`), and one affiliate's orders (`affiliateOrders`).
 * Both read the commission rows (commissions.ts), so they show exactly what
 * was accrued and reversed.
 */

/** Most rows one report answers (affiliates × currencies). */
export const MAX_REPORT_ROWS = 1000;

/**
 * Orders that sold nothing stay out of the report: an unpaid order has no
 * commission row anyway, and a paid order that was cancelled (refunded in
 * full before it shipped) was never a sale. A refunded order stays, with its
 * commission shown reversed.
 */
const NOT_SOLD: OrderStatus[] = ["pending_payment", "payment_review", "cancelled"];

export interface ReportRange {
	/** First day, `YYYY-MM-DD` (UTC), inclusive; absent: from the start. */
	from?: string | undefined;
	/** Last day, `YYYY-MM-DD` (UTC), inclusive; absent: up to now. */
	to?: string | undefined;
}

export interface AffiliateReportRow {
	affiliate_id: string;
	code: string;
	name: string;
	currency: string;
	orders: number;
	sold: Money;
	commission: Money;
	reversed: Money;
	net: Money;
}

export interface AffiliateReport {
	from: string | null;
	to: string | null;
	data: AffiliateReportRow[];
}

const startOfDay = (day: string) => new Date(`${day}T00:00:00.000Z`);
const dayAfter = (day: string) => new Date(startOfDay(day).getTime() + 86_400_000);
const total = (column: AnyPgColumn) => sql<number>`coalesce(sum(${column}), 0)`.mapWith(Number);

/**
 * Per affiliate and currency, the orders paid within the range (the day the
 * commission was accrued, UTC): how many, what they sold, the commission
 * they earned, what refunds took back of it so far, and what is left.
 */
export async function affiliateReport(db: Db, range: ReportRange): Promise<AffiliateReport> {
	const conditions: SQL[] = [notInArray(orders.status, NOT_SOLD)];
	if (range.from) conditions.push(gte(affiliateCommissions.createdAt, startOfDay(range.from)));
	if (range.to) conditions.push(lt(affiliateCommissions.createdAt, dayAfter(range.to)));
	const rows = await db
		.select({
			affiliateId: affiliates.id,
			code: affiliates.code,
			name: affiliates.name,
			currency: affiliateCommissions.currency,
			orders: sql<number>`count(*)`.mapWith(Number),
			sold: total(affiliateCommissions.baseMinor),
			commission: total(affiliateCommissions.commissionMinor),
			reversed: total(affiliateCommissions.reversedMinor),
		})
		.from(affiliateCommissions)
		.innerJoin(affiliates, eq(affiliates.id, affiliateCommissions.affiliateId))
		.innerJoin(orders, eq(orders.id, affiliateCommissions.orderId))
		.where(and(...conditions))
		.groupBy(affiliates.id, affiliates.code, affiliates.name, affiliateCommissions.currency)
		.orderBy(asc(affiliates.code), asc(affiliateCommissions.currency))
		.limit(MAX_REPORT_ROWS);
	return {
		from: range.from ?? null,
		to: range.to ?? null,
		data: rows.map((row) => {
			const money = (amount: number): Money => ({ amount, currency: row.currency });
			return {
				affiliate_id: row.affiliateId,
				code: row.code,
				name: row.name,
				currency: row.currency,
				orders: row.orders,
				sold: money(row.sold),
				commission: money(row.commission),
				reversed: money(row.reversed),
				net: money(row.commission - row.reversed),
			};
		}),
	};
}

export interface AffiliateOrderView {
	order_id: string;
	status: OrderStatus;
	placed_at: string;
	paid_at: string;
	total: Money;
	rate_bp: number;
	sold: Money;
	commission: Money;
	reversed: Money;
	net: Money;
}

/** Timestamps as text with microseconds: a Date would round them to milliseconds and break keyset cursors. */
const isoText = (column: AnyPgColumn) => sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const ORDER_ID = /^ord_[0-9a-z]{20}$/;

function decodeOrdersCursor(text: string): { at: string; orderId: string } {
	const value = decodeCursor(text);
	// Checked before it reaches SQL: a malformed timestamp would fail the cast and answer 500.
	if (!Array.isArray(value) || value.length !== 2) throw invalidCursor();
	const [at, orderId] = value as unknown[];
	if (typeof at !== "string" || typeof orderId !== "string" || !CURSOR_TIMESTAMP.test(at) || !ORDER_ID.test(orderId)) {
		throw invalidCursor();
	}
	return { at, orderId };
}

/**
 * The orders that earned an affiliate commission (paid ones, whatever became
 * of them), newest payment first, with the commission of each. 404 for an
 * unknown affiliate.
 */
export async function affiliateOrders(
	db: Db,
	affiliateId: string,
	page: { limit: number; cursor?: string | undefined },
): Promise<{ data: AffiliateOrderView[]; next_cursor: string | null }> {
	if (!(await readAffiliate(db, affiliateId))) throw affiliateNotFound();
	const after = page.cursor ? decodeOrdersCursor(page.cursor) : undefined;
	const rows = await db
		.select({
			orderId: affiliateCommissions.orderId,
			status: orders.status,
			placedAt: orders.createdAt,
			paidAt: isoText(affiliateCommissions.createdAt),
			totalMinor: orders.totalMinor,
			currency: affiliateCommissions.currency,
			rateBp: affiliateCommissions.rateBp,
			baseMinor: affiliateCommissions.baseMinor,
			commissionMinor: affiliateCommissions.commissionMinor,
			reversedMinor: affiliateCommissions.reversedMinor,
		})
		.from(affiliateCommissions)
		.innerJoin(orders, eq(orders.id, affiliateCommissions.orderId))
		.where(
			and(
				eq(affiliateCommissions.affiliateId, affiliateId),
				after
					? sql`(${affiliateCommissions.createdAt}, ${affiliateCommissions.orderId}) < (${after.at}::timestamptz, ${after.orderId})`
					: undefined,
			),
		)
		.orderBy(desc(affiliateCommissions.createdAt), desc(affiliateCommissions.orderId))
		.limit(page.limit + 1);
	const shown = rows.slice(0, page.limit);
	const last = shown.at(-1);
	return {
		data: shown.map((row) => {
			const money = (amount: number): Money => ({ amount, currency: row.currency });
			return {
				order_id: row.orderId,
				status: row.status,
				placed_at: row.placedAt.toISOString(),
				paid_at: new Date(row.paidAt).toISOString(),
				total: money(row.totalMinor),
				rate_bp: row.rateBp,
				sold: money(row.baseMinor),
				commission: money(row.commissionMinor),
				reversed: money(row.reversedMinor),
				net: money(row.commissionMinor - row.reversedMinor),
			};
		}),
		next_cursor: rows.length > page.limit && last ? encodeCursor([last.paidAt, last.orderId]) : null,
	};
}
