import type { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import { policyLimits } from "../limits/rate-limits.ts";
import { PROBLEM_CONTENT_TYPE } from "./lib/problem.ts";
import { LIMITED_ROUTES, type LimitedRoute } from "./middleware/rate-limits.ts";
import type { AppEnv } from "./types.ts";

/**
 * The API reference's script (`@scalar/api-reference`'s standalone bundle),
 * served from our own static assets so /docs loads nothing from elsewhere.
 * `node scripts/docs-assets.ts` copies it from node_modules; `npm run lint` checks the copy.
 */
export const DOCS_SCRIPT_PATH = "/vendor/scalar-api-reference.js";

const TAGS = [
	{
		name: "Accounts",
		description: "Registration, sign-in, sessions, e-mail verification, password recovery and the signed-in customer's profile.",
	},
	{ name: "Catalog", description: "Products, categories and media: public, cacheable reads." },
	{ name: "Inventory", description: "Units a SKU has for sale now, once or live over a WebSocket." },
	{ name: "Carts", description: "Guest and customer carts, their lines and stock holds." },
	{ name: "Checkout and orders", description: "Placing orders, paying for them and following them; payment provider webhooks." },
	{ name: "Admin", description: "Back-office operations; every one needs an admin's access token." },
	{ name: "Platform", description: "Health checks for load balancers and monitoring." },
];

const ref = (kind: "headers" | "schemas", name: string) => ({ $ref: `#/components/${kind}/${name}` });

interface DocumentedResponse {
	description: string;
	headers?: Record<string, unknown>;
	content?: unknown;
}
interface Operation {
	operationId?: string;
	responses: Record<string, DocumentedResponse>;
}
interface Document {
	paths: Record<string, Record<string, Operation>>;
	[key: string]: unknown;
}

function registerComponents(app: OpenAPIHono<AppEnv>): void {
	const registry = app.openAPIRegistry;
	const jwt =
		"An access token from POST /v1/auth/login or /v1/auth/refresh: a JWS signed with ES256 that follows RFC8725 (the algorithm is pinned, and `kid`, `typ`, issuer, audience and expiry are checked). It expires after ACCESS_TOKEN_TTL_SECONDS (15 minutes by default); renew it with the refresh token.";
	registry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer", bearerFormat: "JWT", description: jwt });
	registry.registerComponent("securitySchemes", "adminBearerAuth", {
		type: "http",
		scheme: "bearer",
		bearerFormat: "JWT",
		description: `${jwt} The token must carry the admin role, and the user must still be an admin: the role is re-read from the database on every request.`,
	});
	const header = (description: string, schema: { maxLength: number; pattern: string }) => ({
		description,
		schema: { type: "string" as const, ...schema },
	});
	registry.registerComponent(
		"headers",
		"RateLimit-Policy",
		header(
			'The limit this operation counts against (draft-ietf-httpapi-ratelimit-headers): quota `q` per window `w` seconds, e.g. `"carts";q=10;w=60`.',
			{
				maxLength: 100,
				pattern: '^"[a-z_]+";q=\\d+;w=\\d+$',
			},
		),
	);
	registry.registerComponent(
		"headers",
		"RateLimit",
		header(
			'The state of the limit (draft-ietf-httpapi-ratelimit-headers): `r` requests remaining, for `t` more seconds, e.g. `"carts";r=0;t=60`.',
			{
				maxLength: 100,
				pattern: '^"[a-z_]+";r=\\d+;t=\\d+$',
			},
		),
	);
	registry.registerComponent("headers", "Retry-After", {
		description: "Seconds to wait before retrying.",
		schema: { type: "integer", format: "int32", minimum: 0, maximum: 86_400 },
	});
	registry.registerComponent(
		"headers",
		"Access-Control-Allow-Origin",
		header("The request's Origin when it is one of CORS_ORIGINS (`*` when CORS_ORIGINS is `*`); absent for other origins.", {
			maxLength: 2048,
			pattern: "^(\\*|https?://[^\\s/]+)$",
		}),
	);
}

/** "client", "client and user", "client, cart and user". */
function scopesOf(route: LimitedRoute): string {
	const scopes = ["client", ...route.per];
	return scopes.length > 1 ? `${scopes.slice(0, -1).join(", ")} and ${scopes.at(-1)}` : "client";
}

/**
 * Documents the rate limits of LIMITED_ROUTES, the one table the limiter
 * also reads: each limited operation gets its 429 with the RateLimit fields,
 * and its successes name the policy (RateLimit-Policy). A 429 the route
 * documents itself (another refusal of that status) is kept in the
 * description. An app that mounts only some routers (a test's) has only
 * some of the operations; test/contract.test.ts proves that the Worker's
 * document has every one the table names.
 */
function documentRateLimits(document: Document, env: Env): void {
	for (const route of LIMITED_ROUTES) {
		const operation = document.paths[route.path]?.[route.method];
		if (!operation) continue;
		const { limit, period } = policyLimits(env, route.policy);
		for (const [status, response] of Object.entries(operation.responses)) {
			if (/^[23]/.test(status)) response.headers = { ...response.headers, "RateLimit-Policy": ref("headers", "RateLimit-Policy") };
		}
		const own = operation.responses["429"]?.description;
		operation.responses["429"] = {
			description: `\`rate_limited\`: the \`${route.policy}\` policy allows ${limit} requests per ${period} seconds, counted per ${scopesOf(route)}. Retry after the Retry-After seconds.${own ? ` Or ${own}` : ""}`,
			headers: {
				"Retry-After": ref("headers", "Retry-After"),
				RateLimit: ref("headers", "RateLimit"),
				"RateLimit-Policy": ref("headers", "RateLimit-Policy"),
			},
			content: { [PROBLEM_CONTENT_TYPE]: { schema: ref("schemas", "Problem") } },
		};
	}
}

/**
 * The finishing touches no single route can make: rate limits, CORS on
 * every answer that lists its headers (the CORS middleware is global), and
 * the operation ids of HEAD twins, which are registered by spreading their
 * GET route and so arrive with its id.
 */
function finish(document: Document, env: Env): Document {
	documentRateLimits(document, env);
	for (const operations of Object.values(document.paths)) {
		const head = operations.head;
		if (head?.operationId && head.operationId === operations.get?.operationId) head.operationId = head.operationId.replace(/^get/, "head");
		for (const operation of Object.values(operations)) {
			for (const response of Object.values(operation.responses)) {
				if (response.headers) response.headers["Access-Control-Allow-Origin"] = ref("headers", "Access-Control-Allow-Origin");
			}
		}
	}
	return { ...document, tags: TAGS };
}

/** Where the document says it is served: production and staging by name, anything else is a local development server. */
function serverDescription(env: Env): string {
	return env.APP_ENV === "production" || env.APP_ENV === "staging" ? `This ${env.APP_ENV} server` : "This local development server";
}

/**
 * The API reference page: Scalar's page, its script from our assets, and a
 * policy that lets it load nothing else. Its inline script (the call that
 * starts it) carries a per-request nonce; styles may be inline, as the
 * reference's components write their own.
 */
function docsPage() {
	return Scalar<AppEnv>((c) => {
		const nonce = crypto.randomUUID().replaceAll("-", "");
		c.header(
			"content-security-policy",
			[
				"default-src 'self'",
				`script-src 'self' 'nonce-${nonce}'`,
				// The reference's components inject style elements of their own, without the nonce.
				"style-src 'self' 'unsafe-inline'",
				"img-src 'self' data: blob:",
				"font-src 'self' data:",
				"connect-src 'self'",
				"worker-src 'self' blob:",
				"frame-ancestors 'none'",
				"base-uri 'self'",
				"form-action 'self'",
			].join("; "),
		);
		return {
			url: "/openapi.json",
			pageTitle: "Edge Commerce API reference",
			cdn: DOCS_SCRIPT_PATH,
			nonce,
			// Everything the reference would fetch from Scalar's servers: fonts, telemetry, its request proxy and AI agent.
			withDefaultFonts: false,
			telemetry: false,
			proxyUrl: "",
			agent: { disabled: true },
		};
	});
}

/**
 * Serves the OpenAPI 3.1 document built from the route schemas, and an
 * interactive reference. The routes do not change while an isolate lives, so
 * the document is built once per isolate; only `servers` follows the request.
 */
export function mountOpenApi(app: OpenAPIHono<AppEnv>): void {
	registerComponents(app);
	let document: string | undefined;
	app.get("/openapi.json", (c) => {
		document ??= JSON.stringify(
			finish(
				app.getOpenAPI31Document({
					openapi: "3.1.0",
					info: {
						title: "Edge Commerce API",
						version: "1.0.0",
						description:
							"Edge-first commerce API on Cloudflare Workers. Errors are RFC 9457 application/problem+json with a stable `code` and the request id.",
					},
				}) as unknown as Document,
				c.env,
			),
		);
		const servers = JSON.stringify([{ url: new URL(c.req.url).origin, description: serverDescription(c.env), "x-internal": false }]);
		return c.body(`{"servers":${servers},${document.slice(1)}`, 200, { "content-type": "application/json; charset=utf-8" });
	});
	app.get("/docs", docsPage());
}
