import type { Context } from "hono";

/**
 * Sets a header on the answer in place. Hono's `c.header()` after the handler
 * copies the whole Response first, on every call; the copy is only needed
 * when the headers are immutable (a WebSocket handshake answered by a Durable
 * Object), so here it is the fallback.
 */
export function setAnswerHeader(c: Context, name: string, value: string, options?: { append?: boolean }): void {
	try {
		if (options?.append) c.res.headers.append(name, value);
		else c.res.headers.set(name, value);
	} catch {
		c.header(name, value, options);
	}
}
