import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { clearCatalogMemory, stockVersion } from "../workers/catalog/cache.ts";
import { stockLevels } from "../workers/db/schema.ts";
import { envelope } from "../workers/queues/envelope.ts";
import { authed, makeAdmin, registerShopper } from "./accounts-helpers.ts";
import { call, withDb } from "./helpers.ts";
import { available, Bus, checkoutOk, confirm, guestCart, newSku, stock } from "./orders-helpers.ts";

interface Product {
	id: string;
	slug: string;
	title: string;
	variants: { sku: string; in_stock: boolean }[];
}

/**
 * These reads carry a cart cookie, so the edge cache (a request with a cart is
 * never served from it) lets them through to the layers behind it, whose
 * sources this file checks; test/edge-cache.test.ts covers the edge itself.
 */
const BEHIND_THE_EDGE = { cookie: "ec_cart=behind-the-edge" };

async function product(slug: string): Promise<{ body: Product; source: string | null }> {
	const res = await call(`/v1/products/${slug}`, { headers: BEHIND_THE_EDGE });
	if (res.status !== 200) throw new Error(`GET /v1/products/${slug} answered ${res.status}`);
	return { body: (await res.json()) as Product, source: res.headers.get("x-catalog-cache") };
}

/** The ids `GET /v1/products?in_stock=true` lists for a search only this product matches. */
async function listedInStock(word: string): Promise<string[]> {
	const res = await call(`/v1/products?in_stock=true&q=${encodeURIComponent(word)}`, { headers: BEHIND_THE_EDGE });
	if (res.status !== 200) throw new Error(`product list answered ${res.status}`);
	return ((await res.json()) as { data: { id: string }[] }).data.map((p) => p.id);
}

/** The stock version as another isolate would read it: from KV, not from this isolate's memory. */
async function storedStockVersion(): Promise<string> {
	clearCatalogMemory();
	return stockVersion(env.CATALOG);
}

/** An InventoryItem event as the object writes it, for a SKU no object serves. */
function stockEvent(sku: string, seq: number, type: string, available: number, delta = 0) {
	return envelope(`inv:${sku}:${seq}`, `inventory.${type}`, { sku, seq, on_hand: available, available, quantity: 1, on_hand_delta: delta });
}

async function level(sku: string) {
	const [row] = await withDb((db) => db.primary.select().from(stockLevels).where(eq(stockLevels.sku, sku)));
	return row ? { available: row.available, seq: row.seq } : undefined;
}

describe("catalog stock follows the InventoryItem objects", () => {
	it("a product whose last unit sells shows sold out and leaves the in-stock list at once, through every cache layer; restocked, it is back", async () => {
		const bus = new Bus();
		const admin = await makeAdmin(await registerShopper());
		const { sku, productId } = await newSku(1800);
		await bus.watch(sku);
		await stock(sku, 1);
		await bus.pump();

		const before = await product(productId);
		const word = before.body.title.split(" ").at(-1) as string;
		expect(before.body.variants).toEqual([expect.objectContaining({ sku, in_stock: true })]);
		expect(await listedInStock(word)).toEqual([productId]);
		// Cached now: the same reads come from this isolate's memory.
		expect((await product(productId)).source).toBe("memory");

		// The last unit is held at checkout; the consumer applies the object's event.
		const placed = await checkoutOk(bus, await guestCart([[sku, 1]]));
		await bus.pump();
		const held = await product(productId);
		expect(held.source).toBe("origin");
		expect(held.body.variants).toEqual([expect.objectContaining({ sku, in_stock: false })]);
		expect(await listedInStock(word)).toEqual([]);

		// Paid: the hold becomes a sale. Still sold out, and a sale that flips nothing writes no new version.
		const version = await storedStockVersion();
		await confirm(bus, placed.payment?.id as string, "succeeded");
		await bus.pump();
		expect(await available(sku)).toMatchObject({ onHand: 0, available: 0 });
		expect(await storedStockVersion()).toBe(version);
		// Another isolate reads the version and the entries from KV, not from memory.
		clearCatalogMemory();
		expect((await product(productId)).body.variants).toEqual([expect.objectContaining({ sku, in_stock: false })]);
		expect(await listedInStock(word)).toEqual([]);

		// An admin receives two more.
		const adjusted = await bus.request(
			`/v1/admin/inventory/${sku}/adjust`,
			authed(admin.access_token, {
				method: "POST",
				body: JSON.stringify({ delta: 2, reason: "received" }),
				headers: { "idempotency-key": `restock-${sku}` },
			}),
		);
		expect(adjusted.status).toBe(200);
		await bus.pump();
		expect((await product(productId)).body.variants).toEqual([expect.objectContaining({ sku, in_stock: true })]);
		expect(await listedInStock(word)).toEqual([productId]);
		expect(await storedStockVersion()).not.toBe(version);
	});

	it("bumps the stock version only when a SKU flips, and a late event never overwrites a newer one", async () => {
		const bus = new Bus();
		const sku = `FRESH-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
		const start = await storedStockVersion();
		expect((await bus.deliver([stockEvent(sku, 1, "adjusted", 5, 5)])).retryMessages).toEqual([]);
		const stocked = await storedStockVersion();
		expect(stocked).not.toBe(start);

		await bus.deliver([stockEvent(sku, 2, "reserved", 4), stockEvent(sku, 3, "reserved", 1)]);
		expect(await level(sku)).toEqual({ available: 1, seq: 3 });
		expect(await storedStockVersion()).toBe(stocked);

		// The last unit held (seq 5) arrives before an older hold (seq 4), which must not revive the SKU.
		await bus.deliver([stockEvent(sku, 5, "reserved", 0)]);
		const soldOut = await storedStockVersion();
		expect(soldOut).not.toBe(stocked);
		const late = await bus.deliver([stockEvent(sku, 4, "released", 2), stockEvent(sku, 4, "released", 2)]);
		expect(late.explicitAcks).toHaveLength(2);
		expect(await level(sku)).toEqual({ available: 0, seq: 5 });
		expect(await storedStockVersion()).toBe(soldOut);
	});

	it("retries a flip whose version bump KV refused, and the redelivery bumps it", async () => {
		const bus = new Bus();
		const sku = `FRESH-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
		await bus.deliver([stockEvent(sku, 1, "adjusted", 2, 2)]);
		const before = await storedStockVersion();
		const readOnly = {
			get: (key: string, options: unknown) => env.CATALOG.get(key, options as KVNamespaceGetOptions<"text">),
			put: () => Promise.reject(new Error("kv down")),
		} as unknown as KVNamespace;
		const sale = stockEvent(sku, 2, "reserved", 0);
		const refused = await bus.deliver([sale], { CATALOG: readOnly });
		expect(refused.retryMessages).toHaveLength(1);
		expect(await storedStockVersion()).toBe(before);

		const redelivered = await bus.deliver([sale]);
		expect(redelivered.explicitAcks).toHaveLength(1);
		expect(await storedStockVersion()).not.toBe(before);
		expect(await level(sku)).toEqual({ available: 0, seq: 2 });
	});
});
