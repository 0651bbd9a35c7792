import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { matchedRoutes } from "hono/route";
import { DomainError } from "../../domain/errors.ts";
import type { AppEnv } from "../types.ts";

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function maxBodyBytes(env: Env): number {
	const configured = Number.parseInt(env.MAX_BODY_BYTES ?? "", 10);
	return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_MAX_BODY_BYTES;
}

/**
 * Refuses bodies over MAX_BODY_BYTES with 413, whether or not the client sent
 * a Content-Length (chunked bodies are counted as they stream in).
 */
export function limitBodySize(options: { skip?: (path: string) => boolean } = {}): MiddlewareHandler<AppEnv> {
	return (c, next) => {
		// No body (every GET): bodyLimit's own first check, without building one per request.
		if (c.req.raw.body === null) return next();
		// Routes listed in `skip` (uploads) enforce their own, larger limit.
		if (options.skip?.(c.req.path)) return next();
		return bodyLimit({
			maxSize: maxBodyBytes(c.env),
			onError: () => {
				throw new DomainError("payload_too_large", {
					detail: `The body exceeds the limit of ${maxBodyBytes(c.env)} bytes.`,
				});
			},
		})(c, next);
	};
}

/**
 * A request that carries a body must say it is JSON; anything else is a 415,
 * not a validation error about missing fields. Routes that take other media
 * types (uploads) are listed in `allow`.
 */
export function requireJsonBodies(options: { allow?: (path: string, mediaType: string) => boolean } = {}): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		if (!METHODS_WITH_BODY.has(c.req.method)) return next();
		// With no handler for this method and path, the answer is a 404 or 405, not a 415.
		if (!matchedRoutes(c).some((route) => route.method !== "ALL")) return next();
		const length = c.req.header("content-length");
		const hasBody = c.req.raw.body !== null && length !== "0";
		if (!hasBody) return next();
		const mediaType = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
		if (JSON_MEDIA_TYPE.test(mediaType) || options.allow?.(c.req.path, mediaType)) return next();
		throw new DomainError("unsupported_media_type", {
			detail: mediaType
				? `Content-Type ${mediaType} is not accepted here; send application/json.`
				: "Send the body as application/json with a Content-Type header.",
		});
	};
}
