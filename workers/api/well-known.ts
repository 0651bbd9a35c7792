import { createRoute, z } from "@hono/zod-openapi";
import { loadSigningKeys } from "../auth/keys.ts";
import { createRouter } from "./app.ts";
import { jsonResponse } from "./lib/openapi.ts";

const jwks = createRoute({
	method: "get",
	path: "/.well-known/jwks.json",
	tags: ["Accounts"],
	summary: "Public keys that verify access tokens (every key still accepted, the signing key first)",
	responses: {
		200: jsonResponse(
			z
				.object({
					keys: z.array(
						z.object({ kty: z.string(), crv: z.string(), x: z.string(), y: z.string(), kid: z.string(), alg: z.string(), use: z.string() }),
					),
				})
				.openapi("JWKS"),
			"JWK Set",
		),
	},
});

/** Caches may keep the set for five minutes; publish a new key at least that long before signing with it. */
export const wellKnown = createRouter().openapi(jwks, async (c) => {
	const keys = await loadSigningKeys(c.env.JWT_KEYS);
	return c.json({ keys: keys.publicJwks }, 200, { "cache-control": "public, max-age=300" });
});
