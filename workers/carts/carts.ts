import type { Cart, CartFailure } from "../../durable-objects/cart.ts";
import { DomainError, notFound, type RateLimitState } from "../domain/errors.ts";

/** `newId("cart")`: the prefix and 20 characters of Crockford base32. */
export const CART_ID = /^cart_[0-9abcdefghjkmnpqrstvwxyz]{20}$/;

/** The Cart object for one cart id. Check the id's shape first: any name would create an object. */
export function cartStub(env: Env, cartId: string): DurableObjectStub<Cart> {
	return env.CART.get(env.CART.idFromName(cartId));
}

/** The same 404 for a cart that does not exist, has expired, or is someone else's. */
export function cartNotFound(): DomainError {
	return notFound("No such cart.");
}

/** Maps a refusal from the Cart object to problem+json. */
export function cartFailure(reason: CartFailure, sku?: string, maxUnits?: number, rateLimit?: RateLimitState): DomainError {
	switch (reason) {
		case "not_found":
			return cartNotFound();
		case "line_not_found":
			return new DomainError("line_not_found", { detail: `The cart has no line for ${sku}.` });
		case "quantity_limit":
			return new DomainError("quantity_limit", {
				detail: `A cart holds at most ${maxUnits ?? "the allowed number of"} units${sku ? ` of ${sku}` : " of one item"}.`,
				...(maxUnits ? { extensions: { max: maxUnits } } : {}),
			});
		case "line_limit":
			return new DomainError("line_limit", { detail: "A cart holds at most 50 different items." });
		case "exists":
			return new DomainError("cart_exists", { detail: "A cart with this id exists." });
		case "rate_limited":
			return new DomainError("rate_limited", {
				detail: `Too many requests of this kind for this cart. Try again in ${rateLimit?.resetSeconds ?? 60} seconds.`,
				retryAfterSeconds: rateLimit?.resetSeconds ?? 60,
				...(rateLimit ? { rateLimit } : {}),
			});
		case "not_sold_in_market":
			return new DomainError("not_sold_in_market", {
				detail: `${sku ?? "This item"} is not sold in this cart's market. Switch the cart to another market (PATCH /v1/carts/{id}) to buy it.`,
				...(sku ? { extensions: { skus: [sku] } } : {}),
			});
		case "changed":
			return new DomainError("cart_changed", {
				detail: "The cart changed while its stock was being held. Hold it again.",
			});
	}
}
