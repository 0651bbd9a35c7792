import { createRoute, z } from "@hono/zod-openapi";
import { loadSigningKeys } from "../auth/keys.ts";
import { createRouter } from "./app.ts";
import { baseProblems, jsonResponse, problem, publicAccess, text } from "./lib/openapi.ts";

/** A P-256 coordinate: 32 bytes, base64url. */
const coordinate = z
	.string()
	.max(43)
	.regex(/^[A-Za-z0-9_-]+$/);

const jwks = createRoute({
	method: "get",
	path: "/.well-known/jwks.json",
	operationId: "getSigningKeys",
	tags: ["Accounts"],
	security: publicAccess,
	summary: "Public keys that verify access tokens (every key still accepted, the signing key first)",
	description: "For services that verify access tokens themselves: match the token's `kid`. Cacheable for five minutes.",
	responses: {
		200: jsonResponse(
			z
				.object({
					keys: z
						.array(
							z.object({
								kty: z.literal("EC"),
								crv: z.literal("P-256"),
								x: coordinate,
								y: coordinate,
								kid: text(128).openapi({ description: "Matches the `kid` in an access token's header" }),
								alg: z.literal("ES256"),
								use: z.literal("sig"),
							}),
						)
						.max(10),
				})
				.openapi("JWKS"),
			"JWK Set",
		),
		...baseProblems,
		503: problem("`auth_unavailable`: the signing keys are misconfigured"),
	},
});

/** Caches may keep the set for five minutes; publish a new key at least that long before signing with it. */
export const wellKnown = createRouter().openapi(jwks, async (c) => {
	const keys = await loadSigningKeys(c.env.JWT_KEYS);
	return c.json({ keys: keys.publicJwks }, 200, { "cache-control": "public, max-age=300" });
});
