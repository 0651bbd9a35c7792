import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { accrueCommission, reverseCommission } from "../workers/affiliates/commissions.ts";
import { affiliateCommissions, affiliates, auditLog, orderLines, orders, payments } from "../workers/db/schema.ts";
import { makeAdmin, registerShopper, type Session } from "./accounts-helpers.ts";
import { problemOf, withDb } from "./helpers.ts";
import { Bus, type CheckoutAnswer, checkoutOk, confirm, guestCart, headersFor, newSku, stock } from "./orders-helpers.ts";

/**
 * Affiliates (issue 17): an order placed with a referral code records its
 * affiliate; paying it accrues the commission once; every refund takes back
 * its share. Expected figures are worked out here from the order as it was
 * stored (its lines, its tax mode, its payment), with the arithmetic written
 * out, never "more than zero".
 */

interface Affiliate {
	id: string;
	code: string;
	name: string;
	email: string | null;
	commission_bp: number;
	active: boolean;
	referral_url: string;
}

const freshCode = () => `AFF-${crypto.randomUUID().replaceAll("-", "").slice(0, 10).toUpperCase()}`;

function adminRequest(bus: Bus, token: string, path: string, init: { method?: string; body?: unknown } = {}) {
	return bus.request(path, {
		method: init.method ?? "GET",
		headers: headersFor({ bearer: token }),
		...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
	});
}

async function newAffiliate(bus: Bus, admin: Session, commissionBp: number, extra: Record<string, unknown> = {}): Promise<Affiliate> {
	const res = await adminRequest(bus, admin.access_token, "/v1/admin/affiliates", {
		method: "POST",
		body: { code: freshCode(), name: "Ana's travel blog", commission_bp: commissionBp, ...extra },
	});
	if (res.status !== 201) throw new Error(`affiliate create answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as Affiliate;
}

/** 2 × A at 10.00 and 1 × B at 25.00, in a guest cart, placed with `extra` in the checkout body. */
async function placeTwoLines(bus: Bus, extra: Record<string, unknown> = {}) {
	const a = (await newSku(1000)).sku;
	const b = (await newSku(2500)).sku;
	await stock(a, 5);
	await stock(b, 5);
	const placed = await checkoutOk(
		bus,
		await guestCart([
			[a, 2],
			[b, 1],
		]),
		extra,
	);
	return { a, b, placed };
}

async function pay(bus: Bus, placed: CheckoutAnswer): Promise<void> {
	expect((await confirm(bus, placed.payment?.id as string, "succeeded")).status).toBe(202);
	await bus.pump();
}

function refund(bus: Bus, token: string, orderId: string, body: unknown) {
	return bus.request(`/v1/admin/orders/${orderId}/refund`, {
		method: "POST",
		headers: headersFor({ bearer: token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
		body: JSON.stringify(body),
	});
}

/** The order as stored: its row, its lines, its payment, and its commission row (if any). */
async function stored(orderId: string) {
	return withDb(async (db) => {
		const [order] = await db.primary.select().from(orders).where(eq(orders.id, orderId));
		const lines = await db.primary.select().from(orderLines).where(eq(orderLines.orderId, orderId));
		const [payment] = await db.primary.select().from(payments).where(eq(payments.orderId, orderId));
		const commissions = await db.primary.select().from(affiliateCommissions).where(eq(affiliateCommissions.orderId, orderId));
		if (!order || !payment) throw new Error(`order ${orderId} not stored`);
		return { order, lines, payment, commissions };
	});
}

/**
 * What an order sold, from its stored lines: Σ (line_total − discount), less
 * Σ tax when its prices include tax (the tax is inside the line totals then;
 * on top of them otherwise). Shipping is not a line, so it never counts.
 */
function soldOf(order: { taxMode: string }, lines: { lineTotalMinor: number; discountMinor: number; taxMinor: number }[]): number {
	const gross = lines.reduce((sum, line) => sum + line.lineTotalMinor - line.discountMinor, 0);
	const tax = order.taxMode === "inclusive" ? lines.reduce((sum, line) => sum + line.taxMinor, 0) : 0;
	return gross - tax;
}

/** base × rate / 10000, rounded half up: ⌊(2·base·rate + 10000) / 20000⌋ (small numbers: exact in doubles). */
const commissionFor = (base: number, rateBp: number) => Math.floor((2 * base * rateBp + 10_000) / 20_000);

/** The commission's share of a refund: min(c, ⌊(2·c·refunded + paid) / (2·paid)⌋), half up. */
const reversalFor = (commission: number, refunded: number, paid: number) =>
	Math.min(commission, Math.floor((2 * commission * refunded + paid) / (2 * paid)));

describe("attribution at checkout", () => {
	it("records the affiliate of an API checkout's affiliate_code, in any letter case", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const affiliate = await newAffiliate(bus, admin, 1000);
		const { placed } = await placeTwoLines(bus, { affiliate_code: affiliate.code.toLowerCase() });
		expect((await stored(placed.order.id)).order.affiliateId).toBe(affiliate.id);
	});

	it("places the order without an affiliate for an unknown, inactive or malformed code: attribution never refuses a sale", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const inactive = await newAffiliate(bus, admin, 1000, { active: false });
		for (const code of [freshCode(), inactive.code, "no spaces?!", ""]) {
			const { placed } = await placeTwoLines(bus, { affiliate_code: code });
			expect(placed.order.status).toBe("pending_payment");
			expect((await stored(placed.order.id)).order.affiliateId, code).toBeNull();
		}
	});
});

describe("commission", () => {
	it("paying creates one commission row of the hand-computed amount; a redelivered payment event adds none", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		// 12.5 %: an odd share, so the half-up rounding shows.
		const affiliate = await newAffiliate(bus, admin, 1250);
		const { placed } = await placeTwoLines(bus, { affiliate_code: affiliate.code });
		expect((await stored(placed.order.id)).commissions).toEqual([]);

		expect((await confirm(bus, placed.payment?.id as string, "succeeded")).status).toBe(202);
		const [event] = bus.orders.sent.filter((sent) => sent.body.type === "payment.event");
		if (!event) throw new Error("no payment event queued");
		await bus.pump();
		// The consumer crashed before its ack: the same event again, twice.
		await bus.deliver([event.body, event.body]);

		const { order, lines, commissions } = await stored(placed.order.id);
		expect(order.status).toBe("paid");
		expect(lines.map((line) => line.lineTotalMinor).sort((x, y) => x - y)).toEqual([2000, 2500]);
		// Sold = (2000 − d₁ − t₁) + (2500 − d₂ − t₂), the t only when the order's prices include tax. In Berlin,
		// VAT included at 19 %: t₁ = 2000 · 19/119 = 319.3 → 319, t₂ = 2500 · 19/119 = 399.2 → 399, no discounts,
		// so sold = 1681 + 2101 = 3782 and 3782 × 12.5 % = 472.75 → 473. (Net prices: 4500 × 12.5 % = 562.5 → 563.)
		const sold = soldOf(order, lines);
		expect(commissions).toHaveLength(1);
		expect(commissions[0]).toMatchObject({
			affiliateId: affiliate.id,
			rateBp: 1250,
			baseMinor: sold,
			commissionMinor: commissionFor(sold, 1250),
			reversedMinor: 0,
			currency: order.currency,
		});

		// Accrued again for the same order (a revived order, a replayed transaction), at a new rate: still the first row.
		await withDb((db) => db.primary.update(affiliates).set({ commissionBp: 9000 }).where(eq(affiliates.id, affiliate.id)));
		await withDb((db) => db.primary.transaction((tx) => accrueCommission(tx, order, lines)));
		expect((await stored(placed.order.id)).commissions).toEqual(commissions);
	});

	it("commission reversed on refund: a partial refund of one line takes back its exact share, the full refund all of it", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const affiliate = await newAffiliate(bus, admin, 1000);
		const { b, placed } = await placeTwoLines(bus, { affiliate_code: affiliate.code });
		await pay(bus, placed);
		const before = await stored(placed.order.id);
		const commission = before.commissions[0]?.commissionMinor as number;
		expect(commission).toBe(commissionFor(soldOf(before.order, before.lines), 1000));

		// The €25.00 line back. Paid P, refunded R: reversed = ⌊(2·c·R + P) / (2·P)⌋. VAT included in Berlin:
		// c = 10 % of 3782 = 378.2 → 378, R = 2500, P = 4500 + 495 shipping = 4995: ⌊(2·378·2500 + 4995) / 9990⌋ =
		// ⌊189.7⌋ = 189 (378 × 2500 / 4995 = 189.19, rounded half up).
		const partial = await refund(bus, admin.access_token, placed.order.id, { lines: [{ sku: b, quantity: 1 }] });
		expect(partial.status).toBe(200);
		const view = (await partial.json()) as CheckoutAnswer["order"];
		const afterPart = await stored(placed.order.id);
		expect(view.payment?.refunded.amount).toBe(afterPart.payment.refundedMinor);
		const expectedPart = reversalFor(commission, afterPart.payment.refundedMinor, afterPart.payment.amountMinor);
		expect(afterPart.commissions[0]?.reversedMinor).toBe(expectedPart);
		expect(expectedPart).toBeLessThan(commission);

		// Recounting changes nothing: the reversal follows the payment's refunds, not the number of calls.
		await withDb((db) => db.primary.transaction((tx) => reverseCommission(tx, placed.order.id)));
		expect((await stored(placed.order.id)).commissions[0]?.reversedMinor).toBe(expectedPart);

		const rest = await refund(bus, admin.access_token, placed.order.id, {});
		expect(rest.status).toBe(200);
		expect(((await rest.json()) as CheckoutAnswer["order"]).status).toBe("refunded");
		const after = await stored(placed.order.id);
		expect(after.payment.refundedMinor).toBe(after.payment.amountMinor);
		expect(after.commissions[0]).toMatchObject({ commissionMinor: commission, reversedMinor: commission });
	});

	it("a shopper's cancellation of a paid order reverses all of its commission", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const affiliate = await newAffiliate(bus, admin, 500);
		const { placed } = await placeTwoLines(bus, { affiliate_code: affiliate.code });
		await pay(bus, placed);
		const res = await bus.request(`/v1/orders/${placed.order.id}/cancel`, {
			method: "POST",
			headers: headersFor({ orderToken: placed.order_token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
		});
		expect(res.status).toBe(200);
		const { order, lines, commissions } = await stored(placed.order.id);
		expect(order.status).toBe("cancelled");
		const commission = commissionFor(soldOf(order, lines), 500);
		expect(commissions.map((row) => [row.commissionMinor, row.reversedMinor])).toEqual([[commission, commission]]);
	});
});

interface ReportRow {
	affiliate_id: string;
	code: string;
	currency: string;
	orders: number;
	sold: { amount: number };
	commission: { amount: number };
	reversed: { amount: number };
	net: { amount: number };
}

describe("the affiliate report", () => {
	it("sums orders, sold, commission and reversals per affiliate, leaving out unpaid and cancelled orders", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const first = await newAffiliate(bus, admin, 1000);
		const second = await newAffiliate(bus, admin, 750);

		const a1 = (await placeTwoLines(bus, { affiliate_code: first.code })).placed;
		const a2 = await placeTwoLines(bus, { affiliate_code: first.code });
		const unpaid = (await placeTwoLines(bus, { affiliate_code: first.code })).placed;
		const cancelled = (await placeTwoLines(bus, { affiliate_code: first.code })).placed;
		const b1 = (await placeTwoLines(bus, { affiliate_code: second.code })).placed;
		for (const placed of [a1, a2.placed, cancelled, b1]) await pay(bus, placed);
		expect(
			(
				await bus.request(`/v1/orders/${cancelled.order.id}/cancel`, {
					method: "POST",
					headers: headersFor({ orderToken: cancelled.order_token }, { "idempotency-key": `key-${crypto.randomUUID()}` }),
				})
			).status,
		).toBe(200);
		expect((await refund(bus, admin.access_token, a2.placed.order.id, { lines: [{ sku: a2.a, quantity: 1 }] })).status).toBe(200);

		const [s1, s2, sb] = await Promise.all([a1, a2.placed, b1].map((placed) => stored(placed.order.id)));
		if (!s1 || !s2 || !sb) throw new Error("orders not stored");
		expect((await stored(unpaid.order.id)).commissions).toEqual([]);
		const sold1 = soldOf(s1.order, s1.lines);
		const sold2 = soldOf(s2.order, s2.lines);
		const soldB = soldOf(sb.order, sb.lines);
		// First: two paid orders at 10 %, the second partly refunded; the unpaid and the cancelled order do not count.
		const c1 = commissionFor(sold1, 1000);
		const c2 = commissionFor(sold2, 1000);
		const r2 = reversalFor(c2, s2.payment.refundedMinor, s2.payment.amountMinor);
		// Second: one paid order at 7.5 %.
		const cB = commissionFor(soldB, 750);

		const today = new Date();
		const day = (offset: number) => new Date(today.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
		const res = await adminRequest(bus, admin.access_token, `/v1/admin/affiliates/report?from=${day(-1)}&to=${day(1)}`);
		expect(res.status).toBe(200);
		expect(res.headers.get("cache-control")).toBe("private, no-store");
		const report = (await res.json()) as { from: string; to: string; data: ReportRow[] };
		expect(report).toMatchObject({ from: day(-1), to: day(1) });
		const mine = report.data.filter((row) => [first.id, second.id].includes(row.affiliate_id));
		expect(mine.sort((x, y) => x.code.localeCompare(y.code))).toEqual(
			[
				{
					affiliate_id: first.id,
					code: first.code,
					name: first.name,
					currency: "EUR",
					orders: 2,
					sold: { amount: sold1 + sold2, currency: "EUR" },
					commission: { amount: c1 + c2, currency: "EUR" },
					reversed: { amount: r2, currency: "EUR" },
					net: { amount: c1 + c2 - r2, currency: "EUR" },
				},
				{
					affiliate_id: second.id,
					code: second.code,
					name: second.name,
					currency: "EUR",
					orders: 1,
					sold: { amount: soldB, currency: "EUR" },
					commission: { amount: cB, currency: "EUR" },
					reversed: { amount: 0, currency: "EUR" },
					net: { amount: cB, currency: "EUR" },
				},
			].sort((x, y) => x.code.localeCompare(y.code)),
		);

		// Days before the orders: nothing of theirs.
		const earlier = await adminRequest(bus, admin.access_token, `/v1/admin/affiliates/report?from=${day(-30)}&to=${day(-2)}`);
		const old = (await earlier.json()) as { data: ReportRow[] };
		expect(old.data.filter((row) => [first.id, second.id].includes(row.affiliate_id))).toEqual([]);
		const backwards = await adminRequest(bus, admin.access_token, `/v1/admin/affiliates/report?from=${day(1)}&to=${day(-1)}`);
		expect(backwards.status).toBe(400);
		expect((await problemOf(backwards)).code).toBe("validation_failed");

		// One affiliate's orders, a page at a time: the cancelled one too, reversed in full.
		const page1 = await adminRequest(bus, admin.access_token, `/v1/admin/affiliates/${first.id}/orders?limit=2`);
		expect(page1.status).toBe(200);
		const listed = (await page1.json()) as { data: { order_id: string; status: string }[]; next_cursor: string | null };
		expect(listed.data).toHaveLength(2);
		expect(listed.next_cursor).toBeTruthy();
		const page2 = await adminRequest(
			bus,
			admin.access_token,
			`/v1/admin/affiliates/${first.id}/orders?limit=2&cursor=${listed.next_cursor}`,
		);
		const rest = (await page2.json()) as { data: { order_id: string; status: string }[]; next_cursor: string | null };
		expect(rest.next_cursor).toBeNull();
		expect([...listed.data, ...rest.data].map((row) => row.order_id).sort()).toEqual(
			[a1.order.id, a2.placed.order.id, cancelled.order.id].sort(),
		);
		const unknown = await adminRequest(bus, admin.access_token, "/v1/admin/affiliates/aff_0123456789abcdefghjk/orders");
		expect(unknown.status).toBe(404);
	});
});

describe("affiliate administration", () => {
	it("creates, changes and deactivates affiliates, each write in the audit log with who and what", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const created = await newAffiliate(bus, admin, 1000, { email: "ana@example.com" });
		expect(created).toMatchObject({
			code: expect.stringMatching(/^AFF-/),
			email: "ana@example.com",
			commission_bp: 1000,
			active: true,
			referral_url: `http://localhost:8787/?ref=${created.code}`,
		});

		const taken = await adminRequest(bus, admin.access_token, "/v1/admin/affiliates", {
			method: "POST",
			body: { code: created.code, name: "Copycat", commission_bp: 100 },
		});
		expect(taken.status).toBe(409);
		expect((await problemOf(taken)).code).toBe("affiliate_code_taken");
		for (const body of [
			{ code: "lower", name: "x", commission_bp: 100 },
			{ code: "GOOD", name: "x", commission_bp: 10_001 },
			{ code: "GOOD2", name: "x", commission_bp: 100, referral_count: 5 },
		]) {
			const bad = await adminRequest(bus, admin.access_token, "/v1/admin/affiliates", { method: "POST", body });
			expect(bad.status, JSON.stringify(body)).toBe(400);
		}

		const changed = await adminRequest(bus, admin.access_token, `/v1/admin/affiliates/${created.id}`, {
			method: "PATCH",
			body: { commission_bp: 1500, active: false },
		});
		expect(changed.status).toBe(200);
		expect(await changed.json()).toMatchObject({ id: created.id, code: created.code, commission_bp: 1500, active: false });
		const codeChange = await adminRequest(bus, admin.access_token, `/v1/admin/affiliates/${created.id}`, {
			method: "PATCH",
			body: { code: "OTHER" },
		});
		expect(codeChange.status).toBe(400);

		const audit = await withDb((db) =>
			db.primary
				.select()
				.from(auditLog)
				.where(and(eq(auditLog.entityType, "affiliate"), eq(auditLog.entityId, created.id)))
				.orderBy(auditLog.id),
		);
		expect(audit.map((row) => [row.action, row.actorId])).toEqual([
			["affiliate.create", admin.user.id],
			["affiliate.update", admin.user.id],
		]);
		expect(audit[0]?.before).toBeNull();
		expect(audit[0]?.after).toMatchObject({ code: created.code, commission_bp: 1000, active: true });
		expect(audit[1]?.before).toMatchObject({ commission_bp: 1000, active: true });
		expect(audit[1]?.after).toMatchObject({ commission_bp: 1500, active: false });
		expect(audit[1]?.requestId).toBe(changed.headers.get("x-request-id"));

		const list = await adminRequest(bus, admin.access_token, "/v1/admin/affiliates?active=false&limit=100");
		expect(list.status).toBe(200);
		const listed = (await list.json()) as { data: Affiliate[] };
		expect(listed.data.every((row) => !row.active)).toBe(true);
		const missing = await adminRequest(bus, admin.access_token, "/v1/admin/affiliates/aff_0123456789abcdefghjk", {
			method: "PATCH",
			body: { name: "Nobody" },
		});
		expect(missing.status).toBe(404);
	});

	it("answers a customer 403 and an anonymous caller 401 on every affiliate route, changing nothing", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const affiliate = await newAffiliate(bus, admin, 1000);
		const customer = await registerShopper();
		const attempts: [string, string, unknown?][] = [
			["GET", "/v1/admin/affiliates"],
			["POST", "/v1/admin/affiliates", { code: freshCode(), name: "Mine", commission_bp: 10_000 }],
			["PATCH", `/v1/admin/affiliates/${affiliate.id}`, { commission_bp: 10_000 }],
			["GET", "/v1/admin/affiliates/report"],
			["GET", `/v1/admin/affiliates/${affiliate.id}/orders`],
		];
		for (const [method, path, body] of attempts) {
			const forbidden = await adminRequest(bus, customer.access_token, path, { method, body });
			expect(forbidden.status, `${method} ${path}`).toBe(403);
			expect((await problemOf(forbidden)).code).toBe("forbidden");
			const anonymous = await bus.request(path, {
				method,
				headers: { "content-type": "application/json" },
				...(body ? { body: JSON.stringify(body) } : {}),
			});
			expect(anonymous.status, `${method} ${path}`).toBe(401);
		}
		const [row] = await withDb((db) => db.primary.select().from(affiliates).where(eq(affiliates.id, affiliate.id)));
		expect(row?.commissionBp).toBe(1000);
	});
});
