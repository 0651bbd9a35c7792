import { type CartCaller, type CartLine, maxHeldUnitsPerClient } from "../../durable-objects/cart.ts";
import { clientHolds, type HoldAdmission } from "../../durable-objects/client-holds.ts";
import { cartFailure, cartStub } from "../carts/carts.ts";
import { DomainError } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";
import { type Line, releaseAll, reserveAll, type ShortLine } from "../inventory/reservations.ts";

/** How long a checkout or a cart hold keeps its stock (RESERVATION_TTL_SECONDS, 15 minutes by default). */
export function reservationTtlMs(env: Env): number {
	const seconds = Number(env.RESERVATION_TTL_SECONDS);
	return (Number.isFinite(seconds) && seconds > 0 ? seconds : 900) * 1000;
}

/** 409 `out_of_stock`, naming each short line with what was asked and what is left. */
export function outOfStock(short: ShortLine[]): DomainError {
	return new DomainError("out_of_stock", {
		detail: `Not enough stock for ${short.map((s) => s.sku).join(", ")}.`,
		extensions: { lines: short },
	});
}

function inventoryUnavailable(cause: unknown): DomainError {
	return new DomainError("inventory_unavailable", {
		detail: "Stock could not be reserved. Retry shortly.",
		retryAfterSeconds: 2,
		cause,
	});
}

/** Reserves every line under `orderId`, all or nothing; a fault of the InventoryItems is a 503. */
export function reserveStock(env: Env, orderId: string, lines: readonly Line[]): ReturnType<typeof reserveAll> {
	return reserveAll(env, orderId, lines, reservationTtlMs(env)).catch((cause) => {
		throw inventoryUnavailable(cause);
	});
}

/** Gives back what `reserveStock` took (idempotent; units not given back expire). */
export function releaseStock(env: Env, orderId: string, lines: readonly Line[]): Promise<void> {
	return releaseAll(env, orderId, lines);
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
	client: string,
): Promise<{ hold: { lines: CartLine[]; expiresAt: number }; created: boolean }> {
	const result = await cartStub(env, cartId)
		.holdStock(caller, newId("ord"), reservationTtlMs(env), { client, maxUnits: maxHeldUnitsPerClient(env) })
		.catch((cause) => {
			throw inventoryUnavailable(cause);
		});
	if (result.ok) return { hold: result.hold, created: result.created };
	switch (result.reason) {
		case "short":
			throw outOfStock(result.short);
		case "empty":
			throw new DomainError("cart_empty", { detail: "Add items to the cart before holding its stock." });
		case "hold_time":
			throw new DomainError("hold_time_exhausted", {
				detail: "This cart has held stock for as long as one cart may today. Check out now, or the items stay available to everyone.",
				extensions: { retry_at: new Date(result.retryAt).toISOString() },
			});
		case "client_limit":
			throw holdLimit(result.admission);
		case "rate_limited":
			throw cartFailure(result.reason, undefined, undefined, result.rateLimit);
		default:
			throw cartFailure(result.reason);
	}
}

/** 429 `hold_limit`: the client holds as many units as one client may, until the first of them runs out. */
export function holdLimit(refusal: Extract<HoldAdmission, { ok: false }>): DomainError {
	return new DomainError("hold_limit", {
		detail: `One shopper may hold at most ${refusal.max} units at a time across carts and unpaid orders; ${refusal.held} are held now. Check out or release a cart first.`,
		retryAfterSeconds: Math.max(1, Math.ceil((refusal.retryAt - Date.now()) / 1000)),
		extensions: { held: refusal.held, max: refusal.max },
	});
}

/**
 * Counts `units` of a checkout's fresh reservation against the client's cap
 * until `expiresAt` (the cart's earlier hold, if any, is replaced); the cart
 * remembers the client (`beginCheckout`), so payment frees the count. A hold
 * the checkout adopts is counted already.
 */
export async function admitCheckoutUnits(env: Env, client: string, cartId: string, units: number, expiresAt: number): Promise<void> {
	const admission = await clientHolds(env, client)
		.admit(cartId, units, expiresAt, maxHeldUnitsPerClient(env))
		.catch((cause) => {
			throw inventoryUnavailable(cause);
		});
	if (!admission.ok) throw holdLimit(admission);
}

/** Forgets a checkout's units in the client's count (its reservation was given back). */
export function forgetCheckoutUnits(env: Env, client: string, cartId: string): Promise<void> {
	return clientHolds(env, client).release(cartId);
}

/** Gives back the stock held for the caller's cart; answers whether there was a hold. */
export async function releaseCartStock(env: Env, caller: CartCaller, cartId: string): Promise<boolean> {
	const released = await cartStub(env, cartId).releaseHold(caller);
	if (!released.ok) throw cartFailure(released.reason, undefined, undefined, released.rateLimit);
	const hold = released.cart.released;
	if (hold) await releaseAll(env, hold.orderId, hold.lines);
	return hold !== null;
}
