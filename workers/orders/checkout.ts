import { eq, getTableColumns, sql } from "drizzle-orm";
import type { WithSubquery } from "drizzle-orm/subquery";
import type { CartCaller, CartLine } from "../../durable-objects/cart.ts";
import type { IdempotencyClaim } from "../api/middleware/idempotency.ts";
import { hashToken, randomToken } from "../auth/secrets.ts";
import { cartFailure, cartNotFound, cartStub, isSellable, skuRows } from "../carts/carts.ts";
import type { Database, Executor } from "../db/client.ts";
import { orderEvents, orderLines, orders, outbox, payments, type ShippingAddress } from "../db/schema.ts";
import { DomainError, type ErrorCode } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";
import { type Line, releaseAll, reserveAll, type ShortLine } from "../inventory/reservations.ts";
import { PaymentProviderError } from "../payments/provider.ts";
import { discountOf, normalizeCode, redeem, validateDiscount } from "./discounts.ts";
import { cancelUnpaid } from "./lifecycle.ts";
import { type LoadedOrder, loadOrder, type OrderLineRow, type OrderView, type PaymentRow, viewOf } from "./orders.ts";
import { type OutboxMessage, outboxRows, publish } from "./outbox.ts";
import { paymentsFor } from "./payments.ts";
import { computeTotals, pricingConfig } from "./pricing.ts";

export interface CheckoutInput {
	cartId: string;
	email: string;
	shippingAddress: ShippingAddress;
	discountCode?: string;
}

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

/** Expiry backstop: checked this long after the reservation's own expiry. */
const EXPIRY_GRACE_SECONDS = 60;

export function reservationTtlMs(env: Env): number {
	const seconds = Number(env.RESERVATION_TTL_SECONDS);
	return (Number.isFinite(seconds) && seconds > 0 ? seconds : 900) * 1000;
}

/**
 * Stock reserved for a checkout before its idempotency key is claimed. In a
 * flash sale most shoppers find the SKU sold out; reserving first answers them
 * from the Durable Object alone, without a database connection, so the few who
 * win are not queued behind the many who lose. The hold has an id of its own,
 * so a duplicate request holds its own units for the moment it takes to find
 * the key claimed, and gives them back; nothing else happens before the claim.
 */
export interface CartHold {
	cartId: string;
	orderId: string;
	cartLines: CartLine[];
	expiresAt: number;
	/** Set by checkout when it takes the hold over; until then the caller must release it. */
	adopted: boolean;
}

export type HoldOutcome = { kind: "held"; hold: CartHold } | { kind: "short"; short: ShortLine[] } | { kind: "skip" };

/**
 * Reads the caller's cart and takes over the stock the shopper held for it
 * (`POST /v1/carts/{id}/hold`) or, without one, reserves its lines under a
 * new order id. "skip" when there is nothing to hold (no such cart for this
 * caller, an empty cart): checkout then answers that itself, after the claim.
 */
export async function holdCart(env: Env, caller: CartCaller, cartId: string): Promise<HoldOutcome> {
	const taken = await cartStub(env, cartId).takeHold(caller);
	if (!taken.ok || taken.cart.cart.lines.length === 0) return { kind: "skip" };
	const { cart, hold } = taken.cart;
	if (hold)
		return { kind: "held", hold: { cartId, orderId: hold.orderId, cartLines: cart.lines, expiresAt: hold.expiresAt, adopted: false } };
	const orderId = newId("ord");
	const lines = cart.lines.map((line) => ({ sku: line.sku, quantity: line.quantity }));
	const held = await reserveStock(env, orderId, lines, reservationTtlMs(env));
	if (!held.ok) return { kind: "short", short: held.short };
	return { kind: "held", hold: { cartId, orderId, cartLines: cart.lines, expiresAt: held.expiresAt, adopted: false } };
}

/**
 * Holds stock for the caller's cart until checkout (`POST /v1/carts/{id}/hold`):
 * every line reserved, all or nothing, for the reservation lifetime, under the
 * id the order will have. A hold that still covers the cart is answered as it
 * is (`created` false): holding again neither takes more stock nor extends it.
 */
export async function holdCartStock(
	env: Env,
	caller: CartCaller,
	cartId: string,
): Promise<{ hold: { lines: CartLine[]; expiresAt: number }; created: boolean }> {
	const result = await cartStub(env, cartId)
		.holdStock(caller, newId("ord"), reservationTtlMs(env))
		.catch((cause) => {
			throw inventoryUnavailable(cause);
		});
	if (result.ok) return { hold: result.hold, created: result.created };
	switch (result.reason) {
		case "short":
			throw outOfStock(result.short);
		case "empty":
			throw unprocessable("cart_empty", "Add items to the cart before holding its stock.");
		default:
			throw cartFailure(result.reason);
	}
}

/** Gives back the stock held for the caller's cart; answers whether there was a hold. */
export async function releaseCartStock(env: Env, caller: CartCaller, cartId: string): Promise<boolean> {
	const released = await cartStub(env, cartId).releaseHold(caller);
	if (!released.ok) throw cartNotFound();
	const hold = released.cart.released;
	if (hold) await releaseAll(env, hold.orderId, hold.lines);
	return hold !== null;
}

async function reserveStock(env: Env, orderId: string, lines: readonly Line[], ttlMs: number) {
	return reserveAll(env, orderId, lines, ttlMs).catch((cause) => {
		throw inventoryUnavailable(cause);
	});
}

function inventoryUnavailable(cause: unknown): DomainError {
	return new DomainError("inventory_unavailable", {
		detail: "Stock could not be reserved. Retry shortly.",
		retryAfterSeconds: 2,
		cause,
	});
}

export function outOfStock(short: ShortLine[]): DomainError {
	return new DomainError("out_of_stock", {
		detail: `Not enough stock for ${short.map((s) => s.sku).join(", ")}.`,
		extensions: { lines: short },
	});
}

function unprocessable(code: ErrorCode, detail: string, extensions: Record<string, unknown> = {}): DomainError {
	return new DomainError(code, { detail, extensions });
}

/**
 * Checkout (flow 3 of the architecture). The cart is read but never changed:
 * it is emptied by the payment, so any failure here leaves it as it was.
 *
 * 1. Re-price every line from the Postgres primary (never the cart, KV, a
 *    replica or the client) and check the discount code.
 * 2. Reserve every line in its InventoryItem, all or nothing (409 out_of_stock
 *    names the short lines).
 * 3. One statement (see `place`): the order, its lines, its payment row, its
 *    history, an outbox row for the expiry backstop, and the idempotency
 *    recovery point; with a discount code, its use (atomic) is taken first in
 *    the same transaction. If it fails, the reservation is released.
 * 4. Create the payment with the provider (its idempotency key is the order
 *    id). If the provider fails, the order is cancelled, stock and discount
 *    released, and the answer is 502/503.
 *
 * A retry that finds a recovery point (the process died after step 3) resumes
 * at step 4 for the same order instead of placing a second one.
 */
/** What checkout needs of the request's execution context. */
export interface WaitUntil {
	waitUntil(promise: Promise<unknown>): void;
}

export async function checkout(
	env: Env,
	ctx: WaitUntil,
	database: Database,
	caller: CartCaller,
	input: CheckoutInput,
	claim: IdempotencyClaim | undefined,
	hold?: CartHold,
): Promise<CheckoutResult> {
	const db = database.primary;
	const recovered = claim?.recovery as { order_id?: string; order_token?: string } | null | undefined;
	if (recovered?.order_id) {
		const loaded = await loadOrder(db, recovered.order_id);
		if (loaded) return finishPayment(env, ctx, database, loaded, recovered.order_token, claim);
	}

	let cartLines: CartLine[];
	if (hold && hold.cartId === input.cartId) {
		cartLines = hold.cartLines;
	} else {
		const snapshot = await cartStub(env, input.cartId).snapshot(caller);
		if (!snapshot.ok) throw cartNotFound();
		cartLines = snapshot.cart.lines;
	}
	if (cartLines.length === 0) throw unprocessable("cart_empty", "Add items to the cart before checking out.");

	const rows = await skuRows(
		db,
		cartLines.map((line) => line.sku),
	);
	const unavailable = cartLines.filter((line) => {
		const row = rows.get(line.sku);
		return !row || !isSellable(row);
	});
	if (unavailable.length > 0) {
		throw unprocessable("items_unavailable", "Remove the items that are no longer sold, then check out again.", {
			skus: unavailable.map((line) => line.sku),
		});
	}
	const priced = cartLines.map((line) => {
		const row = rows.get(line.sku);
		if (!row) throw new Error("unreachable: line checked above");
		return { line, row };
	});
	const currencies = new Set(priced.map(({ row }) => row.currency));
	if (currencies.size !== 1) {
		throw unprocessable("mixed_currency", "Every item of one order must be priced in the same currency.", {
			currencies: [...currencies],
		});
	}
	const currency = [...currencies][0] as string;
	const subtotal = priced.reduce((sum, { line, row }) => sum + row.priceMinor * line.quantity, 0);
	const code = input.discountCode ? normalizeCode(input.discountCode) : null;
	const discount = code ? await validateDiscount(db, code, currency, subtotal) : null;
	const country = input.shippingAddress.country.toUpperCase();
	const totals = computeTotals(pricingConfig(env), currency, country, subtotal, discount ? discountOf(discount) : null);
	if (!totals) throw unprocessable("currency_not_supported", `Orders in ${currency} cannot be shipped.`);

	const lines: Line[] = cartLines.map((line) => ({ sku: line.sku, quantity: line.quantity }));
	const ttlMs = reservationTtlMs(env);
	let orderId: string;
	let held: Awaited<ReturnType<typeof reserveAll>>;
	if (hold && hold.cartId === input.cartId) {
		// The stock was reserved before the idempotency key was claimed (see holdCart): from here on it is ours to release.
		hold.adopted = true;
		orderId = hold.orderId;
		held = { ok: true, expiresAt: hold.expiresAt };
	} else {
		orderId = newId("ord");
		held = await reserveStock(env, orderId, lines, ttlMs);
	}
	if (!held.ok) throw outOfStock(held.short);
	const orderToken = caller.userId ? undefined : randomToken();
	const placement: Placement = {
		order: {
			id: orderId,
			userId: caller.userId ?? null,
			email: input.email,
			currency,
			subtotalMinor: totals.subtotal,
			discountMinor: totals.discount,
			shippingMinor: totals.shipping,
			taxMinor: totals.tax,
			totalMinor: totals.total,
			discountCode: code,
			shippingAddress: { ...input.shippingAddress, country },
			cartId: input.cartId,
			accessTokenHash: orderToken ? await hashToken(orderToken) : null,
			reservationExpiresAt: new Date(held.expiresAt),
		},
		lines: priced.map(({ line, row }) => ({
			orderId,
			sku: line.sku,
			productId: row.productId,
			variantId: row.variantId,
			title: row.variantTitle ? `${row.productTitle} — ${row.variantTitle}` : row.productTitle,
			unitPriceMinor: row.priceMinor,
			quantity: line.quantity,
			lineTotalMinor: row.priceMinor * line.quantity,
		})),
		payment: {
			id: newId("pay"),
			orderId,
			provider: env.PAYMENT_PROVIDER,
			status: "requires_action",
			amountMinor: totals.total,
			refundedMinor: 0,
			currency,
		},
		event: {
			orderId,
			type: "place",
			toStatus: "pending_payment",
			actor: caller.userId ?? "guest",
			data: { tax_rate_bp: totals.taxRate, lines: lines.length },
		},
		outbox: [
			{
				queue: "orders",
				id: `order.expiry_check:${orderId}`,
				type: "order.expiry_check",
				data: { order_id: orderId },
				delaySeconds: Math.ceil(ttlMs / 1000) + EXPIRY_GRACE_SECONDS,
			},
		],
		recovery: claim ? { claim, value: { order_id: orderId, ...(orderToken ? { order_token: orderToken } : {}) } } : undefined,
	};
	let outboxIds: number[] = [];
	let placed: LoadedOrder;
	try {
		// Without a discount code the placement is one statement, atomic on its own: no transaction is
		// held open across round trips. A code's use is taken in the same transaction, before it.
		[placed, outboxIds] = code
			? await db.transaction(async (tx) => {
					await redeem(tx, code);
					return place(tx, placement);
				})
			: await place(db, placement);
	} catch (err) {
		await releaseAll(env, orderId, lines);
		throw err;
	}
	ctx.waitUntil(publish(env, db, outboxIds).catch(() => {}));
	return finishPayment(env, ctx, database, placed, orderToken, claim);
}

interface Placement {
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
async function place(db: Executor, placement: Placement): Promise<[LoadedOrder, number[]]> {
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
async function finishPayment(
	env: Env,
	_ctx: WaitUntil,
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
