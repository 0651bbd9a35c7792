import { env, runInDurableObject } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { LIMITED_ROUTES } from "../workers/api/middleware/rate-limits.ts";
import { cartStub } from "../workers/carts/carts.ts";
import { notifications, orders } from "../workers/db/schema.ts";
import { clientKey } from "../workers/limits/client.ts";
import { policyLimits } from "../workers/limits/rate-limits.ts";
import { PASSWORD, registerShopper, uniqueEmail } from "./accounts-helpers.ts";
import { at, problemOf, withDb } from "./helpers.ts";
import { ADDRESS, available, Bus, type CheckoutAnswer, checkoutRequest, guestCart, headersFor, newSku, stock } from "./orders-helpers.ts";

/** One attacker's addresses: a single /64, rotated on every request. */
function rotating(prefix = "2001:db8:77:1"): () => string {
	let n = 0;
	return () => `${prefix}:${(++n).toString(16)}:0:0:${Math.floor(Math.random() * 0xffff).toString(16)}`;
}

async function newCart(bus: Bus, ip: string): Promise<Response> {
	return bus.request("/v1/carts", { method: "POST", headers: { "cf-connecting-ip": ip } });
}

async function addItem(bus: Bus, cart: { id: string; token: string }, sku: string, quantity: number, ip: string): Promise<Response> {
	return bus.request(`/v1/carts/${cart.id}/items`, {
		method: "POST",
		headers: headersFor({ token: cart.token }, { "cf-connecting-ip": ip }),
		body: JSON.stringify({ sku, quantity }),
	});
}

function hold(bus: Bus, cart: { id: string; token: string }, ip: string): Promise<Response> {
	return bus.request(`/v1/carts/${cart.id}/hold`, {
		method: "POST",
		headers: headersFor({ token: cart.token }, { "cf-connecting-ip": ip }),
	});
}

/**
 * Waits, if need be, until the rate limiters' current window has `seconds`
 * left. Their windows are aligned to the wall clock (60 s here): a burst that
 * straddled a boundary would be counted in two windows and never refused.
 */
async function freshWindow(seconds = 8): Promise<void> {
	const left = 60_000 - (Date.now() % 60_000);
	if (left < seconds * 1000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

/** Reads the IETF RateLimit fields of a 429 and checks they agree with the policy. */
function expectRateLimited(res: Response, policy: string): void {
	const limits = policyLimits(env, policy as Parameters<typeof policyLimits>[1]);
	expect(res.status).toBe(429);
	// The binding cannot tell when its window ends, so it says the whole window; a cart's own count knows.
	const retryAfter = Number(res.headers.get("retry-after"));
	expect(retryAfter).toBeGreaterThanOrEqual(1);
	expect(retryAfter).toBeLessThanOrEqual(limits.period);
	expect(res.headers.get("ratelimit-policy")).toBe(`"${policy}";q=${limits.limit};w=${limits.period}`);
	expect(res.headers.get("ratelimit")).toBe(`"${policy}";r=0;t=${retryAfter}`);
}

describe("client keys", () => {
	it("an IPv6 /64 is one client however its addresses are written; IPv4 addresses are their own", () => {
		expect(clientKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
		expect(clientKey("2001:0db8:0001:0002:ffff::1")).toBe("2001:db8:1:2::/64");
		expect(clientKey("2001:db8:1::")).toBe("2001:db8:1:0::/64");
		expect(clientKey("::1")).toBe("0:0:0:0::/64");
		expect(clientKey("2001:db8:1:3::1")).not.toBe(clientKey("2001:db8:1:2::1"));
		expect(clientKey("203.0.113.9")).toBe("203.0.113.9");
		expect(clientKey(undefined)).toBe("local");
	});
});

describe("denial of inventory", () => {
	it("a hoarding client is stopped at its cap of held units, and a second shopper still buys", async () => {
		await freshWindow();
		const bus = new Bus();
		const { sku } = await newSku();
		await stock(sku, 30);
		const attacker = rotating("2001:db8:66:1");
		const cap = Number(env.MAX_HELD_UNITS_PER_CLIENT);
		expect(cap).toBe(20);

		// 30 guest carts asking to hold 10 units each, from one /64 rotating its addresses.
		const statuses = { created: 0, refusedCreate: 0, held: 0, holdLimit: 0, holdsRateLimited: 0 };
		for (let i = 0; i < 30; i++) {
			const created = await newCart(bus, attacker());
			if (created.status === 429) {
				statuses.refusedCreate++;
				continue;
			}
			expect(created.status).toBe(201);
			statuses.created++;
			const cart = (await created.json()) as { id: string; token: string };
			expect((await addItem(bus, cart, sku, 10, attacker())).status).toBe(200);
			const held = await hold(bus, cart, attacker());
			if (held.status === 201) {
				statuses.held++;
				continue;
			}
			const problem = await problemOf(held);
			expect(held.status).toBe(429);
			expect(Number(held.headers.get("retry-after"))).toBeGreaterThan(0);
			if (problem.code === "hold_limit") statuses.holdLimit++;
			else {
				expect(problem.code).toBe("rate_limited");
				statuses.holdsRateLimited++;
			}
		}
		// Cart creation stops at its policy's limit; of the holds asked for, only two fit under the cap
		// of held units (hold requests are counted per cart and user: the cap is what binds a client).
		expect(statuses.created).toBe(policyLimits(env, "carts").limit);
		expect(statuses.refusedCreate).toBe(30 - statuses.created);
		expect(statuses.held).toBe(cap / 10);
		expect(statuses.holdLimit).toBe(statuses.created - statuses.held);
		expect(statuses.holdsRateLimited).toBe(0);
		expect((await available(sku)).available).toBe(30 - cap);

		// The hoarder's checkouts count against the same cap: a fresh reservation is refused as well.
		const carts: { id: string; token: string }[] = [];
		const another = await guestCart([[sku, 5]]);
		carts.push(another);
		const checkout = await bus.request("/v1/checkout", {
			method: "POST",
			headers: headersFor({ token: another.token }, { "idempotency-key": `key-${crypto.randomUUID()}`, "cf-connecting-ip": attacker() }),
			body: JSON.stringify({ cart_id: another.id, email: "hoarder@example.com", shipping_address: ADDRESS }),
		});
		expect(checkout.status).toBe(429);
		expect((await problemOf(checkout)).code).toBe("hold_limit");
		expect((await available(sku)).available).toBe(30 - cap);

		// Someone else, elsewhere, buys what is left.
		const shopper = await guestCart([[sku, 10]]);
		const bought = await checkoutRequest(bus, shopper, `key-${crypto.randomUUID()}`);
		expect(bought.status).toBe(201);
		expect(await available(sku)).toMatchObject({ available: 0, reserved: 30 });
	});

	it("releasing a hold frees the client's count at once", async () => {
		await freshWindow();
		const bus = new Bus();
		const { sku } = await newSku();
		await stock(sku, 40);
		const ip = "198.51.100.21";
		const make = async () => {
			const cart = (await (await newCart(bus, ip)).json()) as { id: string; token: string };
			expect((await addItem(bus, cart, sku, 10, ip)).status).toBe(200);
			return cart;
		};
		const [a, b, c] = [await make(), await make(), await make()];
		expect((await hold(bus, a, ip)).status).toBe(201);
		expect((await hold(bus, b, ip)).status).toBe(201);
		expect((await hold(bus, c, ip)).status).toBe(429);
		const released = await bus.request(`/v1/carts/${a.id}/hold`, {
			method: "DELETE",
			headers: headersFor({ token: a.token }, { "cf-connecting-ip": ip }),
		});
		expect(released.status).toBe(204);
		expect((await hold(bus, c, ip)).status).toBe(201);
		expect((await available(sku)).available).toBe(20);
	});

	it("a cart holds stock for at most MAX_CART_HOLD_SECONDS a day, renewals included", async () => {
		const bus = new Bus();
		const { sku } = await newSku();
		await stock(sku, 5);
		const cart = await guestCart([[sku, 2]]);
		const ttl = Number(env.RESERVATION_TTL_SECONDS) * 1000;
		const budget = Number(env.MAX_CART_HOLD_SECONDS) * 1000;
		expect(budget).toBe(2 * ttl);
		const t0 = Date.now();
		const expiresAt = async (res: Response) => Date.parse(((await res.json()) as { expires_at: string }).expires_at);

		const first = await at(t0, () => hold(bus, cart, "192.0.2.1"));
		expect(first.status).toBe(201);
		expect(await expiresAt(first)).toBe(t0 + ttl);
		// Ten minutes in, the cart changes (the hold goes back) and is held again: the ten minutes count.
		await at(t0 + 10 * 60_000, async () => {
			expect((await addItem(bus, cart, sku, 1, "192.0.2.1")).status).toBe(200);
			const second = await hold(bus, cart, "192.0.2.1");
			expect(second.status).toBe(201);
			expect(await expiresAt(second)).toBe(t0 + 10 * 60_000 + ttl);
		});
		// That hold runs out; the renewal gets only what is left of the budget (30 − 10 − 15 = 5 minutes).
		await at(t0 + 26 * 60_000, async () => {
			const third = await hold(bus, cart, "192.0.2.1");
			expect(third.status).toBe(201);
			expect(await expiresAt(third)).toBe(t0 + 26 * 60_000 + (budget - 25 * 60_000));
		});
		// Then it is spent: 409 until a day has passed.
		await at(t0 + 32 * 60_000, async () => {
			const refused = await hold(bus, cart, "192.0.2.1");
			expect(refused.status).toBe(409);
			expect((await problemOf(refused)).code).toBe("hold_time_exhausted");
		});
		await at(t0 + 24 * 3600_000 + 60_000, async () => {
			expect((await hold(bus, cart, "192.0.2.1")).status).toBe(201);
		});
	});

	it("a cart with an unpaid order answers that order to a new checkout until it is over", async () => {
		const bus = new Bus();
		const { sku } = await newSku();
		await stock(sku, 10);
		const cart = await guestCart([[sku, 2]]);
		const first = await checkoutRequest(bus, cart, `key-${crypto.randomUUID()}`);
		expect(first.status).toBe(201);
		const placed = (await first.json()) as CheckoutAnswer;
		const again = await checkoutRequest(bus, cart, `key-${crypto.randomUUID()}`);
		expect(again.status).toBe(201);
		const answered = (await again.json()) as CheckoutAnswer;
		expect(answered.order.id).toBe(placed.order.id);
		expect(answered.order_token).toBe(placed.order_token);
		expect(answered.payment?.id).toBe(placed.payment?.id);
		expect((await available(sku)).reserved).toBe(2);
		const rows = await withDb((db) => db.primary.select({ id: orders.id }).from(orders).where(eq(orders.cartId, cart.id)));
		expect(rows).toHaveLength(1);

		// Cancelled by the shopper: the next checkout places a new order.
		const cancelled = await bus.request(`/v1/orders/${placed.order.id}/cancel`, {
			method: "POST",
			headers: headersFor({ orderToken: placed.order_token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
		});
		expect(cancelled.status).toBe(200);
		const next = await checkoutRequest(bus, cart, `key-${crypto.randomUUID()}`);
		expect(next.status).toBe(201);
		expect(((await next.json()) as CheckoutAnswer).order.id).not.toBe(placed.order.id);
	});
});

/** The 20 Crockford base32 characters after an id's prefix, at random. */
function randomIdBody(): string {
	return Array.from(crypto.getRandomValues(new Uint8Array(20)), (b) => "0123456789abcdefghjkmnpqrstvwxyz"[b % 32]).join("");
}

describe("rate limits", () => {
	/** A request that matches the route (the limiter counts before any validation, so placeholders do). */
	function sample(route: (typeof LIMITED_ROUTES)[number], ip: string, target: string, bearer?: string): [string, RequestInit] {
		const path = route.path
			.replace("{id}", `${route.path.startsWith("/v1/carts") ? "cart" : "ord"}_${target}`)
			.replace("{sku}", "TST-NOPE")
			.replace("{provider}", "test");
		return [
			path,
			{
				method: route.method.toUpperCase(),
				headers: { "content-type": "application/json", "cf-connecting-ip": ip, ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
				body: route.method === "get" ? undefined : "{}",
			},
		];
	}

	for (const route of LIMITED_ROUTES.filter((r) => r.enforcedBy !== "service")) {
		// Routes not counted per client (item writes: per cart and user) are exhausted as one user from many addresses.
		const byClient = route.per.includes("client");
		it(`${route.method.toUpperCase()} ${route.path}: 429 past policy ${route.policy} per ${byClient ? "client" : "user"}, with Retry-After and RateLimit headers`, async () => {
			await freshWindow();
			const bus = new Bus();
			const { limit } = policyLimits(env, route.policy);
			const bearer = byClient ? undefined : (await registerShopper()).access_token;
			const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}`;
			const ip = (i: number) => (byClient ? `${prefix}:1::${i.toString(16)}` : `${prefix}:${i.toString(16)}::1`);
			// An id of its own per route: routes of one policy share a cart's count.
			const target = randomIdBody();
			let last: Response | undefined;
			for (let i = 0; i < limit; i++) {
				last = await bus.request(...sample(route, ip(i + 1), target, bearer));
				expect(last.status).not.toBe(429);
				await last.body?.cancel();
			}
			expect(last?.headers.get("ratelimit-policy")).toMatch(new RegExp(`^"${route.policy}";q=${limit};w=\\d+$`));
			const refused = await bus.request(...sample(route, ip(limit + 1), target, bearer));
			expectRateLimited(refused, route.policy);
			expect((await problemOf(refused)).code).toBe("rate_limited");
			// Another client (or user) is not affected.
			const other = await bus.request(
				...sample(route, "203.0.113.250", randomIdBody(), byClient ? undefined : (await registerShopper()).access_token),
			);
			expect(other.status).not.toBe(429);
		});
	}

	it("counts per cart across clients, and per signed-in user across clients", async () => {
		await freshWindow();
		const bus = new Bus();
		const { sku } = await newSku();
		await stock(sku, 5);
		const cart = await guestCart([[sku, 1]]);
		const { limit } = policyLimits(env, "holds");
		for (let i = 0; i < limit; i++) expect((await hold(bus, cart, `192.0.2.${100 + i}`)).status).toBeLessThan(300);
		expectRateLimited(await hold(bus, cart, "192.0.2.250"), "holds");

		const shopper = await registerShopper();
		const carts = policyLimits(env, "carts").limit;
		const create = (ip: string) =>
			bus.request("/v1/carts", { method: "POST", headers: { authorization: `Bearer ${shopper.access_token}`, "cf-connecting-ip": ip } });
		for (let i = 0; i < carts; i++) expect((await create(`198.18.${i}.1`)).status).toBe(201);
		expectRateLimited(await create("198.18.250.1"), "carts");
	});

	it("sign-in counts per /64 and per address, with the same headers", async () => {
		await freshWindow();
		const bus = new Bus();
		const next = rotating("2001:db8:99:5");
		const { limit } = policyLimits(env, "auth");
		const attempt = () =>
			bus.request("/v1/auth/login", {
				method: "POST",
				headers: { "content-type": "application/json", "cf-connecting-ip": next() },
				body: JSON.stringify({ email: uniqueEmail(), password: PASSWORD }),
			});
		for (let i = 0; i < limit; i++) expect((await attempt()).status).toBe(401);
		expectRateLimited(await attempt(), "auth");
	});

	it("the storefront's cart form counts like the API's cart writes, answering a 429 page", async () => {
		await freshWindow();
		const bus = new Bus();
		const { limit } = policyLimits(env, "cart_writes");
		const post = () =>
			bus.request("/cart/items", {
				method: "POST",
				headers: { "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": "198.51.100.77", origin: "https://api.test" },
				body: "sku=TST-NOPE&product=nope&quantity=1",
			});
		for (let i = 0; i < limit; i++) expect((await post()).status).not.toBe(429);
		const refused = await post();
		expect(refused.status).toBe(429);
		expect(refused.headers.get("content-type")).toContain("text/html");
		expect(refused.headers.get("retry-after")).toBe(String(policyLimits(env, "cart_writes").period));
		expect(refused.headers.get("ratelimit-policy")).toContain('"cart_writes"');
	});
});

describe("bounded input", () => {
	it("a NUL byte in a path id is a 400 problem, not a database error", async () => {
		const shopper = await registerShopper();
		const res = await new Bus().request("/v1/me/addresses/%00", {
			method: "DELETE",
			headers: { authorization: `Bearer ${shopper.access_token}` },
		});
		expect(res.status).toBe(400);
		expect((await problemOf(res)).code).toBe("validation_failed");
		const query = await new Bus().request("/v1/products?q=merino%01", {});
		expect(query.status).toBe(400);
	});
});

describe("no mail to strangers", () => {
	/** Places an order for `email` (as a guest, or as `shopper`), lets it expire unpaid, and delivers what that queues. */
	async function expireUnpaid(email: string, shopper?: { access_token: string }): Promise<string[]> {
		const bus = new Bus();
		const { sku } = await newSku();
		await stock(sku, 2);
		let cart: { id: string; token?: string };
		if (shopper) {
			const made = await bus.request("/v1/carts", { method: "POST", headers: headersFor({ bearer: shopper.access_token }) });
			cart = (await made.json()) as { id: string };
			const added = await bus.request(`/v1/carts/${cart.id}/items`, {
				method: "POST",
				headers: headersFor({ bearer: shopper.access_token }),
				body: JSON.stringify({ sku, quantity: 1 }),
			});
			expect(added.status).toBe(200);
		} else cart = await guestCart([[sku, 1]]);
		const placed = await checkoutRequest(
			bus,
			cart,
			`key-${crypto.randomUUID()}`,
			{ email },
			shopper ? { bearer: shopper.access_token } : {},
		);
		expect(placed.status).toBe(201);
		const { order } = (await placed.json()) as CheckoutAnswer;
		await withDb((db) =>
			db.primary
				.update(orders)
				.set({ reservationExpiresAt: new Date(Date.now() - 1000) })
				.where(eq(orders.id, order.id)),
		);
		await bus.deliver(bus.orders.take((s) => s.body.type === "order.expiry_check").map((s) => s.body));
		expect((await available(sku)).available).toBe(2);
		expect(bus.notifications.types()).toContain("order.cancelled");
		const result = await bus.deliverNotifications();
		expect(result.retryMessages).toEqual([]);
		const mails = await withDb((db) =>
			db.primary
				.select({ kind: notifications.kind })
				.from(notifications)
				.where(eq(notifications.eventId, `cancelled:${order.id}`)),
		);
		return mails.map((m) => m.kind);
	}

	it("an unpaid guest order's expiry e-mails nobody, while a signed-in customer's is told", async () => {
		expect(await expireUnpaid(uniqueEmail("stranger"))).toEqual([]);
		const shopper = await registerShopper();
		expect(await expireUnpaid(shopper.user.email, shopper)).toEqual(["order_cancelled"]);
	});
});

describe("live stock sockets", () => {
	it("refuses a WebSocket past MAX_LIVE_SOCKETS_PER_SKU with 429 and keeps the open ones", async () => {
		const { sku } = await newSku();
		await stock(sku, 3);
		const max = Number(env.MAX_LIVE_SOCKETS_PER_SKU);
		const open: WebSocket[] = [];
		const connect = (i: number) =>
			new Bus().request(`/v1/inventory/${sku}/live`, {
				headers: { upgrade: "websocket", "cf-connecting-ip": `100.64.${i >> 8}.${i & 255}` },
			});
		for (let i = 0; i < max; i++) {
			const res = await connect(i);
			expect(res.status).toBe(101);
			const socket = res.webSocket as WebSocket;
			socket.accept();
			open.push(socket);
		}
		const refused = await connect(max);
		expect(refused.status).toBe(429);
		expect(refused.headers.get("retry-after")).toBe("30");
		for (const socket of open) socket.close(1000, "done");
	});
});

describe("cart caps", () => {
	it("a line holds at most MAX_UNITS_PER_SKU units", async () => {
		const { sku } = await newSku();
		const cart = await guestCart([[sku, Number(env.MAX_UNITS_PER_SKU)]]);
		const over = await addItem(new Bus(), cart, sku, 1, "192.0.2.77");
		expect(over.status).toBe(422);
		const problem = await problemOf(over);
		expect(problem.code).toBe("quantity_limit");
		expect(problem.max).toBe(10);
		const lines = await runInDurableObject(cartStub(env, cart.id), (_cart, state) =>
			state.storage.sql.exec<{ quantity: number }>("SELECT quantity FROM lines").toArray(),
		);
		expect(lines).toEqual([{ quantity: 10 }]);
	});
});
