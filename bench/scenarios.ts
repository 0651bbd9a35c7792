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
	/**
	 * Runs once before the scenario (data it needs) and may return a hook that
	 * rewrites each request, e.g. to vary the body or the client address.
	 */
	prepare?: (baseUrl: string) => Promise<RequestRewriter | undefined>;
}

export type RequestRewriter = (request: { path?: string; headers?: Record<string, string>; body?: string }) => {
	path?: string;
	headers?: Record<string, string>;
	body?: string;
};

const BENCH_PASSWORD = "bench passphrase 42";

/**
 * Registers enough shoppers that the per-e-mail (5/min) and per-IP (20/min)
 * sign-in limits are not what the login scenario measures: each request signs
 * in the next shopper from its own client address.
 */
async function prepareLogins(baseUrl: string): Promise<RequestRewriter> {
	const count = 200;
	const run = Date.now().toString(36);
	const emails = Array.from({ length: count }, (_, i) => `bench.${run}.${i}@example.test`);
	for (let i = 0; i < emails.length; i += 8) {
		await Promise.all(
			emails.slice(i, i + 8).map(async (email, j) => {
				const res = await fetch(`${baseUrl}/v1/auth/register`, {
					method: "POST",
					headers: { "content-type": "application/json", "cf-connecting-ip": `10.200.${(i + j) >> 8}.${(i + j) & 255}` },
					body: JSON.stringify({ email, password: BENCH_PASSWORD, name: "Bench" }),
				});
				if (res.status !== 201) throw new Error(`bench setup: register answered ${res.status}`);
			}),
		);
	}
	let next = 0;
	return (request) => {
		const n = next++;
		return {
			...request,
			headers: {
				...request.headers,
				"content-type": "application/json",
				"cf-connecting-ip": `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
			},
			body: JSON.stringify({ email: emails[n % count], password: BENCH_PASSWORD }),
		};
	};
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
	{
		name: "product",
		description: "one product by slug, warm (memory/KV hit)",
		path: "/v1/products/merino-base-layer-tee",
		expectStatus: 200,
	},
	{
		name: "search",
		description: "product search with a query, warm (memory/KV hit)",
		path: "/v1/products?q=merino&limit=20",
		expectStatus: 200,
	},
	{
		name: "search-cold",
		description: "product search, every request a cache miss (Postgres full-text query)",
		path: "/v1/products",
		expectStatus: 200,
		prepare: async () => {
			// A distinct page size per request makes each one a new cache key; the words are from the demo catalog.
			const words = ["merino", "linen", "bottle", "charger", "cotton", "steel", "wool", "ceramic", "travel", "organic"];
			let n = 0;
			return (request) => {
				n++;
				return {
					...request,
					path: `/v1/products?q=${words[n % words.length]}&limit=${1 + (Math.floor(n / words.length) % 100)}&sort=newest&min_price=${n}`,
				};
			};
		},
	},
	{
		name: "login",
		description: "sign-in: Argon2id verification, session row, ES256 access token",
		method: "POST",
		path: "/v1/auth/login",
		expectStatus: 200,
		prepare: prepareLogins,
	},
];
