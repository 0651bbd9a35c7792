import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { products, variants } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { inventoryItem } from "../workers/inventory/reservations.ts";
import { authed, makeAdmin, registerShopper, type Session } from "./accounts-helpers.ts";
import { call, problemOf, withDb } from "./helpers.ts";

/**
 * The admin maintenance routes of Durable Object point-in-time recovery
 * (ops/restore.ts, durable-objects/pitr.ts). The local runtime answers a
 * storage bookmark but keeps no history: every lookup by time and every
 * restore throws there. So what runs here is everything around the restore
 * (who may ask, the refusals, the object's own guard) and the local runtime's
 * real "not implemented", plus the resume step, which is plain SQL. The
 * restore itself runs only on Cloudflare (README, "Runbook": Restore).
 */

let admin: Session | undefined;
async function adminToken(): Promise<string> {
	admin ??= await makeAdmin(await registerShopper());
	return admin.access_token;
}

async function newSku(): Promise<string> {
	const productId = newId("prod");
	const sku = `PITR-${productId.slice(5, 15).toUpperCase()}`;
	await withDb(async (db) => {
		await db.primary
			.insert(products)
			.values({ id: productId, slug: `pitr-${productId.slice(5)}`, title: "Restore test", status: "active" });
		await db.primary.insert(variants).values({ id: newId("var"), productId, sku, title: "One", priceMinor: 100, currency: "EUR" });
	});
	return sku;
}

const post = (token: string, body: unknown, key: string | null = crypto.randomUUID()): RequestInit =>
	authed(token, {
		method: "POST",
		body: JSON.stringify(body),
		headers: { "content-type": "application/json", ...(key ? { "idempotency-key": key } : {}) },
	});

interface State {
	sku: string;
	bookmark: string;
	seq: number;
	on_hand: number;
	available: number;
	last_restore: { undo_bookmark: string; resumed_at: string; on_hand_delta: number } | null;
}

async function stateOf(sku: string): Promise<State> {
	const res = await call(`/v1/admin/maintenance/inventory/${sku}/bookmark`, authed(await adminToken()));
	expect(res.status).toBe(200);
	return (await res.json()) as State;
}

const adjust = (sku: string, delta: number) => inventoryItem(env, sku).adjust(sku, delta, "received", `k-${crypto.randomUUID()}`);
const minuteAgo = () => new Date(Date.now() - 60_000).toISOString();

describe("Durable Object point-in-time recovery (admin maintenance)", () => {
	it("answers an InventoryItem's bookmark and figures", async () => {
		const sku = await newSku();
		const first = await stateOf(sku);
		expect(first).toMatchObject({ sku, seq: 0, on_hand: 0, available: 0, last_restore: null });
		await adjust(sku, 5);
		const second = await stateOf(sku);
		expect(second).toMatchObject({ seq: 1, on_hand: 5, available: 5 });
		// Bookmarks sort in time order.
		expect(second.bookmark > first.bookmark).toBe(true);
	});

	it("is for admins only, and only for SKUs the catalog knows", async () => {
		const sku = await newSku();
		const customer = await registerShopper();
		const cart = "cart_0123456789abcdefghjk";
		for (const path of [`/v1/admin/maintenance/inventory/${sku}/bookmark`, `/v1/admin/maintenance/carts/${cart}/bookmark`]) {
			expect((await call(path)).status).toBe(401);
			expect((await call(path, authed(customer.access_token))).status).toBe(403);
		}
		for (const path of [`/v1/admin/maintenance/inventory/${sku}/restore`, `/v1/admin/maintenance/carts/${cart}/restore`]) {
			expect((await call(path, post(customer.access_token, { at: minuteAgo() }))).status).toBe(403);
		}
		const unknown = await call("/v1/admin/maintenance/inventory/NO-SUCH-SKU/bookmark", authed(await adminToken()));
		expect(unknown.status).toBe(404);
	});

	it("answers 501 restore_unsupported from the local runtime, which keeps no storage history, and changes nothing", async () => {
		const sku = await newSku();
		const empty = await stateOf(sku);
		await adjust(sku, 4);
		for (const target of [{ bookmark: empty.bookmark }, { at: minuteAgo() }]) {
			const res = await call(`/v1/admin/maintenance/inventory/${sku}/restore`, post(await adminToken(), target));
			expect(res.status).toBe(501);
			const problem = await problemOf(res);
			expect(problem).toMatchObject({ code: "restore_unsupported", title: "Point-in-time recovery not available" });
			expect(problem.detail).toContain("does not implement point-in-time recovery");
		}
		expect(await stateOf(sku)).toMatchObject({ seq: 1, on_hand: 4, last_restore: null });

		const cart = "cart_0123456789abcdefghjk";
		const bookmark = await call(`/v1/admin/maintenance/carts/${cart}/bookmark`, authed(await adminToken()));
		expect(bookmark.status).toBe(200);
		expect(await bookmark.json()).toMatchObject({ cart_id: cart, bookmark: expect.stringMatching(/^[0-9a-f-]+$/) });
		const res = await call(`/v1/admin/maintenance/carts/${cart}/restore`, post(await adminToken(), { at: minuteAgo() }));
		expect(res.status).toBe(501);
		expect(await problemOf(res)).toMatchObject({ code: "restore_unsupported" });
	});

	it("has the object refuse a restore when it recorded an event since it was read", async () => {
		const sku = await newSku();
		const before = await stateOf(sku);
		await adjust(sku, 3);
		// The route reads the object's figures, then asks it to restore; a change in between is refused by the object itself.
		expect(await inventoryItem(env, sku).pitrRestore({ bookmark: before.bookmark }, before.seq)).toEqual({
			ok: false,
			reason: "changed",
			detail: "The object recorded 1 event(s) since it was read; nothing was restored. Try again.",
		});
		expect(await stateOf(sku)).toMatchObject({ seq: 1, on_hand: 3 });
	});

	it("validates what to restore to: exactly one of at and bookmark, within the last 30 days, with an Idempotency-Key", async () => {
		const sku = await newSku();
		const { bookmark } = await stateOf(sku);
		const restore = async (body: unknown, key?: string | null) =>
			call(`/v1/admin/maintenance/inventory/${sku}/restore`, post(await adminToken(), body, key));
		expect((await restore({ at: new Date().toISOString(), bookmark })).status).toBe(400);
		expect((await restore({})).status).toBe(400);
		expect((await restore({ at: "yesterday" })).status).toBe(400);
		expect((await restore({ bookmark, role: "admin" })).status).toBe(400);
		const keyless = await restore({ bookmark }, null);
		expect(keyless.status).toBe(400);
		expect(await problemOf(keyless)).toMatchObject({ code: "idempotency_key_required" });
		const future = await restore({ at: new Date(Date.now() + 3_600_000).toISOString() });
		expect(future.status).toBe(422);
		expect(await problemOf(future)).toMatchObject({ code: "restore_refused" });
		const old = await restore({ at: new Date(Date.now() - 31 * 86_400_000).toISOString() });
		expect(old.status).toBe(422);
		expect((await problemOf(old)).detail).toContain("30 days");
	});

	it("resumes a restored InventoryItem once: its counter back past the ledger's, the change of stock as one adjusted event", async () => {
		const sku = await newSku();
		await adjust(sku, 5);
		// As after a restore to an earlier state: the object now holds 5 on hand at seq 1, while before the
		// restore it had recorded 9 events and held 2 on hand.
		const undo = (await stateOf(sku)).bookmark;
		const token = await adminToken();
		const body = { undo_bookmark: undo, seq: 9, on_hand: 2 };
		const first = await call(`/v1/admin/maintenance/inventory/${sku}/resume`, post(token, body));
		expect(first.status).toBe(200);
		expect(await first.json()).toEqual({ sku, seq: 10, on_hand: 5, available: 5, on_hand_delta: 3, replayed: false });
		// Another key, same undo bookmark: the object answers its first result and records nothing more.
		const again = await call(`/v1/admin/maintenance/inventory/${sku}/resume`, post(token, body));
		expect(await again.json()).toEqual({ sku, seq: 10, on_hand: 5, available: 5, on_hand_delta: 3, replayed: true });
		expect(await stateOf(sku)).toMatchObject({ seq: 10, on_hand: 5, last_restore: { undo_bookmark: undo, on_hand_delta: 3 } });
		// The next change gets a fresh event id.
		await adjust(sku, 1);
		expect((await stateOf(sku)).seq).toBe(11);

		const audit = await call(`/v1/admin/audit-log?entity_type=sku&entity_id=${sku}&action=inventory.restore_resume`, authed(token));
		const entries = ((await audit.json()) as { data: { after: unknown }[] }).data;
		expect(entries).toHaveLength(1);
		expect(entries[0]?.after).toEqual({ seq: 10, on_hand: 5, on_hand_delta: 3 });
	});
});
