import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface WranglerDev {
	readonly url: string;
	readonly child: ChildProcess;
	stop(): Promise<void>;
}

export interface WranglerDevOptions {
	port: number;
	/** A wrangler config other than the project's (the bench's reference Worker). */
	configPath?: string;
	/** Plain-text bindings passed with `--var`; secrets included, so never log them. */
	vars: Record<string, string>;
	/** Where Miniflare keeps KV, R2, Durable Object and queue state. */
	persistTo?: string;
	/** Print wrangler's own output (the dev command does; the bench does not). */
	inheritOutput?: boolean;
	readyTimeoutMs?: number;
}

/**
 * Runs `wrangler dev` (local mode, Miniflare) and resolves once the Worker
 * answers /v1/health/live. Rejects, and stops the child, if it exits first or
 * does not come up in time.
 */
export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
	const args = [
		path.join(projectRoot, "node_modules/wrangler/bin/wrangler.js"),
		"dev",
		"--local",
		"--ip",
		"127.0.0.1",
		"--port",
		String(options.port),
		"--show-interactive-dev-session=false",
	];
	if (options.configPath) args.push("--config", options.configPath);
	if (options.persistTo) args.push("--persist-to", options.persistTo);
	for (const [key, value] of Object.entries(options.vars)) args.push("--var", `${key}:${value}`);

	const child = spawn(process.execPath, args, {
		cwd: projectRoot,
		stdio: options.inheritOutput ? ["ignore", "inherit", "inherit"] : ["ignore", "pipe", "pipe"],
		env: { ...process.env, WRANGLER_SEND_METRICS: "false", FORCE_COLOR: process.env.FORCE_COLOR ?? "0" },
	});
	let output = "";
	const keep = (chunk: Buffer) => {
		output = (output + chunk.toString()).slice(-8000);
	};
	child.stdout?.on("data", keep);
	child.stderr?.on("data", keep);

	const url = `http://127.0.0.1:${options.port}`;
	const stop = () =>
		new Promise<void>((resolve) => {
			if (child.exitCode !== null || child.signalCode !== null) return resolve();
			child.once("exit", () => resolve());
			child.kill("SIGTERM");
			setTimeout(() => child.kill("SIGKILL"), 5000).unref();
		});

	const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
	while (Date.now() < deadline) {
		if (child.exitCode !== null) {
			throw new Error(`wrangler dev exited with code ${child.exitCode}.\n${output}`);
		}
		try {
			const res = await fetch(`${url}/v1/health/live`);
			if (res.ok) return { url, child, stop };
		} catch {
			// not listening yet
		}
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
	await stop();
	throw new Error(`wrangler dev did not answer on ${url} in time.\n${output}`);
}
