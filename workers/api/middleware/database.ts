import type { MiddlewareHandler } from "hono";
import { Database } from "../../db/client.ts";
import type { AppEnv } from "../types.ts";

/** Puts a lazily opened per-request Database on `c.var` and closes what it opened after the response. */
export function database(): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		const db = new Database(c.env);
		c.set("database", db);
		try {
			await next();
		} finally {
			if (db.opened) c.executionCtx.waitUntil(db.close());
		}
	};
}
