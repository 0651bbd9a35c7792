import type { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import type { AppEnv } from "./types.ts";

/** Serves the OpenAPI 3.1 document built from the route schemas, and an interactive reference. */
export function mountOpenApi(app: OpenAPIHono<AppEnv>): void {
	app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
		type: "http",
		scheme: "bearer",
		bearerFormat: "JWT (ES256), from /v1/auth/login",
	});
	app.doc31("/openapi.json", (c) => ({
		openapi: "3.1.0",
		info: {
			title: "Edge Commerce API",
			version: "1.0.0",
			description:
				"Edge-first commerce API on Cloudflare Workers. Errors are RFC 9457 application/problem+json with a stable `code` and the request id.",
		},
		servers: [{ url: new URL(c.req.url).origin }],
	}));
	app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "Edge Commerce API reference" }));
}
