import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { vi } from "vitest";
import { Database } from "../workers/db/client.ts";

export const BASE = "https://api.test";

/** Sends a request to the deployed Worker entry, as a client at the edge would. */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
	const headers = new Headers(init.headers);
	if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", randomClient());
	return exports.default.fetch(new Request(`${BASE}${path}`, { ...init, headers }));
}

/**
 * A fresh client address: every request a test sends without its own
 * CF-Connecting-IP comes from a client of its own, so the per-client limits
 * only count where a test means them to (it then sends one address throughout).
 */
export function randomClient(): string {
	const part = () => Math.floor(Math.random() * 256);
	return `10.${part()}.${part()}.${part()}`;
}

/** Runs a fetch handler with its own execution context and the test bindings, optionally overridden. */
export async function callWith(
	handler: { fetch: (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response> },
	path: string,
	init: RequestInit = {},
	overrides: Partial<Env> = {},
): Promise<Response> {
	const ctx = createExecutionContext();
	const headers = new Headers(init.headers);
	if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", randomClient());
	const response = await handler.fetch(new Request(`${BASE}${path}`, { ...init, headers }), { ...env, ...overrides } as Env, ctx);
	await waitOnExecutionContext(ctx);
	return response;
}

/** Reads a problem+json answer, checking its media type and that it carries the response's request id. */
export async function problemOf(response: Response): Promise<Record<string, unknown>> {
	const type = response.headers.get("content-type");
	if (type !== "application/problem+json") {
		throw new Error(`expected application/problem+json, got ${type} (${response.status}): ${await response.text()}`);
	}
	const body = (await response.json()) as Record<string, unknown>;
	if (!body.request_id || body.request_id !== response.headers.get("x-request-id")) {
		throw new Error(`problem request_id ${String(body.request_id)} does not match X-Request-Id ${response.headers.get("x-request-id")}`);
	}
	if (body.status !== response.status) throw new Error(`problem status ${String(body.status)} differs from HTTP ${response.status}`);
	return body;
}

/** Runs `fn` with a database handle of its own, closed afterwards. */
export async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
	const db = new Database(env);
	try {
		return await fn(db);
	} finally {
		await db.close();
	}
}

/**
 * Runs `fn` with the clock (Date, which the Durable Objects and the consumer
 * read) standing at `time`. The objects run in the test's isolate, so they
 * see the same clock; their alarms stay scheduled in real time, so none fires
 * on its own meanwhile (run them with `runDurableObjectAlarm`).
 */
export async function at<T>(time: number, fn: () => Promise<T>): Promise<T> {
	vi.useFakeTimers({ toFake: ["Date"], now: time });
	try {
		return await fn();
	} finally {
		vi.useRealTimers();
	}
}
