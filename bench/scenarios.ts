/**
 * Load scenarios for `npm run bench`. Each is measured against the bare
 * liveness route in the same run; later features add their routes here.
 */
export interface Scenario {
	name: string;
	/** What the figure tells a reader. */
	description: string;
	method?: "GET" | "POST" | "PATCH" | "DELETE";
	path: string;
	headers?: Record<string, string>;
	body?: string;
	/** The status every answer must have; anything else counts as an error. */
	expectStatus: number;
}

/** The reference: a route that touches no dependency. */
export const baseline: Scenario = {
	name: "health-live",
	description: "bare route, no I/O (baseline)",
	path: "/v1/health/live",
	expectStatus: 200,
};

export const scenarios: Scenario[] = [
	{
		name: "health-ready",
		description: "Postgres (new Neon pool per request) + KV + R2 probes",
		path: "/v1/health/ready",
		expectStatus: 200,
	},
	{
		name: "openapi-json",
		description: "OpenAPI 3.1 document built from the zod schemas",
		path: "/openapi.json",
		expectStatus: 200,
	},
	{
		name: "problem-404",
		description: "unknown route answered with problem+json",
		path: "/v1/does-not-exist",
		expectStatus: 404,
	},
];
