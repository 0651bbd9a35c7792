import { and, eq, isNull } from "drizzle-orm";
import type { CartResult, CartState, MergeOutcome } from "../../durable-objects/cart.ts";
import { hashToken } from "../auth/secrets.ts";
import type { Db } from "../db/client.ts";
import { users } from "../db/schema.ts";
import { newId } from "../domain/ids.ts";
import { CART_ID, cartStub } from "./carts.ts";

/** A signed-in user's current cart (`users.cart_id`), and merging a guest cart into it. */

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
	const merged = await cartStub(env, targetId).mergeFrom({ userId }, guestId, guestCart.cart.lines, guestCart.cart.market);
	if (!merged.ok) return merged;
	// Already closed by a concurrent merge: the lines were merged once all the same.
	await guest.close(guestCaller);
	return merged;
}
