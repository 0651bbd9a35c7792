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
	/** The status every answer must have (or one of them); anything else counts as an error. */
	expectStatus: number | readonly number[];
	/**
	 * Runs once before the scenario (data it needs) and may return a hook that
	 * rewrites each request, e.g. to vary the body or the client address.
	 */
	prepare?: (context: BenchContext) => Promise<RequestRewriter | undefined>;
}

/**
 * What a scenario's preparation may use: the Worker's address and an admin,
 * for data only an admin can set up (stock).
 */
export interface BenchContext {
	baseUrl: string;
	/** Seconds each scenario runs: how many one-shot carts a checkout scenario needs. */
	durationSeconds: number;
	/** An admin's access token; signed in on first use and again before it expires. */
	adminToken(): Promise<string>;
}

export type RequestRewriter = (request: { method?: string; path?: string; headers?: Record<string, string>; body?: string }) => {
	method?: string;
	path?: string;
	headers?: Record<string, string>;
	body?: string;
};

/** Whether `status` is one the scenario expects. */
export function expected(scenario: Scenario, status: number): boolean {
	return typeof scenario.expectStatus === "number" ? status === scenario.expectStatus : scenario.expectStatus.includes(status);
}

const BENCH_PASSWORD = "bench passphrase 42";

/**
 * Registers enough shoppers that the per-e-mail (5/min) and per-IP (20/min)
 * sign-in limits are not what the login scenario measures: each request signs
 * in the next shopper from its own client address.
 */
async function prepareLogins({ baseUrl }: BenchContext): Promise<RequestRewriter> {
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

const JSON_HEADERS = { "content-type": "application/json" };

let clients = 0;
/**
 * A client address of its own for each shopper (one per cart): the
 * per-client limits (RATE_LIMITS, MAX_HELD_UNITS_PER_CLIENT) are there to stop
 * one client, and the bench measures many shoppers, not one client's refusals.
 */
function nextClient(): string {
	const n = clients++;
	return `2001:db8:${(n >> 16) & 0xffff}:${n & 0xffff}::1`;
}

/**
 * fetch for setup requests that are safe to send again, retried when the
 * connection drops or the answer is 503: wrangler dev restarts the Worker when
 * a source file changes, cutting off requests in flight, and a long setup
 * should not die of one restart.
 */
async function setupFetch(url: string, init?: RequestInit): Promise<Response> {
	for (let attempt = 1; ; attempt++) {
		try {
			const res = await fetch(url, init);
			if (res.status !== 503 || attempt === 5) return res;
			await res.body?.cancel();
		} catch (err) {
			if (attempt === 5) throw err;
		}
		await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
	}
}

/** The body when the status is the expected one; otherwise a setup error that shows the answer. */
async function expectJson<T>(res: Response, status: number, what: string): Promise<T> {
	if (res.status !== status) throw new Error(`bench setup: ${what} answered ${res.status}: ${(await res.text()).slice(0, 500)}`);
	return (await res.json()) as T;
}

/**
 * Runs `task` over `items`, `width` at a time. Setup traffic stays modest:
 * the embedded Postgres serves one query at a time and gains nothing from more.
 */
export async function inBatches<T, R>(items: readonly T[], width: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
	const results: R[] = [];
	for (let i = 0; i < items.length; i += width) {
		results.push(...(await Promise.all(items.slice(i, i + width).map((item, j) => task(item, i + j)))));
	}
	return results;
}

let catalog: Promise<string[]> | undefined;

/**
 * Every sellable SKU of the seeded catalog, sorted, read through the public
 * routes once per run. The list answers carry no variants, so each product is
 * read once for its SKUs.
 */
export function catalogSkus(baseUrl: string): Promise<string[]> {
	catalog ??= (async () => {
		const slugs: string[] = [];
		for (let cursor: string | null = null, first = true; first || cursor; first = false) {
			const page: { data: { slug: string }[]; next_cursor: string | null } = await expectJson(
				await setupFetch(`${baseUrl}/v1/products?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`),
				200,
				"product list",
			);
			slugs.push(...page.data.map((product) => product.slug));
			cursor = page.next_cursor;
		}
		const products = await inBatches(slugs, 8, async (slug) =>
			expectJson<{ variants: { sku: string }[] }>(await setupFetch(`${baseUrl}/v1/products/${slug}`), 200, `product ${slug}`),
		);
		return products.flatMap((product) => product.variants.map((variant) => variant.sku)).sort();
	})();
	return catalog;
}

/** Which SKUs each scenario uses. */
export interface SkuRoles {
	/** For add_to_cart: every SKU no stock scenario uses. */
	cart: string[];
	/** The single SKU of reserve_hot_sku and checkout_hot_sku. */
	hot: string;
	/** checkout's three SKUs. */
	checkout: [string, string, string];
	/** flash_sale's SKU. */
	flash: string;
}

/**
 * Gives each stock scenario SKUs of its own, so one scenario's reservations
 * never change what another measures, and keeps add_to_cart off all of them.
 * Fixed picks from the sorted list: the same SKUs on every run.
 */
export async function skuRoles(baseUrl: string): Promise<SkuRoles> {
	const skus = await catalogSkus(baseUrl);
	const pick = (fromEnd: number) => {
		const sku = skus[skus.length - fromEnd];
		if (!sku || skus.length < 10) throw new Error(`bench setup: the catalog has only ${skus.length} SKUs`);
		return sku;
	};
	return { cart: skus.slice(0, -5), hot: pick(1), checkout: [pick(2), pick(3), pick(4)], flash: pick(5) };
}

/** The route's limit on one adjustment. */
const MAX_ADJUST = 1_000_000;

/** Units of a SKU that can be bought now, as the SKU's InventoryItem counts them. */
export async function availableOf(baseUrl: string, sku: string): Promise<number> {
	const level = await expectJson<{ available: number }>(await setupFetch(`${baseUrl}/v1/inventory/${sku}`), 200, `availability of ${sku}`);
	return level.available;
}

/**
 * Brings a SKU's available units to `target` (mode "exactly") or to at least
 * `target`, through the admin adjust route in steps the route accepts. It
 * starts from what is available now rather than assuming an empty SKU: a
 * database given by DATABASE_URL outlives a run, and so may its stock.
 * Returns the available units afterwards.
 */
export async function setAvailable(context: BenchContext, sku: string, target: number, mode: "exactly" | "at-least"): Promise<number> {
	let available = await availableOf(context.baseUrl, sku);
	let delta = target - available;
	if (mode === "at-least" && delta <= 0) return available;
	while (delta !== 0) {
		const step = Math.max(-MAX_ADJUST, Math.min(MAX_ADJUST, delta));
		// One key for the step and its retries: a step that landed before its answer was lost is not applied twice.
		const key = `bench-${crypto.randomUUID()}`;
		const res = await setupFetch(`${context.baseUrl}/v1/admin/inventory/${sku}/adjust`, {
			method: "POST",
			headers: { ...JSON_HEADERS, authorization: `Bearer ${await context.adminToken()}`, "idempotency-key": key },
			body: JSON.stringify({ delta: step, reason: "bench stock" }),
		});
		({ available } = await expectJson<{ available: number }>(res, 200, `stock adjustment of ${sku}`));
		delta -= step;
	}
	if (available !== target) throw new Error(`bench setup: ${sku} has ${available} available after adjusting to ${target}`);
	return available;
}

/** A guest cart and the token that proves ownership of it. */
export interface GuestCart {
	id: string;
	token: string;
	/** The shopper's own address (CF-Connecting-IP), sent with every request for this cart. */
	client: string;
}

/**
 * Creates `count` guest carts, cart `i` holding `linesOf(i)`. Adding a line
 * is not safe to repeat (a lost answer may hide a line that was added), so a
 * cart whose setup fails is abandoned and made again from scratch, a few
 * times at most.
 */
export async function guestCarts(
	baseUrl: string,
	count: number,
	linesOf: (index: number) => { sku: string; quantity: number }[],
): Promise<GuestCart[]> {
	return inBatches(
		Array.from({ length: count }, (_, i) => i),
		16,
		async (i) => {
			for (let attempt = 1; ; attempt++) {
				try {
					return await guestCart(baseUrl, linesOf(i));
				} catch (err) {
					if (attempt === 3) throw err;
					await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
				}
			}
		},
	);
}

async function guestCart(baseUrl: string, lines: { sku: string; quantity: number }[]): Promise<GuestCart> {
	const client = nextClient();
	const created = await expectJson<{ id: string; token?: string }>(
		await fetch(`${baseUrl}/v1/carts`, { method: "POST", headers: { "cf-connecting-ip": client } }),
		201,
		"guest cart creation",
	);
	if (!created.token) throw new Error("bench setup: a guest cart came without its token");
	const cart = { id: created.id, token: created.token, client };
	for (const line of lines) {
		await expectJson(
			await fetch(`${baseUrl}/v1/carts/${cart.id}/items`, {
				method: "POST",
				headers: { ...JSON_HEADERS, "x-cart-token": cart.token, "cf-connecting-ip": client },
				body: JSON.stringify(line),
			}),
			200,
			`adding ${line.sku} to a cart`,
		);
	}
	return cart;
}

const SHIPPING_ADDRESS = { name: "Bench Shopper", line1: "Rua das Flores 12", city: "Lisboa", postal_code: "1200-195", country: "PT" };

/**
 * A guest's checkout of `cart`: the body, and headers with a fresh
 * Idempotency-Key, so every call places a new order (a repeated key would be
 * answered from the stored first answer instead).
 */
export function checkoutRequest(cart: GuestCart, email: string): { headers: Record<string, string>; body: string } {
	return {
		headers: { ...JSON_HEADERS, "x-cart-token": cart.token, "idempotency-key": crypto.randomUUID(), "cf-connecting-ip": cart.client },
		body: JSON.stringify({ cart_id: cart.id, email, shipping_address: SHIPPING_ADDRESS }),
	};
}

/** Stock for the sustained checkout scenarios: far more than a run can reserve. */
const BIG_STOCK = 1_000_000;

/**
 * A cart with an unpaid order answers that order to its next checkout, so
 * each cart is checked out once: the scenario prepares enough carts for its
 * run at up to CHECKOUTS_PER_SECOND. Were they used up, requests would start
 * over (answered from the first orders, cheaper: the figure would flatter).
 */
function checkoutRotation(carts: GuestCart[], label: string): RequestRewriter {
	let next = 0;
	return (request) => {
		const n = next++ % carts.length;
		const cart = carts[n] as GuestCart;
		const { headers, body } = checkoutRequest(cart, `bench.${label}.${n}@example.test`);
		return { ...request, path: "/v1/checkout", headers: { ...request.headers, ...headers }, body };
	};
}

/**
 * 200 guest carts; request n adds one unit to cart n mod 200, cycling each
 * cart through its own window of 50 SKUs (the line cap), so a line reaches
 * the 10-unit cap (MAX_UNITS_PER_SKU) only after 200 × 50 × 10 = 100,000
 * requests; each cart sees a write every 200 requests, well inside its limit
 * of 60 a minute (policy cart_writes).
 */
async function prepareAddToCart({ baseUrl }: BenchContext): Promise<RequestRewriter> {
	const { cart: skus } = await skuRoles(baseUrl);
	const carts = await guestCarts(baseUrl, 200, () => []);
	const window = Math.min(50, skus.length);
	let next = 0;
	return (request) => {
		const n = next++;
		const c = n % carts.length;
		const cart = carts[c] as GuestCart;
		const sku = skus[(c + (Math.floor(n / carts.length) % window)) % skus.length];
		return {
			...request,
			path: `/v1/carts/${cart.id}/items`,
			headers: { ...request.headers, ...JSON_HEADERS, "x-cart-token": cart.token, "cf-connecting-ip": cart.client },
			body: JSON.stringify({ sku, quantity: 1 }),
		};
	};
}

/**
 * Guest carts of one unit each, all of the same SKU, whose stock is held
 * and given back in turns: a round holds every cart's unit
 * (`POST /v1/carts/{id}/hold`, 201), the next releases them all (`DELETE`,
 * 204), and so on. Every request is a reservation or a release in the one
 * InventoryItem, and no request repeats the one before it on a cart (a hold
 * that already covers its cart would be answered without reserving).
 */
async function prepareHotHolds(context: BenchContext): Promise<RequestRewriter> {
	const { hot } = await skuRoles(context.baseUrl);
	await setAvailable(context, hot, BIG_STOCK, "at-least");
	// Enough carts that none is held more than ten times a minute (policy holds) at up to 400 requests a second.
	const carts = await guestCarts(context.baseUrl, Math.max(200, 40 * context.durationSeconds), () => [{ sku: hot, quantity: 1 }]);
	let next = 0;
	return (request) => {
		const n = next++;
		const cart = carts[n % carts.length] as GuestCart;
		const holding = Math.floor(n / carts.length) % 2 === 0;
		return {
			...request,
			method: holding ? "POST" : "DELETE",
			path: `/v1/carts/${cart.id}/hold`,
			headers: { ...request.headers, "x-cart-token": cart.token, "cf-connecting-ip": cart.client },
		};
	};
}

/** The most checkouts a second the local stack has been seen to place: the one-shot carts a run needs. */
const CHECKOUTS_PER_SECOND = 80;

function checkoutCarts(context: BenchContext): number {
	return CHECKOUTS_PER_SECOND * context.durationSeconds;
}

/** One-unit carts, all of the same SKU: every checkout's reservation contends for one InventoryItem. */
async function prepareHotCheckout(context: BenchContext): Promise<RequestRewriter> {
	const { hot } = await skuRoles(context.baseUrl);
	await setAvailable(context, hot, BIG_STOCK, "at-least");
	return checkoutRotation(await guestCarts(context.baseUrl, checkoutCarts(context), () => [{ sku: hot, quantity: 1 }]), "hot");
}

/** Carts of three SKUs, 1 or 2 units each: three reservations per order. */
async function prepareCheckout(context: BenchContext): Promise<RequestRewriter> {
	const { checkout } = await skuRoles(context.baseUrl);
	for (const sku of checkout) await setAvailable(context, sku, BIG_STOCK, "at-least");
	const carts = await guestCarts(context.baseUrl, checkoutCarts(context), (i) =>
		checkout.map((sku, j) => ({ sku, quantity: 1 + ((i + j) % 2) })),
	);
	return checkoutRotation(carts, "checkout");
}

/**
 * A cart cookie makes a catalog read personal to the edge cache
 * (api/middleware/edge-cache.ts), which then lets it through: the scenarios
 * that measure the catalog's own layers send one.
 */
const BEHIND_THE_EDGE = { cookie: "ec_cart=bench" };

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
		description: "one product by slug, warm (memory/KV hit) behind the edge cache (a cart cookie bypasses it)",
		path: "/v1/products/merino-base-layer-tee",
		headers: BEHIND_THE_EDGE,
		expectStatus: 200,
	},
	{
		name: "product-edge-hit",
		description: "one product by slug, anonymous: answered by the edge cache (Cache API HIT)",
		path: "/v1/products/merino-base-layer-tee",
		expectStatus: 200,
	},
	{
		name: "search",
		description: "product search with a query, warm (memory/KV hit) behind the edge cache",
		path: "/v1/products?q=merino&limit=20",
		headers: BEHIND_THE_EDGE,
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
		name: "suggest",
		description:
			"search-box suggestions, ten prefixes a shopper types in turn, behind the edge cache (memory/KV hit after the first of each)",
		path: "/v1/search/suggest?q=me",
		headers: BEHIND_THE_EDGE,
		expectStatus: 200,
		prepare: async () => {
			const prefixes = ["me", "mer", "meri", "lin", "bot", "cha", "sk", "skil", "wool", "merr"];
			let n = 0;
			return (request) => ({ ...request, path: `/v1/search/suggest?q=${prefixes[n++ % prefixes.length]}` });
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
	{
		name: "add_to_cart",
		description: "guest adds one unit: sellability check and re-priced cart (Postgres), Cart Durable Object",
		method: "POST",
		path: "/v1/carts/{id}/items",
		expectStatus: 200,
		prepare: prepareAddToCart,
	},
	{
		name: "reserve_hot_sku",
		description: "guest cart stock hold and release in turns, all on one SKU (one InventoryItem)",
		method: "POST",
		path: "/v1/carts/{id}/hold",
		expectStatus: [201, 204],
		prepare: prepareHotHolds,
	},
	{
		name: "checkout_hot_sku",
		description: "guest checkout, every order reserving the same SKU (one InventoryItem)",
		method: "POST",
		path: "/v1/checkout",
		expectStatus: 201,
		prepare: prepareHotCheckout,
	},
	{
		name: "checkout",
		description: "guest checkout of three SKUs: re-price, three reservations, order transaction, test payment",
		method: "POST",
		path: "/v1/checkout",
		expectStatus: 201,
		prepare: prepareCheckout,
	},
];
