import { and, asc, count, desc, eq, ilike, inArray, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { addresses, orderLines, orders, payments, users } from "../db/schema.ts";
import { CURSOR_TIMESTAMP, decodeCursor, encodeCursor, invalidCursor } from "../domain/cursor.ts";
import { notFound } from "../domain/errors.ts";
import type { Money } from "../domain/money.ts";
import type { OrderStatus } from "../orders/state.ts";

/**
 * Customer accounts as admins look them up: the `/v1/admin/customers` API
 * and the console's customer pages. Read-only. Every answer is built from
 * explicit columns, so a password hash, a token hash or a cart id never
 * leaves this module, whatever the users table grows.
 */

/**
 * The orders that count as bought: paid, and on from there (fulfilled,
 * shipped, delivered, partly refunded). An order cancelled or refunded in
 * full bought nothing; one still unpaid or under review has not yet.
 */
export const SPENDING_STATUSES: readonly OrderStatus[] = ["paid", "fulfilled", "shipped", "delivered", "partially_refunded"];

/** How many of a customer's orders the detail lists, newest first. */
export const CUSTOMER_ORDERS_SHOWN = 20;

export interface CustomerSummary {
	id: string;
	email: string;
	name: string;
	role: "customer" | "admin";
	email_verified: boolean;
	created_at: string;
	/** Orders in a spending status. */
	order_count: number;
	/** What those orders came to, less what was refunded of them, per currency (by currency code). */
	total_spent: Money[];
}

export interface CustomerAddress {
	id: string;
	name: string;
	line1: string;
	line2: string | null;
	city: string;
	region: string | null;
	postal_code: string;
	country: string;
	phone: string | null;
	is_default: boolean;
	created_at: string;
	updated_at: string;
}

export interface CustomerOrder {
	id: string;
	status: OrderStatus;
	total: Money;
	refunded: Money;
	items: number;
	created_at: string;
}

export interface CustomerDetail extends CustomerSummary {
	abandoned_cart_emails: boolean;
	addresses: CustomerAddress[];
	/** The newest CUSTOMER_ORDERS_SHOWN orders, whatever their status. */
	orders: CustomerOrder[];
	/** Every order the account placed, whatever its status. */
	orders_placed: number;
}

export interface CustomerQuery {
	/** A part of the e-mail address or of the name, in any letter case. */
	q?: string | undefined;
	limit: number;
	cursor?: string | undefined;
}

/** Timestamps as text with microseconds: a Date would round them to milliseconds and break the keyset. */
const CREATED_AT = sql<string>`to_char(${users.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The columns an admin may see: never `password_hash` or `cart_id`. */
const customerColumns = {
	id: users.id,
	email: users.email,
	name: users.name,
	role: users.role,
	emailVerifiedAt: users.emailVerifiedAt,
	abandonedCartEmails: users.abandonedCartEmails,
	createdAt: CREATED_AT,
};

type CustomerRow = {
	id: string;
	email: string;
	name: string;
	role: "customer" | "admin";
	emailVerifiedAt: Date | null;
	abandonedCartEmails: boolean;
	createdAt: string;
};

const USER_ID = /^usr_[0-9a-z]{20}$/;

function decodeCustomerCursor(text: string): { createdAt: string; id: string } {
	const value = decodeCursor(text);
	// Checked before it reaches SQL: a malformed timestamp would fail the cast and answer 500.
	if (!Array.isArray(value) || value.length !== 2) throw invalidCursor();
	const [createdAt, id] = value as unknown[];
	if (typeof createdAt !== "string" || typeof id !== "string" || !CURSOR_TIMESTAMP.test(createdAt) || !USER_ID.test(id)) {
		throw invalidCursor();
	}
	return { createdAt, id };
}

/** LIKE treats % and _ as wildcards; an admin searching for "ana_b" means the characters. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/** Order counts and net spending of the given users, by user id. */
async function spendingOf(db: Db, userIds: string[]): Promise<Map<string, { orders: number; spent: Money[] }>> {
	const spending = new Map(userIds.map((id) => [id, { orders: 0, spent: [] as Money[] }]));
	if (userIds.length === 0) return spending;
	const rows = await db
		.select({
			userId: orders.userId,
			currency: orders.currency,
			orders: count(),
			spent: sql<string>`sum(greatest(${orders.totalMinor} - coalesce(${payments.refundedMinor}, 0), 0))`,
		})
		.from(orders)
		.leftJoin(payments, eq(payments.orderId, orders.id))
		.where(and(inArray(orders.userId, userIds), inArray(orders.status, [...SPENDING_STATUSES])))
		.groupBy(orders.userId, orders.currency)
		.orderBy(asc(orders.currency));
	for (const row of rows) {
		const entry = row.userId ? spending.get(row.userId) : undefined;
		if (!entry) continue;
		entry.orders += Number(row.orders);
		entry.spent.push({ amount: Number(row.spent), currency: row.currency });
	}
	return spending;
}

function summaryOf(row: CustomerRow, spending: { orders: number; spent: Money[] } | undefined): CustomerSummary {
	return {
		id: row.id,
		email: row.email,
		name: row.name,
		role: row.role,
		email_verified: row.emailVerifiedAt !== null,
		created_at: row.createdAt,
		order_count: spending?.orders ?? 0,
		total_spent: spending?.spent ?? [],
	};
}

/**
 * A page of accounts, newest first, optionally those whose e-mail address or
 * name contains `q` (case-insensitive). Admins are accounts too and are
 * listed with their role.
 */
export async function listCustomers(db: Db, query: CustomerQuery): Promise<{ data: CustomerSummary[]; next_cursor: string | null }> {
	const after = query.cursor ? decodeCustomerCursor(query.cursor) : undefined;
	const conditions: (SQL | undefined)[] = [];
	if (query.q) {
		const pattern = likePattern(query.q);
		conditions.push(or(ilike(users.email, pattern), ilike(users.name, pattern)));
	}
	if (after) conditions.push(sql`(${users.createdAt}, ${users.id}) < (${after.createdAt}::timestamptz, ${after.id})`);
	const rows = await db
		.select(customerColumns)
		.from(users)
		.where(and(...conditions))
		.orderBy(desc(users.createdAt), desc(users.id))
		.limit(query.limit + 1);
	const page = rows.slice(0, query.limit);
	const spending = await spendingOf(
		db,
		page.map((row) => row.id),
	);
	const last = page.at(-1);
	return {
		data: page.map((row) => summaryOf(row, spending.get(row.id))),
		next_cursor: rows.length > query.limit && last ? encodeCursor([last.createdAt, last.id]) : null,
	};
}

/** One account with its saved addresses and its newest orders (only its own: by user id, not by e-mail); 404 when none. */
export async function getCustomer(db: Db, id: string): Promise<CustomerDetail> {
	const [row] = await db.select(customerColumns).from(users).where(eq(users.id, id));
	if (!row) throw notFound("No customer with this id.");
	const [spending, addressRows, orderRows, [placed]] = await Promise.all([
		spendingOf(db, [id]),
		db
			.select()
			.from(addresses)
			.where(eq(addresses.userId, id))
			.orderBy(desc(addresses.isDefault), asc(addresses.createdAt), asc(addresses.id)),
		db
			.select({
				id: orders.id,
				status: orders.status,
				currency: orders.currency,
				totalMinor: orders.totalMinor,
				refundedMinor: payments.refundedMinor,
				createdAt: orders.createdAt,
				items: sql<string>`(select coalesce(sum(${orderLines.quantity}), 0) from ${orderLines} where ${orderLines.orderId} = ${orders.id})`,
			})
			.from(orders)
			.leftJoin(payments, eq(payments.orderId, orders.id))
			.where(eq(orders.userId, id))
			.orderBy(desc(orders.createdAt), desc(orders.id))
			.limit(CUSTOMER_ORDERS_SHOWN),
		db.select({ n: count() }).from(orders).where(eq(orders.userId, id)),
	]);
	return {
		...summaryOf(row, spending.get(id)),
		abandoned_cart_emails: row.abandonedCartEmails,
		addresses: addressRows.map((address) => ({
			id: address.id,
			name: address.name,
			line1: address.line1,
			line2: address.line2,
			city: address.city,
			region: address.region,
			postal_code: address.postalCode,
			country: address.country,
			phone: address.phone,
			is_default: address.isDefault,
			created_at: address.createdAt.toISOString(),
			updated_at: address.updatedAt.toISOString(),
		})),
		orders: orderRows.map((order) => ({
			id: order.id,
			status: order.status,
			total: { amount: order.totalMinor, currency: order.currency },
			refunded: { amount: order.refundedMinor ?? 0, currency: order.currency },
			items: Number(order.items),
			created_at: order.createdAt.toISOString(),
		})),
		orders_placed: placed?.n ?? 0,
	};
}
