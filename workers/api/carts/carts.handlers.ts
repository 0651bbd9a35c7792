import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import { type CartCaller, type CartResult, maxUnitsPerSku } from "../../../durable-objects/cart.ts";
import { bearerUser, callerOf } from "../../auth/caller.ts";
import { hashToken, randomToken } from "../../auth/secrets.ts";
import { unauthorized } from "../../auth/tokens.ts";
import { cartFailure, cartNotFound, cartStub } from "../../carts/carts.ts";
import { mergeGuestCart, rememberUserCart } from "../../carts/user-cart.ts";
import { priceCart } from "../../carts/view.ts";
import { assertSellable, cachedSkus } from "../../catalog/skus.ts";
import { newId } from "../../domain/ids.ts";
import { clientOf } from "../../limits/client.ts";
import { holdCartStock, releaseCartStock } from "../../orders/stock.ts";
import type { AppEnv } from "../types.ts";
import type { addItem, createCart, getCart, holdCart, mergeCart, releaseHold, removeItem, setItemQuantity } from "./carts.routes.ts";

function caller(c: Context<AppEnv>): Promise<CartCaller> {
	return callerOf(c.env, c.req.header("authorization"), c.req.header("x-cart-token"));
}

/** The cart from a result, or the refusal as problem+json. */
function unwrap<T>(result: CartResult<T>, sku?: string, c?: Context<AppEnv>): T {
	if (!result.ok) throw cartFailure(result.reason, sku, c && maxUnitsPerSku(c.env), result.rateLimit);
	return result.cart;
}

const noStore = { "cache-control": "no-store" };

export const createCartHandler: RouteHandler<typeof createCart, AppEnv> = async (c) => {
	const userId = await bearerUser(c.env, c.req.header("authorization"));
	const id = newId("cart");
	const token = userId ? undefined : randomToken();
	const owner = userId ? { kind: "user" as const, userId } : { kind: "guest" as const, tokenHash: await hashToken(token as string) };
	const cart = unwrap(await cartStub(c.env, id).create(id, owner));
	if (userId) await rememberUserCart(c.get("database").primary, userId, id);
	const view = await priceCart(c.get("database").read, cart);
	return c.json({ ...view, ...(token ? { token } : {}) }, 201, { ...noStore, location: `/v1/carts/${id}` });
};

export const getCartHandler: RouteHandler<typeof getCart, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const cart = unwrap(await cartStub(c.env, id).snapshot(await caller(c)));
	return c.json(await priceCart(cachedSkus(c.env, c.executionCtx, c.get("database").read), cart), 200, noStore);
};

export const addItemHandler: RouteHandler<typeof addItem, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const { sku, quantity } = c.req.valid("json");
	const who = await caller(c);
	const skus = cachedSkus(c.env, c.executionCtx, c.get("database").read);
	// The catalog is checked here, before the object: a Durable Object makes no network calls mid-change.
	await assertSellable(skus, sku);
	const cart = unwrap(await cartStub(c.env, id).addLine(who, sku, quantity), sku, c);
	return c.json(await priceCart(skus, cart), 200, noStore);
};

export const setItemQuantityHandler: RouteHandler<typeof setItemQuantity, AppEnv> = async (c) => {
	const { id, sku } = c.req.valid("param");
	const { quantity } = c.req.valid("json");
	const who = await caller(c);
	const skus = cachedSkus(c.env, c.executionCtx, c.get("database").read);
	// Lowering or removing a line whose product went off sale stays possible; raising it does not.
	if (quantity > 0) await assertSellable(skus, sku);
	const cart = unwrap(await cartStub(c.env, id).setQuantity(who, sku, quantity), sku, c);
	return c.json(await priceCart(skus, cart), 200, noStore);
};

export const removeItemHandler: RouteHandler<typeof removeItem, AppEnv> = async (c) => {
	const { id, sku } = c.req.valid("param");
	const cart = unwrap(await cartStub(c.env, id).removeLine(await caller(c), sku), sku);
	return c.json(await priceCart(cachedSkus(c.env, c.executionCtx, c.get("database").read), cart), 200, noStore);
};

/**
 * Merge: the target must be the signed-in user's cart and the guest cart must
 * answer to the guest token, else 404. The guest's lines are read, merged into
 * the target (which remembers the guest cart id, so a retry adds nothing
 * twice), and the guest cart is then closed.
 */
export const mergeCartHandler: RouteHandler<typeof mergeCart, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const { guest_cart_id: guestId, guest_token: guestToken } = c.req.valid("json");
	const userId = await bearerUser(c.env, c.req.header("authorization"));
	if (!userId) throw unauthorized("Sign in to merge a guest cart: Authorization: Bearer <token>.");
	if (!(await cartStub(c.env, id).authorize({ userId }))) throw cartNotFound();
	const merged = unwrap(await mergeGuestCart(c.env, id, userId, guestId, guestToken));
	const view = await priceCart(cachedSkus(c.env, c.executionCtx, c.get("database").read), merged);
	return c.json({ ...view, merge: { capped: merged.capped, dropped: merged.dropped } }, 200, noStore);
};

export const holdCartHandler: RouteHandler<typeof holdCart, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const { hold, created } = await holdCartStock(c.env, await caller(c), id, clientOf(c.req.raw));
	const body = { cart_id: id, lines: hold.lines, expires_at: new Date(hold.expiresAt).toISOString() };
	return created ? c.json(body, 201, noStore) : c.json(body, 200, noStore);
};

export const releaseHoldHandler: RouteHandler<typeof releaseHold, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	await releaseCartStock(c.env, await caller(c), id);
	return c.body(null, 204);
};
