/**
 * `npm run bench:levers`: what each per-request setting costs, every variant
 * measured in the same run against the constant reference Worker
 * (bench/reference). Starts the database stack once, the reference, and one
 * `wrangler dev` of our Worker per variant (same wrangler, same flags). Then
 * rounds: each variant in turn (the order rotated every round) is driven on
 * the bare route and on the warm product read right after the reference, so
 * each figure is divided by the constant measured next to it (the mean of
 * the reference runs before and after its block). Reports the median over
 * the rounds and the spread; writes bench/results/levers.json.
 *
 * Throughput on a shared machine moves with whatever else runs, so each
 * figure also counts the CPU time the Worker's whole `wrangler dev` process
 * tree spent (Linux /proc): CPU per answer against the constant's is the
 * steadier comparison of what a setting costs.
 *
 * BENCH_LEVERS: a JSON object, variant name → { vars?: {NAME: "value"},
 * config?: "path/to/wrangler.toml" } (a config elsewhere measures a copy of
 * the code with a change made; vars override the Worker's own). Defaults to
 * the telemetry settings. BENCH_ROUNDS (default 5), BENCH_DURATION (seconds
 * per figure, default 5) and BENCH_CONNECTIONS (default 16) tune it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { baseline, expected, type Scenario, scenarios } from "../bench/scenarios.ts";
import { generateKeySet } from "./lib/jwt-keys.ts";
import { freePort } from "./lib/ports.ts";
import { seedDemoCatalog } from "./lib/seed.ts";
import { startDatabaseStack } from "./lib/stack.ts";
import { projectRoot, startWranglerDev, type WranglerDev } from "./lib/wrangler-dev.ts";

interface Variant {
	vars?: Record<string, string>;
	config?: string;
}

const DEFAULT_VARIANTS: Record<string, Variant> = {
	"log all, AE every request (before)": { vars: { REQUEST_LOG: "all", ANALYTICS_SAMPLE: "1" } },
	"log errors, AE every request (default)": { vars: { REQUEST_LOG: "errors", ANALYTICS_SAMPLE: "1" } },
	"log sampled 1 %, AE every request": { vars: { REQUEST_LOG: "sampled", REQUEST_LOG_SAMPLE: "0.01", ANALYTICS_SAMPLE: "1" } },
	"log all, no AE": { vars: { REQUEST_LOG: "all", ANALYTICS_SAMPLE: "0" } },
	"log errors, no AE": { vars: { REQUEST_LOG: "errors", ANALYTICS_SAMPLE: "0" } },
};

const variants: Record<string, Variant> = process.env.BENCH_LEVERS ? JSON.parse(process.env.BENCH_LEVERS) : DEFAULT_VARIANTS;
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const log = (line: string) => console.log(`[levers] ${line}`);

const product = scenarios.find((s) => s.name === "product");
if (!product) throw new Error("bench/scenarios.ts has no product scenario");
const constant: Scenario = { name: "constant", description: "reference Worker", path: baseline.path, expectStatus: 200 };

/** Counts wrangler dev's "Reloading local server": a figure taken across a reload is dropped. */
function reloadCounter(worker: WranglerDev): () => number {
	let reloads = 0;
	let tail = "";
	const marker = "Reloading local server";
	for (const stream of [worker.child.stdout, worker.child.stderr]) {
		stream?.on("data", (chunk: Buffer) => {
			const text = tail + chunk.toString();
			reloads += text.split(marker).length - 1;
			tail = text.slice(-(marker.length - 1));
		});
	}
	return () => reloads;
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) spent so far by `root` and every process below it; NaN without /proc. */
function treeCpuSeconds(root: number | undefined): number {
	if (root === undefined || !existsSync("/proc/self/stat")) return Number.NaN;
	const processes: { pid: number; ppid: number; ticks: number }[] = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
			// Fields after the command name, which may hold spaces: state ppid … utime (14th) stime (15th).
			const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
			processes.push({ pid: Number(entry), ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
		} catch {
			// exited meanwhile
		}
	}
	let ticks = 0;
	const pending = [root];
	for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
		for (const p of processes) {
			if (p.pid === pid) ticks += p.ticks;
			if (p.ppid === pid) pending.push(p.pid);
		}
	}
	return ticks / TICKS_PER_SECOND;
}

interface Figure {
	rps: number;
	/** CPU seconds of the Worker's process tree per answer. */
	cpuPerAnswer: number;
	unexpected: number;
	reloaded: boolean;
}

async function measure(url: string, scenario: Scenario, seconds: number, reloads: () => number, pid?: number): Promise<Figure> {
	const before = reloads();
	const cpuBefore = treeCpuSeconds(pid);
	const result = await autocannon({
		url: `${url}${scenario.path}`,
		method: scenario.method ?? "GET",
		headers: scenario.headers,
		body: scenario.body,
		connections,
		pipelining: 1,
		duration: seconds,
	});
	const cpu = treeCpuSeconds(pid) - cpuBefore;
	const stats = Object.entries(result.statusCodeStats);
	const answered = stats.reduce((sum, [, s]) => sum + s.count, 0);
	const wanted = stats.reduce((sum, [status, s]) => sum + (expected(scenario, Number(status)) ? s.count : 0), 0);
	return {
		rps: result.requests.average,
		cpuPerAnswer: cpu / Math.max(1, result.requests.total),
		unexpected: answered - wanted + result.errors + result.timeouts,
		reloaded: reloads() !== before,
	};
}

const median = (xs: number[]) => {
	const sorted = [...xs].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
const round2 = (x: number) => Math.round(x * 100) / 100;

const stack = await startDatabaseStack({ databaseUrl: process.env.DATABASE_URL || undefined, dbPort: 0, proxyPort: 0, log });
const workers: { name: string; worker: WranglerDev; reloads: () => number }[] = [];
try {
	await seedDemoCatalog(stack.databaseUrl, { mode: "upsert-missing" });
	const jwtKeys = await generateKeySet(1);
	const dataDir = path.join(projectRoot, ".data", "bench-levers");
	rmSync(dataDir, { recursive: true, force: true });
	const reference = await startWranglerDev({
		port: await freePort(),
		configPath: path.join(projectRoot, "bench", "reference", "wrangler.toml"),
		vars: {},
		persistTo: path.join(dataDir, "reference"),
	});
	workers.push({ name: "constant", worker: reference, reloads: reloadCounter(reference) });
	const names = Object.keys(variants);
	for (const [i, name] of names.entries()) {
		const variant = variants[name] ?? {};
		log(`starting ${name}…`);
		const worker = await startWranglerDev({
			port: await freePort(),
			...(variant.config ? { configPath: path.resolve(variant.config) } : {}),
			vars: {
				DATABASE_URL: stack.databaseUrl,
				DATABASE_WS_PROXY: stack.wsProxy,
				JWT_KEYS: jwtKeys,
				TEST_PAYMENT_WEBHOOK_SECRET: `whsec_${crypto.randomUUID().replaceAll("-", "")}`,
				...variant.vars,
			},
			persistTo: path.join(dataDir, String(i)),
		});
		workers.push({ name, worker, reloads: reloadCounter(worker) });
	}
	const referenceCounter = workers[0] as (typeof workers)[number];
	const ours = workers.slice(1);

	log(`warm-up; then ${rounds} rounds of ${ours.length} variants, ${duration}s per figure, ${connections} connections`);
	await measure(reference.url, constant, 3, referenceCounter.reloads);
	for (const { worker, reloads } of ours) {
		await measure(worker.url, baseline, 2, reloads);
		await measure(worker.url, product, 2, reloads);
	}

	type Series = "live" | "product" | "productOverLive" | "liveCpu" | "productCpu";
	const samples = new Map(
		names.map((name) => [name, { live: [], product: [], productOverLive: [], liveCpu: [], productCpu: [] } as Record<Series, number[]>]),
	);
	let dropped = 0;
	let unexpected = 0;
	const referencePid = reference.child.pid;
	for (let r = 0; r < rounds; r++) {
		const order = [...ours.slice(r % ours.length), ...ours.slice(0, r % ours.length)];
		let before = await measure(reference.url, constant, duration, referenceCounter.reloads, referencePid);
		for (const { name, worker, reloads } of order) {
			const live = await measure(worker.url, baseline, duration, reloads, worker.child.pid);
			const read = await measure(worker.url, product, duration, reloads, worker.child.pid);
			const after = await measure(reference.url, constant, duration, referenceCounter.reloads, referencePid);
			unexpected += live.unexpected + read.unexpected;
			if ([before, live, read, after].some((f) => f.reloaded || f.unexpected > 0)) {
				dropped++;
			} else {
				const rps = (before.rps + after.rps) / 2;
				const cpu = (before.cpuPerAnswer + after.cpuPerAnswer) / 2;
				const entry = samples.get(name);
				entry?.live.push(live.rps / rps);
				entry?.product.push(read.rps / rps);
				entry?.productOverLive.push(read.rps / live.rps);
				// As "× constant": 0.5 means twice the constant's CPU per answer.
				entry?.liveCpu.push(cpu / live.cpuPerAnswer);
				entry?.productCpu.push(cpu / read.cpuPerAnswer);
			}
			before = after;
		}
		log(`round ${r + 1}/${rounds} done`);
	}

	const spread = (xs: number[]) => [round2(Math.min(...xs)), round2(Math.max(...xs))];
	const rows = names.map((name) => {
		const s = samples.get(name) ?? { live: [], product: [], productOverLive: [], liveCpu: [], productCpu: [] };
		return {
			variant: name,
			vars: variants[name]?.vars ?? {},
			config: variants[name]?.config ?? null,
			rounds: s.live.length,
			live_x_constant: round2(median(s.live)),
			live_range: spread(s.live),
			product_x_constant: round2(median(s.product)),
			product_range: spread(s.product),
			product_x_live: round2(median(s.productOverLive)),
			live_cpu_x_constant: round2(median(s.liveCpu)),
			live_cpu_range: spread(s.liveCpu),
			product_cpu_x_constant: round2(median(s.productCpu)),
			product_cpu_range: spread(s.productCpu),
		};
	});
	const range = (xs: number[]) => xs.map((x) => x.toFixed(2)).join("–");
	const header = [
		"variant",
		"rounds",
		"live × constant",
		"range",
		"product × constant",
		"range",
		"product × live",
		"CPU: live",
		"range",
		"CPU: product",
		"range",
	];
	const table = rows.map((r) => [
		r.variant,
		String(r.rounds),
		r.live_x_constant.toFixed(2),
		range(r.live_range),
		r.product_x_constant.toFixed(2),
		range(r.product_range),
		r.product_x_live.toFixed(2),
		r.live_cpu_x_constant.toFixed(2),
		range(r.live_cpu_range),
		r.product_cpu_x_constant.toFixed(2),
		range(r.product_cpu_range),
	]);
	const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]?.length ?? 0)));
	const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
	console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
	for (const row of table) console.log(line(row));
	console.log(
		"\nmedians over rounds; each figure against the constant measured next to it; CPU columns: the constant's CPU per answer over the variant's. " +
			`${dropped} variant-rounds dropped (a reload or an unexpected answer; ${unexpected} unexpected answers).`,
	);
	const outDir = path.join(projectRoot, "bench", "results");
	mkdirSync(outDir, { recursive: true });
	writeFileSync(
		path.join(outDir, "levers.json"),
		`${JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: cpus().length, rounds, duration_s: duration, connections, dropped, rows }, null, 2)}\n`,
	);
	log("results written to bench/results/levers.json");
} finally {
	for (const { worker } of workers.reverse()) await worker.stop();
	await stack.stop();
}
