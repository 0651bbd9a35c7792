/**
 * `npm run bench`: starts the local stack (embedded Postgres in memory unless
 * DATABASE_URL is set, the WebSocket proxy, `wrangler dev`), drives each
 * scenario with autocannon (no pipelining) and prints throughput and latency
 * next to the bare liveness route measured in the same run. The baseline runs
 * first and last; ratios are against the mean of the two, so drift during the
 * run shows instead of hiding in one number. Results go to
 * bench/results/latest.json.
 *
 * BENCH_DURATION (seconds per scenario, default 10), BENCH_CONNECTIONS
 * (default 16) and BENCH_ONLY (comma-separated scenario names) tune it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { baseline, type RequestRewriter, type Scenario, scenarios } from "../bench/scenarios.ts";
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
}

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim());
const log = (line: string) => console.log(`[bench] ${line}`);

async function measure(url: string, scenario: Scenario, seconds: number, rewrite?: RequestRewriter): Promise<Measurement> {
	const result = await autocannon({
		url: `${url}${scenario.path}`,
		method: scenario.method ?? "GET",
		headers: scenario.headers,
		body: scenario.body,
		requests: rewrite ? [{ setupRequest: rewrite }] : undefined,
		connections,
		pipelining: 1,
		duration: seconds,
	});
	const expected = result.statusCodeStats[String(scenario.expectStatus)]?.count ?? 0;
	const answered = Object.values(result.statusCodeStats).reduce((sum, s) => sum + s.count, 0);
	return {
		name: scenario.name,
		description: scenario.description,
		requests_per_s: Math.round(result.requests.average),
		p50_ms: result.latency.p50,
		p99_ms: result.latency.p99,
		requests: result.requests.total,
		unexpected: answered - expected + result.errors + result.timeouts,
	};
}

/**
 * Cache-miss latency of the product route: an admin edit bumps the catalog
 * version, then every active product is read once, one request at a time, so
 * each read goes to Postgres. Latency only: misses cannot be sustained.
 */
async function coldProductLatency(
	baseUrl: string,
	databaseUrl: string,
): Promise<{ samples: number; p50_ms: number; p99_ms: number; warm_p50_ms: number; warm_p99_ms: number } | undefined> {
	if (only && !only.includes("product-cold")) return undefined;
	const password = "bench admin passphrase";
	const admin = await upsertAdmin(databaseUrl, { email: "bench-admin@example.test", password, resetPassword: true });
	const login = await fetch(`${baseUrl}/v1/auth/login`, {
		method: "POST",
		headers: { "content-type": "application/json", "cf-connecting-ip": "10.254.0.1" },
		body: JSON.stringify({ email: admin.email, password }),
	});
	const { access_token } = (await login.json()) as { access_token: string };
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
	const at = (xs: number[], q: number) => {
		const sorted = [...xs].sort((a, b) => a - b);
		return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 10) / 10;
	};
	return {
		samples: latencies.length,
		p50_ms: at(latencies, 0.5),
		p99_ms: at(latencies, 0.99),
		warm_p50_ms: at(warmLatencies, 0.5),
		warm_p99_ms: at(warmLatencies, 0.99),
	};
}

const stack = await startDatabaseStack({ databaseUrl: process.env.DATABASE_URL || undefined, dbPort: 0, proxyPort: 0, log });
let worker: Awaited<ReturnType<typeof startWranglerDev>> | undefined;
try {
	await seedDemoCatalog(stack.databaseUrl, { mode: "upsert-missing" });
	const port = await freePort();
	log("starting wrangler dev…");
	worker = await startWranglerDev({
		port,
		vars: {
			DATABASE_URL: stack.databaseUrl,
			DATABASE_WS_PROXY: stack.wsProxy,
			JWT_KEYS: await generateKeySet(1),
			TEST_PAYMENT_WEBHOOK_SECRET: `whsec_${crypto.randomUUID().replaceAll("-", "")}`,
		},
		persistTo: path.join(projectRoot, ".data", "bench-wrangler"),
	});
	const selected = scenarios.filter((s) => !only || only.includes(s.name));
	log(`${selected.length} scenarios + baseline, ${duration}s each, ${connections} connections, no pipelining`);

	const rewriters = new Map<string, RequestRewriter | undefined>();
	for (const scenario of selected) rewriters.set(scenario.name, await scenario.prepare?.(worker.url));
	// Warm-up: JIT, connections and caches settle before anything is measured.
	await measure(worker.url, baseline, 3);
	for (const scenario of selected) await measure(worker.url, scenario, 2, rewriters.get(scenario.name));
	const first = await measure(worker.url, baseline, duration);
	const measured: Measurement[] = [];
	for (const scenario of selected) measured.push(await measure(worker.url, scenario, duration, rewriters.get(scenario.name)));
	const last = await measure(worker.url, baseline, duration);
	const baseRps = (first.requests_per_s + last.requests_per_s) / 2;

	const rows = [{ ...first, name: `${baseline.name} (first)` }, ...measured, { ...last, name: `${baseline.name} (last)` }].map((m) => ({
		...m,
		ratio: Math.round((m.requests_per_s / baseRps) * 100) / 100,
	}));

	const header = ["scenario", "req/s", "× baseline", "p50 ms", "p99 ms", "unexpected"];
	const table = rows.map((r) => [
		r.name,
		String(r.requests_per_s),
		r.ratio.toFixed(2),
		String(r.p50_ms),
		String(r.p99_ms),
		String(r.unexpected),
	]);
	const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]?.length ?? 0)));
	const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
	console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
	for (const row of table) console.log(line(row));
	console.log(
		`\nbaseline drift: last/first = ${(last.requests_per_s / first.requests_per_s).toFixed(2)}; ratios are against their mean. ` +
			"Absolute figures depend on this machine; compare ratios.",
	);

	const cold = await coldProductLatency(worker.url, stack.databaseUrl);
	if (cold) {
		console.log(
			`\nproduct read one at a time, ${cold.samples} reads each: cold (first read after an admin edit) p50 ${cold.p50_ms} ms, p99 ${cold.p99_ms} ms; ` +
				`warm p50 ${cold.warm_p50_ms} ms, p99 ${cold.warm_p99_ms} ms; cold/warm p50 = ${(cold.p50_ms / Math.max(cold.warm_p50_ms, 0.1)).toFixed(1)}×`,
		);
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
		baseline_requests_per_s: Math.round(baseRps),
		results: rows,
		product_cold: cold ?? null,
	};
	writeFileSync(path.join(outDir, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
	log(`results written to bench/results/latest.json`);
	if (rows.some((r) => r.unexpected > 0)) {
		log("some answers had an unexpected status; see the 'unexpected' column");
		process.exitCode = 1;
	}
} finally {
	await worker?.stop();
	await stack.stop();
}
