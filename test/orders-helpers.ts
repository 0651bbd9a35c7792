import { createExecutionContext, createMessageBatch, env, getQueueResult, runInDurableObject } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { expect } from "vitest";
import { orderEvents, products, promotions, variants } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import worker from "../workers/index.ts";
import { inventoryItem } from "../workers/inventory/reservations.ts";
import type { Envelope } from "../workers/queues/envelope.ts";
import { consumeQueueBatch } from "../workers/queues/index.ts";
import { callWith, withDb } from "./helpers.ts";

export interface Sent {
	body: Envelope;
	delaySeconds: number;
}

/** A queue binding that keeps what is sent to it, so a test delivers it to the consumer when it chooses. */
export class CapturedQueue {
	readonly sent: Sent[] = [];
	failing = false;
	readonly binding = {
		send: async (body: Envelope, options?: { delaySeconds?: number }) => {
			if (this.failing) throw new Error("queue unavailable (test)");
			this.sent.push({ body, delaySeconds: options?.delaySeconds ?? 0 });
		},
		sendBatch: async (messages: { body: Envelope; delaySeconds?: number }[]) => {
			if (this.failing) throw new Error("queue unavailable (test)");
			for (const m of messages) this.sent.push({ body: m.body, delaySeconds: m.delaySeconds ?? 0 });
		},
	} as unknown as Queue;

	take(filter: (sent: Sent) => boolean = () => true): Sent[] {
		const taken = this.sent.filter(filter);
		const rest = this.sent.filter((s) => !filter(s));
		this.sent.splice(0, this.sent.length, ...rest);
		return taken;
	}

	types(): string[] {
		return this.sent.map((s) => s.body.type);
	}
}

/**
 * The two queues of the Worker, captured. Requests and consumer runs made
 * through it use them, and the bindings it was made with (a Stripe shop's
 * settings, say) on top of the test bindings.
 */
export class Bus {
	readonly orders = new CapturedQueue();
	readonly notifications = new CapturedQueue();
	readonly #bindings: Partial<Env>;

	constructor(bindings: Partial<Env> = {}) {
		this.#bindings = bindings;
	}

	get env(): Partial<Env> {
		return { ...this.#bindings, ORDERS_QUEUE: this.orders.binding, NOTIFICATIONS_QUEUE: this.notifications.binding };
	}

	request(path: string, init: RequestInit, overrides: Partial<Env> = {}): Promise<Response> {
		return callWith(worker, path, init, { ...this.env, ...overrides });
	}

	/** Delivers messages to the orders consumer; returns the plugin's ack/retry record. */
	async deliver(messages: readonly Envelope[], overrides: Partial<Env> = {}) {
		const batch = createMessageBatch(
			"orders",
			messages.map((body, i) => ({ id: `m${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })),
		);
		const ctx = createExecutionContext();
		await consumeQueueBatch(batch, { ...env, ...this.env, ...overrides } as Env, ctx);
		return getQueueResult(batch, ctx);
	}

	/**
	 * Sends the events of these SKUs' InventoryItem objects to this bus
	 * instead of the Worker's real queues, so the test delivers them to the
	 * consumer when it chooses, as it does every other event. An object's
	 * bindings are its own, not a request's, so they are swapped inside it
	 * (for as long as that instance lives, which is the test).
	 */
	async watch(...skus: string[]): Promise<void> {
		for (const sku of skus) {
			await runInDurableObject(inventoryItem(env, sku), (instance) => {
				const object = instance as unknown as { env: Env };
				object.env = { ...object.env, ...this.env };
			});
		}
	}

	/**
	 * Runs the orders consumer until no undelayed message is left (what a
	 * handler sends is delivered in the next round). Delayed messages stay.
	 */
	/** Delivers every captured notification to its consumer (e-mails, outbound webhooks) as one batch. */
	deliverNotifications(overrides: Partial<Env> = {}) {
		return deliverNotifications(
			this.notifications.take(() => true).map((sent) => sent.body),
			{ ...this.env, ...overrides },
		);
	}

	async pump(rounds = 5): Promise<void> {
		for (let i = 0; i < rounds; i++) {
			const ready = this.orders.take((s) => s.delaySeconds === 0);
			if (ready.length === 0) return;
			const result = await this.deliver(ready.map((s) => s.body));
			expect(result.retryMessages).toEqual([]);
		}
	}
}

/** Delivers messages to the notifications consumer as one batch (`attempts` as the queue would count them). */
export async function deliverNotifications(bodies: readonly Envelope[], overrides: Partial<Env> = {}, attempts = 1) {
	const batch = createMessageBatch(
		"notifications",
		bodies.map((body, i) => ({ id: `n${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body })),
	);
	const ctx = createExecutionContext();
	await consumeQueueBatch(batch, { ...env, ...overrides } as Env, ctx);
	return getQueueResult(batch, ctx);
}

export const ADDRESS = { name: "Ana Lima", line1: "Hauptstraße 1", city: "Berlin", postal_code: "10115", country: "de" };

/** A product on sale with one variant of its own, so no other test file touches its stock. */
export async function newSku(priceMinor = 1500, currency = "EUR"): Promise<{ sku: string; productId: string }> {
	const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 10).toUpperCase();
	const sku = `TST-${suffix}`;
	const productId = newId("prod");
	await withDb(async (db) => {
		await db.primary
			.insert(products)
			.values({ id: productId, slug: `test-${suffix.toLowerCase()}`, title: `Test item ${suffix}`, status: "active" });
		await db.primary.insert(variants).values({ id: newId("var"), productId, sku, title: "", priceMinor, currency });
	});
	return { sku, productId };
}

export async function setPrice(sku: string, priceMinor: number): Promise<void> {
	await withDb((db) => db.primary.update(variants).set({ priceMinor }).where(eq(variants.sku, sku)));
}

/** Puts units on hand through the SKU's InventoryItem. */
export async function stock(sku: string, units: number): Promise<void> {
	const result = await inventoryItem(env, sku).adjust(sku, units, "test stock", `stock-${crypto.randomUUID()}`);
	if (!result.ok) throw new Error(`stock failed: ${result.reason}`);
}

export async function available(sku: string): Promise<{ available: number; onHand: number; reserved: number }> {
	return inventoryItem(env, sku).available(sku);
}

type As = { token?: string; bearer?: string; orderToken?: string };

export function headersFor(as: As, extra: Record<string, string> = {}): Record<string, string> {
	const headers: Record<string, string> = { "content-type": "application/json", ...extra };
	if (as.token) headers["x-cart-token"] = as.token;
	if (as.bearer) headers.authorization = `Bearer ${as.bearer}`;
	if (as.orderToken) headers["x-order-token"] = as.orderToken;
	return headers;
}

/** A guest cart holding `lines`. */
/** A promotion (a code unless `code` is null), named after its code. */
export async function newPromotion(
	values: Omit<typeof promotions.$inferInsert, "id" | "name"> & { name?: string },
): Promise<{ id: string; code: string | null }> {
	const id = newId("prm");
	await withDb((db) => db.primary.insert(promotions).values({ id, name: values.code ?? "Automatic promotion", ...values }));
	return { id, code: values.code ?? null };
}

/** A guest cart with these lines, in the default market unless `market` names another. */
export async function guestCart(lines: [string, number][], market?: string): Promise<{ id: string; token: string }> {
	const res = await callWith(worker, market ? `/v1/carts?market=${market}` : "/v1/carts", { method: "POST" });
	if (res.status !== 201) throw new Error(`cart create answered ${res.status}`);
	const cart = (await res.json()) as { id: string; token: string };
	for (const [sku, quantity] of lines) {
		const added = await callWith(worker, `/v1/carts/${cart.id}/items`, {
			method: "POST",
			headers: headersFor({ token: cart.token }),
			body: JSON.stringify({ sku, quantity }),
		});
		if (added.status !== 200) throw new Error(`cart add answered ${added.status}: ${await added.text()}`);
	}
	return cart;
}

/** Builds guest carts a few at a time (setup, not the race under test). */
export async function guestCarts(count: number, lines: (i: number) => [string, number][]): Promise<{ id: string; token: string }[]> {
	const made: { id: string; token: string }[] = [];
	for (let i = 0; i < count; i += 20) {
		made.push(...(await Promise.all(Array.from({ length: Math.min(20, count - i) }, (_, j) => guestCart(lines(i + j))))));
	}
	return made;
}

/** Polls the SKU until `reserved` is `expected` (releases given back in the background), for up to 2 s; answers the last figure. */
export async function reservedSettles(sku: string, expected: number): Promise<number> {
	let reserved = (await available(sku)).reserved;
	for (let i = 0; i < 100 && reserved !== expected; i++) {
		await new Promise((resolve) => setTimeout(resolve, 20));
		reserved = (await available(sku)).reserved;
	}
	return reserved;
}

export interface CheckoutAnswer {
	order: {
		id: string;
		status: string;
		email: string;
		lines: {
			sku: string;
			quantity: number;
			unit_price: { amount: number; currency: string };
			discount: { amount: number };
			tax: { amount: number };
			tax_rate_bp: number;
		}[];
		market: string | null;
		tax_included: boolean;
		tax_breakdown: { rate_bp: number; taxable: { amount: number; currency: string }; tax: { amount: number; currency: string } }[];
		subtotal: { amount: number };
		discount: { amount: number };
		shipping: { amount: number };
		shipping_method: { id: string; kind: string; name: string } | null;
		tax: { amount: number };
		total: { amount: number; currency: string };
		payment: { provider: string; status: string; refunded: { amount: number } } | null;
		tracking: { carrier: string | null; number: string } | null;
		cancel_reason: string | null;
	};
	payment: { provider: string; id: string; status: string; confirm_url?: string } | null;
	order_token?: string;
}

export function checkoutRequest(
	bus: Bus,
	cart: { id: string; token?: string },
	key: string,
	extra: Record<string, unknown> = {},
	as: As = {},
) {
	return bus.request("/v1/checkout", {
		method: "POST",
		headers: headersFor({ token: cart.token, ...as }, { "idempotency-key": key }),
		body: JSON.stringify({ cart_id: cart.id, email: "ana@example.com", shipping_address: ADDRESS, ...extra }),
	});
}

export async function checkoutOk(bus: Bus, cart: { id: string; token?: string }, extra: Record<string, unknown> = {}, as: As = {}) {
	const res = await checkoutRequest(bus, cart, `key-${crypto.randomUUID()}`, extra, as);
	if (res.status !== 201) throw new Error(`checkout answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as CheckoutAnswer;
}

/** The test provider's confirm step, as the storefront's "pay" button sends it. */
export function confirm(bus: Bus, paymentId: string, outcome: "succeeded" | "failed") {
	return bus.request(`/v1/payments/test/${paymentId}/confirm`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ outcome }),
	});
}

export function getOrder(bus: Bus, orderId: string, as: As) {
	return bus.request(`/v1/orders/${orderId}`, { headers: headersFor(as) });
}

export async function orderStatus(orderId: string): Promise<string[]> {
	const rows = await withDb((db) => db.primary.select().from(orderEvents).where(eq(orderEvents.orderId, orderId)).orderBy(orderEvents.id));
	return rows.map((row) => `${row.type}:${row.toStatus}`);
}
