/**
 * `npm run bench:hash`: what each password-hashing option costs per hash in
 * workerd. Runs bench/hash/worker.ts under `wrangler dev`; for each option it
 * times requests that hash `n` times, from Node, and subtracts an empty
 * request (deployed Workers freeze their clock during computation, so the
 * timing is taken outside). Prints ms per
 * hash and the ratio to the current choice; writes bench/results/hash.json.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { freePort } from "./lib/ports.ts";
import { projectRoot } from "./lib/wrangler-dev.ts";

const REPEATS = Number(process.env.BENCH_HASH_REPEATS ?? 5);
const PER_REQUEST = Number(process.env.BENCH_HASH_N ?? 5);

const port = await freePort();
const child = spawn(
	process.execPath,
	[
		path.join(projectRoot, "node_modules/wrangler/bin/wrangler.js"),
		"dev",
		"--local",
		"-c",
		path.join(projectRoot, "bench/hash/wrangler.toml"),
		"--ip",
		"127.0.0.1",
		"--port",
		String(port),
		"--show-interactive-dev-session=false",
	],
	{ cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
);
const base = `http://127.0.0.1:${port}`;

async function waitReady(): Promise<void> {
	for (let i = 0; i < 240; i++) {
		try {
			if ((await fetch(`${base}/v1/health/live`)).ok) return;
		} catch {
			// not yet
		}
		await new Promise((r) => setTimeout(r, 250));
	}
	throw new Error("the measurement Worker did not start");
}

async function timeRequest(option: string, n: number): Promise<{ ms: number; error?: string }> {
	const started = performance.now();
	const res = await fetch(`${base}/?option=${encodeURIComponent(option)}&n=${n}`);
	const body = (await res.json()) as { ok?: boolean; error?: string };
	const ms = performance.now() - started;
	return body.ok ? { ms } : { ms, error: body.error ?? `HTTP ${res.status}` };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

try {
	await waitReady();
	const { options } = (await (await fetch(`${base}/`)).json()) as { options: string[] };
	const rows: { option: string; ms_per_hash: number | null; error?: string }[] = [];
	const overhead: number[] = [];
	for (let i = 0; i < REPEATS * 2; i++) overhead.push((await timeRequest("noop", 1)).ms);
	const noop = median(overhead);
	for (const option of options.filter((o) => o !== "noop")) {
		const first = await timeRequest(option, 1); // warm-up, and tells whether the option runs at all
		if (first.error) {
			rows.push({ option, ms_per_hash: null, error: first.error });
			continue;
		}
		// Slow options get fewer hashes per request so the whole run stays short.
		const n = first.ms > 1000 ? 1 : PER_REQUEST;
		const samples: number[] = [];
		for (let i = 0; i < REPEATS; i++) samples.push(((await timeRequest(option, n)).ms - noop) / n);
		rows.push({ option, ms_per_hash: Math.round(median(samples) * 10) / 10 });
	}
	const current = rows.find((r) => r.option.includes("(current)"))?.ms_per_hash ?? Number.NaN;
	console.log(`\n${"option".padEnd(48)}  ms/hash  × current`);
	for (const row of rows) {
		const ms = row.ms_per_hash === null ? "—" : row.ms_per_hash.toFixed(1);
		const ratio = row.ms_per_hash === null ? `refused: ${row.error}` : (row.ms_per_hash / current).toFixed(2);
		console.log(`${row.option.padEnd(48)}  ${ms.padStart(7)}  ${ratio}`);
	}
	console.log(
		`\nmedian of ${REPEATS} requests each, empty-request overhead (${noop.toFixed(1)} ms) subtracted; workerd under wrangler dev.`,
	);
	mkdirSync(path.join(projectRoot, "bench/results"), { recursive: true });
	writeFileSync(
		path.join(projectRoot, "bench/results/hash.json"),
		`${JSON.stringify({ at: new Date().toISOString(), repeats: REPEATS, rows }, null, 2)}\n`,
	);
} finally {
	child.kill("SIGTERM");
}
