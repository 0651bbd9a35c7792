import { eq, getTableColumns, sql } from "drizzle-orm";
import type { WithSubquery } from "drizzle-orm/subquery";
import type { Database, Executor } from "../db/client.ts";
import { orderEvents, orderLines, orders, outbox, payments } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import type { IdempotencyClaim } from "../idempotency/store.ts";
import { PaymentProviderError } from "../payments/provider.ts";
import { cancelUnpaid } from "./lifecycle.ts";
import type { LoadedOrder, OrderLineRow, OrderView, PaymentRow } from "./orders.ts";
import { viewOf } from "./orders.ts";
import { type OutboxMessage, outboxRows } from "./outbox.ts";
import { paymentsFor } from "./payments.ts";

/**
 * The two writes of placing an order, below the place-order service: the
 * order in one statement (`writeOrder`), then its payment with the provider
 * (`startPayment`).
 */

export interface PaymentInstructions {
	provider: string;
	id: string;
	status: string;
	client_secret?: string;
	confirm_url?: string;
}

export interface CheckoutResult {
	order: OrderView;
	payment: PaymentInstructions | null;
	/** Guests only: the token that reads this order (`X-Order-Token`), shown in this answer only. */
	order_token?: string;
}

/** Everything one order placement writes. */
export interface Placement {
	order: typeof orders.$inferInsert & { id: string };
	lines: (Omit<typeof orderLines.$inferInsert, "id"> & Omit<OrderLineRow, "id">)[];
	/** Every column but the provider's ids and the timestamps, so the row answered is the row written. */
	payment: Omit<PaymentRow, "providerPaymentId" | "providerRefundId" | "createdAt" | "updatedAt">;
	event: typeof orderEvents.$inferInsert;
	outbox: OutboxMessage[];
	/** The idempotency recovery point, written with the order (see `IdempotencyClaim.remember`). */
	recovery?: { claim: IdempotencyClaim; value: Record<string, unknown> };
}

/**
 * Writes an order in one statement: the order, its lines, its payment row,
 * its history, its outbox rows and the idempotency recovery point, as
 * data-modifying CTEs of the order's insert. One statement is atomic by
 * itself and costs one round trip (against ten for the same writes one by
 * one inside a transaction), so nothing holds a transaction open between
 * the edge and the database. What the answer shows is what was written: the
 * rows come back from the statement, not from a read afterwards.
 */
export async function writeOrder(db: Executor, placement: Placement): Promise<[LoadedOrder, number[]]> {
	const placedLines = db
		.$with("placed_lines")
		.as(db.insert(orderLines).values(placement.lines).returning({ id: orderLines.id, sku: orderLines.sku }));
	const placedPayment = db.$with("placed_payment").as(db.insert(payments).values(placement.payment).returning({ id: payments.id }));
	const placedEvent = db.$with("placed_event").as(db.insert(orderEvents).values(placement.event).returning({ id: orderEvents.id }));
	const placedOutbox = db.$with("placed_outbox").as(db.insert(outbox).values(outboxRows(placement.outbox)).returning({ id: outbox.id }));
	const ctes: WithSubquery[] = [placedLines, placedPayment, placedEvent, placedOutbox];
	if (placement.recovery) ctes.push(placement.recovery.claim.rememberAs(db, "recovery_point", placement.recovery.value));
	const [row] = await db
		.with(...ctes)
		.insert(orders)
		.values(placement.order)
		.returning({
			...getTableColumns(orders),
			// bigint ids arrive as strings; SKUs are unique within an order.
			lineIds: sql<Record<string, string | number>>`(select json_object_agg(l.sku, l.id) from ${placedLines} l)`,
			outboxIds: sql<(string | number)[]>`(select coalesce(array_agg(o.id order by o.id), '{}') from ${placedOutbox} o)`,
		});
	if (!row) throw new Error("the order insert returned no row");
	const { lineIds, outboxIds, ...order } = row;
	const lines = placement.lines.map((line) => {
		const id = lineIds[line.sku];
		if (id === undefined) throw new Error(`no id came back for the line of ${line.sku}`);
		return { ...line, id: Number(id) };
	});
	// Every default of the statement is its own now(): the payment's timestamps are the order's.
	const payment = {
		...placement.payment,
		providerPaymentId: null,
		providerRefundId: null,
		createdAt: order.createdAt,
		updatedAt: order.createdAt,
	};
	return [{ order, lines, payment }, outboxIds.map(Number)];
}

/**
 * Creates (or, on a resumed request, re-creates: the provider's idempotency key
 * is the order id) the payment of a placed order and answers the checkout.
 */
export async function startPayment(
	env: Env,
	database: Database,
	loaded: LoadedOrder,
	orderToken: string | undefined,
	claim: IdempotencyClaim | undefined,
): Promise<CheckoutResult> {
	const { order, payment } = loaded;
	const token = orderToken ? { order_token: orderToken } : {};
	if (order.status !== "pending_payment" || !payment) return { order: viewOf(loaded), payment: null, ...token };
	const provider = paymentsFor(env);
	let created: Awaited<ReturnType<typeof provider.createPayment>>;
	try {
		created = await provider.createPayment({
			orderId: order.id,
			amount: order.totalMinor,
			currency: order.currency,
			email: order.email,
			description: `Order ${order.id}`,
		});
	} catch (err) {
		const reason = err instanceof PaymentProviderError && err.kind === "rejected" ? "payment_rejected" : "payment_unavailable";
		await cancelUnpaid(env, database.primary, order.id, reason, "system");
		// The order is undone: a retry with the same key must place a new one, not resume this one.
		await claim?.forget(database.primary);
		if (reason === "payment_rejected") {
			throw new DomainError("payment_rejected", {
				detail: "The payment provider refused this payment. The order was cancelled and nothing was charged.",
				cause: err,
			});
		}
		throw new DomainError("payment_provider_unavailable", {
			detail: "The payment could not be created. The order was cancelled and its stock released; retry with a new Idempotency-Key.",
			retryAfterSeconds: 5,
			cause: err,
		});
	}
	const [updated] = await database.primary
		.update(payments)
		.set({ providerPaymentId: created.providerPaymentId, status: created.status, updatedAt: sql`now()` })
		.where(eq(payments.id, payment.id))
		.returning();
	return {
		order: viewOf({ ...loaded, payment: updated ?? payment }),
		payment: {
			provider: created.provider,
			id: created.providerPaymentId,
			status: created.status,
			...(created.clientSecret ? { client_secret: created.clientSecret } : {}),
			...(created.provider === "test" ? { confirm_url: `/v1/payments/test/${created.providerPaymentId}/confirm` } : {}),
		},
		...token,
	};
}
