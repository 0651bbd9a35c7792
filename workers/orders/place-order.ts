import type { CartCaller, CartLine, CartState } from "../../durable-objects/cart.ts";
import { attributedAffiliate } from "../affiliates/affiliates.ts";
import { hashToken, randomToken } from "../auth/secrets.ts";
import { cartFailure, cartNotFound, cartStub } from "../carts/carts.ts";
import { type Database, HOLDER_PATIENCE } from "../db/client.ts";
import type { ShippingAddress } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";
import type { WaitUntil } from "../domain/runtime.ts";
import { IDEMPOTENCY_LOCK_MS, type IdempotencyClaim, type IdempotentRequest, recoveryOf, runIdempotent } from "../idempotency/store.ts";
import type { Line } from "../inventory/reservations.ts";
import { loadOrder } from "./orders.ts";
import { publish } from "./outbox.ts";
import { type CheckoutResult, type Placement, startPayment, writeOrder } from "./placement.ts";
import { discountCustomer, redeem } from "./promotions.ts";
import { priceOrder } from "./quote.ts";
import { admitCheckoutUnits, forgetCheckoutUnits, outOfStock, releaseStock, reservationTtlMs, reserveStock } from "./stock.ts";

/** One checkout, as any surface (the API route, the storefront's form) asks for it. */
export interface PlaceOrderRequest {
	/** Who asks, resolved once by the surface: a signed-in user and/or the hash of a cart token. */
	caller: CartCaller;
	cartId: string;
	/** The client placing it (limits/client.ts), whose held units are capped. */
	client: string;
	email: string;
	shippingAddress: ShippingAddress;
	discountCode?: string | undefined;
	/** The referral code the shopper arrived with (`?ref=`); unknown or inactive codes attribute nothing. */
	affiliateCode?: string | undefined;
	/** The shipping method picked (`GET /v1/carts/{id}/shipping-methods`); the first standard one when unset. */
	shippingMethod?: string | undefined;
	/** The request's key, scope and fingerprint (see `checkoutScope`, `requestHashOf`). */
	idempotency: IdempotentRequest;
}

/** What the service needs of the request: bindings, background work and the database. */
export interface PlaceOrderContext {
	env: Env;
	ctx: WaitUntil;
	database: Database;
}

/**
 * How the surface turns the outcome into the answer the idempotency store
 * keeps and replays. `refused` renders a refusal to store (a 4xx answer), or
 * rethrows it to store nothing.
 */
export interface PlaceOrderAnswers {
	placed(result: CheckoutResult): Response;
	refused(err: DomainError): Response;
}

/** Expiry backstop: checked this long after the reservation's own expiry. */
const EXPIRY_GRACE_SECONDS = 60;

/** The idempotency scope of a checkout: the user, else the guest's cart token; null when the caller proves neither. */
export function checkoutScope(caller: CartCaller): string | null {
	if (caller.userId) return `user:${caller.userId}`;
	return caller.tokenHash ? `cart:${caller.tokenHash}` : null;
}

/** Stock reserved for this checkout before its key was claimed. */
interface Held {
	orderId: string;
	lines: CartLine[];
	expiresAt: number;
}

/** Units reserved under one id (the order's), to give back if no order takes them. */
interface Reservation {
	id: string;
	lines: Line[];
}

/**
 * Checkout (flow 3 of the architecture), start to end:
 *
 * 1. **Hold**, before any database work: the Cart object records the key
 *    with the id its order will have (`beginCheckout`) and hands over the
 *    stock the shopper held, or the lines are reserved now. A shopper who
 *    cannot get the stock is answered 409 by the Durable Objects alone. A key
 *    the cart has seen before steps aside: what it gets (the stored answer,
 *    409 while it runs, a resumption) is the idempotency store's to say,
 *    whatever the stock is now.
 * 2. **Claim** the key (`runIdempotent`): a repeat is replayed from here.
 * 3. **Re-price** every line from the Postgres primary and check the discount.
 * 4. **Reserve** (the hold, or now under the key's order id: a reservation is
 *    idempotent per id, so a retry never takes the units twice).
 * 5. **Place** the order in one statement (`writeOrder`), with the recovery
 *    point a retry resumes from.
 * 6. **Pay**: the payment is created with the provider (`startPayment`).
 *
 * What was reserved and not placed is released before the answer, except
 * when the claim went to another request with the same key, or was already
 * answered: the units are reserved under the key's order id, which that
 * request places (or they expire with the reservation).
 * The cart is never changed: the payment empties it.
 */
export async function placeOrder(
	context: PlaceOrderContext,
	request: PlaceOrderRequest,
	answers: PlaceOrderAnswers,
): Promise<{ replayed: boolean; response: Response }> {
	const { env, database } = context;
	const { caller, cartId } = request;
	const stub = cartStub(env, cartId);
	const pendingMs = reservationTtlMs(env) + EXPIRY_GRACE_SECONDS * 1000;
	let start = await stub.beginCheckout(caller, request.idempotency.key, newId("ord"), pendingMs, request.client);
	if (!start.ok && start.reason === "rate_limited") throw cartFailure(start.reason, undefined, undefined, start.rateLimit);
	if (start.ok && start.cart.kind === "pending") {
		const pending = await pendingOrder(context, request, start.cart, answers);
		if (pending) return pending;
		// That order is over (or was never placed): this checkout may place a new one.
		await stub.clearPendingOrder(start.cart.orderId);
		start = await stub.beginCheckout(caller, request.idempotency.key, newId("ord"), pendingMs, request.client);
		if (start.ok && start.cart.kind === "pending") throw checkoutInProgress();
	}
	let cart: CartState | undefined;
	let orderId: string | undefined;
	let held: Held | undefined;
	if (start.ok && start.cart.kind !== "pending") {
		({ cart, orderId } = start.cart);
		const lines = start.cart.cart.lines;
		if (start.cart.kind === "new" && lines.length > 0) {
			const adopted = start.cart.hold;
			const key = request.idempotency.key;
			const forgotten = orderId;
			const forget = () => context.ctx.waitUntil(stub.forgetCheckout(key, forgotten).catch(() => {}));
			if (adopted) held = { orderId, lines: adopted.lines, expiresAt: adopted.expiresAt };
			else {
				const units = lines.reduce((sum, line) => sum + line.quantity, 0);
				try {
					await admitCheckoutUnits(env, request.client, cartId, units, Date.now() + reservationTtlMs(env));
				} catch (err) {
					forget();
					throw err;
				}
				const reserved = await reserveStock(env, orderId, lines);
				if (!reserved.ok) {
					forget();
					context.ctx.waitUntil(forgetCheckoutUnits(env, request.client, cartId).catch(() => {}));
					throw outOfStock(reserved.short);
				}
				held = { orderId, lines, expiresAt: reserved.expiresAt };
			}
			// Holding stock, this checkout waits its turn for a connection rather than give the units back.
			database.wait(HOLDER_PATIENCE);
		}
	}

	let reservation: Reservation | undefined = held ? { id: held.orderId, lines: held.lines } : undefined;
	let placedId: string | undefined;
	let ranCheckout = false;
	let claimFault = false;
	try {
		return await runIdempotent(database.primary, request.idempotency, async (claim) => {
			ranCheckout = true;
			try {
				const result = await checkout(context, request, claim, { cart, orderId, held }, (outcome) => {
					if ("placed" in outcome) placedId = outcome.placed;
					else reservation = outcome.reserved;
				});
				return answers.placed(result);
			} catch (err) {
				if (err instanceof DomainError) return answers.refused(err);
				throw err;
			}
		});
	} catch (err) {
		claimFault = !ranCheckout && !(err instanceof DomainError);
		throw err;
	} finally {
		// The units are this request's to give back only if it ran the checkout and placed nothing with
		// them, or could not reach the key at all. A replayed or refused claim leaves them: they are
		// reserved under the key's order id, which the request holding the claim places (or they expire).
		const unused = ranCheckout ? reservation?.id !== placedId : claimFault;
		if (reservation && unused) {
			await releaseStock(env, reservation.id, reservation.lines);
			// Nothing holds those units any more: they stop counting against the client's cap.
			context.ctx.waitUntil(forgetCheckoutUnits(env, request.client, cartId).catch(() => {}));
		}
		// A new checkout that placed nothing (refused, or the database was down) leaves no unpaid order
		// behind, so the cart's next checkout starts afresh instead of waiting for this one.
		const placedNothing = ranCheckout ? placedId === undefined : claimFault;
		if (placedNothing && start.ok && start.cart.kind === "new") await stub.clearPendingOrder(start.cart.orderId).catch(() => {});
	}
}

/** 409 while another checkout of the same cart is placing its order. */
function checkoutInProgress(): DomainError {
	return new DomainError("idempotency_in_progress", {
		detail: "Another checkout of this cart is in progress. Retry shortly.",
		retryAfterSeconds: 2,
	});
}

/**
 * A cart with an unpaid order does not place a second one: its checkout
 * answers that order, as its own checkout did (the order, the payment to
 * complete and, for a guest, the order token kept with the first key), until
 * it is paid, cancelled or expires. The answer is stored under this request's
 * key like any other. Undefined when the order is over or was never placed;
 * a checkout that is still placing it is a 409.
 */
async function pendingOrder(
	context: PlaceOrderContext,
	request: PlaceOrderRequest,
	pending: { orderId: string; key: string; startedAt: number },
	answers: PlaceOrderAnswers,
): Promise<{ replayed: boolean; response: Response } | undefined> {
	const { env, database } = context;
	const loaded = await loadOrder(database.primary, pending.orderId);
	if (!loaded) {
		if (Date.now() - pending.startedAt < IDEMPOTENCY_LOCK_MS) throw checkoutInProgress();
		return undefined;
	}
	const { order } = loaded;
	const live = order.status === "pending_payment" && (order.reservationExpiresAt?.getTime() ?? 0) > Date.now();
	if (!live) return undefined;
	const first = await recoveryOf(database.primary, request.idempotency.scope, pending.key);
	const orderToken = typeof first?.order_token === "string" ? first.order_token : undefined;
	return runIdempotent(database.primary, request.idempotency, async () => {
		try {
			return answers.placed(await startPayment(env, database, loaded, orderToken, undefined));
		} catch (err) {
			if (err instanceof DomainError) return answers.refused(err);
			throw err;
		}
	});
}

/** Steps 3 to 6, holding the claim. `progress` reports what was reserved and when the order is written. */
async function checkout(
	context: PlaceOrderContext,
	request: PlaceOrderRequest,
	claim: IdempotencyClaim,
	stock: { cart: CartState | undefined; orderId: string | undefined; held: Held | undefined },
	progress: (outcome: { placed: string } | { reserved: Reservation }) => void,
): Promise<CheckoutResult> {
	const { env, database } = context;
	const db = database.primary;
	const recovered = claim.recovery as { order_id?: string; order_token?: string } | null;
	if (recovered?.order_id) {
		const loaded = await loadOrder(db, recovered.order_id);
		if (loaded) {
			progress({ placed: loaded.order.id });
			return startPayment(env, database, loaded, recovered.order_token, claim);
		}
	}
	if (!stock.cart) throw cartNotFound();
	const cartLines = stock.held?.lines ?? stock.cart.lines;
	if (cartLines.length === 0) throw new DomainError("cart_empty", { detail: "Add items to the cart before checking out." });
	const customer = discountCustomer(request.caller.userId, request.email);

	const { priced, market, currency, totals, code, method, promotions } = await priceOrder(context.env, context.database.primary, {
		market: stock.cart.market,
		lines: cartLines,
		country: request.shippingAddress.country,
		region: request.shippingAddress.region ?? null,
		shippingMethod: request.shippingMethod,
		discountCode: request.discountCode,
		customer,
	});
	const lines: Line[] = cartLines.map((line) => ({ sku: line.sku, quantity: line.quantity }));
	const orderId = stock.orderId ?? newId("ord");
	let expiresAt: number;
	if (stock.held) expiresAt = stock.held.expiresAt;
	else {
		const reserved = await reserveStock(env, orderId, lines);
		if (!reserved.ok) throw outOfStock(reserved.short);
		progress({ reserved: { id: orderId, lines } });
		expiresAt = reserved.expiresAt;
	}

	// Attribution never refuses a sale: an unknown or inactive code places the order without an affiliate.
	const affiliateId = await attributedAffiliate(db, request.affiliateCode);
	const orderToken = request.caller.userId ? undefined : randomToken();
	const ttlSeconds = Math.ceil(reservationTtlMs(env) / 1000);
	const placement: Placement = {
		order: {
			id: orderId,
			userId: request.caller.userId ?? null,
			email: request.email,
			currency,
			subtotalMinor: totals.subtotal,
			discountMinor: totals.discount,
			shippingMinor: totals.shipping,
			taxMinor: totals.tax,
			totalMinor: totals.total,
			discountCode: code,
			promotions,
			marketId: market.id,
			taxMode: totals.mode,
			taxBreakdown: totals.breakdown,
			shippingMethod: { id: method.id, kind: method.kind, name: method.name },
			shippingAddress: { ...request.shippingAddress, country: request.shippingAddress.country.toUpperCase() },
			cartId: request.cartId,
			accessTokenHash: orderToken ? await hashToken(orderToken) : null,
			reservationExpiresAt: new Date(expiresAt),
			affiliateId,
		},
		lines: priced.map(({ line, row, price }, i) => {
			const taxed = totals.lines[i];
			if (!taxed) throw new Error(`no totals for line ${line.sku}`);
			return {
				orderId,
				sku: line.sku,
				productId: row.productId,
				variantId: row.variantId,
				title: row.variantTitle ? `${row.productTitle} — ${row.variantTitle}` : row.productTitle,
				unitPriceMinor: price,
				quantity: line.quantity,
				lineTotalMinor: price * line.quantity,
				discountMinor: taxed.discount,
				taxMinor: taxed.tax,
				taxRateBp: taxed.rateBp,
				refundedQuantity: 0,
				returnQuantity: 0,
			};
		}),
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
			actor: request.caller.userId ?? "guest",
			data: { market: market.id, tax_mode: totals.mode, shipping_method: method.id, lines: lines.length },
		},
		outbox: [
			{
				queue: "orders",
				id: `order.expiry_check:${orderId}`,
				type: "order.expiry_check",
				data: { order_id: orderId },
				delaySeconds: ttlSeconds + EXPIRY_GRACE_SECONDS,
			},
		],
		recovery: { claim, value: { order_id: orderId, ...(orderToken ? { order_token: orderToken } : {}) } },
	};
	// Without a promotion the placement is one statement, atomic on its own: no transaction is held
	// open across round trips. Each promotion's use is taken in the same transaction, right after it
	// (the use names the order): refused, it rolls the order back with it.
	const [loaded, outboxIds] =
		promotions.length > 0
			? await db.transaction(async (tx) => {
					const written = await writeOrder(tx, placement);
					for (const promotion of promotions) await redeem(tx, promotion, orderId, customer);
					return written;
				})
			: await writeOrder(db, placement);
	progress({ placed: orderId });
	context.ctx.waitUntil(publish(env, db, outboxIds).catch(() => {}));
	return startPayment(env, database, loaded, orderToken, claim);
}
