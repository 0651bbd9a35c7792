/**
 * `npm run build:check`: bundles the Worker exactly as `wrangler deploy` would
 * (`--dry-run`, nothing uploaded) for every environment, and fails when the
 * gzipped upload exceeds the budget. Workers' free plan caps a script at
 * 3 MiB gzipped; the budget keeps cold starts fast and leaves head-room.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { projectRoot } from "./lib/wrangler-dev.ts";

const BUDGET_BYTES = 1024 * 1024;
const environments = [undefined, "staging", "production"];

function filesUnder(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const full = path.join(dir, name);
		return statSync(full).isDirectory() ? filesUnder(full) : [full];
	});
}

let failed = false;
for (const env of environments) {
	const outdir = mkdtempSync(path.join(tmpdir(), "bundle-"));
	try {
		const args = [path.join(projectRoot, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir];
		if (env) args.push("--env", env);
		const run = spawnSync(process.execPath, args, {
			cwd: projectRoot,
			encoding: "utf8",
			env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
		});
		if (run.status !== 0) {
			console.error(run.stdout, run.stderr);
			console.error(`bundle: wrangler deploy --dry-run failed for ${env ?? "the default environment"}`);
			failed = true;
			continue;
		}
		// Source maps are uploaded alongside but do not count towards the script size.
		const modules = filesUnder(outdir).filter((file) => !file.endsWith(".map") && !file.endsWith("README.md"));
		const raw = modules.reduce((sum, file) => sum + statSync(file).size, 0);
		const gzipped = modules.reduce((sum, file) => sum + gzipSync(readFileSync(file), { level: 9 }).length, 0);
		const verdict = gzipped <= BUDGET_BYTES ? "ok" : "OVER BUDGET";
		console.log(
			`bundle [${env ?? "default"}]: ${(raw / 1024).toFixed(1)} KiB raw, ${(gzipped / 1024).toFixed(1)} KiB gzipped ` +
				`(budget ${(BUDGET_BYTES / 1024).toFixed(0)} KiB): ${verdict}`,
		);
		if (gzipped > BUDGET_BYTES) failed = true;
	} finally {
		rmSync(outdir, { recursive: true, force: true });
	}
}
process.exit(failed ? 1 : 0);
