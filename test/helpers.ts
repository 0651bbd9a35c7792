import { exports } from "cloudflare:workers";

/** Sends a request to the Worker under test, as a client at the edge would. */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
	return exports.default.fetch(new Request(`https://api.test${path}`, init));
}

/** Reads a problem+json answer and checks its media type. */
export async function problemOf(response: Response): Promise<Record<string, unknown>> {
	if (response.headers.get("content-type") !== "application/problem+json") {
		throw new Error(`expected application/problem+json, got ${response.headers.get("content-type")} (${response.status})`);
	}
	return (await response.json()) as Record<string, unknown>;
}
