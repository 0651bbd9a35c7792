import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { products, variants } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { call, withDb } from "./helpers.ts";

/** The cart asks Postgres on every add: catalog changes apply at once, with no stale answer. */
it("refuses a SKU at the next add once its product is unpublished or its variant archived, and accepts it once published", async () => {
	const productId = newId("prod");
	const sku = `SL-${productId.slice(5, 15).toUpperCase()}`;
	await withDb(async (db) => {
		await db.primary.insert(products).values({ id: productId, slug: `sl-${productId.slice(5)}`, title: "Sellability", status: "draft" });
		await db.primary.insert(variants).values({ id: newId("var"), productId, sku, title: "One", priceMinor: 100, currency: "EUR" });
	});
	const cart = (await (await call("/v1/carts", { method: "POST" })).json()) as { id: string; token: string };
	const add = () =>
		call(`/v1/carts/${cart.id}/items`, {
			method: "POST",
			headers: { "content-type": "application/json", "x-cart-token": cart.token },
			body: JSON.stringify({ sku, quantity: 1 }),
		});
	expect((await add()).status).toBe(422);
	await withDb((db) => db.primary.update(products).set({ status: "active" }).where(eq(products.id, productId)));
	const second = await add();
	expect(second.status).toBe(200);
	await withDb((db) => db.primary.update(variants).set({ archivedAt: new Date() }).where(eq(variants.sku, sku)));
	const third = await add();
	expect(third.status).toBe(422);
});
