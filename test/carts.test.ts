import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { and, asc, eq, isNull } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { Cart } from "../durable-objects/cart.ts";
import { products, variants } from "../workers/db/schema.ts";
import worker from "../workers/index.ts";
import { capturingQueue, registerShopper, type Session } from "./accounts-helpers.ts";
import { callWith, problemOf, withDb } from "./helpers.ts";

interface Money {
	amount: number;
	currency: string;
}
interface CartBody {
	id: string;
	token?: string;
	owner: "guest" | "user";
	lines: { sku: string; product_id: string; title: string; quantity: number; unit_price: Money; line_total: Money; available: boolean }[];
	subtotal: Money;
	item_count: number;
	expires_at: string;
	merge?: { capped: string[]; dropped: string[] };
}

/** Who is asking: a guest with a cart token, a user with an access token, or nobody. */
type As = { token?: string; bearer?: string };

function request(method: string, path: string, as: As = {}, body?: unknown): Promise<Response> {
	const headers: Record<string, string> = {};
	if (as.token) headers["x-cart-token"] = as.token;
	if (as.bearer) headers.authorization = `Bearer ${as.bearer}`;
	if (body !== undefined) headers["content-type"] = "application/json";
	return callWith(worker, path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function ok(response: Promise<Response>, status = 200): Promise<CartBody> {
	const res = await response;
	if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${await res.text()}`);
	return (await res.json()) as CartBody;
}

const newGuestCart = () => ok(request("POST", "/v1/carts"), 201);
const add = (cart: string, as: As, sku: string, quantity: number) => request("POST", `/v1/carts/${cart}/items`, as, { sku, quantity });

interface Sku {
	sku: string;
	productId: string;
	priceMinor: number;
	currency: string;
}
let skus: Sku[] = [];

/** The i-th active SKU of the seeded catalog. */
function sku(i: number): Sku {
	const found = skus[i];
	if (!found) throw new Error(`the seeded catalog has no active SKU #${i}`);
	return found;
}

beforeAll(async () => {
	skus = await withDb((db) =>
		db.primary
			.select({ sku: variants.sku, productId: variants.productId, priceMinor: variants.priceMinor, currency: variants.currency })
			.from(variants)
			.innerJoin(products, eq(products.id, variants.productId))
			.where(and(eq(products.status, "active"), isNull(variants.archivedAt)))
			.orderBy(asc(variants.sku))
			.limit(60),
	);
	expect(skus.length).toBeGreaterThanOrEqual(52);
});

describe("guest carts", () => {
	it("creates a guest cart and shows its token once", async () => {
		const res = await request("POST", "/v1/carts");
		expect(res.status).toBe(201);
		const cart = (await res.json()) as CartBody;
		expect(cart.id).toMatch(/^cart_[0-9a-z]{20}$/);
		expect(cart.token).toEqual(expect.any(String));
		expect(res.headers.get("location")).toBe(`/v1/carts/${cart.id}`);
		expect(cart).toMatchObject({ owner: "guest", lines: [], item_count: 0, subtotal: { amount: 0 } });
		const again = await ok(request("GET", `/v1/carts/${cart.id}`, { token: cart.token }));
		expect(again.token).toBeUndefined();
		expect(again.id).toBe(cart.id);
	});

	it("adds, updates and removes lines, with totals from current Postgres prices", async () => {
		const { id, token } = await newGuestCart();
		const [a, b] = skus as [Sku, Sku];
		await ok(add(id, { token }, a.sku, 2));
		let cart = await ok(add(id, { token }, a.sku, 3));
		expect(cart.lines).toHaveLength(1);
		expect(cart.lines[0]).toMatchObject({ sku: a.sku, product_id: a.productId, quantity: 5, available: true });
		cart = await ok(add(id, { token }, b.sku, 1));
		expect(cart.lines[0]?.unit_price).toEqual({ amount: a.priceMinor, currency: a.currency });
		expect(cart.lines[0]?.line_total).toEqual({ amount: a.priceMinor * 5, currency: a.currency });
		expect(cart.subtotal).toEqual({ amount: a.priceMinor * 5 + b.priceMinor, currency: a.currency });
		expect(cart.item_count).toBe(6);

		cart = await ok(request("PATCH", `/v1/carts/${id}/items/${a.sku}`, { token }, { quantity: 2 }));
		expect(cart.lines.find((l) => l.sku === a.sku)?.quantity).toBe(2);
		cart = await ok(request("PATCH", `/v1/carts/${id}/items/${b.sku}`, { token }, { quantity: 0 }));
		expect(cart.lines.map((l) => l.sku)).toEqual([a.sku]);
		cart = await ok(request("DELETE", `/v1/carts/${id}/items/${a.sku}`, { token }));
		expect(cart).toMatchObject({ lines: [], item_count: 0, subtotal: { amount: 0 } });

		const missing = await request("PATCH", `/v1/carts/${id}/items/${a.sku}`, { token }, { quantity: 1 });
		expect(missing.status).toBe(404);
		expect((await problemOf(missing)).code).toBe("line_not_found");
	});

	it("answers 404 to another token, no token, and a user who does not own the cart", async () => {
		const { id, token } = await newGuestCart();
		await ok(add(id, { token }, sku(0).sku, 1));
		const other = await newGuestCart();
		const stranger = await registerShopper();
		for (const as of [{ token: other.token }, {}, { bearer: stranger.access_token }]) {
			for (const res of [
				await request("GET", `/v1/carts/${id}`, as),
				await add(id, as, sku(0).sku, 1),
				await request("PATCH", `/v1/carts/${id}/items/${sku(0).sku}`, as, { quantity: 3 }),
				await request("DELETE", `/v1/carts/${id}/items/${sku(0).sku}`, as),
			]) {
				expect(res.status).toBe(404);
				expect((await problemOf(res)).code).toBe("not_found");
			}
		}
		const mine = await ok(request("GET", `/v1/carts/${id}`, { token }));
		expect(mine.lines[0]?.quantity).toBe(1);
		// A cart id that was never issued looks the same as someone else's.
		const never = await request("GET", "/v1/carts/cart_00000000000000000000", { token });
		expect(never.status).toBe(404);
	});

	it("refuses a malformed cart id with 400 before any object is made", async () => {
		const res = await request("GET", "/v1/carts/not-a-cart", { token: "x" });
		expect(res.status).toBe(400);
		expect((await problemOf(res)).code).toBe("validation_failed");
	});

	it("refuses an unknown SKU with 422 unknown_sku and absurd quantities with 400", async () => {
		const { id, token } = await newGuestCart();
		const unknown = await add(id, { token }, "NO-SUCH-SKU-999", 1);
		expect(unknown.status).toBe(422);
		expect((await problemOf(unknown)).code).toBe("unknown_sku");
		for (const quantity of [0, 100, 1.5, -1]) {
			const res = await add(id, { token }, sku(0).sku, quantity);
			expect(res.status).toBe(400);
			expect((await problemOf(res)).code).toBe("validation_failed");
		}
		await ok(add(id, { token }, sku(0).sku, 1));
		const patch = await request("PATCH", `/v1/carts/${id}/items/${sku(0).sku}`, { token }, { quantity: 100 });
		expect(patch.status).toBe(400);
		const extra = await request("POST", `/v1/carts/${id}/items`, { token }, { sku: sku(0).sku, quantity: 1, price: 1 });
		expect(extra.status).toBe(400);
	});

	it("refuses a SKU whose product is a draft, or whose variant is archived, with 422 unknown_sku", async () => {
		const tag = crypto.randomUUID().slice(0, 8).toLowerCase();
		const draftSku = `CART-DRAFT-${tag.toUpperCase()}`;
		const archivedSku = `CART-ARCH-${tag.toUpperCase()}`;
		await withDb(async (db) => {
			await db.primary.insert(products).values([
				{ id: `prod_cartdraft${tag}`, slug: `cart-draft-${tag}`, title: "Draft", status: "draft" },
				{ id: `prod_cartlive${tag}`, slug: `cart-live-${tag}`, title: "Live", status: "active" },
			]);
			await db.primary.insert(variants).values([
				{ id: `var_cartdraft${tag}`, productId: `prod_cartdraft${tag}`, sku: draftSku, title: "One", priceMinor: 1234, currency: "EUR" },
				{
					id: `var_cartarch${tag}`,
					productId: `prod_cartlive${tag}`,
					sku: archivedSku,
					title: "Old",
					priceMinor: 999,
					currency: "EUR",
					archivedAt: new Date(),
				},
			]);
		});
		const { id, token } = await newGuestCart();
		for (const sku of [draftSku, archivedSku]) {
			const res = await add(id, { token }, sku, 1);
			expect(res.status).toBe(422);
			expect((await problemOf(res)).code).toBe("unknown_sku");
		}
		expect((await ok(request("GET", `/v1/carts/${id}`, { token }))).lines).toEqual([]);
	});

	it("caps a line at MAX_UNITS_PER_SKU (10) units and a cart at 50 lines", async () => {
		expect(env.MAX_UNITS_PER_SKU).toBe("10");
		const { id, token } = await newGuestCart();
		const line = sku(0).sku;
		await ok(add(id, { token }, line, 10));
		const over = await add(id, { token }, line, 1);
		expect(over.status).toBe(422);
		expect((await problemOf(over)).code).toBe("quantity_limit");

		const many = skus.slice(1, 50);
		const results = await Promise.all(many.map((s) => add(id, { token }, s.sku, 1)));
		expect(results.map((r) => r.status)).toEqual(many.map(() => 200));
		const full = await add(id, { token }, sku(50).sku, 1);
		expect(full.status).toBe(422);
		expect((await problemOf(full)).code).toBe("line_limit");
		// Adding to a line already there is still fine at 50 lines.
		await ok(add(id, { token }, sku(1).sku, 1));
	});

	it("serializes 20 parallel adds: never above the cap of 10, no add lost below it", async () => {
		const { id, token } = await newGuestCart();
		const line = sku(2).sku;
		const results = await Promise.all(Array.from({ length: 20 }, () => add(id, { token }, line, 1)));
		const accepted = results.filter((r) => r.status === 200).length;
		const refused = await Promise.all(results.filter((r) => r.status !== 200).map((r) => problemOf(r)));
		expect(refused.every((p) => p.code === "quantity_limit")).toBe(true);
		const cart = await ok(request("GET", `/v1/carts/${id}`, { token }));
		expect(cart.lines[0]?.quantity).toBe(accepted);
		expect(accepted).toBe(10);
	});
});

describe("user carts", () => {
	let alice: Session;
	beforeAll(async () => {
		alice = await registerShopper();
	});

	it("creates a user cart with a bearer token, without a guest token", async () => {
		const cart = await ok(request("POST", "/v1/carts", { bearer: alice.access_token }), 201);
		expect(cart.owner).toBe("user");
		expect(cart.token).toBeUndefined();
		await ok(add(cart.id, { bearer: alice.access_token }, sku(0).sku, 1));
		const bob = await registerShopper();
		expect((await request("GET", `/v1/carts/${cart.id}`, { bearer: bob.access_token })).status).toBe(404);
		expect((await request("GET", `/v1/carts/${cart.id}`)).status).toBe(404);
	});

	it("answers 401 to an invalid bearer token, even when creating", async () => {
		const res = await request("POST", "/v1/carts", { bearer: "a.b.c" });
		expect(res.status).toBe(401);
		expect((await problemOf(res)).code).toBe("unauthorized");
	});

	it("merges a guest cart: sums quantities capped at 10, then closes the guest cart", async () => {
		const [a, b, c] = skus as [Sku, Sku, Sku];
		const user = await ok(request("POST", "/v1/carts", { bearer: alice.access_token }), 201);
		await ok(add(user.id, { bearer: alice.access_token }, a.sku, 2));
		await ok(add(user.id, { bearer: alice.access_token }, c.sku, 9));
		const guest = await newGuestCart();
		await ok(add(guest.id, { token: guest.token }, a.sku, 3));
		await ok(add(guest.id, { token: guest.token }, b.sku, 1));
		await ok(add(guest.id, { token: guest.token }, c.sku, 5));

		const body = { guest_cart_id: guest.id, guest_token: guest.token };
		// Without a session, with a wrong token, or into someone else's cart: 401/404, nothing merged.
		expect((await request("POST", `/v1/carts/${user.id}/merge`, {}, body)).status).toBe(401);
		expect(
			(await request("POST", `/v1/carts/${user.id}/merge`, { bearer: alice.access_token }, { ...body, guest_token: "nope" })).status,
		).toBe(404);
		const bob = await registerShopper();
		expect((await request("POST", `/v1/carts/${user.id}/merge`, { bearer: bob.access_token }, body)).status).toBe(404);

		const merged = await ok(request("POST", `/v1/carts/${user.id}/merge`, { bearer: alice.access_token }, body));
		expect(Object.fromEntries(merged.lines.map((l) => [l.sku, l.quantity]))).toEqual({ [a.sku]: 5, [b.sku]: 1, [c.sku]: 10 });
		expect(merged.merge).toEqual({ capped: [c.sku], dropped: [] });
		expect(merged.owner).toBe("user");

		expect((await request("GET", `/v1/carts/${guest.id}`, { token: guest.token })).status).toBe(404);
		const again = await request("POST", `/v1/carts/${user.id}/merge`, { bearer: alice.access_token }, body);
		expect(again.status).toBe(404);
		const after = await ok(request("GET", `/v1/carts/${user.id}`, { bearer: alice.access_token }));
		expect(after.item_count).toBe(16);
	});
});

describe("cart expiry and reminders", () => {
	it("deletes the cart when the inactivity alarm fires", async () => {
		const { id, token } = await newGuestCart();
		await ok(add(id, { token }, sku(0).sku, 1));
		const stub = env.CART.get(env.CART.idFromName(id));
		await runInDurableObject(stub, async (instance, state) => {
			expect(instance).toBeInstanceOf(Cart);
			const meta = state.storage.sql.exec<{ expires_at: number }>("SELECT expires_at FROM meta").one();
			expect(await state.storage.getAlarm()).toBe(meta.expires_at);
			state.storage.sql.exec("UPDATE meta SET expires_at = ?", Date.now() - 1);
		});
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		expect((await request("GET", `/v1/carts/${id}`, { token })).status).toBe(404);
		expect(await stub.lineCount()).toBe(0);
	});

	it("queues exactly one cart.abandoned event 24 h after the last change of a user cart", async () => {
		const session = await registerShopper();
		const cart = await ok(request("POST", "/v1/carts", { bearer: session.access_token }), 201);
		await ok(add(cart.id, { bearer: session.access_token }, sku(0).sku, 2));
		const stub = env.CART.get(env.CART.idFromName(cart.id));
		const capture = capturingQueue();
		let lastChange = 0;
		await runInDurableObject(stub, async (instance, state) => {
			const meta = state.storage.sql.exec<{ updated_at: number; abandon_at: number; expires_at: number }>("SELECT * FROM meta").one();
			lastChange = meta.updated_at;
			expect(meta.abandon_at).toBe(meta.updated_at + 24 * 60 * 60 * 1000);
			// The earlier of the two deadlines.
			expect(await state.storage.getAlarm()).toBe(meta.abandon_at);
			state.storage.sql.exec("UPDATE meta SET abandon_at = ?", Date.now() - 1);
			Object.defineProperty(instance, "env", { value: { ...env, NOTIFICATIONS_QUEUE: capture.queue }, configurable: true });
		});
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		expect(capture.sent).toHaveLength(1);
		expect(capture.sent[0]).toMatchObject({
			id: `cart.abandoned:${cart.id}:${lastChange}`,
			type: "cart.abandoned",
			data: { cart_id: cart.id, user_id: session.user.id, item_count: 2 },
		});
		await runInDurableObject(stub, async (_instance, state) => {
			const meta = state.storage.sql.exec<{ expires_at: number }>("SELECT expires_at FROM meta").one();
			expect(await state.storage.getAlarm()).toBe(meta.expires_at);
		});
	});

	it("sends no reminder for a guest cart", async () => {
		const { id, token } = await newGuestCart();
		await ok(add(id, { token }, sku(0).sku, 1));
		const stub = env.CART.get(env.CART.idFromName(id));
		await runInDurableObject(stub, async (_instance, state) => {
			const meta = state.storage.sql.exec<{ abandon_at: number | null }>("SELECT abandon_at FROM meta").one();
			expect(meta.abandon_at).toBeNull();
		});
	});
});
