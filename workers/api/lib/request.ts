import type { Context } from "hono";
import type { AccountContext } from "../../auth/accounts.ts";
import { clientOf } from "../../limits/client.ts";
import type { AppEnv } from "../types.ts";

/** What the account services need of a request, from either surface (the API or the storefront). */
export function accountContext(c: Context<AppEnv>): AccountContext {
	return { env: c.env, client: clientOf(c.req.raw), db: c.get("database").primary };
}
