import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "../types.ts";

const REQUEST_ID_HEADER = "x-request-id";

/**
 * The request id comes from Cloudflare's `cf-ray` when present (so it matches
 * the edge's own logs) and is generated otherwise; a client-sent id is not
 * trusted. Echoed in `X-Request-Id` on every answer, errors included.
 */
function requestIdFor(headers: Headers): string {
	const ray = headers.get("cf-ray");
	if (ray && /^[\w-]{1,64}$/.test(ray)) return ray;
	return crypto.randomUUID();
}

/**
 * Sets the request id and writes one structured log line per request: method,
 * route pattern (never the raw URL, which may carry tokens), status, duration
 * and request id. No headers, no bodies. Also feeds Analytics Engine.
 */
export function requestContext(): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		const started = performance.now();
		const requestId = requestIdFor(c.req.raw.headers);
		c.set("requestId", requestId);
		await next();
		c.header(REQUEST_ID_HEADER, requestId);
		// In workerd the clock only advances across I/O, which is what we want to measure.
		const durationMs = Math.round((performance.now() - started) * 100) / 100;
		// The handler's pattern, not a middleware's "*"; unmatched requests say so.
		const route = matchedRoutes(c).findLast((r) => r.method !== "ALL")?.path ?? "(unmatched)";
		const status = c.res.status;
		console.log(
			JSON.stringify({
				level: status >= 500 ? "error" : "info",
				msg: "request",
				method: c.req.method,
				route,
				status,
				duration_ms: durationMs,
				request_id: requestId,
			}),
		);
		c.env.ANALYTICS?.writeDataPoint({
			indexes: [route.slice(0, 96)],
			blobs: [c.req.method, route, String(status)],
			doubles: [durationMs, status],
		});
	};
}
