import type { RouteHandler } from "@hono/zod-openapi";
import { and, asc, desc, eq, ne, sql } from "drizzle-orm";
import { publicUser } from "../../auth/users.ts";
import { cartNotFound, cartStub } from "../../carts/carts.ts";
import { currentUserCart } from "../../carts/user-cart.ts";
import { viewCart } from "../../carts/view.ts";
import type { Tx } from "../../db/client.ts";
import { addresses, users } from "../../db/schema.ts";
import { DomainError, notFound } from "../../domain/errors.ts";
import { newId } from "../../domain/ids.ts";
import type { AppEnv } from "../types.ts";
import type { createAddress, deleteAddress, getMe, getMyCart, listAddresses, patchMe, updateAddress } from "./me.routes.ts";
import { MAX_ADDRESSES } from "./me.schemas.ts";

type AddressRow = typeof addresses.$inferSelect;

function publicAddress(row: AddressRow) {
	return {
		id: row.id,
		name: row.name,
		line1: row.line1,
		line2: row.line2,
		city: row.city,
		region: row.region,
		postal_code: row.postalCode,
		country: row.country,
		phone: row.phone,
		is_default: row.isDefault,
		created_at: row.createdAt.toISOString(),
		updated_at: row.updatedAt.toISOString(),
	};
}

// Another user's address and a missing one are the same 404: ids reveal nothing.
const addressNotFound = () => notFound("You have no address with this id.");

// A token can outlive its account only by its short lifetime; treat that as signed out.
const accountGone = () => new DomainError("unauthorized", { detail: "The account no longer exists." });

export const getMeHandler: RouteHandler<typeof getMe, AppEnv> = async (c) => {
	const [user] = await c
		.get("database")
		.primary.select()
		.from(users)
		.where(eq(users.id, c.get("auth").userId));
	if (!user) throw accountGone();
	return c.json(publicUser(user), 200);
};

export const patchMeHandler: RouteHandler<typeof patchMe, AppEnv> = async (c) => {
	const body = c.req.valid("json");
	const [user] = await c
		.get("database")
		.primary.update(users)
		.set({
			...(body.name !== undefined ? { name: body.name } : {}),
			...(body.abandoned_cart_emails !== undefined ? { abandonedCartEmails: body.abandoned_cart_emails } : {}),
			updatedAt: sql`now()`,
		})
		.where(eq(users.id, c.get("auth").userId))
		.returning();
	if (!user) throw accountGone();
	return c.json(publicUser(user), 200);
};

export const listAddressesHandler: RouteHandler<typeof listAddresses, AppEnv> = async (c) => {
	const rows = await c
		.get("database")
		.primary.select()
		.from(addresses)
		.where(eq(addresses.userId, c.get("auth").userId))
		.orderBy(desc(addresses.isDefault), asc(addresses.createdAt), asc(addresses.id));
	return c.json({ data: rows.map(publicAddress) }, 200);
};

/** Serialises address changes per user (count cap, single default) on the user row. */
async function lockUser(tx: Tx, userId: string): Promise<void> {
	const [row] = await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for("update");
	if (!row) throw accountGone();
}

async function clearOtherDefaults(tx: Tx, userId: string, keepId: string): Promise<void> {
	await tx
		.update(addresses)
		.set({ isDefault: false, updatedAt: sql`now()` })
		.where(and(eq(addresses.userId, userId), ne(addresses.id, keepId), eq(addresses.isDefault, true)));
}

export const createAddressHandler: RouteHandler<typeof createAddress, AppEnv> = async (c) => {
	const body = c.req.valid("json");
	const userId = c.get("auth").userId;
	const row = await c.get("database").primary.transaction(async (tx) => {
		await lockUser(tx, userId);
		const [{ count } = { count: 0 }] = await tx
			.select({ count: sql<number>`count(*)::int` })
			.from(addresses)
			.where(eq(addresses.userId, userId));
		if (count >= MAX_ADDRESSES) {
			throw new DomainError("address_limit", {
				detail: `Keep at most ${MAX_ADDRESSES} addresses; delete one first.`,
			});
		}
		const id = newId("addr");
		const [created] = await tx
			.insert(addresses)
			.values({
				id,
				userId,
				name: body.name,
				line1: body.line1,
				line2: body.line2 ?? null,
				city: body.city,
				region: body.region ?? null,
				postalCode: body.postal_code,
				country: body.country,
				phone: body.phone ?? null,
				// The first address is the default unless the shopper says otherwise.
				isDefault: body.is_default ?? count === 0,
			})
			.returning();
		if (created?.isDefault) await clearOtherDefaults(tx, userId, id);
		return created;
	});
	if (!row) throw new Error("insert returned no row");
	return c.json(publicAddress(row), 201);
};

export const updateAddressHandler: RouteHandler<typeof updateAddress, AppEnv> = async (c) => {
	const body = c.req.valid("json");
	const { id } = c.req.valid("param");
	const userId = c.get("auth").userId;
	const row = await c.get("database").primary.transaction(async (tx) => {
		await lockUser(tx, userId);
		const [updated] = await tx
			.update(addresses)
			.set({
				...(body.name !== undefined ? { name: body.name } : {}),
				...(body.line1 !== undefined ? { line1: body.line1 } : {}),
				...(body.line2 !== undefined ? { line2: body.line2 } : {}),
				...(body.city !== undefined ? { city: body.city } : {}),
				...(body.region !== undefined ? { region: body.region } : {}),
				...(body.postal_code !== undefined ? { postalCode: body.postal_code } : {}),
				...(body.country !== undefined ? { country: body.country } : {}),
				...(body.phone !== undefined ? { phone: body.phone } : {}),
				...(body.is_default !== undefined ? { isDefault: body.is_default } : {}),
				updatedAt: sql`now()`,
			})
			.where(and(eq(addresses.id, id), eq(addresses.userId, userId)))
			.returning();
		if (updated?.isDefault) await clearOtherDefaults(tx, userId, id);
		return updated;
	});
	if (!row) throw addressNotFound();
	return c.json(publicAddress(row), 200);
};

export const deleteAddressHandler: RouteHandler<typeof deleteAddress, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const deleted = await c
		.get("database")
		.primary.delete(addresses)
		.where(and(eq(addresses.id, id), eq(addresses.userId, c.get("auth").userId)))
		.returning({ id: addresses.id });
	if (deleted.length === 0) throw addressNotFound();
	return c.body(null, 204);
};

export const getMyCartHandler: RouteHandler<typeof getMyCart, AppEnv> = async (c) => {
	const { userId } = c.get("auth");
	const database = c.get("database");
	const cartId = await currentUserCart(c.env, database.primary, userId);
	if (!cartId) throw cartNotFound();
	const snapshot = await cartStub(c.env, cartId).snapshot({ userId });
	if (!snapshot.ok) throw cartNotFound();
	return c.json(await viewCart(c.env, c.executionCtx, database.read, database.read, snapshot.cart), 200, { "cache-control": "no-store" });
};
