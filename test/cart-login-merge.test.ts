import { and, asc, eq, isNull } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { products, users, variants } from "../workers/db/schema.ts";
import worker from "../workers/index.ts";
import { PASSWORD, post, registerShopper, type Session } from "./accounts-helpers.ts";
import { callWith, problemOf, withDb } from "./helpers.ts";

interface CartBody {
	id: string;
	token?: string;
	owner: "guest" | "user";
	lines: { sku: string; quantity: number }[];
	merge?: { capped: string[]; dropped: string[] };
}

interface LoginBody extends Session {
	cart?: CartBody | null;
}

type As = { token?: string; bearer?: string };

function request(method: string, path: string, as: As = {}, body?: unknown): Promise<Response> {
	const headers: Record<string, string> = {};
	if (as.token) headers["x-cart-token"] = as.token;
	if (as.bearer) headers.authorization = `Bearer ${as.bearer}`;
	if (body !== undefined) headers["content-type"] = "application/json";
	return callWith(worker, path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function json<T>(response: Promise<Response>, status: number): Promise<T> {
	const res = await response;
	if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${await res.text()}`);
	return (await res.json()) as T;
}

const quantities = (cart: CartBody) => Object.fromEntries(cart.lines.map((line) => [line.sku, line.quantity]));

let skus: string[] = [];
const sku = (i: number): string => {
	const found = skus[i];
	if (!found) throw new Error(`the seeded catalog has no active SKU #${i}`);
	return found;
};

async function guestCartWith(lines: [string, number][]): Promise<{ id: string; token: string }> {
	const cart = await json<CartBody>(request("POST", "/v1/carts"), 201);
	for (const [line, quantity] of lines) {
		await json(request("POST", `/v1/carts/${cart.id}/items`, { token: cart.token }, { sku: line, quantity }), 200);
	}
	return { id: cart.id, token: cart.token as string };
}

const login = (email: string, extra: Record<string, unknown> = {}) => post("/v1/auth/login", { email, password: PASSWORD, ...extra });

beforeAll(async () => {
	skus = (
		await withDb((db) =>
			db.primary
				.select({ sku: variants.sku })
				.from(variants)
				.innerJoin(products, eq(products.id, variants.productId))
				.where(and(eq(products.status, "active"), isNull(variants.archivedAt)))
				.orderBy(asc(variants.sku))
				.limit(10),
		)
	).map((row) => row.sku);
});

describe("merge on sign-in", () => {
	it("a shopper without a cart gets a user cart holding the guest's lines, and the guest cart is closed", async () => {
		const shopper = await registerShopper();
		expect((await request("GET", "/v1/me/cart", { bearer: shopper.access_token })).status).toBe(404);
		const guest = await guestCartWith([
			[sku(0), 2],
			[sku(1), 1],
		]);

		const session = await json<LoginBody>(login(shopper.user.email, { guest_cart_id: guest.id, guest_token: guest.token }), 200);
		expect(session.access_token).toEqual(expect.any(String));
		const cart = session.cart as CartBody;
		expect(cart.owner).toBe("user");
		expect(cart.id).not.toBe(guest.id);
		expect(quantities(cart)).toEqual({ [sku(0)]: 2, [sku(1)]: 1 });
		expect(cart.merge).toEqual({ capped: [], dropped: [] });

		// The guest cart is gone for its token; the user's cart is theirs and is "my cart".
		expect((await request("GET", `/v1/carts/${guest.id}`, { token: guest.token })).status).toBe(404);
		const mine = await json<CartBody>(request("GET", "/v1/me/cart", { bearer: session.access_token }), 200);
		expect(mine.id).toBe(cart.id);
		expect(quantities(mine)).toEqual(quantities(cart));
	});

	it("merges into the cart the shopper already has: same SKUs summed and capped at 10", async () => {
		const shopper = await registerShopper();
		const own = await json<CartBody>(request("POST", "/v1/carts", { bearer: shopper.access_token }), 201);
		await json(request("POST", `/v1/carts/${own.id}/items`, { bearer: shopper.access_token }, { sku: sku(2), quantity: 6 }), 200);
		await json(request("POST", `/v1/carts/${own.id}/items`, { bearer: shopper.access_token }, { sku: sku(3), quantity: 1 }), 200);
		const guest = await guestCartWith([
			[sku(2), 5],
			[sku(3), 2],
			[sku(4), 1],
		]);

		const session = await json<LoginBody>(login(shopper.user.email, { guest_cart_id: guest.id, guest_token: guest.token }), 200);
		const cart = session.cart as CartBody;
		expect(cart.id).toBe(own.id);
		expect(quantities(cart)).toEqual({ [sku(2)]: 10, [sku(3)]: 3, [sku(4)]: 1 });
		expect(cart.merge).toEqual({ capped: [sku(2)], dropped: [] });

		// Signing in again with the same (now closed) guest cart adds nothing and still signs in.
		const again = await json<LoginBody>(login(shopper.user.email, { guest_cart_id: guest.id, guest_token: guest.token }), 200);
		expect(again.cart).toBeNull();
		const mine = await json<CartBody>(request("GET", "/v1/me/cart", { bearer: again.access_token }), 200);
		expect(quantities(mine)).toEqual({ [sku(2)]: 10, [sku(3)]: 3, [sku(4)]: 1 });
	});

	it("a wrong guest token signs in but merges nothing and leaves the guest cart to its owner", async () => {
		const shopper = await registerShopper();
		const guest = await guestCartWith([[sku(5), 1]]);
		const session = await json<LoginBody>(login(shopper.user.email, { guest_cart_id: guest.id, guest_token: "not-the-token" }), 200);
		expect(session.cart).toBeNull();
		const still = await json<CartBody>(request("GET", `/v1/carts/${guest.id}`, { token: guest.token }), 200);
		expect(quantities(still)).toEqual({ [sku(5)]: 1 });
	});

	it("another user's cart cannot be taken over by presenting it as a guest cart", async () => {
		const owner = await registerShopper();
		const thief = await registerShopper();
		const owned = await json<CartBody>(request("POST", "/v1/carts", { bearer: owner.access_token }), 201);
		await json(request("POST", `/v1/carts/${owned.id}/items`, { bearer: owner.access_token }, { sku: sku(6), quantity: 1 }), 200);
		const session = await json<LoginBody>(login(thief.user.email, { guest_cart_id: owned.id, guest_token: "guess" }), 200);
		expect(session.cart).toBeNull();
		expect(quantities(await json<CartBody>(request("GET", `/v1/carts/${owned.id}`, { bearer: owner.access_token }), 200))).toEqual({
			[sku(6)]: 1,
		});
	});

	it("a wrong password merges nothing: the guest cart stays whole", async () => {
		const shopper = await registerShopper();
		const guest = await guestCartWith([[sku(7), 3]]);
		const res = await post("/v1/auth/login", {
			email: shopper.user.email,
			password: "wrong password!",
			guest_cart_id: guest.id,
			guest_token: guest.token,
		});
		expect(res.status).toBe(401);
		expect(quantities(await json<CartBody>(request("GET", `/v1/carts/${guest.id}`, { token: guest.token }), 200))).toEqual({
			[sku(7)]: 3,
		});
	});

	it("a cart id without its token, or a malformed id, is a 400 before any password check", async () => {
		const shopper = await registerShopper();
		const guest = await guestCartWith([]);
		const missing = await problemOf(await login(shopper.user.email, { guest_cart_id: guest.id }));
		expect(missing.status).toBe(400);
		expect((missing.errors as { path: string }[]).map((e) => e.path)).toContain("body.guest_token");
		expect((await login(shopper.user.email, { guest_cart_id: "cart_x", guest_token: guest.token })).status).toBe(400);
	});

	it("two sign-ins racing, each with its own guest cart, end in one user cart holding both", async () => {
		const shopper = await registerShopper();
		const first = await guestCartWith([[sku(8), 1]]);
		const second = await guestCartWith([[sku(9), 2]]);
		const [a, b] = await Promise.all([
			json<LoginBody>(login(shopper.user.email, { guest_cart_id: first.id, guest_token: first.token }), 200),
			json<LoginBody>(login(shopper.user.email, { guest_cart_id: second.id, guest_token: second.token }), 200),
		]);
		expect(a.cart?.id).toBe(b.cart?.id);
		const mine = await json<CartBody>(request("GET", "/v1/me/cart", { bearer: a.access_token }), 200);
		expect(quantities(mine)).toEqual({ [sku(8)]: 1, [sku(9)]: 2 });
		const [row] = await withDb((db) => db.primary.select({ cartId: users.cartId }).from(users).where(eq(users.id, shopper.user.id)));
		expect(row?.cartId).toBe(mine.id);
	});
});
