import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import { type CartCaller, type CartResult, maxUnitsPerSku } from "../../../durable-objects/cart.ts";
import { bearerUser, callerOf } from "../../auth/caller.ts";
import { hashToken, randomToken } from "../../auth/secrets.ts";
import { unauthorized } from "../../auth/tokens.ts";
import { cartFailure, cartNotFound, cartStub } from "../../carts/carts.ts";
import { mergeGuestCart, rememberUserCart } from "../../carts/user-cart.ts";
import { cartMarket, priceCart, viewCart } from "../../carts/view.ts";
import { cachedMarkets, marketView } from "../../catalog/markets.ts";
import { assertSellable, cachedSkus, marketsSelling } from "../../catalog/skus.ts";
import { newId } from "../../domain/ids.ts";
import { clientOf } from "../../limits/client.ts";
import { shippingOptions } from "../../orders/shipping.ts";
import { holdCartStock, releaseCartStock } from "../../orders/stock.ts";
import { marketOf } from "../lib/market.ts";
import type { AppEnv } from "../types.ts";
import type {
	addItem,
	createCart,
	getCart,
	holdCart,
	listShippingMethods,
	mergeCart,
	releaseHold,
	removeItem,
	setCartMarket,
	setItemQuantity,
} from "./carts.routes.ts";

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
	const market = await marketOf(c, c.req.valid("query"));
	const cart = unwrap(await cartStub(c.env, id).create(id, owner, market.id));
	if (userId) await rememberUserCart(c.get("database").primary, userId, id);
	const view = await priceCart(c.get("database").read, cart, market);
	return c.json({ ...view, ...(token ? { token } : {}) }, 201, { ...noStore, location: `/v1/carts/${id}` });
};

export const getCartHandler: RouteHandler<typeof getCart, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const cart = unwrap(await cartStub(c.env, id).snapshot(await caller(c)));
	return c.json(await view(c, cart), 200, noStore);
};

/** The cart priced in its market, SKUs and markets through the catalog cache. */
function view(c: Context<AppEnv>, cart: Parameters<typeof viewCart>[4], skus = cachedSkus(c.env, c.executionCtx, c.get("database").read)) {
	return viewCart(c.env, c.executionCtx, c.get("database").read, skus, cart);
}

/** The markets a SKU is sold in, for the cart to check its own against in the same step as the change. */
async function sellingMarkets(c: Context<AppEnv>, skus: ReturnType<typeof cachedSkus>, sku: string) {
	return marketsSelling(skus, await cachedMarkets(c.env, c.executionCtx, c.get("database").read), sku);
}

export const addItemHandler: RouteHandler<typeof addItem, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const { sku, quantity } = c.req.valid("json");
	const who = await caller(c);
	const skus = cachedSkus(c.env, c.executionCtx, c.get("database").read);
	// The catalog is checked here, before the object: a Durable Object makes no network calls mid-change.
	await assertSellable(skus, sku);
	const cart = unwrap(await cartStub(c.env, id).addLine(who, sku, quantity, await sellingMarkets(c, skus, sku)), sku, c);
	return c.json(await view(c, cart, skus), 200, noStore);
};

export const setItemQuantityHandler: RouteHandler<typeof setItemQuantity, AppEnv> = async (c) => {
	const { id, sku } = c.req.valid("param");
	const { quantity } = c.req.valid("json");
	const who = await caller(c);
	const skus = cachedSkus(c.env, c.executionCtx, c.get("database").read);
	// Lowering or removing a line whose product went off sale stays possible; raising it does not.
	if (quantity > 0) await assertSellable(skus, sku);
	const soldIn = quantity > 0 ? await sellingMarkets(c, skus, sku) : undefined;
	const cart = unwrap(await cartStub(c.env, id).setQuantity(who, sku, quantity, soldIn), sku, c);
	return c.json(await view(c, cart, skus), 200, noStore);
};

export const removeItemHandler: RouteHandler<typeof removeItem, AppEnv> = async (c) => {
	const { id, sku } = c.req.valid("param");
	const cart = unwrap(await cartStub(c.env, id).removeLine(await caller(c), sku), sku);
	return c.json(await view(c, cart), 200, noStore);
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
	return c.json({ ...(await view(c, merged)), merge: { capped: merged.capped, dropped: merged.dropped } }, 200, noStore);
};

/** Moves the cart to another market: its lines are priced there from now on. */
export const setCartMarketHandler: RouteHandler<typeof setCartMarket, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const { market: marketId } = c.req.valid("json");
	const market = await marketOf(c, { market: marketId });
	const cart = unwrap(await cartStub(c.env, id).setMarket(await caller(c), market.id));
	return c.json(await view(c, cart), 200, noStore);
};

/**
 * The shipping methods offered for the cart's contents to a country (and
 * region) of its market, each with its price for this parcel: what checkout
 * would charge for it now, before any discount code.
 */
export const listShippingMethodsHandler: RouteHandler<typeof listShippingMethods, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const { country } = c.req.valid("query");
	const database = c.get("database");
	const cart = unwrap(await cartStub(c.env, id).snapshot(await caller(c)));
	const markets = await cachedMarkets(c.env, c.executionCtx, database.read);
	const market = cartMarket(markets, cart);
	const skus = cachedSkus(c.env, c.executionCtx, database.read);
	const options = await shippingOptions(database.read, market, country, cart.lines, skus);
	return c.json(
		{
			market: marketView(market),
			country: country.toUpperCase(),
			methods: options.map((option) => ({
				id: option.id,
				kind: option.kind,
				name: option.name,
				zone: option.zone,
				price: { amount: option.price, currency: market.currency },
				free_from: option.freeFromMinor === null ? null : { amount: option.freeFromMinor, currency: market.currency },
			})),
		},
		200,
		noStore,
	);
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
