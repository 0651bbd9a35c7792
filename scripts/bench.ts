/**
 * `npm run bench`: starts the local stack (embedded Postgres in memory unless
 * DATABASE_URL is set, the WebSocket proxy, `wrangler dev`), drives each
 * scenario with autocannon (no pipelining) and prints throughput and latency
 * next to the bare liveness route measured in the same run, and next to a
 * reference Worker that only returns a constant (bench/reference), run by the
 * same wrangler with the same flags: what the local stack itself allows. Both
 * baselines run first and last; ratios are against the mean of each pair, so
 * drift during the run shows instead of hiding in one number. Three phases are not sustained
 * load: product-cold (cache-miss latency), upload (image uploads with and
 * without derivatives, bench/upload.ts) and flash_sale (1,000 checkouts at
 * once for 100 units, checked for oversell). Results go to
 * bench/results/latest.json.
 *
 * BENCH_DURATION (seconds per scenario, default 10), BENCH_CONNECTIONS
 * (default 16) and BENCH_ONLY (comma-separated scenario or phase names; the
 * two baselines always run) tune it. BENCH_VARS, a JSON object of strings,
 * overrides our Worker's vars (e.g. `{"REQUEST_LOG":"all"}`), to measure one
 * setting against another; they are recorded in the results, so never secrets.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import pg from "pg";
import {
	availableOf,
	type BenchContext,
	baseline,
	checkoutRequest,
	expected,
	guestCarts,
	type RequestRewriter,
	type Scenario,
	scenarios,
	setAvailable,
	skuRoles,
} from "../bench/scenarios.ts";
import { measureUploadCost, type UploadCost } from "../bench/upload.ts";
import { upsertAdmin } from "./lib/admins.ts";
import { generateKeySet } from "./lib/jwt-keys.ts";
import { freePort } from "./lib/ports.ts";
import { seedDemoCatalog } from "./lib/seed.ts";
import { startDatabaseStack } from "./lib/stack.ts";
import { projectRoot, startWranglerDev } from "./lib/wrangler-dev.ts";

interface Measurement {
	name: string;
	description: string;
	requests_per_s: number;
	p50_ms: number;
	p99_ms: number;
	requests: number;
	unexpected: number;
	/** Answers by status, and one answer of the first unexpected status (status and body), to tell why. */
	statuses: Record<string, number>;
	unexpected_sample: string | null;
	/** Times wrangler dev rebuilt and restarted the Worker during this measurement. */
	worker_reloads: number;
}

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim());
const overrides = benchVars(process.env.BENCH_VARS);
const log = (line: string) => console.log(`[bench] ${line}`);

/**
 * wrangler dev watches the sources and restarts the Worker when one changes,
 * cutting off requests in flight ("Your worker restarted mid-request", 503)
 * and stalling the rest while it rebuilds. It has no switch to stop watching,
 * so the bench counts restarts and says which figures one spoiled.
 */
/** BENCH_VARS: a JSON object whose values are all strings, as `--var` takes them. */
function benchVars(raw: string | undefined): Record<string, string> {
	if (!raw) return {};
	const parsed: unknown = JSON.parse(raw);
	if (typeof parsed !== "object" || parsed === null || Object.values(parsed).some((v) => typeof v !== "string")) {
		throw new Error('BENCH_VARS must be a JSON object of strings, e.g. {"REQUEST_LOG":"all"}');
	}
	return parsed as Record<string, string>;
}

/** The yardstick: bench/reference answers every request with a constant, so any path will do. */
const constant: Scenario = {
	name: "constant",
	description: "reference Worker returning a constant (bench/reference)",
	path: baseline.path,
	expectStatus: 200,
};

let workerReloads = 0;
function countReloads(stream: NodeJS.ReadableStream | null | undefined): void {
	const marker = "Reloading local server";
	let tail = "";
	stream?.on("data", (chunk: Buffer) => {
		const text = tail + chunk.toString();
		workerReloads += text.split(marker).length - 1;
		// The marker may straddle two chunks; a whole one left in the tail would be counted twice.
		tail = text.slice(-(marker.length - 1));
	});
}

async function measure(url: string, scenario: Scenario, seconds: number, rewrite?: RequestRewriter): Promise<Measurement> {
	const reloadsBefore = workerReloads;
	let sample: string | null = null;
	// autocannon calls onResponse for every answer; scripts/types/autocannon.d.ts does not declare it,
	// so the request goes in through a variable (no excess-property check) rather than a literal.
	// setupRequest only when there is one: its mere presence rebuilds every request.
	const request = {
		...(rewrite ? { setupRequest: rewrite } : {}),
		onResponse: (status: number, body: string) => {
			if (sample === null && !expected(scenario, status)) sample = `${status} ${body.slice(0, 600)}`;
		},
	};
	const result = await autocannon({
		url: `${url}${scenario.path}`,
		method: scenario.method ?? "GET",
		headers: scenario.headers,
		body: scenario.body,
		requests: [request],
		connections,
		pipelining: 1,
		duration: seconds,
	});
	const stats = Object.entries(result.statusCodeStats);
	const answered = stats.reduce((sum, [, s]) => sum + s.count, 0);
	const wanted = stats.reduce((sum, [status, s]) => sum + (expected(scenario, Number(status)) ? s.count : 0), 0);
	return {
		name: scenario.name,
		description: scenario.description,
		requests_per_s: Math.round(result.requests.average),
		p50_ms: result.latency.p50,
		p99_ms: result.latency.p99,
		requests: result.requests.total,
		unexpected: answered - wanted + result.errors + result.timeouts,
		statuses: Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, s]) => [status, s.count])),
		unexpected_sample: sample,
		worker_reloads: workerReloads - reloadsBefore,
	};
}

/**
 * The bench's admin: created (or its password reset) on first use, signed in
 * then and again before the 15-minute access token runs out. Each sign-in
 * comes from its own client address, so the per-IP limit (20/min) never
 * refuses one however often the bench signs in.
 */
function adminSession(baseUrl: string, databaseUrl: string): () => Promise<string> {
	const password = "bench admin passphrase";
	let admin: Promise<string> | undefined;
	let current: { token: Promise<string>; at: number } | undefined;
	let logins = 0;
	const signIn = async () => {
		admin ??= upsertAdmin(databaseUrl, { email: "bench-admin@example.test", password, resetPassword: true }).then((a) => a.email);
		const n = logins++;
		const res = await fetch(`${baseUrl}/v1/auth/login`, {
			method: "POST",
			headers: { "content-type": "application/json", "cf-connecting-ip": `10.254.${(n >> 8) & 255}.${n & 255}` },
			body: JSON.stringify({ email: await admin, password }),
		});
		if (res.status !== 200) throw new Error(`bench: admin sign-in answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
		return ((await res.json()) as { access_token: string }).access_token;
	};
	return () => {
		if (!current || Date.now() - current.at > 10 * 60_000) {
			current = { token: signIn(), at: Date.now() };
			// A failed sign-in is not kept: the next call tries again.
			current.token.catch(() => {
				current = undefined;
			});
		}
		return current.token;
	};
}

/** The q-quantile of xs (nearest rank), rounded to 0.1 ms. */
function percentile(xs: number[], q: number): number {
	const sorted = [...xs].sort((a, b) => a - b);
	return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 10) / 10;
}

/**
 * Cache-miss latency of the product route: an admin edit bumps the catalog
 * version, then every active product is read once, one request at a time, so
 * each read goes to Postgres. Latency only: misses cannot be sustained.
 */
async function coldProductLatency({
	baseUrl,
	adminToken,
}: BenchContext): Promise<{ samples: number; p50_ms: number; p99_ms: number; warm_p50_ms: number; warm_p99_ms: number } | undefined> {
	if (only && !only.includes("product-cold")) return undefined;
	const access_token = await adminToken();
	const slugs: { id: string; slug: string; title: string }[] = [];
	for (let cursor: string | null = null, first = true; first || cursor; first = false) {
		const page = (await (await fetch(`${baseUrl}/v1/products?limit=100${cursor ? `&cursor=${cursor}` : ""}`)).json()) as {
			data: { id: string; slug: string; title: string }[];
			next_cursor: string | null;
		};
		slugs.push(...page.data);
		cursor = page.next_cursor;
	}
	const latencies: number[] = [];
	const warmLatencies: number[] = [];
	for (let round = 0; round < 3; round++) {
		const target = slugs[round % slugs.length];
		if (!target) break;
		const edit = await fetch(`${baseUrl}/v1/admin/products/${target.id}`, {
			method: "PATCH",
			headers: { "content-type": "application/json", authorization: `Bearer ${access_token}` },
			body: JSON.stringify({ title: target.title }),
		});
		if (!edit.ok) throw new Error(`bench: admin edit answered ${edit.status}`);
		for (const product of slugs) {
			const started = performance.now();
			const res = await fetch(`${baseUrl}/v1/products/${product.slug}`);
			await res.arrayBuffer();
			if (res.headers.get("x-catalog-cache") === "origin") latencies.push(performance.now() - started);
		}
		// The same reads again, now cached, measured the same way for a like-for-like ratio.
		for (const product of slugs) {
			const started = performance.now();
			const res = await fetch(`${baseUrl}/v1/products/${product.slug}`);
			await res.arrayBuffer();
			if (res.headers.get("x-catalog-cache") !== "origin") warmLatencies.push(performance.now() - started);
		}
	}
	return {
		samples: latencies.length,
		p50_ms: percentile(latencies, 0.5),
		p99_ms: percentile(latencies, 0.99),
		warm_p50_ms: percentile(warmLatencies, 0.5),
		warm_p99_ms: percentile(warmLatencies, 0.99),
	};
}

const FLASH_STOCK = 100;
const FLASH_SHOPPERS = 1000;

interface FlashSale {
	sku: string;
	stock: number;
	shoppers: number;
	/** Requests in flight at once: every one, each on its own socket (fetch's default agent sets no per-origin cap). */
	concurrency: number;
	created: number;
	out_of_stock: number;
	server_errors: number;
	/** Any other status, or no answer at all (status 0). */
	other: number;
	statuses: Record<string, number>;
	/** One body per status other than 201 and 409 out_of_stock, to tell why. */
	samples: Record<string, string>;
	p50_ms: number;
	p99_ms: number;
	wall_ms: number;
	answers_per_s: number;
	available_after: number;
	/** Units neither sold nor available: reserved by requests that then failed, held until their reservation expires. */
	held_by_failed: number;
	/** Orders of the sale's carts in Postgres, not cancelled: more than `created` means shoppers were told it failed when it had not. */
	orders_placed: number;
	worker_reloads: number;
	oversold: boolean;
	/** Exactly `stock` orders answered 201, nothing left available, no 5xx. */
	passed: boolean;
}

/**
 * A flash sale: a SKU of its own gets exactly 100 units, 1,000 guests each
 * hold one unit of it in their own cart, and all 1,000 check out at once.
 * The InventoryItem must sell exactly 100 (201) and refuse the rest
 * (409 out_of_stock), with no 5xx, and leave 0 available: no oversell, no
 * stock lost to failed requests. Carts are made beforehand so only the
 * checkouts are timed.
 */
async function flashSale(context: BenchContext, databaseUrl: string): Promise<FlashSale | undefined> {
	if (only && !only.includes("flash_sale")) return undefined;
	const { baseUrl } = context;
	const { flash: sku } = await skuRoles(baseUrl);
	await setAvailable(context, sku, FLASH_STOCK, "exactly");
	log(`flash sale: preparing ${FLASH_SHOPPERS} guest carts of 1 × ${sku}…`);
	const carts = await guestCarts(baseUrl, FLASH_SHOPPERS, () => [{ sku, quantity: 1 }]);
	const requests = carts.map((cart, i) => checkoutRequest(cart, `bench.flash.${i}@example.test`));

	log(`flash sale: ${FLASH_SHOPPERS} checkouts at once for ${FLASH_STOCK} units…`);
	const reloadsBefore = workerReloads;
	const started = performance.now();
	const answers = await Promise.all(
		requests.map(async ({ headers, body }) => {
			const sent = performance.now();
			try {
				const res = await fetch(`${baseUrl}/v1/checkout`, { method: "POST", headers, body, signal: AbortSignal.timeout(120_000) });
				const text = await res.text();
				return { status: res.status, text, ms: performance.now() - sent };
			} catch (err) {
				return { status: 0, text: err instanceof Error ? `${err.name}: ${err.message}` : String(err), ms: performance.now() - sent };
			}
		}),
	);
	const wallMs = performance.now() - started;

	const statuses: Record<string, number> = {};
	const samples: Record<string, string> = {};
	let outOfStock = 0;
	for (const { status, text } of answers) {
		statuses[status] = (statuses[status] ?? 0) + 1;
		let code: string | undefined;
		try {
			code = (JSON.parse(text) as { code?: string }).code;
		} catch {
			// not JSON: kept as a sample below
		}
		if (status === 409 && code === "out_of_stock") outOfStock++;
		else if (status !== 201) samples[`${status}${code ? ` ${code}` : ""}`] ??= text.slice(0, 600);
	}
	const created = statuses["201"] ?? 0;
	const serverErrors = answers.filter((a) => a.status >= 500).length;
	const availableAfter = await availableOf(baseUrl, sku);
	const client = new pg.Client({ connectionString: databaseUrl });
	await client.connect();
	let ordersPlaced: number;
	try {
		const { rows } = await client.query<{ placed: number }>(
			"select count(*)::int as placed from orders where cart_id = any($1) and status <> 'cancelled'",
			[carts.map((cart) => cart.id)],
		);
		ordersPlaced = rows[0]?.placed ?? 0;
	} finally {
		await client.end();
	}
	const latencies = answers.filter((a) => a.status !== 0).map((a) => a.ms);
	return {
		sku,
		stock: FLASH_STOCK,
		shoppers: FLASH_SHOPPERS,
		concurrency: requests.length,
		created,
		out_of_stock: outOfStock,
		server_errors: serverErrors,
		other: answers.length - created - outOfStock - serverErrors,
		statuses,
		samples,
		p50_ms: percentile(latencies, 0.5),
		p99_ms: percentile(latencies, 0.99),
		wall_ms: Math.round(wallMs),
		answers_per_s: Math.round((latencies.length / wallMs) * 1000),
		available_after: availableAfter,
		held_by_failed: FLASH_STOCK - created - availableAfter,
		orders_placed: ordersPlaced,
		worker_reloads: workerReloads - reloadsBefore,
		// An order placed whose shopper was answered 5xx still holds its unit, so Postgres is counted too.
		oversold: created > FLASH_STOCK || ordersPlaced > FLASH_STOCK || availableAfter < 0,
		passed: created === FLASH_STOCK && availableAfter === 0 && serverErrors === 0,
	};
}

const stack = await startDatabaseStack({ databaseUrl: process.env.DATABASE_URL || undefined, dbPort: 0, proxyPort: 0, log });
let worker: Awaited<ReturnType<typeof startWranglerDev>> | undefined;
let reference: Awaited<ReturnType<typeof startWranglerDev>> | undefined;
try {
	await seedDemoCatalog(stack.databaseUrl, { mode: "upsert-missing" });
	const port = await freePort();
	const persistTo = path.join(projectRoot, ".data", "bench-wrangler");
	// An in-memory database starts empty, so the Durable Objects (stock, reservations, carts) start empty too:
	// a previous run's reservations expiring mid-run would otherwise free stock the flash sale does not expect.
	if (stack.embedded) rmSync(persistTo, { recursive: true, force: true });
	log("starting wrangler dev…");
	worker = await startWranglerDev({
		port,
		vars: {
			DATABASE_URL: stack.databaseUrl,
			DATABASE_WS_PROXY: stack.wsProxy,
			JWT_KEYS: await generateKeySet(1),
			TEST_PAYMENT_WEBHOOK_SECRET: `whsec_${crypto.randomUUID().replaceAll("-", "")}`,
			...overrides,
		},
		persistTo,
	});
	countReloads(worker.child.stdout);
	countReloads(worker.child.stderr);
	if (Object.keys(overrides).length > 0) log(`vars overridden: ${Object.keys(overrides).join(", ")}`);
	log("starting the constant reference Worker…");
	reference = await startWranglerDev({
		port: await freePort(),
		configPath: path.join(projectRoot, "bench", "reference", "wrangler.toml"),
		vars: {},
		persistTo: path.join(projectRoot, ".data", "bench-reference"),
	});
	const context: BenchContext = { baseUrl: worker.url, durationSeconds: duration, adminToken: adminSession(worker.url, stack.databaseUrl) };
	const selected = scenarios.filter((s) => !only || only.includes(s.name));
	log(`${selected.length} scenarios + baseline + constant, ${duration}s each, ${connections} connections, no pipelining`);

	const rewriters = new Map<string, RequestRewriter | undefined>();
	for (const scenario of selected) rewriters.set(scenario.name, await scenario.prepare?.(context));
	// Warm-up: JIT, connections and caches settle before anything is measured.
	await measure(reference.url, constant, 3);
	await measure(worker.url, baseline, 3);
	for (const scenario of selected) await measure(worker.url, scenario, 2, rewriters.get(scenario.name));
	// Each Worker is measured while the other idles; the constant brackets the baseline, which brackets the scenarios.
	const constantFirst = await measure(reference.url, constant, duration);
	const first = await measure(worker.url, baseline, duration);
	const measured: Measurement[] = [];
	for (const scenario of selected) measured.push(await measure(worker.url, scenario, duration, rewriters.get(scenario.name)));
	const last = await measure(worker.url, baseline, duration);
	const constantLast = await measure(reference.url, constant, duration);
	const baseRps = (first.requests_per_s + last.requests_per_s) / 2;
	const constantRps = (constantFirst.requests_per_s + constantLast.requests_per_s) / 2;

	const rows = [
		{ ...constantFirst, name: `${constant.name} (first)` },
		{ ...first, name: `${baseline.name} (first)` },
		...measured,
		{ ...last, name: `${baseline.name} (last)` },
		{ ...constantLast, name: `${constant.name} (last)` },
	].map((m) => ({
		...m,
		ratio: Math.round((m.requests_per_s / baseRps) * 100) / 100,
		ratio_constant: Math.round((m.requests_per_s / constantRps) * 100) / 100,
	}));

	const header = ["scenario", "req/s", "× baseline", "× constant", "p50 ms", "p99 ms", "unexpected"];
	const table = rows.map((r) => [
		r.name,
		String(r.requests_per_s),
		r.ratio.toFixed(2),
		r.ratio_constant.toFixed(2),
		String(r.p50_ms),
		String(r.p99_ms),
		String(r.unexpected),
	]);
	const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]?.length ?? 0)));
	const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
	console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
	for (const row of table) console.log(line(row));
	console.log(
		`\nbaseline drift: last/first = ${(last.requests_per_s / first.requests_per_s).toFixed(2)}, ` +
			`constant drift: ${(constantLast.requests_per_s / constantFirst.requests_per_s).toFixed(2)}; ratios are against each pair's mean. ` +
			"Absolute figures depend on this machine; compare ratios.",
	);

	for (const row of rows.filter((r) => r.unexpected_sample)) console.log(`unexpected answer of ${row.name}: ${row.unexpected_sample}`);
	const spoiled = rows.filter((r) => r.worker_reloads > 0).map((r) => r.name);
	if (spoiled.length > 0)
		console.log(`wrangler dev restarted the Worker (a source file changed) during: ${spoiled.join(", ")}; those figures are unreliable.`);

	const cold = await coldProductLatency(context);
	if (cold) {
		console.log(
			`\nproduct read one at a time, ${cold.samples} reads each: cold (first read after an admin edit) p50 ${cold.p50_ms} ms, p99 ${cold.p99_ms} ms; ` +
				`warm p50 ${cold.warm_p50_ms} ms, p99 ${cold.warm_p99_ms} ms; cold/warm p50 = ${(cold.p50_ms / Math.max(cold.warm_p50_ms, 0.1)).toFixed(1)}×`,
		);
	}

	const uploads: UploadCost[] | null = only && !only.includes("upload") ? null : await measureUploadCost(context, worker.child.pid);
	for (const u of uploads ?? []) {
		console.log(
			`${u === uploads?.[0] ? "\nimage upload, one at a time:\n" : ""}  ${u.image} (${u.file_bytes} bytes, ${u.decoded_mib} MiB decoded): ` +
				`with derivatives [${u.derivative_widths.join(", ")}] p50 ${u.derive_p50_ms} ms, plain p50 ${u.plain_p50_ms} ms = ${u.ratio}×; ` +
				`copies ${u.derivative_bytes_ratio}× the original's bytes; workerd RSS rise ${u.derive_rss_rise_mib ?? "n/a"} MiB vs ${u.plain_rss_rise_mib ?? "n/a"} MiB`,
		);
	}

	// A failed sale (its setup cut off, say) is reported with the rest rather than losing the table's results.
	let sale: FlashSale | undefined;
	let saleError: string | null = null;
	try {
		sale = await flashSale(context, stack.databaseUrl);
	} catch (err) {
		saleError = err instanceof Error ? err.message : String(err);
		log(`flash sale could not run: ${saleError}`);
		process.exitCode = 1;
	}
	const flashRatio = sale ? Math.round((sale.answers_per_s / baseRps) * 100) / 100 : null;
	const flashRatioConstant = sale ? Math.round((sale.answers_per_s / constantRps) * 100) / 100 : null;
	if (sale) {
		console.log(
			`\nflash sale: ${sale.shoppers} guest checkouts at once (${sale.concurrency} in flight) for ${sale.stock} units of ${sale.sku}\n` +
				`  201 created ${sale.created}, 409 out_of_stock ${sale.out_of_stock}, 5xx ${sale.server_errors}, other ${sale.other} ` +
				`(by status: ${JSON.stringify(sale.statuses)})\n` +
				`  latency p50 ${sale.p50_ms} ms, p99 ${sale.p99_ms} ms; wall ${sale.wall_ms} ms; ${sale.answers_per_s} answers/s = ${flashRatio?.toFixed(2)} × baseline, ${flashRatioConstant?.toFixed(2)} × constant\n` +
				`  available afterwards: ${sale.available_after}, held by failed requests ${sale.held_by_failed}; ` +
				`orders in Postgres ${sale.orders_placed} (${sale.orders_placed - sale.created} without a 201); ` +
				`${sale.oversold ? "OVERSOLD" : "no oversell"}; ${sale.passed ? "passed" : "FAILED"}` +
				(sale.worker_reloads > 0
					? `\n  wrangler dev restarted the Worker ${sale.worker_reloads}× during the sale (a source file changed)`
					: ""),
		);
		for (const [status, body] of Object.entries(sale.samples)) console.log(`  sample ${status}: ${body}`);
	}

	const outDir = path.join(projectRoot, "bench", "results");
	mkdirSync(outDir, { recursive: true });
	const report = {
		at: new Date().toISOString(),
		node: process.version,
		cpus: cpus().length,
		database: stack.embedded ? "embedded (PGlite, in memory)" : "DATABASE_URL",
		duration_s: duration,
		connections,
		vars: overrides,
		baseline_requests_per_s: Math.round(baseRps),
		constant_requests_per_s: Math.round(constantRps),
		worker_reloads: workerReloads,
		results: rows,
		product_cold: cold ?? null,
		upload: uploads,
		flash_sale: sale ? { ...sale, ratio: flashRatio, ratio_constant: flashRatioConstant } : saleError ? { error: saleError } : null,
	};
	writeFileSync(path.join(outDir, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
	log(`results written to bench/results/latest.json`);
	if (rows.some((r) => r.unexpected > 0)) {
		log("some answers had an unexpected status; see the 'unexpected' column");
		process.exitCode = 1;
	}
	if (sale && !sale.passed) {
		log(`flash sale failed: ${sale.created} sold of ${sale.stock}, ${sale.available_after} left, ${sale.server_errors} answers of 5xx`);
		process.exitCode = 1;
	}
} finally {
	await reference?.stop();
	await worker?.stop();
	await stack.stop();
}
