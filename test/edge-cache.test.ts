import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { products } from "../workers/db/schema.ts";
import { authed, makeAdmin, registerShopper } from "./accounts-helpers.ts";
import { call, withDb } from "./helpers.ts";
import { Bus, checkoutOk, guestCart, newSku, stock } from "./orders-helpers.ts";

/**
 * The edge cache (api/middleware/edge-cache.ts): the Workers Cache API in
 * front of anonymous catalog reads, keyed on the URL, the market and the
 * catalog and stock versions.
 */

async function get(path: string, headers: Record<string, string> = {}) {
	const res = await call(path, { headers });
	return { res, cache: res.headers.get("x-cache"), body: res.status === 200 ? await res.text() : "" };
}

describe("edge cache", () => {
	it("the second anonymous GET of a product is a HIT with the same body; its ETag still answers 304", async () => {
		const { productId } = await newSku(2100);
		const first = await get(`/v1/products/${productId}`);
		expect(first.res.status).toBe(200);
		expect(first.cache).toBe("MISS");
		expect(first.res.headers.get("cache-control")).toMatch(/s-maxage=\d+.*stale-while-revalidate=\d+/);
		const second = await get(`/v1/products/${productId}`);
		expect(second.cache).toBe("HIT");
		expect(second.body).toBe(first.body);
		expect(second.res.headers.get("etag")).toBe(first.res.headers.get("etag"));
		// A hit is still this request's answer: its own request id, none of the entry's bookkeeping.
		expect(second.res.headers.get("x-request-id")).toMatch(/.+/);
		expect(second.res.headers.get("x-request-id")).not.toBe(first.res.headers.get("x-request-id"));
		expect(second.res.headers.get("x-edge-client-cache-control")).toBeNull();
		expect(second.res.headers.get("cache-control")).toBe(first.res.headers.get("cache-control"));
		const revalidated = await get(`/v1/products/${productId}`, { "if-none-match": first.res.headers.get("etag") as string });
		expect(revalidated.res.status).toBe(304);
		expect(revalidated.cache).toBe("HIT");
		// The query is part of the key, in any order; another market is another entry.
		expect((await get(`/v1/products/${productId}?market=uk`)).cache).toBe("MISS");
		expect((await get(`/v1/products/${productId}?market=uk`)).cache).toBe("HIT");
		expect((await get(`/v1/products?limit=3&sort=newest`)).cache).toBe("MISS");
		expect((await get(`/v1/products?sort=newest&limit=3`)).cache).toBe("HIT");
	});

	it("after an admin edit the next GET is a MISS with the new content", async () => {
		const admin = await makeAdmin(await registerShopper());
		const { productId } = await newSku(2100);
		await get(`/v1/products/${productId}`);
		expect((await get(`/v1/products/${productId}`)).cache).toBe("HIT");
		const edited = await call(
			`/v1/admin/products/${productId}`,
			authed(admin.access_token, { method: "PATCH", body: JSON.stringify({ title: "Renamed at the edge" }) }),
		);
		expect(edited.status).toBe(200);
		const after = await get(`/v1/products/${productId}`);
		expect(after.cache).toBe("MISS");
		expect(JSON.parse(after.body).title).toBe("Renamed at the edge");
		expect((await get(`/v1/products/${productId}`)).cache).toBe("HIT");
	});

	it("after the last unit sells the next GET is a MISS that says sold out", async () => {
		const bus = new Bus();
		const { sku, productId } = await newSku(1900);
		await bus.watch(sku);
		await stock(sku, 1);
		await bus.pump();
		const before = await get(`/v1/products/${productId}`);
		expect(JSON.parse(before.body).variants[0].in_stock).toBe(true);
		expect((await get(`/v1/products/${productId}`)).cache).toBe("HIT");
		await checkoutOk(bus, await guestCart([[sku, 1]]));
		await bus.pump();
		const after = await get(`/v1/products/${productId}`);
		expect(after.cache).toBe("MISS");
		expect(JSON.parse(after.body).variants[0].in_stock).toBe(false);
	});

	it("never stores or serves a signed-in, cart-holding or session request", async () => {
		const shopper = await registerShopper();
		const { productId } = await newSku(2100);
		const signed = await call(`/v1/products/${productId}`, authed(shopper.access_token));
		expect(signed.status).toBe(200);
		expect(signed.headers.get("x-cache")).toBe("BYPASS");
		// The signed-in answer was not stored: the first anonymous one misses.
		expect((await get(`/v1/products/${productId}`)).cache).toBe("MISS");
		expect((await get(`/v1/products/${productId}`)).cache).toBe("HIT");
		// And a cached entry is not handed to a request that carries a session or a cart.
		expect((await get(`/v1/products/${productId}`, { "x-cart-token": "t".repeat(43) })).cache).toBe("BYPASS");
		expect((await get(`/v1/products/${productId}`, { cookie: "ec_at=x" })).cache).toBe("BYPASS");
		const page = await withDb((db) => db.primary.select({ slug: products.slug }).from(products).where(eq(products.id, productId)));
		const slug = page[0]?.slug as string;
		expect((await get(`/p/${slug}`)).cache).toBe("MISS");
		const hitPage = await get(`/p/${slug}`);
		expect(hitPage.cache).toBe("HIT");
		// The page's prices follow the saved market: downstream caches are still told so.
		expect(hitPage.res.headers.get("vary")).toContain("Cookie");
		expect((await get(`/p/${slug}`, { cookie: "ec_cart=cart_x.token" })).cache).toBe("BYPASS");
		// The market picker sets a cookie: that page is the shopper's.
		expect((await get(`/p/${slug}?market=uk`)).cache).toBe("BYPASS");
	});

	it("serves media from the cache with its immutable headers", async () => {
		const key = `media/${"a".repeat(64)}.png`;
		await env.MEDIA.put(key, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), {
			httpMetadata: { contentType: "image/png" },
		});
		const first = await get(`/v1/media/${key}`);
		expect(first.res.status).toBe(200);
		expect(first.cache).toBe("MISS");
		const second = await get(`/v1/media/${key}`);
		expect(second.cache).toBe("HIT");
		expect(second.res.headers.get("content-type")).toBe("image/png");
		expect(second.res.headers.get("cache-control")).toContain("immutable");
	});
});
