import { expect, it } from "vitest";
import { products, variants } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { authed, makeAdmin, registerShopper } from "./accounts-helpers.ts";
import { call, withDb } from "./helpers.ts";

/**
 * Adding to a cart reads SKUs through the catalog cache, whose keys every
 * admin write makes unreachable: a product published, unpublished or a
 * variant archived through the admin API applies at the next add.
 */
it("refuses a SKU at the next add once its product is unpublished or its variant archived, and accepts it once published", async () => {
	const admin = await makeAdmin(await registerShopper());
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
	const patch = (body: unknown) =>
		call(`/v1/admin/products/${productId}`, authed(admin.access_token, { method: "PATCH", body: JSON.stringify(body) }));
	expect((await add()).status).toBe(422);
	expect((await patch({ status: "active" })).status).toBe(200);
	expect((await add()).status).toBe(200);
	expect((await patch({ variants: [{ sku, archived: true }] })).status).toBe(200);
	expect((await add()).status).toBe(422);
	expect((await patch({ variants: [{ sku, archived: false }] })).status).toBe(200);
	expect((await add()).status).toBe(200);
	expect((await patch({ status: "draft" })).status).toBe(200);
	expect((await add()).status).toBe(422);
	// Checkout never trusts the cache: it re-reads the primary (see checkout.test.ts).
});
