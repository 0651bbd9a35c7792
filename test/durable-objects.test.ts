import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Cart } from "../durable-objects/cart.ts";
import { InventoryItem } from "../durable-objects/inventory-item.ts";

describe("Durable Object bindings", () => {
	it("gives each SKU its own SQLite-backed InventoryItem, reachable over RPC", async () => {
		const stub = env.INVENTORY.get(env.INVENTORY.idFromName("TEE-ORG-BLK-M"));
		expect(await stub.onHand()).toBe(0);
		await runInDurableObject(stub, async (instance, state) => {
			expect(instance).toBeInstanceOf(InventoryItem);
			const tables = state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray();
			expect(tables.map((t) => t.name)).toContain("stock");
			// The schema refuses negative stock at the storage layer too.
			expect(() => state.storage.sql.exec("UPDATE stock SET on_hand = -1 WHERE id = 1")).toThrow(/CHECK/);
		});
	});

	it("gives each cart its own SQLite-backed Cart", async () => {
		const stub = env.CART.get(env.CART.idFromName("cart_test"));
		expect(await stub.lineCount()).toBe(0);
		// A cart that was never created answers like one that is not the caller's.
		expect(await stub.snapshot({ tokenHash: "x" })).toEqual({ ok: false, reason: "not_found" });
		await runInDurableObject(stub, async (instance, state) => {
			expect(instance).toBeInstanceOf(Cart);
			expect(() => state.storage.sql.exec("INSERT INTO lines (sku, quantity) VALUES ('X', 100)")).toThrow(/CHECK/);
		});
	});
});
