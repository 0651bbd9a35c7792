import type { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import type { AppEnv } from "./types.ts";

/**
 * Serves the OpenAPI 3.1 document built from the route schemas, and an
 * interactive reference. The routes do not change while an isolate lives, so
 * the document is built once per isolate; only `servers` follows the request.
 */
export function mountOpenApi(app: OpenAPIHono<AppEnv>): void {
	app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
		type: "http",
		scheme: "bearer",
		bearerFormat: "JWT (ES256), from /v1/auth/login",
	});
	let document: string | undefined;
	app.get("/openapi.json", (c) => {
		document ??= JSON.stringify(
			app.getOpenAPI31Document({
				openapi: "3.1.0",
				info: {
					title: "Edge Commerce API",
					version: "1.0.0",
					description:
						"Edge-first commerce API on Cloudflare Workers. Errors are RFC 9457 application/problem+json with a stable `code` and the request id.",
				},
			}),
		);
		const servers = JSON.stringify([{ url: new URL(c.req.url).origin }]);
		return c.body(`{"servers":${servers},${document.slice(1)}`, 200, { "content-type": "application/json; charset=utf-8" });
	});
	app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "Edge Commerce API reference" }));
}
