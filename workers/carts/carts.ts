import { and, eq, inArray, isNull } from "drizzle-orm";
import type { Cart, CartCaller, CartFailure, CartResult, CartState, MergeOutcome } from "../../durable-objects/cart.ts";
import { hashToken } from "../auth/secrets.ts";
import { unauthorized, verifyAccessToken } from "../auth/tokens.ts";
import { readThrough } from "../catalog/cache.ts";
import type { Db } from "../db/client.ts";
import { products, users, variants } from "../db/schema.ts";
import { DomainError, notFound } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";

/** `newId("cart")`: the prefix and 20 characters of Crockford base32. */
export const CART_ID = /^cart_[0-9abcdefghjkmnpqrstvwxyz]{20}$/;

/** The currency an empty cart's subtotal is shown in: the catalog's. */
export const DEFAULT_CURRENCY = "EUR";

const BEARER = /^Bearer ([\w-]+\.[\w-]+\.[\w-]*)$/;

/** The Cart object for one cart id. Check the id's shape first: any name would create an object. */
export function cartStub(env: Env, cartId: string): DurableObjectStub<Cart> {
	return env.CART.get(env.CART.idFromName(cartId));
}

/** The same 404 for a cart that does not exist, has expired, or is someone else's. */
export function cartNotFound(): DomainError {
	return notFound("No such cart.");
}

/**
 * The signed-in user, if the request carries a bearer token. A bearer header
 * that is present must be valid (401 otherwise): a broken session must not
 * silently fall back to guest behaviour.
 */
export async function bearerUser(env: Env, header: string | undefined): Promise<string | undefined> {
	if (header === undefined) return undefined;
	const token = BEARER.exec(header)?.[1];
	if (!token) throw unauthorized("The Authorization header must be 'Bearer <access token>'.");
	return (await verifyAccessToken(env, token)).userId;
}

/** What a request proves: its user (bearer) and/or the hash of its cart token (X-Cart-Token). */
export async function callerOf(env: Env, authorization: string | undefined, cartToken: string | undefined): Promise<CartCaller> {
	const userId = await bearerUser(env, authorization);
	const tokenHash = cartToken ? await hashToken(cartToken) : undefined;
	return { ...(userId ? { userId } : {}), ...(tokenHash ? { tokenHash } : {}) };
}

/** Maps a refusal from the Cart object to problem+json. */
export function cartFailure(reason: CartFailure, sku?: string): DomainError {
	switch (reason) {
		case "not_found":
			return cartNotFound();
		case "line_not_found":
			return new DomainError("line_not_found", { detail: `The cart has no line for ${sku}.` });
		case "quantity_limit":
			return new DomainError("quantity_limit", {
				detail: `A line holds at most 99 units${sku ? ` of ${sku}` : ""}.`,
			});
		case "line_limit":
			return new DomainError("line_limit", { detail: "A cart holds at most 50 different items." });
		case "exists":
			return new DomainError("cart_exists", { detail: "A cart with this id exists." });
		case "changed":
			return new DomainError("cart_changed", {
				detail: "The cart changed while its stock was being held. Hold it again.",
			});
	}
}

/**
 * The signed-in user's current cart, if they have one that is still open (a
 * cart expires after 30 days without a change and is closed by a merge).
 */
export async function currentUserCart(env: Env, db: Db, userId: string): Promise<string | null> {
	const [row] = await db.select({ cartId: users.cartId }).from(users).where(eq(users.id, userId));
	if (!row?.cartId) return null;
	return (await cartStub(env, row.cartId).authorize({ userId })) ? row.cartId : null;
}

/** Makes `cartId` the user's current cart: the latest cart a user creates is the one they see. */
export async function rememberUserCart(db: Db, userId: string, cartId: string): Promise<void> {
	await db.update(users).set({ cartId }).where(eq(users.id, userId));
}

/**
 * The user's current cart, created when they have none. Two sign-ins racing
 * to create one agree on a single cart: the pointer is only set where it still
 * holds what was read, and the loser closes its empty cart and uses the
 * winner's.
 */
export async function ensureUserCart(env: Env, db: Db, userId: string): Promise<string> {
	const [row] = await db.select({ cartId: users.cartId }).from(users).where(eq(users.id, userId));
	if (!row) throw new Error(`user ${userId} not found`);
	if (row.cartId && (await cartStub(env, row.cartId).authorize({ userId }))) return row.cartId;
	const id = newId("cart");
	const stub = cartStub(env, id);
	const created = await stub.create(id, { kind: "user", userId });
	if (!created.ok) throw new Error(`cart ${id} could not be created: ${created.reason}`);
	const claimed = await db
		.update(users)
		.set({ cartId: id })
		.where(and(eq(users.id, userId), row.cartId ? eq(users.cartId, row.cartId) : isNull(users.cartId)))
		.returning({ id: users.id });
	if (claimed.length > 0) return id;
	await stub.close({ userId });
	const winner = await currentUserCart(env, db, userId);
	if (!winner) throw new Error(`user ${userId} has no current cart after a lost race`);
	return winner;
}

/**
 * Merges a guest cart into a user's cart and closes the guest cart. The guest
 * cart must answer to the guest token and still be a guest cart; anything else
 * is `not_found` (the same answer whether it expired, never existed or the
 * token is wrong). The target remembers merged guest cart ids, so a retry, or
 * two merges racing, adds the lines once.
 */
export async function mergeGuestCart(
	env: Env,
	targetId: string,
	userId: string,
	guestId: string,
	guestToken: string,
): Promise<CartResult<CartState & MergeOutcome>> {
	if (guestId === targetId || !CART_ID.test(guestId)) return { ok: false, reason: "not_found" };
	const guest = cartStub(env, guestId);
	const guestCaller = { tokenHash: await hashToken(guestToken) };
	const guestCart = await guest.snapshot(guestCaller);
	if (!guestCart.ok || guestCart.cart.owner !== "guest") return { ok: false, reason: "not_found" };
	const merged = await cartStub(env, targetId).mergeFrom({ userId }, guestId, guestCart.cart.lines);
	if (!merged.ok) return merged;
	// Already closed by a concurrent merge: the lines were merged once all the same.
	await guest.close(guestCaller);
	return merged;
}

export interface SkuRow {
	sku: string;
	variantId: string;
	productId: string;
	productTitle: string;
	variantTitle: string;
	priceMinor: number;
	currency: string;
	archivedAt: Date | null;
	status: string;
}

export async function skuRows(db: Db, skus: readonly string[]): Promise<Map<string, SkuRow>> {
	if (skus.length === 0) return new Map();
	const rows = await db
		.select({
			sku: variants.sku,
			variantId: variants.id,
			productId: variants.productId,
			productTitle: products.title,
			variantTitle: variants.title,
			priceMinor: variants.priceMinor,
			currency: variants.currency,
			archivedAt: variants.archivedAt,
			status: products.status,
		})
		.from(variants)
		.innerJoin(products, eq(products.id, variants.productId))
		.where(inArray(variants.sku, [...skus]));
	return new Map(rows.map((row) => [row.sku, row]));
}

/** Looks SKUs up, from Postgres or from the catalog cache (`cachedSkus`). */
export type SkuSource = (skus: readonly string[]) => Promise<Map<string, SkuRow>>;

/**
 * SKU facts for cart pages and routes, through the catalog cache (isolate
 * memory, then KV, then Postgres; versioned keys every admin write bumps), so
 * adding to a cart usually touches no database. Carts only show informative
 * prices and refuse SKUs not on sale; what is charged is re-read from the
 * Postgres primary at checkout, which also refuses a SKU that went off sale
 * in the short while another location's cache still offers it.
 */
export function cachedSkus(env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }, db: Db): SkuSource {
	return async (skus) => {
		const found = new Map<string, SkuRow>();
		await Promise.all(
			[...new Set(skus)].map(async (sku) => {
				const entry = await readThrough(env.CATALOG, ctx, `sku:${sku}`, async () => {
					const row = (await skuRows(db, [sku])).get(sku);
					return row ? { ...row, archivedAt: row.archivedAt?.toISOString() ?? null } : { missing: true };
				});
				const value = entry
					? (JSON.parse(entry.body) as (Omit<SkuRow, "archivedAt"> & { archivedAt: string | null }) | { missing: true })
					: undefined;
				if (value && !("missing" in value)) found.set(sku, { ...value, archivedAt: value.archivedAt ? new Date(value.archivedAt) : null });
			}),
		);
		return found;
	};
}

/** Refuses a SKU that is unknown, archived, or whose product is not on sale (422 unknown_sku). */
export async function assertSellable(source: Db | SkuSource, sku: string): Promise<void> {
	if (typeof source === "function") {
		const row = (await source([sku])).get(sku);
		if (!row || !isSellable(row)) throw new DomainError("unknown_sku", { detail: `${sku} is not a product on sale.` });
		return;
	}
	const db = source;
	const [row] = await db
		.select({ id: variants.id })
		.from(variants)
		.innerJoin(products, eq(products.id, variants.productId))
		.where(and(eq(variants.sku, sku), isNull(variants.archivedAt), eq(products.status, "active")));
	if (!row) throw new DomainError("unknown_sku", { detail: `${sku} is not a product on sale.` });
}

export interface Money {
	amount: number;
	currency: string;
}

export interface CartLineView {
	sku: string;
	product_id: string | null;
	title: string | null;
	quantity: number;
	unit_price: Money | null;
	line_total: Money | null;
	available: boolean;
}

export interface CartView {
	id: string;
	owner: "guest" | "user";
	lines: CartLineView[];
	subtotal: Money;
	item_count: number;
	expires_at: string;
}

/**
 * Prices a cart from Postgres as it is now. The cart stores no prices, so these
 * are informative; checkout re-prices. A line whose SKU is no longer on sale
 * stays visible with `available: false` and counts toward no subtotal; so does
 * one priced in a currency other than the cart's (the first available line's).
 */
export async function priceCart(source: Db | SkuSource, cart: CartState): Promise<CartView> {
	const skus = cart.lines.map((line) => line.sku);
	const rows = typeof source === "function" ? await source(skus) : await skuRows(source, skus);
	const currency = cart.lines.map((line) => rows.get(line.sku)).find((row) => row && isSellable(row))?.currency ?? DEFAULT_CURRENCY;
	let subtotal = 0;
	const lines = cart.lines.map((line): CartLineView => {
		const row = rows.get(line.sku);
		if (!row) {
			return {
				sku: line.sku,
				product_id: null,
				title: null,
				quantity: line.quantity,
				unit_price: null,
				line_total: null,
				available: false,
			};
		}
		const available = isSellable(row);
		const lineTotal = row.priceMinor * line.quantity;
		if (available && row.currency === currency) subtotal += lineTotal;
		return {
			sku: line.sku,
			product_id: row.productId,
			title: row.variantTitle ? `${row.productTitle} — ${row.variantTitle}` : row.productTitle,
			quantity: line.quantity,
			unit_price: { amount: row.priceMinor, currency: row.currency },
			line_total: { amount: lineTotal, currency: row.currency },
			available,
		};
	});
	return {
		id: cart.id,
		owner: cart.owner,
		lines,
		subtotal: { amount: subtotal, currency },
		item_count: cart.lines.reduce((n, line) => n + line.quantity, 0),
		expires_at: new Date(cart.expiresAt).toISOString(),
	};
}

export function isSellable(row: SkuRow): boolean {
	return row.archivedAt === null && row.status === "active";
}
