import type { MiddlewareHandler } from "hono";
import { CART_ID, callerOf } from "../../carts/carts.ts";
import { HOLDER_PATIENCE } from "../../db/client.ts";
import { releaseAll } from "../../inventory/reservations.ts";
import { type CartHold, holdCart, outOfStock } from "../../orders/checkout.ts";
import type { AppEnv } from "../types.ts";

declare module "hono" {
	interface ContextVariableMap {
		/** Stock reserved by `reserveBeforeClaim()` for the checkout handler to adopt. */
		checkoutHold: CartHold | undefined;
	}
}

/**
 * Runs before the idempotency middleware on `POST /v1/checkout`: reserves the
 * cart's stock first (see `holdCart`), so a shopper who cannot get the stock
 * is answered 409 `out_of_stock` by the Durable Objects alone, with no
 * database work (such an answer changes nothing and is not stored against the
 * key). Whatever the handler does not adopt (a replayed or refused claim, a
 * validation error) is released before the answer leaves. Requests this gate
 * cannot read (no key, a malformed body) pass through untouched and are
 * refused further on.
 */
export function reserveBeforeClaim(): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		c.set("checkoutHold", undefined);
		if (!c.req.header("idempotency-key")) return next();
		let cartId: unknown;
		try {
			cartId = (JSON.parse(await c.req.text()) as { cart_id?: unknown } | null)?.cart_id;
		} catch {
			return next();
		}
		if (typeof cartId !== "string" || !CART_ID.test(cartId)) return next();
		const caller = await callerOf(c.env, c.req.header("authorization"), c.req.header("x-cart-token"));
		const outcome = await holdCart(c.env, caller, cartId);
		if (outcome.kind === "short") throw outOfStock(outcome.short);
		if (outcome.kind === "skip") return next();
		const hold = outcome.hold;
		c.set("checkoutHold", hold);
		c.var.database.wait(HOLDER_PATIENCE);
		try {
			await next();
		} finally {
			if (!hold.adopted) await releaseAll(c.env, hold.orderId, hold.cartLines);
		}
	};
}
