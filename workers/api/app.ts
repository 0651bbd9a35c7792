import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { methodNotAllowed } from "hono/method-not-allowed";
import { secureHeaders } from "hono/secure-headers";
import { KeyConfigurationError } from "../auth/keys.ts";
import { isDatabaseUnavailable } from "../db/client.ts";
import { DomainError, fieldErrors } from "../domain/errors.ts";
import { setAnswerHeader } from "./lib/headers.ts";
import { domainProblem, makeProblem, type Problem, problemJson } from "./lib/problem.ts";
import { limitBodySize, requireJsonBodies } from "./middleware/body-guards.ts";
import { database } from "./middleware/database.ts";
import { requestContext } from "./middleware/request-context.ts";
import type { AppEnv } from "./types.ts";

/** The routes that take multipart uploads, with their own size cap (MEDIA_MAX_BYTES): the API's and the admin console's. */
export const MEDIA_UPLOAD_PATH = /^(\/v1)?\/admin\/products\/[^/]+\/media$/;

/** Pages (everything outside /v1) take HTML form posts. */
const FORM_MEDIA_TYPES = new Set(["application/x-www-form-urlencoded", "multipart/form-data"]);

/**
 * A router with the shared validation hook: every invalid request, whatever
 * the route, is answered with the same 400 problem+json listing field paths.
 */
export function createRouter(): OpenAPIHono<AppEnv> {
	return new OpenAPIHono<AppEnv>({
		strict: true,
		defaultHook: (result, c) => {
			if (result.success) return;
			const source = result.target === "json" ? "body" : result.target;
			return respond(
				c,
				makeProblem(400, "validation_failed", "Request validation failed", {
					detail: `The request ${source} is invalid.`,
					requestId: c.get("requestId"),
					errors: fieldErrors(result.error.issues, source),
				}),
			);
		},
	});
}

function respond(c: Context<AppEnv>, problem: Problem, headers: Record<string, string> = {}): Response {
	const response = problemJson(problem, headers);
	c.res = response;
	return response;
}

/** Maps anything thrown to problem+json. Unknown errors become a generic 500. */
export function handleError(err: Error, c: Context<AppEnv>): Response {
	const requestId = c.get("requestId");
	if (err instanceof DomainError) {
		const response = domainProblem(err, requestId);
		c.res = response;
		return response;
	}
	if (err instanceof HTTPException) {
		// Hono raises these for malformed JSON and similar framework-level refusals.
		const status = err.status;
		const code = status === 400 ? "malformed_request" : `http_${status}`;
		return respond(c, makeProblem(status, code, err.message || "Request refused", { requestId }));
	}
	if (err instanceof KeyConfigurationError) {
		logError(c, "auth_misconfigured", err);
		return respond(
			c,
			makeProblem(503, "auth_unavailable", "Service temporarily unavailable", { detail: "Sign-in is not available right now.", requestId }),
		);
	}
	if (isDatabaseUnavailable(err)) {
		logError(c, "database_unavailable", err);
		return respond(
			c,
			makeProblem(503, "database_unavailable", "Service temporarily unavailable", {
				detail: "The database cannot be reached. Retry shortly.",
				requestId,
			}),
			{ "retry-after": "5" },
		);
	}
	logError(c, "unhandled_error", err);
	return respond(
		c,
		makeProblem(500, "internal_error", "Internal server error", {
			detail: "An unexpected error occurred. Quote the request id when reporting it.",
			requestId,
		}),
	);
}

/**
 * Logs the error's kind and stack frames, never its message: database errors
 * carry query parameters, which may hold personal data or secrets.
 */
function logError(c: Context<AppEnv>, kind: string, err: unknown): void {
	const error = err instanceof Error ? err : undefined;
	const cause = error?.cause as { code?: unknown } | undefined;
	console.error(
		JSON.stringify({
			level: "error",
			msg: kind,
			request_id: c.get("requestId"),
			error_name: error?.name ?? typeof err,
			error_code: (error as { code?: unknown } | undefined)?.code ?? cause?.code,
			cause_name: cause instanceof Error ? cause.name : undefined,
			failure: failureKind(err),
			// Frames only: a query error's message carries its SQL and parameters (e-mails, token
			// hashes), which must never reach the logs.
			stack: error?.stack
				?.split("\n")
				.filter((line) => /^\s+at /.test(line))
				.slice(0, 7)
				.join("\n"),
		}),
	);
}

/**
 * What kind of connection failure an error chain shows, from the driver's own
 * fixed messages (matched, never logged: other messages may carry values).
 */
function failureKind(err: unknown): string | undefined {
	const kinds: [RegExp, string][] = [
		[/connection timeout|timeout expired|timed out/i, "connect_timeout"],
		[/terminated/i, "connection_terminated"],
		[/ECONNREFUSED|refused/i, "connection_refused"],
		[/websocket/i, "websocket_error"],
		[/too many (clients|connections)/i, "too_many_connections"],
		[/no database connection slot/i, "admission_timeout"],
	];
	let current: unknown = err;
	for (let depth = 0; current && depth < 5; depth++) {
		const message = String((current as { message?: unknown }).message ?? "");
		// drizzle's own wrapper quotes the SQL and its parameters: only its cause counts.
		if (!message.startsWith("Failed query:")) for (const [pattern, kind] of kinds) if (pattern.test(message)) return kind;
		current = (current as { cause?: unknown }).cause;
	}
	return undefined;
}

/** A percent-encoded C0 control character or DEL: %00–%1F, %7F. */
const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f)/i;

/**
 * Refuses a path or query holding a control character (NUL and friends) with
 * 400, before any route sees it: no id, SKU, slug or search term has one, and
 * Postgres refuses a NUL in text outright, which would otherwise surface as a
 * 500 from whichever query first received it. The URL parser has already
 * percent-encoded any raw control character, so the encoded form is all
 * there is to look for.
 */
function refuseControlCharacters(): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		const url = c.req.url;
		// Nothing percent-encoded, nothing to look for: most requests.
		if (!url.includes("%")) return next();
		const start = url.indexOf("/", url.indexOf("//") + 2);
		const hash = url.indexOf("#");
		const target = url.slice(start, hash === -1 ? undefined : hash);
		if (!ENCODED_CONTROL.test(target)) return next();
		const query = target.indexOf("?");
		const where = ENCODED_CONTROL.test(query === -1 ? target : target.slice(0, query)) ? "path" : "query";
		return respond(
			c,
			makeProblem(400, "validation_failed", "Request validation failed", {
				detail: `The request ${where} holds a control character.`,
				requestId: c.get("requestId"),
				errors: [{ path: where, message: "Control characters (U+0000–U+001F, U+007F) are not allowed." }],
			}),
		);
	};
}

function corsOrigins(env: Env): string[] | "*" {
	const raw = (env.CORS_ORIGINS ?? "").trim();
	if (raw === "*") return "*";
	return raw
		.split(",")
		.map((origin) => origin.trim())
		.filter(Boolean);
}

const CORS_EXPOSE_HEADERS = ["X-Request-Id", "ETag", "Retry-After", "Location", "Content-Range", "Accept-Ranges"];

interface CorsPolicy {
	origins: string[] | "*";
	preflight: MiddlewareHandler<AppEnv>;
}

/** Built once per env object: an isolate sees the same one on every request. */
const corsPolicies = new WeakMap<object, CorsPolicy>();

function corsPolicy(env: Env): CorsPolicy {
	let policy = corsPolicies.get(env);
	if (!policy) {
		const origins = corsOrigins(env);
		policy = {
			origins,
			preflight: cors({
				origin: origins === "*" ? "*" : (origin) => (origins.includes(origin) ? origin : null),
				allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Cart-Token", "X-Order-Token", "If-None-Match", "Range"],
				allowMethods: ["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
				exposeHeaders: CORS_EXPOSE_HEADERS,
				maxAge: 600,
			}),
		};
		corsPolicies.set(env, policy);
	}
	return policy;
}

/**
 * CORS (CORS_ORIGINS). A preflight is answered by Hono's `cors()`; every
 * other answer gets the headers `cors()` would give it, set on the answer
 * once it exists. `cors()` sets them before the handler runs, which makes a
 * placeholder response that the handler's answer is then copied onto, and
 * appends `Vary` through another copy: two of the five Responses a bare
 * route built per request (README, Benchmarks).
 */
function corsHeaders(): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		const { origins, preflight } = corsPolicy(c.env);
		if (c.req.method === "OPTIONS") return preflight(c, next);
		await next();
		const origin = c.req.header("origin") ?? "";
		const allowed = origins === "*" ? "*" : origins.includes(origin) ? origin : null;
		if (allowed) setAnswerHeader(c, "Access-Control-Allow-Origin", allowed);
		setAnswerHeader(c, "Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS.join(","));
		if (origins !== "*") setAnswerHeader(c, "Vary", "Origin", { append: true });
	};
}

const HSTS = "max-age=63072000; includeSubDomains; preload";

/**
 * Security headers by surface. Pages (the storefront, the console, the API
 * reference) get the whole `hono/secure-headers` set. The JSON API and media
 * under /v1 get the four that act on an answer no browser renders as a
 * document: HSTS, `nosniff`, `X-Frame-Options` and a cross-origin
 * `Cross-Origin-Resource-Policy`. The rest (opener policy, origin-agent
 * cluster, referrer policy, DNS prefetch, and the IE, Flash and XSS-auditor
 * relics) only mean something for a document, and each is a header every API
 * answer carried: measured, the headers a bare answer carries are the largest
 * share of its cost beside the platform's own (README, Benchmarks).
 */
function securityHeaders(): MiddlewareHandler<AppEnv> {
	const both = { crossOriginResourcePolicy: "cross-origin", strictTransportSecurity: HSTS };
	const documents = secureHeaders(both);
	const api = secureHeaders({
		...both,
		crossOriginOpenerPolicy: false,
		originAgentCluster: false,
		referrerPolicy: false,
		xDnsPrefetchControl: false,
		xDownloadOptions: false,
		xPermittedCrossDomainPolicies: false,
		xXssProtection: false,
		// Nothing here sets X-Powered-By, so there is nothing to delete on every answer.
		removePoweredBy: false,
	});
	return (c, next) => (c.req.path.startsWith("/v1/") ? api(c, next) : documents(c, next));
}

/**
 * The application: shared middleware, error mapping and the v1 routers. The
 * order matters: the request context wraps everything so even refused
 * requests are logged with an id; the body guards run before any parsing.
 */
export function createApp(mount: (app: OpenAPIHono<AppEnv>) => void): OpenAPIHono<AppEnv> {
	const app = createRouter();
	app.use("*", requestContext());
	app.use(
		"*",
		methodNotAllowed({
			app,
			onMethodNotAllowed: (c, methods) =>
				respond(
					c as Context<AppEnv>,
					makeProblem(405, "method_not_allowed", "Method not allowed", {
						detail: `${c.req.method} is not supported here. Allowed: ${methods.join(", ")}.`,
						requestId: (c as Context<AppEnv>).get("requestId"),
					}),
					{ allow: methods.join(", ") },
				),
		}),
	);
	app.use("*", securityHeaders());
	app.use("*", corsHeaders());
	app.use("*", refuseControlCharacters());
	app.use("*", limitBodySize({ skip: (path) => MEDIA_UPLOAD_PATH.test(path) }));
	app.use(
		"*",
		requireJsonBodies({
			allow: (path, mediaType) =>
				(mediaType === "multipart/form-data" && MEDIA_UPLOAD_PATH.test(path)) ||
				(!path.startsWith("/v1/") && FORM_MEDIA_TYPES.has(mediaType)),
		}),
	);
	app.use("*", database());

	mount(app);

	app.notFound((c) =>
		respond(
			c,
			makeProblem(404, "not_found", "Not found", {
				detail: `No route matches ${c.req.method} ${new URL(c.req.url).pathname}.`,
				requestId: c.get("requestId"),
			}),
		),
	);
	app.onError(handleError);
	return app;
}
