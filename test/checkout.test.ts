import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { hashToken } from "../workers/auth/secrets.ts";
import { cartStub } from "../workers/carts/carts.ts";
import { idempotencyKeys, orderEvents, orders, promotions, variants } from "../workers/db/schema.ts";
import { registerShopper } from "./accounts-helpers.ts";
import { problemOf, withDb } from "./helpers.ts";
import {
	ADDRESS,
	available,
	Bus,
	type CheckoutAnswer,
	checkoutOk,
	checkoutRequest,
	confirm,
	getOrder,
	guestCart,
	headersFor,
	newPromotion,
	newSku,
	orderStatus,
	setPrice,
	stock,
} from "./orders-helpers.ts";

async function cartLines(cart: { id: string; token: string }) {
	const snapshot = await cartStub(env, cart.id).snapshot({ tokenHash: await hashToken(cart.token) });
	if (!snapshot.ok) throw new Error("cart gone");
	return Object.fromEntries(snapshot.cart.lines.map((l) => [l.sku, l.quantity]));
}

describe("checkout: the full path", () => {
	it("cart → checkout → test-provider confirm → consumer: paid, stock sold, cart emptied, confirmation queued", async () => {
		const bus = new Bus();
		const a = await newSku(1250);
		const b = await newSku(990);
		await stock(a.sku, 10);
		await stock(b.sku, 3);
		const cart = await guestCart([
			[a.sku, 2],
			[b.sku, 1],
		]);

		const placed = await checkoutOk(bus, cart);
		expect(placed.order.status).toBe("pending_payment");
		// 2 × 12.50 + 9.90 = 34.90; standard shipping 4.95 below 50.00. EU prices include VAT, so the total is
		// shelf price + shipping, and DE's 19 % is inside, per line then summed (half up):
		// 25.00 × 19/119 = 3.9916 → 3.99; 9.90 × 19/119 = 1.5807 → 1.58; 4.95 × 19/119 = 0.7903 → 0.79; 6.36 in all.
		expect(placed.order.subtotal.amount).toBe(3490);
		expect(placed.order.shipping.amount).toBe(495);
		expect(placed.order.tax.amount).toBe(399 + 158 + 79);
		expect(placed.order.total).toEqual({ amount: 3490 + 495, currency: "EUR" });
		expect(placed.order.tax_included).toBe(true);
		expect(placed.order.tax_breakdown).toEqual([
			{ rate_bp: 1900, taxable: { amount: 3985, currency: "EUR" }, tax: { amount: 636, currency: "EUR" } },
		]);
		expect(placed.order.shipping_method).toEqual({ id: "shm_eustandard", kind: "standard", name: "Standard (3–5 working days)" });
		expect(placed.order.lines.map((line) => line.tax.amount).sort()).toEqual([158, 399]);
		expect(placed.order_token).toEqual(expect.any(String));
		expect(placed.payment?.provider).toBe("test");
		expect(await available(a.sku)).toMatchObject({ available: 8, onHand: 10, reserved: 2 });
		// Checkout leaves the cart alone; the expiry backstop is waiting in the outbox's queue.
		expect(await cartLines(cart)).toEqual({ [a.sku]: 2, [b.sku]: 1 });
		expect(bus.orders.sent.find((s) => s.body.type === "order.expiry_check")?.delaySeconds).toBeGreaterThan(900);

		const confirmed = await confirm(bus, placed.payment?.id as string, "succeeded");
		expect(confirmed.status).toBe(202);
		expect(bus.orders.types()).toContain("payment.event");
		await bus.pump();

		const read = await getOrder(bus, placed.order.id, { orderToken: placed.order_token });
		const order = (await read.json()) as CheckoutAnswer["order"];
		expect(order.status).toBe("paid");
		expect(order.payment?.status).toBe("succeeded");
		expect(await available(a.sku)).toMatchObject({ available: 8, onHand: 8, reserved: 0 });
		expect(await available(b.sku)).toMatchObject({ available: 2, onHand: 2, reserved: 0 });
		expect(await cartLines(cart)).toEqual({});
		const confirmation = bus.notifications.sent.filter((s) => s.body.type === "order.confirmation");
		expect(confirmation).toHaveLength(1);
		expect(confirmation[0]?.body.data).toMatchObject({ order_id: placed.order.id, email: "ana@example.com" });
		expect(await orderStatus(placed.order.id)).toEqual(["place:pending_payment", "pay:paid"]);
	});

	it("only the ordered quantities leave the cart: what was added after checking out stays", async () => {
		const bus = new Bus();
		const a = await newSku();
		await stock(a.sku, 10);
		const cart = await guestCart([[a.sku, 2]]);
		const placed = await checkoutOk(bus, cart);
		await bus.request(`/v1/carts/${cart.id}/items`, {
			method: "POST",
			headers: headersFor({ token: cart.token }),
			body: JSON.stringify({ sku: a.sku, quantity: 3 }),
		});
		await confirm(bus, placed.payment?.id as string, "succeeded");
		await bus.pump();
		expect(await cartLines(cart)).toEqual({ [a.sku]: 3 });
	});

	it("a declined payment keeps the order payable: still pending with its stock, and a second attempt pays it", async () => {
		const bus = new Bus();
		const a = await newSku();
		await stock(a.sku, 4);
		const cart = await guestCart([[a.sku, 3]]);
		const placed = await checkoutOk(bus, cart);
		expect((await available(a.sku)).available).toBe(1);
		await confirm(bus, placed.payment?.id as string, "failed");
		await bus.pump();
		const [row] = await withDb((db) => db.primary.select().from(orders).where(eq(orders.id, placed.order.id)));
		expect(row?.status).toBe("pending_payment");
		expect(row?.cancelReason).toBeNull();
		expect(await available(a.sku)).toMatchObject({ available: 1, reserved: 3 });
		expect(bus.notifications.types()).not.toContain("order.cancelled");
		const declined = await getOrder(bus, placed.order.id, { orderToken: placed.order_token });
		expect(((await declined.json()) as CheckoutAnswer["order"]).payment?.status).toBe("failed");

		await confirm(bus, placed.payment?.id as string, "succeeded");
		await bus.pump();
		expect(await orderStatus(placed.order.id)).toEqual(["place:pending_payment", "payment_declined:pending_payment", "pay:paid"]);
		expect(await available(a.sku)).toMatchObject({ available: 1, onHand: 1, reserved: 0 });
		expect(await cartLines(cart)).toEqual({});
	});
});

describe("checkout: the server prices (I5)", () => {
	it("prices from Postgres at checkout, not from what the cart showed; client-sent totals are refused", async () => {
		const bus = new Bus();
		const a = await newSku(2000);
		await stock(a.sku, 5);
		const cart = await guestCart([[a.sku, 1]]);
		await setPrice(a.sku, 2600);
		const placed = await checkoutOk(bus, cart);
		expect(placed.order.lines[0]?.unit_price.amount).toBe(2600);
		expect(placed.order.subtotal.amount).toBe(2600);

		for (const extra of [{ total: 1 }, { status: "paid" }, { lines: [{ sku: a.sku, price: 1 }] }]) {
			const res = await checkoutRequest(bus, cart, `key-${crypto.randomUUID()}`, extra);
			expect(res.status).toBe(400);
			expect((await problemOf(res)).code).toBe("validation_failed");
		}
	});

	it("applies a percentage code once within its limit, shipping free from the threshold, tax by country", async () => {
		const bus = new Bus();
		const a = await newSku(3000);
		await stock(a.sku, 20);
		const code = `TEN${crypto.randomUUID().slice(0, 6).toUpperCase()}`;
		await newPromotion({ code, kind: "percentage", value: 1000, maxUses: 1 });
		const first = await checkoutOk(bus, await guestCart([[a.sku, 2]]), {
			discount_code: code.toLowerCase(),
			shipping_address: { ...ADDRESS, country: "PT" },
		});
		// 60.00 − 10 % = 54.00 ≥ 50.00: free shipping; PT's 23 % VAT is inside: 54.00 × 23/123 = 10.0976 → 10.10.
		expect(first.order).toMatchObject({
			subtotal: { amount: 6000 },
			discount: { amount: 600 },
			shipping: { amount: 0 },
			tax: { amount: 1010 },
			total: { amount: 5400 },
			discount_code: code,
		});
		expect(first.order.lines).toMatchObject([{ discount: { amount: 600 }, tax: { amount: 1010 }, tax_rate_bp: 2300 }]);
		// Used up: the next checkout is refused before any stock is taken.
		const before = await available(a.sku);
		const second = await checkoutRequest(bus, await guestCart([[a.sku, 1]]), `key-${crypto.randomUUID()}`, { discount_code: code });
		expect(second.status).toBe(422);
		expect((await problemOf(second)).code).toBe("invalid_discount_code");
		expect(await available(a.sku)).toEqual(before);
	});

	it("a discount code used up by a racing checkout releases the stock this one had reserved", async () => {
		const bus = new Bus();
		const a = await newSku(1000);
		await stock(a.sku, 50);
		const code = `LAST${crypto.randomUUID().slice(0, 6).toUpperCase()}`;
		await newPromotion({ code, kind: "fixed", value: 500, currency: "EUR", maxUses: 1 });
		const carts = await Promise.all(Array.from({ length: 6 }, () => guestCart([[a.sku, 1]])));
		const answers = await Promise.all(
			carts.map((cart) => checkoutRequest(bus, cart, `key-${crypto.randomUUID()}`, { discount_code: code })),
		);
		const statuses = answers.map((r) => r.status).sort();
		expect(statuses.filter((s) => s === 201)).toHaveLength(1);
		expect(statuses.filter((s) => s !== 201).every((s) => s === 422)).toBe(true);
		const [row] = await withDb((db) => db.primary.select().from(promotions).where(eq(promotions.code, code)));
		expect(row?.usedCount).toBe(1);
		expect(await available(a.sku)).toMatchObject({ available: 49, reserved: 1 });
	});

	it("refuses an empty cart, a cart with an archived item, someone else's cart", async () => {
		const bus = new Bus();
		const empty = await guestCart([]);
		const res = await checkoutRequest(bus, empty, `key-${crypto.randomUUID()}`);
		expect(res.status).toBe(422);
		expect((await problemOf(res)).code).toBe("cart_empty");

		const a = await newSku();
		await stock(a.sku, 5);
		const cart = await guestCart([[a.sku, 1]]);
		const other = await guestCart([]);
		const stolen = await checkoutRequest(bus, { id: cart.id, token: other.token }, `key-${crypto.randomUUID()}`);
		expect(stolen.status).toBe(404);
		await withDb((db) => db.primary.update(variants).set({ archivedAt: new Date() }).where(eq(variants.sku, a.sku)));
		const archived = await checkoutRequest(bus, cart, `key-${crypto.randomUUID()}`);
		expect(archived.status).toBe(422);
		expect(await problemOf(archived)).toMatchObject({ code: "items_unavailable", skus: [a.sku] });
		expect((await available(a.sku)).reserved).toBe(0);
	});
});

describe("checkout: sold out is answered at the edge", () => {
	it("a shopper who cannot get the stock is answered 409 by the Durable Objects alone, even with Postgres down", async () => {
		const bus = new Bus();
		const { sku } = await newSku();
		await stock(sku, 1);
		const winner = await guestCart([[sku, 1]]);
		const loser = await guestCart([[sku, 1]]);
		expect((await checkoutRequest(bus, winner, `key-${crypto.randomUUID()}`)).status).toBe(201);
		const down = { DATABASE_URL: "postgres://nobody@127.0.0.1:9/none" };
		const res = await bus.request(
			"/v1/checkout",
			{
				method: "POST",
				headers: headersFor({ token: loser.token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
				body: JSON.stringify({ cart_id: loser.id, email: "ana@example.com", shipping_address: ADDRESS }),
			},
			down,
		);
		expect(res.status).toBe(409);
		expect(await problemOf(res)).toMatchObject({ code: "out_of_stock", lines: [{ sku, requested: 1, available: 0, short: 1 }] });
		// With stock but no database: 503, and the units it held for a moment are back.
		await stock(sku, 2);
		const stuck = await bus.request(
			"/v1/checkout",
			{
				method: "POST",
				headers: headersFor({ token: loser.token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
				body: JSON.stringify({ cart_id: loser.id, email: "ana@example.com", shipping_address: ADDRESS }),
			},
			down,
		);
		expect(stuck.status).toBe(503);
		expect(await available(sku)).toMatchObject({ available: 2, reserved: 1 });
	});
});

/** A checkout that takes the only unit of a new SKU: what a same-key retry must replay. */
async function lastUnitCheckout(bus: Bus) {
	const { sku } = await newSku();
	await stock(sku, 1);
	const cart = await guestCart([[sku, 1]]);
	const key = `key-${crypto.randomUUID()}`;
	const first = await checkoutRequest(bus, cart, key);
	expect(first.status).toBe(201);
	return { sku, cart, key, placed: (await first.json()) as CheckoutAnswer };
}

describe("checkout: idempotency (I2)", () => {
	it("requires a key; the same key replays the first answer; another body with it is a 422", async () => {
		const bus = new Bus();
		const a = await newSku();
		await stock(a.sku, 5);
		const cart = await guestCart([[a.sku, 1]]);
		const missing = await bus.request("/v1/checkout", {
			method: "POST",
			headers: headersFor({ token: cart.token }),
			body: JSON.stringify({ cart_id: cart.id, email: "ana@example.com", shipping_address: ADDRESS }),
		});
		expect(missing.status).toBe(400);
		expect((await problemOf(missing)).code).toBe("idempotency_key_required");

		const key = `key-${crypto.randomUUID()}`;
		const first = await checkoutRequest(bus, cart, key);
		expect(first.status).toBe(201);
		const again = await checkoutRequest(bus, cart, key);
		expect(again.status).toBe(201);
		expect(again.headers.get("idempotent-replayed")).toBe("true");
		expect(await again.text()).toBe(await first.text());
		expect((await available(a.sku)).reserved).toBe(1);

		const other = await checkoutRequest(bus, cart, key, { email: "someone.else@example.com" });
		expect(other.status).toBe(422);
		expect((await problemOf(other)).code).toBe("idempotency_key_reused");
	});

	it("a same-key retry of a last-unit checkout replays its 201 with the same order id, though the SKU is sold out", async () => {
		const bus = new Bus();
		const { sku, cart, key, placed } = await lastUnitCheckout(bus);
		expect(await available(sku)).toMatchObject({ available: 0, reserved: 1 });

		for (let attempt = 0; attempt < 3; attempt++) {
			const again = await checkoutRequest(bus, cart, key);
			expect(again.status).toBe(201);
			expect(again.headers.get("idempotent-replayed")).toBe("true");
			expect(((await again.json()) as CheckoutAnswer).order.id).toBe(placed.order.id);
		}
		// Another shopper still gets the Durable Objects' answer, and nothing more was held for the retries.
		const other = await guestCart([[sku, 1]]);
		const refused = await checkoutRequest(bus, other, `key-${crypto.randomUUID()}`);
		expect(refused.status).toBe(409);
		expect((await problemOf(refused)).code).toBe("out_of_stock");
		expect(await available(sku)).toMatchObject({ available: 0, reserved: 1 });
		const rows = await withDb((db) => db.primary.select({ id: orders.id }).from(orders).where(eq(orders.cartId, cart.id)));
		expect(rows.map((row) => row.id)).toEqual([placed.order.id]);
	});

	it("a retry of a checkout whose answer was lost after the order committed finishes that order, with no stock left", async () => {
		const bus = new Bus();
		const { sku, cart, key, placed } = await lastUnitCheckout(bus);
		// As if the Worker died between the order's commit and storing its answer (Postgres went away):
		// the claim keeps its recovery point, has no answer, and its lock has run out.
		await withDb((db) =>
			db.primary
				.update(idempotencyKeys)
				.set({
					responseStatus: null,
					responseBody: null,
					responseHeaders: null,
					completedAt: null,
					lockedUntil: new Date(Date.now() - 1000),
				})
				.where(eq(idempotencyKeys.key, key)),
		);
		const retry = await checkoutRequest(bus, cart, key);
		expect(retry.status).toBe(201);
		const resumed = (await retry.json()) as CheckoutAnswer;
		expect(resumed.order.id).toBe(placed.order.id);
		expect(resumed.order_token).toBe(placed.order_token);
		expect(await available(sku)).toMatchObject({ available: 0, reserved: 1 });
		const rows = await withDb((db) => db.primary.select({ id: orders.id }).from(orders).where(eq(orders.cartId, cart.id)));
		expect(rows).toHaveLength(1);
	});
});

describe("orders: reading and authorization (I6)", () => {
	it("one shopper cannot read or cancel another's order; a guest needs the order token", async () => {
		const bus = new Bus();
		const a = await newSku();
		await stock(a.sku, 5);
		const alice = await registerShopper();
		const bob = await registerShopper();
		const create = await bus.request("/v1/carts", { method: "POST", headers: headersFor({ bearer: alice.access_token }) });
		const aliceCart = (await create.json()) as { id: string };
		await bus.request(`/v1/carts/${aliceCart.id}/items`, {
			method: "POST",
			headers: headersFor({ bearer: alice.access_token }),
			body: JSON.stringify({ sku: a.sku, quantity: 1 }),
		});
		const placed = await checkoutOk(bus, aliceCart, {}, { bearer: alice.access_token });
		expect(placed.order_token).toBeUndefined();

		expect((await getOrder(bus, placed.order.id, { bearer: alice.access_token })).status).toBe(200);
		expect((await getOrder(bus, placed.order.id, { bearer: bob.access_token })).status).toBe(404);
		expect((await getOrder(bus, placed.order.id, {})).status).toBe(404);
		const bobCancel = await bus.request(`/v1/orders/${placed.order.id}/cancel`, {
			method: "POST",
			headers: headersFor({ bearer: bob.access_token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
		});
		expect(bobCancel.status).toBe(404);

		const list = await bus.request("/v1/orders", { headers: headersFor({ bearer: alice.access_token }) });
		const page = (await list.json()) as { data: { id: string }[] };
		expect(page.data.map((o) => o.id)).toContain(placed.order.id);
		const bobList = (await (await bus.request("/v1/orders", { headers: headersFor({ bearer: bob.access_token }) })).json()) as {
			data: unknown[];
		};
		expect(bobList.data).toEqual([]);

		const guest = await checkoutOk(bus, await guestCart([[a.sku, 1]]));
		expect((await getOrder(bus, guest.order.id, { orderToken: "wrong" })).status).toBe(404);
		expect((await getOrder(bus, guest.order.id, { orderToken: guest.order_token })).status).toBe(200);
		expect((await getOrder(bus, guest.order.id, { bearer: alice.access_token })).status).toBe(404);
	});

	it("lists own orders newest first with a cursor", async () => {
		const bus = new Bus();
		const a = await newSku();
		await stock(a.sku, 10);
		const shopper = await registerShopper();
		const ids: string[] = [];
		for (let i = 0; i < 3; i++) {
			const res = await bus.request("/v1/carts", { method: "POST", headers: headersFor({ bearer: shopper.access_token }) });
			const cart = (await res.json()) as { id: string };
			await bus.request(`/v1/carts/${cart.id}/items`, {
				method: "POST",
				headers: headersFor({ bearer: shopper.access_token }),
				body: JSON.stringify({ sku: a.sku, quantity: 1 }),
			});
			ids.push((await checkoutOk(bus, cart, {}, { bearer: shopper.access_token })).order.id);
		}
		const first = (await (await bus.request("/v1/orders?limit=2", { headers: headersFor({ bearer: shopper.access_token }) })).json()) as {
			data: { id: string }[];
			next_cursor: string | null;
		};
		expect(first.data.map((o) => o.id)).toEqual([ids[2], ids[1]]);
		const second = (await (
			await bus.request(`/v1/orders?limit=2&cursor=${first.next_cursor}`, { headers: headersFor({ bearer: shopper.access_token }) })
		).json()) as { data: { id: string }[]; next_cursor: string | null };
		expect(second.data.map((o) => o.id)).toEqual([ids[0]]);
		expect(second.next_cursor).toBeNull();
		const forged = await bus.request("/v1/orders?cursor=bm9wZQ", { headers: headersFor({ bearer: shopper.access_token }) });
		expect(forged.status).toBe(400);
	});

	it("a guest cancels an unpaid order with its token: stock back, cancelled once", async () => {
		const bus = new Bus();
		const a = await newSku();
		await stock(a.sku, 2);
		const placed = await checkoutOk(bus, await guestCart([[a.sku, 2]]));
		expect((await available(a.sku)).available).toBe(0);
		const cancel = (key: string) =>
			bus.request(`/v1/orders/${placed.order.id}/cancel`, {
				method: "POST",
				headers: headersFor({ orderToken: placed.order_token }, { "idempotency-key": key }),
			});
		const res = await cancel("cancel-key-1");
		expect(res.status).toBe(200);
		expect(((await res.json()) as { status: string }).status).toBe("cancelled");
		expect((await available(a.sku)).available).toBe(2);
		expect((await cancel("cancel-key-1")).headers.get("idempotent-replayed")).toBe("true");
		const events = await withDb((db) => db.primary.select().from(orderEvents).where(eq(orderEvents.orderId, placed.order.id)));
		expect(events.map((e) => e.type)).toEqual(["place", "cancel"]);
	});
});
