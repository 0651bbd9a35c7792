import type { CartCaller } from "../../durable-objects/cart.ts";
import { hashToken } from "./secrets.ts";
import { unauthorized, verifyAccessToken } from "./tokens.ts";

/**
 * Who a request is, resolved once per request from what it carries: the
 * bearer token's user and the hash of a cart token (X-Cart-Token).
 */

const BEARER = /^Bearer ([\w-]+\.[\w-]+\.[\w-]*)$/;

/** The access token of an Authorization header, or 401 for one that is not `Bearer <JWT>`. */
export function bearerToken(header: string): string {
	const token = BEARER.exec(header)?.[1];
	if (!token) throw unauthorized("The Authorization header must be 'Bearer <access token>'.");
	return token;
}

/**
 * The signed-in user, if the request carries a bearer token. A bearer header
 * that is present must be valid (401 otherwise): a broken session must not
 * silently fall back to guest behaviour.
 */
export async function bearerUser(env: Env, header: string | undefined): Promise<string | undefined> {
	if (header === undefined) return undefined;
	return (await verifyAccessToken(env, bearerToken(header))).userId;
}

/** What a request proves: its user (bearer) and/or the hash of its cart token (X-Cart-Token). */
export async function callerOf(env: Env, authorization: string | undefined, cartToken: string | undefined): Promise<CartCaller> {
	const userId = await bearerUser(env, authorization);
	const tokenHash = cartToken ? await hashToken(cartToken) : undefined;
	return { ...(userId ? { userId } : {}), ...(tokenHash ? { tokenHash } : {}) };
}
