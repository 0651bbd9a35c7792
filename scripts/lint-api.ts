/**
 * `npm run lint:api`: the API contract as the Worker serves it, checked with
 * Spectral against .spectral.yaml (OWASP API Security and spectral:oas). The
 * document is fetched from the Worker booted locally (no database, no
 * network), written to a temporary file and linted; the exit code is
 * Spectral's, non-zero on any error.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fetchOpenApiDocument } from "./lib/openapi-document.ts";
import { projectRoot } from "./lib/wrangler-dev.ts";

// Inside the project (wrangler's own scratch folder, ignored by git): .spectral.yaml's overrides match paths relative to it.
mkdirSync(path.join(projectRoot, ".wrangler", "tmp"), { recursive: true });
const dir = mkdtempSync(path.join(projectRoot, ".wrangler", "tmp", "openapi-"));
try {
	const file = path.join(dir, "openapi.json");
	writeFileSync(file, JSON.stringify(await fetchOpenApiDocument(), null, 2));
	const spectral = path.join(projectRoot, "node_modules", "@stoplight", "spectral-cli", "dist", "index.js");
	const run = spawnSync(
		process.execPath,
		[spectral, "lint", file, "--ruleset", path.join(projectRoot, ".spectral.yaml"), "--fail-severity", "error", ...process.argv.slice(2)],
		{ cwd: projectRoot, stdio: "inherit" },
	);
	process.exitCode = run.status ?? 1;
} finally {
	rmSync(dir, { recursive: true, force: true });
}
