import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { setAnswerHeader } from "../lib/headers.ts";
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

/** Which requests get the log line (REQUEST_LOG). */
export type RequestLogMode = "errors" | "sampled" | "all";

interface Telemetry {
	log: RequestLogMode;
	/** REQUEST_LOG_SLOW_MS: a request this slow or slower is logged whatever the mode. */
	slowMs: number;
	/** REQUEST_LOG_SAMPLE: the share of other requests logged in "sampled" mode. */
	logSample: number;
	/** ANALYTICS_SAMPLE: the share of requests written to Analytics Engine. */
	analyticsSample: number;
}

type TelemetryEnv = Pick<Partial<Env>, "REQUEST_LOG" | "REQUEST_LOG_SLOW_MS" | "REQUEST_LOG_SAMPLE" | "ANALYTICS_SAMPLE">;

function share(raw: string | undefined, fallback: number): number {
	const value = Number.parseFloat(raw ?? "");
	return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : fallback;
}

/** Read once per env object: an isolate sees the same one on every request. */
const telemetryOf = new WeakMap<object, Telemetry>();

function telemetry(env: TelemetryEnv): Telemetry {
	let settings = telemetryOf.get(env);
	if (!settings) {
		const slowMs = Number.parseFloat(env.REQUEST_LOG_SLOW_MS ?? "");
		settings = {
			log: env.REQUEST_LOG === "all" || env.REQUEST_LOG === "sampled" ? env.REQUEST_LOG : "errors",
			slowMs: Number.isFinite(slowMs) && slowMs >= 0 ? slowMs : 1000,
			logSample: share(env.REQUEST_LOG_SAMPLE, 0.01),
			analyticsSample: share(env.ANALYTICS_SAMPLE, 1),
		};
		telemetryOf.set(env, settings);
	}
	return settings;
}

/**
 * Sets the request id, and after the answer reports the request: method,
 * route pattern (never the raw URL, which may carry tokens), status, duration
 * and request id. No headers, no bodies.
 *
 * The JSON log line goes out for every 5xx and every request slower than
 * REQUEST_LOG_SLOW_MS; REQUEST_LOG = "sampled" adds a REQUEST_LOG_SAMPLE share
 * of the rest, "all" every request. Workers Logs already records each
 * invocation (ray id, which is the request id; URL, status, duration), so a
 * line for every healthy request repeats it at a cost measured in the
 * README's Benchmarks. Analytics Engine gets a data point for an
 * ANALYTICS_SAMPLE share of requests (all by default), the third double being
 * the weight 1 / ANALYTICS_SAMPLE, so sums stay estimates of the whole.
 */
export function requestContext(): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		const started = performance.now();
		const requestId = requestIdFor(c.req.raw.headers);
		c.set("requestId", requestId);
		await next();
		setAnswerHeader(c, REQUEST_ID_HEADER, requestId);
		const settings = telemetry(c.env);
		// In workerd the clock only advances across I/O, which is what we want to measure.
		const durationMs = Math.round((performance.now() - started) * 100) / 100;
		const status = c.res.status;
		const failed = status >= 500;
		const slow = durationMs >= settings.slowMs;
		const logged = failed || slow || settings.log === "all" || (settings.log === "sampled" && Math.random() < settings.logSample);
		const analysed = settings.analyticsSample >= 1 || Math.random() < settings.analyticsSample;
		if (!logged && !analysed) return;
		// The handler's pattern, not a middleware's "*"; unmatched requests say so.
		const route = matchedRoutes(c).findLast((r) => r.method !== "ALL")?.path ?? "(unmatched)";
		if (logged) {
			console.log(
				JSON.stringify({
					level: failed ? "error" : slow ? "warn" : "info",
					msg: "request",
					method: c.req.method,
					route,
					status,
					duration_ms: durationMs,
					request_id: requestId,
				}),
			);
		}
		if (analysed) {
			c.env.ANALYTICS?.writeDataPoint({
				indexes: [route.slice(0, 96)],
				blobs: [c.req.method, route, String(status)],
				doubles: [durationMs, status, 1 / settings.analyticsSample],
			});
		}
	};
}
