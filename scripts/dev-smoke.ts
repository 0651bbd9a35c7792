/**
 * `npm run dev:smoke`: proves the README's two ways to run the platform
 * locally, as a new user meets them: on a fresh clone (this commit, cloned
 * into a temporary folder), `npm run dev` on the embedded database, and
 * `DATABASE_URL=postgres://… npm run dev` on an empty PostgreSQL database
 * made for the run. Each must start, migrate, seed the demo catalog, answer
 * ready, and stop cleanly on Ctrl-C (SIGINT, exit 0). The PostgreSQL path is
 * skipped, and says so, when no server answers at SMOKE_POSTGRES_URL
 * (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort } from "./lib/ports.ts";
import { projectRoot } from "./lib/wrangler-dev.ts";

const say = (line: string) => console.log(`\x1b[36m[dev-smoke]\x1b[0m ${line}`);
const READY_TIMEOUT_MS = 240_000;
const STOP_TIMEOUT_MS = 60_000;
const adminUrl = process.env.SMOKE_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/postgres";

/** A clean clone of this commit, sharing node_modules (installing again would prove nothing more). */
function freshClone(): string {
	const dir = mkdtempSync(path.join(tmpdir(), "edge-commerce-smoke-"));
	execFileSync("git", ["clone", "--quiet", "--no-hardlinks", projectRoot, dir], { stdio: "inherit" });
	symlinkSync(path.join(projectRoot, "node_modules"), path.join(dir, "node_modules"), "dir");
	return dir;
}

function waitForReady(child: ChildProcess, name: string): Promise<string> {
	return new Promise((resolve, reject) => {
		let output = "";
		const timer = setTimeout(
			() => reject(new Error(`${name}: no "ready" line within ${READY_TIMEOUT_MS / 1000} s\n${output.slice(-4000)}`)),
			READY_TIMEOUT_MS,
		);
		const onData = (chunk: Buffer) => {
			output += chunk.toString();
			const ready = /\[dev\].*ready: storefront (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
			if (ready?.[1]) {
				clearTimeout(timer);
				resolve(ready[1]);
			}
		};
		child.stdout?.on("data", onData);
		child.stderr?.on("data", onData);
		child.once("exit", (code) => {
			clearTimeout(timer);
			reject(new Error(`${name}: npm run dev exited (${code}) before it was ready\n${output.slice(-4000)}`));
		});
	});
}

async function expectOk(url: string, check: (body: unknown) => string | undefined): Promise<void> {
	const res = await fetch(url);
	if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${(await res.text()).slice(0, 500)}`);
	const problem = check(await res.json());
	if (problem) throw new Error(`${url}: ${problem}`);
}

/** Starts `npm run dev` in `dir`, checks it, stops it with SIGINT and expects exit 0. */
async function runDev(dir: string, name: string, env: Record<string, string>): Promise<void> {
	const ports = { PORT: await freePort(), PGLITE_PORT: await freePort(), DB_PROXY_PORT: await freePort() };
	say(`${name}: npm run dev on port ${ports.PORT}`);
	const started = Date.now();
	const child = spawn(process.execPath, ["scripts/dev.ts"], {
		cwd: dir,
		env: {
			...process.env,
			...env,
			PORT: String(ports.PORT),
			PGLITE_PORT: String(ports.PGLITE_PORT),
			DB_PROXY_PORT: String(ports.DB_PROXY_PORT),
		},
		stdio: ["ignore", "pipe", "pipe"],
	});
	try {
		const base = await waitForReady(child, name);
		say(`${name}: ready after ${Math.round((Date.now() - started) / 1000)} s`);
		await expectOk(`${base}/v1/health/ready`, (body) =>
			// "degraded" is ready too: it names open alert incidents, not a dependency down.
			["ok", "degraded"].includes((body as { status?: string }).status ?? "") ? undefined : `not ready: ${JSON.stringify(body)}`,
		);
		await expectOk(`${base}/v1/products?limit=5`, (body) =>
			((body as { data?: unknown[] }).data?.length ?? 0) === 5 ? undefined : "the demo catalog was not seeded",
		);
	} catch (err) {
		child.kill("SIGKILL");
		throw err;
	}
	const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
	child.kill("SIGINT");
	const code = await Promise.race([exited, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), STOP_TIMEOUT_MS))]);
	if (code === "timeout") {
		child.kill("SIGKILL");
		throw new Error(`${name}: did not stop within ${STOP_TIMEOUT_MS / 1000} s of Ctrl-C`);
	}
	if (code !== 0) throw new Error(`${name}: stopped with exit code ${code}, not 0`);
	say(`${name}: stopped cleanly`);
}

async function postgresAnswers(): Promise<boolean> {
	const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
	try {
		await client.connect();
		return true;
	} catch {
		return false;
	} finally {
		await client.end().catch(() => {});
	}
}

async function withScratchDatabase(run: (url: string) => Promise<void>): Promise<void> {
	const name = `dev_smoke_${Date.now().toString(36)}`;
	const admin = new pg.Client({ connectionString: adminUrl });
	await admin.connect();
	await admin.query(`CREATE DATABASE ${name}`);
	try {
		const url = new URL(adminUrl);
		url.pathname = `/${name}`;
		await run(url.toString());
	} finally {
		await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
		await admin.end();
	}
}

const clone = freshClone();
try {
	// The external database first: on a fresh clone nothing has made .data/ yet (the ENOENT of issue 19).
	if (await postgresAnswers()) {
		await withScratchDatabase((url) => runDev(clone, "DATABASE_URL", { DATABASE_URL: url }));
	} else {
		say(`no PostgreSQL answers at ${new URL(adminUrl).host}; skipping the DATABASE_URL path`);
	}
	await runDev(clone, "embedded", { DATABASE_URL: "" });
	say("both paths start, migrate, seed, answer ready and stop cleanly");
} finally {
	rmSync(clone, { recursive: true, force: true });
}
