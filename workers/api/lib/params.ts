import { z } from "@hono/zod-openapi";
import { CART_ID } from "../../carts/carts.ts";

/**
 * The shapes of the values a request names things by: ids, SKUs, tokens and
 * cursors. Path and query parameters are checked against them by the shared
 * validation hook, so a malformed value is a 400 before any handler, Durable
 * Object or query sees it; the same shapes document the response fields.
 */

/** `newId(prefix)` (domain/ids.ts): the prefix, `_` and 20 characters of Crockford base32. */
export function idPattern(prefix: string): RegExp {
	return new RegExp(`^${prefix}_[0-9abcdefghjkmnpqrstvwxyz]{20}$`);
}

/**
 * Catalog ids (products, variants, categories). The app makes them with
 * `newId`, but the demo seed derives its own from names in plain base 32
 * (scripts/lib/seed.ts), so only the prefix and lower-case letters and digits
 * are certain.
 */
export function catalogIdPattern(prefix: "prod" | "var" | "cat"): RegExp {
	return new RegExp(`^${prefix}_[0-9a-z]{1,40}$`);
}

/** An id as a string schema of its pattern, with an example of the shape. */
export function prefixedId(pattern: RegExp, example: string) {
	return z.string().max(64).regex(pattern, "Not an id of this kind.").openapi({ example });
}

// Upper case only: SKUs are printed on labels and typed by warehouse staff, one spelling per SKU.
const SKU_PATTERN = /^[A-Z0-9]+(?:-[A-Z0-9]+)*$/;

export const Sku = z
	.string()
	.min(1)
	.max(64)
	.regex(SKU_PATTERN, "A SKU is upper-case letters, digits and single dashes.")
	.openapi({ example: "TEE-MER-CHA-M" });

/** Secrets we hand out (cart, order, refresh and e-mail tokens: `randomToken()`) and page cursors are base64url. */
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A token we issued, as a client sends it back. Longer than any we issue, never a different alphabet. */
export const Token = z.string().min(1).max(200).regex(BASE64URL, "Not a token we issued.");

/** An opaque page cursor: the `next_cursor` of the previous page. */
export const Cursor = z
	.string()
	.max(500)
	.regex(BASE64URL, "Use the next_cursor of a previous page.")
	.openapi({ description: "`next_cursor` of the previous page" });

export const CartId = prefixedId(CART_ID, "cart_0123456789abcdefghjk");
export const OrderId = prefixedId(idPattern("ord"), "ord_0123456789abcdefghjk");
export const ProductId = prefixedId(catalogIdPattern("prod"), "prod_9q0x7v3b6n1c5d4f8k2m");

/** A path parameter of the given name, for `request.params`. */
function pathParam<T extends z.ZodType>(name: string, schema: T): T {
	return schema.openapi({ param: { name, in: "path" } });
}

export const CartIdParam = z.object({ id: pathParam("id", CartId) });
export const OrderIdParam = z.object({ id: pathParam("id", OrderId) });
export const ProductIdParam = z.object({ id: pathParam("id", ProductId) });
export const SkuParam = z.object({ sku: pathParam("sku", Sku) });

/** `id` in the path, of the given prefix. */
export function idParam(prefix: string, example: string) {
	return z.object({ id: pathParam("id", prefixedId(idPattern(prefix), example)) });
}

/** Page size of a list: 1 to `max`, `fallback` when absent. */
export function pageLimit(max: number, fallback: number) {
	return z.coerce.number().int().min(1).max(max).default(fallback).openapi({ format: "int32" });
}

/**
 * The Idempotency-Key header of a route that changes state. The idempotency
 * middleware checks it first (idempotency/store.ts, the same shape); this
 * schema documents it and types the handler's view of it.
 */
export const IdempotencyHeader = z.object({
	"idempotency-key": z
		.string()
		.min(8)
		.max(255)
		.regex(/^[\x21-\x7e]{8,255}$/, "8 to 255 visible ASCII characters.")
		.openapi({ description: "Unique per intended change, 8 to 255 visible ASCII characters", example: "3f6c2a9e-checkout-1" }),
});

/** The cursor of a list of bigserial rows: the last row's id, positive and exact as a JSON number. */
export function rowCursor() {
	return z.coerce
		.number()
		.int()
		.min(1)
		.max(Number.MAX_SAFE_INTEGER)
		.optional()
		.openapi({ format: "int64", description: "`next_cursor` of the previous page" });
}
