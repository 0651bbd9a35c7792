import { beforeAll, describe, expect, it } from "vitest";
import { orders, payments } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import type { OrderStatus } from "../workers/orders/state.ts";
import { authed, makeAdmin, PASSWORD, post, registerShopper, type Session } from "./accounts-helpers.ts";
import { call, problemOf, withDb } from "./helpers.ts";
import { ADDRESS, Bus, type CheckoutAnswer, checkoutOk, confirm, guestCart, headersFor, newSku, stock } from "./orders-helpers.ts";

interface Money {
	amount: number;
	currency: string;
}

interface Customer {
	id: string;
	email: string;
	name: string;
	role: string;
	email_verified: boolean;
	created_at: string;
	order_count: number;
	total_spent: Money[];
}

interface CustomerDetail extends Customer {
	abandoned_cart_emails: boolean;
	addresses: { id: string; name: string; city: string; country: string; is_default: boolean }[];
	orders: { id: string; status: string; total: Money; refunded: Money; items: number; created_at: string }[];
	orders_placed: number;
}

const tag = () => crypto.randomUUID().slice(0, 8);

let admin: Session;

beforeAll(async () => {
	admin = await makeAdmin(await registerShopper());
});

const get = (path: string, token = admin.access_token) => call(path, authed(token));

async function register(email: string, name: string): Promise<Session> {
	const res = await post("/v1/auth/register", { email, password: PASSWORD, name });
	if (res.status !== 201) throw new Error(`register answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as Session;
}

async function search(q: string, extra = ""): Promise<{ data: Customer[]; next_cursor: string | null }> {
	const res = await get(`/v1/admin/customers?q=${encodeURIComponent(q)}${extra}`);
	expect(res.status).toBe(200);
	expect(res.headers.get("cache-control")).toBe("private, no-store");
	return (await res.json()) as { data: Customer[]; next_cursor: string | null };
}

async function detail(id: string): Promise<CustomerDetail> {
	const res = await get(`/v1/admin/customers/${id}`);
	expect(res.status).toBe(200);
	return (await res.json()) as CustomerDetail;
}

/** An order written straight to Postgres, in a given status, with a payment that refunded `refunded`. */
async function storedOrder(
	user: { id: string; email: string } | null,
	status: OrderStatus,
	totalMinor: number,
	options: { currency?: string; refunded?: number; createdAt?: Date; email?: string } = {},
): Promise<string> {
	const id = newId("ord");
	const currency = options.currency ?? "EUR";
	await withDb(async (db) => {
		await db.primary.insert(orders).values({
			id,
			userId: user?.id ?? null,
			email: options.email ?? user?.email ?? "guest@example.test",
			status,
			currency,
			subtotalMinor: totalMinor,
			shippingMinor: 0,
			taxMinor: 0,
			totalMinor,
			shippingAddress: { ...ADDRESS, country: "DE" },
			cartId: `cart_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`,
			reservationExpiresAt: new Date(Date.now() + 600_000),
			...(options.createdAt ? { createdAt: options.createdAt } : {}),
		});
		await db.primary.insert(payments).values({
			id: newId("pay"),
			orderId: id,
			provider: "test",
			status: status === "pending_payment" ? "requires_action" : "succeeded",
			amountMinor: totalMinor,
			currency,
			refundedMinor: options.refunded ?? 0,
		});
	});
	return id;
}

const FORBIDDEN_TEXT = /password|argon|token|cart_id|\$2[aby]\$/i;

describe("admin customers: search", () => {
	it("finds accounts by part of the e-mail address or of the name, in any letter case, and no one else", async () => {
		const t = tag();
		const alpha = await register(`alpha.${t}@example.test`, "Alpha Person");
		const beta = await register(`beta.${t}@example.test`, `Beatriz Quintal${t}`);
		const gamma = await register(`gamma.${t}@example.test`, "Gamma Person");

		expect((await search(`ALPHA.${t.toUpperCase()}`)).data.map((c) => c.id)).toEqual([alpha.user.id]);
		expect((await search(`a.${t}@`)).data.map((c) => c.id)).toEqual([gamma.user.id, beta.user.id, alpha.user.id]);
		expect((await search(`quintal${t.toUpperCase()}`)).data.map((c) => c.id)).toEqual([beta.user.id]);
		expect((await search(`riz quin`)).data.map((c) => c.id)).toContain(beta.user.id);
		// Wildcards are characters, not patterns.
		expect((await search(`_lpha.${t}`)).data).toEqual([]);
		expect((await search(`%.${t}`)).data).toEqual([]);
		expect((await search(`nobody.${t}`)).data).toEqual([]);

		const page = await search(`.${t}@`);
		expect(page.data.map((c) => c.id)).toEqual([gamma.user.id, beta.user.id, alpha.user.id]);
		expect(page.data[2]).toEqual({
			id: alpha.user.id,
			email: `alpha.${t}@example.test`,
			name: "Alpha Person",
			role: "customer",
			email_verified: false,
			created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
			order_count: 0,
			total_spent: [],
		});
		expect(JSON.stringify(page)).not.toMatch(FORBIDDEN_TEXT);
	});

	it("pages newest first with a cursor that continues the same search", async () => {
		const t = tag();
		const made: string[] = [];
		for (const name of ["One", "Two", "Three"]) made.push((await register(`page.${name.toLowerCase()}.${t}@example.test`, name)).user.id);
		const first = await search(`.${t}@`, "&limit=2");
		expect(first.data.map((c) => c.id)).toEqual([made[2], made[1]]);
		expect(first.next_cursor).toMatch(/^[A-Za-z0-9_-]+$/);
		const second = await search(`.${t}@`, `&limit=2&cursor=${first.next_cursor}`);
		expect(second.data.map((c) => c.id)).toEqual([made[0]]);
		expect(second.next_cursor).toBeNull();
	});

	it("counts paid-and-later orders and what they came to per currency, less refunds", async () => {
		const t = tag();
		const buyer = (await register(`buyer.${t}@example.test`, "Buyer")).user;
		const other = (await register(`other.${t}@example.test`, "Other")).user;
		await storedOrder(buyer, "paid", 1000);
		await storedOrder(buyer, "delivered", 2500);
		await storedOrder(buyer, "partially_refunded", 3000, { refunded: 500 });
		await storedOrder(buyer, "paid", 700, { currency: "USD" });
		await storedOrder(buyer, "cancelled", 9999);
		await storedOrder(buyer, "pending_payment", 8888);
		await storedOrder(buyer, "refunded", 7777, { refunded: 7777 });
		await storedOrder(buyer, "payment_review", 6666);
		await storedOrder(other, "paid", 5000);
		// A guest order to the buyer's address is not the account's.
		await storedOrder(null, "paid", 4000, { email: buyer.email });

		const [found] = (await search(`buyer.${t}@`)).data;
		expect(found).toMatchObject({
			id: buyer.id,
			order_count: 4,
			total_spent: [
				{ amount: 6000, currency: "EUR" },
				{ amount: 700, currency: "USD" },
			],
		});
		const [theirs] = (await search(`other.${t}@`)).data;
		expect(theirs).toMatchObject({ order_count: 1, total_spent: [{ amount: 5000, currency: "EUR" }] });
	});

	it("refuses a malformed cursor or query with 400", async () => {
		expect((await problemOf(await get("/v1/admin/customers?cursor=garbage"))).code).toBe("invalid_cursor");
		expect((await problemOf(await get("/v1/admin/customers?limit=0"))).code).toBe("validation_failed");
		expect((await problemOf(await get("/v1/admin/customers?role=admin"))).code).toBe("validation_failed");
	});
});

describe("admin customers: detail", () => {
	it("shows the profile, saved addresses and only this account's orders, newest first, with nothing secret", async () => {
		const t = tag();
		const shopper = await register(`detail.${t}@example.test`, `Detail ${t}`);
		const stranger = (await register(`stranger.${t}@example.test`, "Stranger")).user;
		const saved = await call("/v1/me/addresses", {
			method: "POST",
			headers: { ...headersFor({ bearer: shopper.access_token }) },
			body: JSON.stringify({ name: "Ana Lima", line1: "Rua 1", city: "Lisboa", postal_code: "1000-001", country: "pt", is_default: true }),
		});
		expect(saved.status).toBe(201);

		const older = await storedOrder(shopper.user, "delivered", 1200, { createdAt: new Date(Date.now() - 2 * 86_400_000) });
		const old = await storedOrder(shopper.user, "cancelled", 800, { createdAt: new Date(Date.now() - 86_400_000) });
		await storedOrder(stranger, "paid", 999);
		await storedOrder(null, "paid", 4000, { email: shopper.user.email });

		// A real order, signed in, through checkout and payment.
		const bus = new Bus();
		const { sku } = await newSku(1500);
		await stock(sku, 3);
		const cart = (await (
			await bus.request("/v1/carts", { method: "POST", headers: headersFor({ bearer: shopper.access_token }) })
		).json()) as {
			id: string;
		};
		const added = await bus.request(`/v1/carts/${cart.id}/items`, {
			method: "POST",
			headers: headersFor({ bearer: shopper.access_token }),
			body: JSON.stringify({ sku, quantity: 2 }),
		});
		expect(added.status).toBe(200);
		const placed: CheckoutAnswer = await checkoutOk(bus, cart, { email: shopper.user.email }, { bearer: shopper.access_token });
		expect((await confirm(bus, placed.payment?.id as string, "succeeded")).status).toBe(202);
		await bus.pump();

		const customer = await detail(shopper.user.id);
		expect(customer).toMatchObject({
			id: shopper.user.id,
			email: `detail.${t}@example.test`,
			name: `Detail ${t}`,
			role: "customer",
			abandoned_cart_emails: true,
			orders_placed: 3,
			order_count: 2,
		});
		expect(customer.addresses.map((a) => [a.name, a.city, a.country, a.is_default])).toEqual([["Ana Lima", "Lisboa", "PT", true]]);
		expect(customer.orders.map((o) => o.id)).toEqual([placed.order.id, old, older]);
		expect(customer.orders[0]).toMatchObject({ status: "paid", items: 2, total: placed.order.total, refunded: { amount: 0 } });
		expect(customer.orders[1]).toMatchObject({ status: "cancelled", total: { amount: 800, currency: "EUR" } });
		expect(customer.total_spent).toEqual([{ amount: 1200 + placed.order.total.amount, currency: "EUR" }]);
		expect(JSON.stringify(customer)).not.toMatch(FORBIDDEN_TEXT);
	});

	it(`lists at most 20 orders and counts them all`, async () => {
		const t = tag();
		const many = (await register(`many.${t}@example.test`, "Many")).user;
		const ids: string[] = [];
		for (let i = 0; i < 22; i++) ids.push(await storedOrder(many, "paid", 100, { createdAt: new Date(Date.now() - (22 - i) * 60_000) }));
		const customer = await detail(many.id);
		expect(customer.orders_placed).toBe(22);
		expect(customer.order_count).toBe(22);
		expect(customer.total_spent).toEqual([{ amount: 2200, currency: "EUR" }]);
		expect(customer.orders.map((o) => o.id)).toEqual(ids.slice(2).reverse());
	});

	it("answers 404 for an unknown account, 403 to a customer and 401 to anyone else", async () => {
		const shopper = await registerShopper();
		expect((await problemOf(await get("/v1/admin/customers/usr_0000000000000000zzzz"))).code).toBe("not_found");
		for (const path of ["/v1/admin/customers", `/v1/admin/customers/${shopper.user.id}`]) {
			const forbidden = await get(path, shopper.access_token);
			expect(forbidden.status).toBe(403);
			expect((await problemOf(forbidden)).code).toBe("forbidden");
			const anonymous = await call(path);
			expect(anonymous.status).toBe(401);
			expect((await problemOf(anonymous)).code).toBe("unauthorized");
		}
		expect((await get("/v1/admin/customers/not-an-id")).status).toBe(400);
	});
});

describe("admin customers: guests stay out", () => {
	it("a guest's order is not listed under the account with the same address", async () => {
		const bus = new Bus();
		const t = tag();
		const shopper = await register(`guest.${t}@example.test`, "Guest Too");
		const { sku } = await newSku(900);
		await stock(sku, 2);
		const placed = await checkoutOk(bus, await guestCart([[sku, 1]]), { email: shopper.user.email });
		expect((await confirm(bus, placed.payment?.id as string, "succeeded")).status).toBe(202);
		await bus.pump();
		const customer = await detail(shopper.user.id);
		expect(customer.orders).toEqual([]);
		expect(customer).toMatchObject({ orders_placed: 0, order_count: 0, total_spent: [] });
	});
});
