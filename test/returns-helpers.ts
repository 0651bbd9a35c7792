import { expect } from "vitest";
import type { Session } from "./accounts-helpers.ts";
import { type Bus, checkoutOk, confirm, guestCart, headersFor, newSku, stock } from "./orders-helpers.ts";

/** Shared by the returns tests of the API and of the pages: shipped orders to return things from. */

export type As = { bearer?: string; orderToken?: string };

export const key = () => `key-${crypto.randomUUID()}`;

export function adminPost(bus: Bus, admin: Session, path: string, body?: unknown) {
	return bus.request(path, {
		method: "POST",
		headers: headersFor({ bearer: admin.access_token }, { "idempotency-key": key() }),
		body: body === undefined ? undefined : JSON.stringify(body),
	});
}

/** A shopper's cart of their own, holding `lines`. */
export async function userCart(bus: Bus, shopper: Session, lines: [string, number][]): Promise<{ id: string }> {
	const made = await bus.request("/v1/carts", { method: "POST", headers: headersFor({ bearer: shopper.access_token }) });
	expect(made.status).toBe(201);
	const cart = (await made.json()) as { id: string };
	for (const [sku, quantity] of lines) {
		const added = await bus.request(`/v1/carts/${cart.id}/items`, {
			method: "POST",
			headers: headersFor({ bearer: shopper.access_token }),
			body: JSON.stringify({ sku, quantity }),
		});
		expect(added.status).toBe(200);
	}
	return cart;
}

/**
 * A paid and shipped order of two lines: 2 × A at 10.00 and 1 × B at 25.00,
 * with 5 of each on hand before it (3 and 4 after). The shopper's own when
 * `shopper` is given, else a guest's (its order token in the answer).
 */
export async function shippedOrder(bus: Bus, admin: Session, shopper?: Session) {
	const a = (await newSku(1000)).sku;
	const b = (await newSku(2500)).sku;
	await stock(a, 5);
	await stock(b, 5);
	const lines: [string, number][] = [
		[a, 2],
		[b, 1],
	];
	const placed = shopper
		? await checkoutOk(bus, await userCart(bus, shopper, lines), { email: shopper.user.email }, { bearer: shopper.access_token })
		: await checkoutOk(bus, await guestCart(lines));
	expect((await confirm(bus, placed.payment?.id as string, "succeeded")).status).toBe(202);
	await bus.pump();
	const tracking = `TRK-${crypto.randomUUID().slice(0, 12).toUpperCase()}`;
	expect((await adminPost(bus, admin, `/v1/admin/orders/${placed.order.id}/fulfil`)).status).toBe(200);
	expect(
		(await adminPost(bus, admin, `/v1/admin/orders/${placed.order.id}/ship`, { tracking_number: tracking, carrier: "DHL" })).status,
	).toBe(200);
	// The confirmation and shipping e-mails are not what these tests look at.
	bus.notifications.take();
	const as: As = shopper ? { bearer: shopper.access_token } : { orderToken: placed.order_token as string };
	return { a, b, placed, orderId: placed.order.id, tracking, as };
}
