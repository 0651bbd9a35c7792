import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, notifications, orderLines, orders, payments, refunds, returns } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { signTestCarrierEvents } from "../workers/orders/carriers.ts";
import { paidForUnits } from "../workers/orders/refunds.ts";
import { makeAdmin, registerShopper } from "./accounts-helpers.ts";
import { problemOf, withDb } from "./helpers.ts";
import {
	available,
	Bus,
	type CheckoutAnswer,
	checkoutOk,
	confirm,
	guestCart,
	headersFor,
	newSku,
	orderStatus,
	stock,
} from "./orders-helpers.ts";
import { type As, adminPost, key, shippedOrder } from "./returns-helpers.ts";

/** A return as the API answers it. */
interface ReturnBody {
	id: string;
	order_id: string;
	status: string;
	reason: string;
	note: string | null;
	restock: boolean | null;
	lines: { sku: string; title: string; quantity: number; unit_price: { amount: number; currency: string } }[];
	refund: { id: string; amount: { amount: number; currency: string }; status: string } | null;
	approved_at: string | null;
	received_at: string | null;
	refunded_at: string | null;
	closed_at: string | null;
}

interface OrderReturnsBody {
	data: ReturnBody[];
	returnable: { closes_at: string; lines: { sku: string; quantity: number }[] } | null;
}

function askReturn(bus: Bus, orderId: string, as: As, body: unknown) {
	return bus.request(`/v1/orders/${orderId}/returns`, {
		method: "POST",
		headers: headersFor(as, { "idempotency-key": key() }),
		body: JSON.stringify(body),
	});
}

async function returnsOf(bus: Bus, orderId: string, as: As): Promise<OrderReturnsBody> {
	const res = await bus.request(`/v1/orders/${orderId}/returns`, { headers: headersFor(as) });
	expect(res.status).toBe(200);
	return (await res.json()) as OrderReturnsBody;
}

async function requested(bus: Bus, orderId: string, as: As, lines: { sku: string; quantity: number }[]): Promise<ReturnBody> {
	const res = await askReturn(bus, orderId, as, { lines, reason: "Too small" });
	if (res.status !== 201) throw new Error(`return request answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as ReturnBody;
}

async function lineRow(orderId: string, sku: string) {
	const [row] = await withDb((db) =>
		db.primary
			.select()
			.from(orderLines)
			.where(and(eq(orderLines.orderId, orderId), eq(orderLines.sku, sku))),
	);
	return row;
}

describe("returns: request, approve, receive, refund", () => {
	it("a return refunded for one line with restock: exactly that line's amount back, the unit on hand again, each step visible to the shopper", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const shopper = await registerShopper();
		const { a, b, orderId, as } = await shippedOrder(bus, admin, shopper);
		expect(await available(a)).toMatchObject({ onHand: 3 });
		expect(await available(b)).toMatchObject({ onHand: 4 });

		// The shopper asks to send back one unit of A.
		const asked = await requested(bus, orderId, as, [{ sku: a, quantity: 1 }]);
		expect(asked).toMatchObject({ order_id: orderId, status: "requested", reason: "Too small", note: null, refund: null });
		expect(asked.lines).toEqual([{ sku: a, title: expect.any(String), quantity: 1, unit_price: { amount: 1000, currency: "EUR" } }]);
		expect((await lineRow(orderId, a))?.returnQuantity).toBe(1);

		// Approved with instructions: the shopper is e-mailed them.
		const note = "Send the parcel to Returns, Hauptstraße 1, 10115 Berlin.\nPut the order number inside.";
		const approved = await adminPost(bus, admin, `/v1/admin/returns/${asked.id}/approve`, { note });
		expect(approved.status).toBe(200);
		expect(await approved.json()).toMatchObject({ status: "approved", note, email: shopper.user.email, requested_by: shopper.user.id });
		expect(bus.notifications.types()).toEqual(["return.approved"]);
		const delivered = await bus.deliverNotifications();
		expect(delivered.retryMessages).toEqual([]);
		const [mail] = await withDb((db) =>
			db.primary
				.select()
				.from(notifications)
				.where(and(eq(notifications.recipient, shopper.user.email), eq(notifications.kind, "return_approved"))),
		);
		expect(mail?.status).toBe("sent");
		expect(mail?.subject).toContain("is approved");
		expect(mail?.text).toContain("Send the parcel to Returns, Hauptstraße 1, 10115 Berlin.\nPut the order number inside.");
		expect(mail?.html).toContain("Put the order number inside.");

		const received = await adminPost(bus, admin, `/v1/admin/returns/${asked.id}/receive`);
		expect(received.status).toBe(200);
		expect(((await received.json()) as ReturnBody).status).toBe("received");

		// Refunded with restock: what the shopper paid for one unit of A, as refundPart prices it (EUR shelf prices include VAT: 10.00).
		const [placedOrder] = await withDb((db) => db.primary.select().from(orders).where(eq(orders.id, orderId)));
		const lineA = await lineRow(orderId, a);
		const expected = paidForUnits(lineA as NonNullable<typeof lineA>, placedOrder?.taxMode ?? "exclusive", 1);
		expect(expected).toBe(1000);
		const refunded = await adminPost(bus, admin, `/v1/admin/returns/${asked.id}/refund`, { restock: true });
		expect(refunded.status).toBe(200);
		const view = (await refunded.json()) as ReturnBody;
		expect(view).toMatchObject({
			status: "refunded",
			restock: true,
			refund: { amount: { amount: expected, currency: "EUR" }, status: "succeeded" },
		});
		const [refundRow] = await withDb((db) => db.primary.select().from(refunds).where(eq(refunds.orderId, orderId)));
		expect(refundRow).toMatchObject({
			id: view.refund?.id,
			amountMinor: expected,
			lines: [{ sku: a, quantity: 1 }],
			restock: true,
			status: "succeeded",
		});
		const [payment] = await withDb((db) => db.primary.select().from(payments).where(eq(payments.orderId, orderId)));
		expect(payment?.refundedMinor).toBe(expected);
		expect((await lineRow(orderId, a))?.refundedQuantity).toBe(1);
		const [row] = await withDb((db) => db.primary.select().from(returns).where(eq(returns.id, asked.id)));
		expect(row?.refundId).toBe(refundRow?.id);

		// The unit goes back on hand (through the refund's restock message); B is untouched.
		await bus.pump();
		expect(await available(a)).toMatchObject({ onHand: 4 });
		expect(await available(b)).toMatchObject({ onHand: 4 });
		const refundMail = bus.notifications.sent.find((s) => s.body.type === "order.refunded");
		expect(refundMail?.body.data).toMatchObject({ order_id: orderId, amount: { amount: expected, currency: "EUR" } });

		// The order is partly refunded, and the shopper sees every step of the return with the refund.
		const order = await bus.request(`/v1/orders/${orderId}`, { headers: headersFor(as) });
		expect(((await order.json()) as CheckoutAnswer["order"]).status).toBe("partially_refunded");
		expect(await orderStatus(orderId)).toEqual([
			"place:pending_payment",
			"pay:paid",
			"fulfil:fulfilled",
			"ship:shipped",
			"refund_part:partially_refunded",
		]);
		const seen = await returnsOf(bus, orderId, as);
		expect(seen.data).toHaveLength(1);
		expect(seen.data[0]).toMatchObject({
			id: asked.id,
			status: "refunded",
			note,
			restock: true,
			refund: { id: refundRow?.id, amount: { amount: expected, currency: "EUR" }, status: "succeeded" },
		});
		for (const at of ["approved_at", "received_at", "refunded_at", "closed_at"] as const)
			expect(seen.data[0]?.[at]).toEqual(expect.any(String));
		expect(seen.data[0]).not.toHaveProperty("email");
		// What is left to return: the other unit of A and B.
		expect(seen.returnable?.lines.map((line) => [line.sku, line.quantity])).toEqual([
			[a, 1],
			[b, 1],
		]);

		// Every admin step is in the audit log, by the admin.
		const audit = await withDb((db) =>
			db.primary
				.select()
				.from(auditLog)
				.where(and(eq(auditLog.entityType, "return"), eq(auditLog.entityId, asked.id)))
				.orderBy(auditLog.id),
		);
		expect(audit.map((entry) => [entry.action, entry.actorId])).toEqual([
			["return.approve", admin.user.id],
			["return.receive", admin.user.id],
			["return.refund", admin.user.id],
		]);
		expect(audit[2]?.after).toMatchObject({ status: "refunded", restock: true, refund_id: refundRow?.id });

		// A refunded return takes no further step.
		const again = await adminPost(bus, admin, `/v1/admin/returns/${asked.id}/refund`, { restock: true });
		expect(again.status).toBe(409);
		expect((await problemOf(again)).code).toBe("invalid_return_transition");
		expect(await withDb((db) => db.primary.select().from(refunds).where(eq(refunds.orderId, orderId)))).toHaveLength(1);
	});

	it("a rejection e-mails the reason and gives the units back; a return refunded without restock leaves stock alone", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { a, b, orderId, as, placed } = await shippedOrder(bus, admin);
		const first = await requested(bus, orderId, as, [{ sku: b, quantity: 1 }]);
		const rejected = await adminPost(bus, admin, `/v1/admin/returns/${first.id}/reject`, { note: "Worn items cannot be returned." });
		expect(rejected.status).toBe(200);
		expect(await rejected.json()).toMatchObject({ status: "rejected", note: "Worn items cannot be returned.", requested_by: "guest" });
		expect((await lineRow(orderId, b))?.returnQuantity).toBe(0);
		await bus.deliverNotifications();
		const [mail] = await withDb((db) =>
			db.primary
				.select()
				.from(notifications)
				.where(and(eq(notifications.recipient, placed.order.email), eq(notifications.kind, "return_rejected"))),
		);
		expect(mail?.text).toContain("Worn items cannot be returned.");
		// The shopper cannot cancel a closed return; the units can be asked for again.
		const cancel = await bus.request(`/v1/orders/${orderId}/returns/${first.id}/cancel`, {
			method: "POST",
			headers: headersFor(as, { "idempotency-key": key() }),
		});
		expect(cancel.status).toBe(409);

		const second = await requested(bus, orderId, as, [
			{ sku: a, quantity: 2 },
			{ sku: b, quantity: 1 },
		]);
		expect((await adminPost(bus, admin, `/v1/admin/returns/${second.id}/approve`, { note: "Use the enclosed label." })).status).toBe(200);
		expect((await adminPost(bus, admin, `/v1/admin/returns/${second.id}/receive`)).status).toBe(200);
		const refunded = await adminPost(bus, admin, `/v1/admin/returns/${second.id}/refund`, { restock: false });
		expect(refunded.status).toBe(200);
		expect(await refunded.json()).toMatchObject({ status: "refunded", restock: false, refund: { amount: { amount: 4500 } } });
		await bus.pump();
		expect(await available(a)).toMatchObject({ onHand: 3 });
		expect(await available(b)).toMatchObject({ onHand: 4 });
		expect((await returnsOf(bus, orderId, as)).returnable).toBeNull();
	});

	it("refuses more units than are left, and units refunded outside a return, with 422 and the units returnable", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { a, b, orderId, as } = await shippedOrder(bus, admin);
		const over = await askReturn(bus, orderId, as, { lines: [{ sku: a, quantity: 3 }] });
		expect(over.status).toBe(422);
		expect(await problemOf(over)).toMatchObject({ code: "return_quantity_exceeded", sku: a, returnable: 2 });
		const foreign = await askReturn(bus, orderId, as, { lines: [{ sku: "NO-SUCH-SKU", quantity: 1 }] });
		expect(foreign.status).toBe(422);
		expect((await problemOf(foreign)).code).toBe("return_quantity_exceeded");
		const twice = await askReturn(bus, orderId, as, {
			lines: [
				{ sku: a, quantity: 1 },
				{ sku: a, quantity: 1 },
			],
		});
		expect(twice.status).toBe(400);

		await requested(bus, orderId, as, [{ sku: a, quantity: 2 }]);
		const more = await askReturn(bus, orderId, as, { lines: [{ sku: a, quantity: 1 }] });
		expect(more.status).toBe(422);
		expect(await problemOf(more)).toMatchObject({ code: "return_quantity_exceeded", returnable: 0 });
		// B refunded by an admin directly: not returnable any more. A refused line takes nothing of the other.
		expect((await adminPost(bus, admin, `/v1/admin/orders/${orderId}/refund`, { lines: [{ sku: b, quantity: 1 }] })).status).toBe(200);
		const refundedB = await askReturn(bus, orderId, as, { lines: [{ sku: b, quantity: 1 }] });
		expect(refundedB.status).toBe(422);
		expect(await problemOf(refundedB)).toMatchObject({ code: "return_quantity_exceeded", sku: b, returnable: 0 });
		expect((await lineRow(orderId, a))?.returnQuantity).toBe(2);
		expect((await lineRow(orderId, b))?.returnQuantity).toBe(0);
		expect((await returnsOf(bus, orderId, as)).returnable).toBeNull();
	});

	it("refuses an order outside its window (from delivery, else from shipping) and one not shipped yet", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { a, orderId, as } = await shippedOrder(bus, admin);
		const days = (n: number) => new Date(Date.now() - n * 24 * 60 * 60 * 1000);
		await withDb((db) =>
			db.primary
				.update(orders)
				.set({ shippedAt: days(31) })
				.where(eq(orders.id, orderId)),
		);
		const late = await askReturn(bus, orderId, as, { lines: [{ sku: a, quantity: 1 }] });
		expect(late.status).toBe(422);
		expect((await problemOf(late)).code).toBe("return_window_closed");
		expect((await returnsOf(bus, orderId, as)).returnable).toBeNull();
		// Delivered ten days ago, though shipped long before: the window counts from delivery.
		await withDb((db) =>
			db.primary
				.update(orders)
				.set({ shippedAt: days(40), deliveredAt: days(10) })
				.where(eq(orders.id, orderId)),
		);
		expect((await askReturn(bus, orderId, as, { lines: [{ sku: a, quantity: 1 }] })).status).toBe(201);
		await withDb((db) =>
			db.primary
				.update(orders)
				.set({ deliveredAt: days(30.01) })
				.where(eq(orders.id, orderId)),
		);
		expect((await askReturn(bus, orderId, as, { lines: [{ sku: a, quantity: 1 }] })).status).toBe(422);
		expect((await lineRow(orderId, a))?.returnQuantity).toBe(1);

		const { sku } = await newSku(1000);
		await stock(sku, 1);
		const paid = await checkoutOk(bus, await guestCart([[sku, 1]]));
		await confirm(bus, paid.payment?.id as string, "succeeded");
		await bus.pump();
		const early = await askReturn(bus, paid.order.id, { orderToken: paid.order_token as string }, { lines: [{ sku, quantity: 1 }] });
		expect(early.status).toBe(422);
		expect(await problemOf(early)).toMatchObject({ code: "return_not_allowed", status_now: "paid" });
	});
});

describe("returns are the order owner's only (I6)", () => {
	it("answers a stranger, another customer and a wrong order token with 404, and lets the guest with the order token in", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { a, orderId, as } = await shippedOrder(bus, admin);
		const other = await registerShopper();
		const body = { lines: [{ sku: a, quantity: 1 }] };
		for (const stranger of [{}, { bearer: other.access_token }, { orderToken: "not-the-token-of-this-order-123" }] as As[]) {
			const asked = await askReturn(bus, orderId, stranger, body);
			expect(asked.status).toBe(404);
			expect((await problemOf(asked)).code).toBe("not_found");
			expect((await bus.request(`/v1/orders/${orderId}/returns`, { headers: headersFor(stranger) })).status).toBe(404);
		}
		expect((await lineRow(orderId, a))?.returnQuantity).toBe(0);

		// The guest, with the order token: asks, sees, cancels; the unit is returnable again.
		const mine = await requested(bus, orderId, as, [{ sku: a, quantity: 1 }]);
		const theirs = await bus.request(`/v1/orders/${orderId}/returns/${mine.id}/cancel`, {
			method: "POST",
			headers: headersFor({ bearer: other.access_token }, { "idempotency-key": key() }),
		});
		expect(theirs.status).toBe(404);
		const cancelled = await bus.request(`/v1/orders/${orderId}/returns/${mine.id}/cancel`, {
			method: "POST",
			headers: headersFor(as, { "idempotency-key": key() }),
		});
		expect(cancelled.status).toBe(200);
		expect(await cancelled.json()).toMatchObject({ id: mine.id, status: "cancelled", closed_at: expect.any(String) });
		expect((await lineRow(orderId, a))?.returnQuantity).toBe(0);
		const seen = await returnsOf(bus, orderId, as);
		expect(seen.data.map((r) => r.status)).toEqual(["cancelled"]);
		expect(seen.returnable?.lines.find((line) => line.sku === a)?.quantity).toBe(2);
		// A customer is refused the admin's routes.
		expect((await adminPost(bus, other, `/v1/admin/returns/${mine.id}/approve`, { note: "mine now" })).status).toBe(403);
	});

	it("replays a retried request with the same Idempotency-Key: one return", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { a, orderId, as } = await shippedOrder(bus, admin);
		const same = key();
		const send = () =>
			bus.request(`/v1/orders/${orderId}/returns`, {
				method: "POST",
				headers: headersFor(as, { "idempotency-key": same }),
				body: JSON.stringify({ lines: [{ sku: a, quantity: 1 }] }),
			});
		const first = await send();
		const second = await send();
		expect([first.status, second.status]).toEqual([201, 201]);
		expect(second.headers.get("idempotent-replayed")).toBe("true");
		expect(((await second.json()) as ReturnBody).id).toBe(((await first.json()) as ReturnBody).id);
		expect((await lineRow(orderId, a))?.returnQuantity).toBe(1);
	});
});

describe("returns under concurrency", () => {
	it("of six concurrent requests for one unit of a line of two, exactly two succeed and the rest are refused", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { a, orderId, as } = await shippedOrder(bus, admin);
		const answers = await Promise.all(Array.from({ length: 6 }, () => askReturn(bus, orderId, as, { lines: [{ sku: a, quantity: 1 }] })));
		const statuses = answers.map((res) => res.status).sort();
		expect(statuses).toEqual([201, 201, 422, 422, 422, 422]);
		for (const res of answers.filter((r) => r.status === 422)) expect((await problemOf(res)).code).toBe("return_quantity_exceeded");
		expect((await lineRow(orderId, a))?.returnQuantity).toBe(2);
		expect(await withDb((db) => db.primary.select().from(returns).where(eq(returns.orderId, orderId)))).toHaveLength(2);
	});

	it("two concurrent requests for the last unit: one return, the other refused", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { b, orderId, as } = await shippedOrder(bus, admin);
		const answers = await Promise.all([
			askReturn(bus, orderId, as, { lines: [{ sku: b, quantity: 1 }] }),
			askReturn(bus, orderId, as, { lines: [{ sku: b, quantity: 1 }] }),
		]);
		expect(answers.map((res) => res.status).sort()).toEqual([201, 422]);
		expect((await lineRow(orderId, b))?.returnQuantity).toBe(1);
		expect(await withDb((db) => db.primary.select().from(returns).where(eq(returns.orderId, orderId)))).toHaveLength(1);
	});

	it("two admins approving at once: exactly one wins, one e-mail, one audit entry; two refunding at once: one refund", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const other = await makeAdmin(await registerShopper());
		const { a, orderId, as } = await shippedOrder(bus, admin);
		const asked = await requested(bus, orderId, as, [{ sku: a, quantity: 1 }]);
		const approvals = await Promise.all([
			adminPost(bus, admin, `/v1/admin/returns/${asked.id}/approve`, { note: "Label one" }),
			adminPost(bus, other, `/v1/admin/returns/${asked.id}/approve`, { note: "Label two" }),
		]);
		expect(approvals.map((res) => res.status).sort()).toEqual([200, 409]);
		const loser = approvals.find((res) => res.status === 409) as Response;
		expect(await problemOf(loser)).toMatchObject({ code: "invalid_return_transition", status_now: "approved" });
		expect(bus.notifications.types().filter((type) => type === "return.approved")).toHaveLength(1);
		const audits = await withDb((db) =>
			db.primary
				.select()
				.from(auditLog)
				.where(and(eq(auditLog.entityId, asked.id), eq(auditLog.action, "return.approve"))),
		);
		expect(audits).toHaveLength(1);

		expect((await adminPost(bus, admin, `/v1/admin/returns/${asked.id}/receive`)).status).toBe(200);
		const refundsAtOnce = await Promise.all([
			adminPost(bus, admin, `/v1/admin/returns/${asked.id}/refund`, { restock: true }),
			adminPost(bus, other, `/v1/admin/returns/${asked.id}/refund`, { restock: true }),
		]);
		expect(refundsAtOnce.map((res) => res.status).sort()).toEqual([200, 409]);
		const made = await withDb((db) => db.primary.select().from(refunds).where(eq(refunds.orderId, orderId)));
		expect(made.map((row) => [row.amountMinor, row.status])).toEqual([[1000, "succeeded"]]);
		const [payment] = await withDb((db) => db.primary.select().from(payments).where(eq(payments.orderId, orderId)));
		expect(payment?.refundedMinor).toBe(1000);
	});

	it("a refund the order can no longer take leaves the return received, to be refunded or rejected later", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { a, orderId, as } = await shippedOrder(bus, admin);
		const asked = await requested(bus, orderId, as, [{ sku: a, quantity: 1 }]);
		expect((await adminPost(bus, admin, `/v1/admin/returns/${asked.id}/approve`, { note: "Send it back." })).status).toBe(200);
		expect((await adminPost(bus, admin, `/v1/admin/returns/${asked.id}/receive`)).status).toBe(200);
		// The whole payment went back meanwhile.
		expect((await adminPost(bus, admin, `/v1/admin/orders/${orderId}/refund`, {})).status).toBe(200);
		const refused = await adminPost(bus, admin, `/v1/admin/returns/${asked.id}/refund`, { restock: true });
		expect(refused.status).toBe(409);
		expect((await problemOf(refused)).code).toBe("invalid_transition");
		const [row] = await withDb((db) => db.primary.select().from(returns).where(eq(returns.id, asked.id)));
		expect(row).toMatchObject({ status: "received", restock: null, refundId: null });
	});
});

describe("a return's refund is made once, whatever is lost on the way (I4)", () => {
	it("records a refund whose outcome was not recorded, refuses one still unknown, and makes again one that failed", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { a, b, orderId, as } = await shippedOrder(bus, admin);
		const receivedReturn = async (sku: string) => {
			const asked = await requested(bus, orderId, as, [{ sku, quantity: 1 }]);
			expect((await adminPost(bus, admin, `/v1/admin/returns/${asked.id}/approve`, { note: "Send it." })).status).toBe(200);
			expect((await adminPost(bus, admin, `/v1/admin/returns/${asked.id}/receive`)).status).toBe(200);
			return asked.id;
		};
		const refundedMinor = async () =>
			(await withDb((db) => db.primary.select().from(payments).where(eq(payments.orderId, orderId))))[0]?.refundedMinor;

		// Refunded, but the request died before the return recorded it: refunding again records it, and pays nothing more.
		const first = await receivedReturn(a);
		expect((await adminPost(bus, admin, `/v1/admin/returns/${first}/refund`, { restock: false })).status).toBe(200);
		await withDb((db) => db.primary.update(returns).set({ refundId: null, refundedAt: null, closedAt: null }).where(eq(returns.id, first)));
		const settled = await adminPost(bus, admin, `/v1/admin/returns/${first}/refund`, { restock: false });
		expect(settled.status).toBe(200);
		expect(await settled.json()).toMatchObject({ status: "refunded", refund: { amount: { amount: 1000 }, status: "succeeded" } });
		expect(await refundedMinor()).toBe(1000);

		// Claimed, and its refund's outcome unknown (still pending): refused, nothing sent.
		const second = await receivedReturn(b);
		const attemptId = newId("ref");
		await withDb(async (db) => {
			await db.primary.update(returns).set({ status: "refunded", restock: false }).where(eq(returns.id, second));
			await db.primary.insert(refunds).values({
				id: attemptId,
				orderId,
				amountMinor: 2500,
				currency: "EUR",
				lines: [{ sku: b, quantity: 1 }],
				status: "pending",
				reason: `return ${second}`,
				actor: admin.user.id,
			});
		});
		const unknown = await adminPost(bus, admin, `/v1/admin/returns/${second}/refund`, { restock: false });
		expect(unknown.status).toBe(409);
		expect(await problemOf(unknown)).toMatchObject({ code: "invalid_return_transition", status_now: "refunded" });
		expect(await refundedMinor()).toBe(1000);

		// That attempt failed (the provider refused, everything given back): the next refund makes it.
		await withDb((db) => db.primary.update(refunds).set({ status: "failed" }).where(eq(refunds.id, attemptId)));
		const retried = await adminPost(bus, admin, `/v1/admin/returns/${second}/refund`, { restock: false });
		expect(retried.status).toBe(200);
		expect(await retried.json()).toMatchObject({ status: "refunded", refund: { amount: { amount: 2500 }, status: "succeeded" } });
		expect(await refundedMinor()).toBe(3500);
		const attempts = await withDb((db) =>
			db.primary
				.select()
				.from(refunds)
				.where(eq(refunds.reason, `return ${second}`)),
		);
		expect(attempts.map((row) => row.status).sort()).toEqual(["failed", "succeeded"]);
		const steps = await withDb((db) =>
			db.primary
				.select()
				.from(auditLog)
				.where(and(eq(auditLog.entityId, second), eq(auditLog.action, "return.refund"))),
		);
		expect(steps).toHaveLength(1);
	});
});

describe("admin return list", () => {
	it("filters by status and pages with a cursor", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { a, b, orderId, as } = await shippedOrder(bus, admin);
		const one = await requested(bus, orderId, as, [{ sku: a, quantity: 1 }]);
		const two = await requested(bus, orderId, as, [{ sku: b, quantity: 1 }]);
		expect((await adminPost(bus, admin, `/v1/admin/returns/${one.id}/approve`, { note: "ok" })).status).toBe(200);
		const get = (query: string) => bus.request(`/v1/admin/returns${query}`, { headers: headersFor({ bearer: admin.access_token }) });
		const approved = (await (await get("?status=approved&limit=100")).json()) as { data: ReturnBody[] };
		expect(approved.data.map((r) => r.id)).toContain(one.id);
		expect(approved.data.map((r) => r.id)).not.toContain(two.id);
		expect(approved.data.every((r) => r.status === "approved")).toBe(true);
		const first = (await (await get("?limit=1")).json()) as { data: ReturnBody[]; next_cursor: string };
		expect(first.data).toHaveLength(1);
		const next = (await (await get(`?limit=1&cursor=${first.next_cursor}`)).json()) as { data: ReturnBody[] };
		expect(next.data).toHaveLength(1);
		expect(next.data[0]?.id).not.toBe(first.data[0]?.id);
		expect((await get("?cursor=bm90LWEtY3Vyc29y")).status).toBe(400);
		const detail = await get(`/${two.id}`);
		expect(detail.status).toBe(200);
		expect(await detail.json()).toMatchObject({ id: two.id, status: "requested", email: expect.any(String) });
		expect((await get("/ret_0000000000000000zzzz")).status).toBe(404);
	});
});

describe("carrier events (test adapter)", () => {
	const secret = () => env.CARRIER_WEBHOOK_SECRET;

	async function carrierPost(bus: Bus, body: unknown, signingSecret = secret(), carrier = "test") {
		const raw = JSON.stringify(body);
		return bus.request(`/v1/carriers/${carrier}/events`, {
			method: "POST",
			headers: await signTestCarrierEvents(raw, signingSecret),
			body: raw,
		});
	}

	it("a delivered event marks the shipped order delivered once; a repeat changes nothing; a bad signature is 401", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { orderId, tracking } = await shippedOrder(bus, admin);
		const event = { events: [{ tracking_number: tracking, status: "delivered", occurred_at: new Date().toISOString() }] };

		const forged = await carrierPost(bus, event, "carrier_someone_else");
		expect(forged.status).toBe(401);
		expect((await problemOf(forged)).code).toBe("invalid_carrier_signature");
		const unsigned = await bus.request("/v1/carriers/test/events", {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify(event),
		});
		expect(unsigned.status).toBe(401);
		expect(await orderStatus(orderId)).toEqual(["place:pending_payment", "pay:paid", "fulfil:fulfilled", "ship:shipped"]);

		const res = await carrierPost(bus, event);
		expect(res.status).toBe(200);
		expect(res.headers.get("ratelimit-policy")).toMatch(/^"webhooks";/);
		expect(await res.json()).toEqual({ received: true, events: 1, delivered: 1 });
		const [order] = await withDb((db) => db.primary.select().from(orders).where(eq(orders.id, orderId)));
		expect(order?.status).toBe("delivered");
		expect(order?.deliveredAt).toBeInstanceOf(Date);

		const repeat = await carrierPost(bus, event);
		expect(repeat.status).toBe(200);
		expect(await repeat.json()).toEqual({ received: true, events: 1, delivered: 0 });
		expect(await orderStatus(orderId)).toEqual([
			"place:pending_payment",
			"pay:paid",
			"fulfil:fulfilled",
			"ship:shipped",
			"deliver:delivered",
		]);
		const [after] = await withDb((db) => db.primary.select().from(orders).where(eq(orders.id, orderId)));
		expect(after?.deliveredAt?.getTime()).toBe(order?.deliveredAt?.getTime());
		// The admin's route now finds it delivered too: one transition, whoever reports it.
		expect((await adminPost(bus, admin, `/v1/admin/orders/${orderId}/deliver`)).status).toBe(409);
	});

	it("acknowledges unknown tracking numbers and other statuses, and refuses a malformed body and an unknown carrier", async () => {
		const bus = new Bus();
		const at = new Date().toISOString();
		const unknown = await carrierPost(bus, {
			events: [
				{ tracking_number: `NOPE-${crypto.randomUUID()}`, status: "delivered", occurred_at: at },
				{ tracking_number: "ANY-1", status: "in_transit", occurred_at: at },
			],
		});
		expect(unknown.status).toBe(200);
		expect(await unknown.json()).toEqual({ received: true, events: 2, delivered: 0 });
		const malformed = await carrierPost(bus, { events: [{ tracking_number: "X", status: "lost", occurred_at: at }] });
		expect(malformed.status).toBe(400);
		expect((await problemOf(malformed)).code).toBe("malformed_event");
		expect((await carrierPost(bus, { events: [] }, secret(), "ups")).status).toBe(404);
	});
});
