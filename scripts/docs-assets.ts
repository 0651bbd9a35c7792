/**
 * `node scripts/docs-assets.ts` (run by `npm install`/`npm ci` as postinstall,
 * and by `npm run lint:api`): copies the API reference's script (the
 * standalone bundle of `@scalar/api-reference`, a devDependency) into
 * public/vendor/, where Workers static assets serve it to /docs, so the page
 * loads nothing from a CDN. The copy is not committed (public/vendor/ is
 * ignored): it is the installed package's file, so every install makes it
 * afresh and an upgrade cannot leave a stale one behind. `--check` fails when
 * the copy is missing or differs from the installed package.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "./lib/wrangler-dev.ts";

const packageDir = path.join(projectRoot, "node_modules", "@scalar", "api-reference");
const { version } = JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8")) as { version: string };
const source = path.join(packageDir, "dist", "browser", "standalone.js");
// The path the Worker links (workers/api/openapi.ts, DOCS_SCRIPT_PATH).
const target = path.join(projectRoot, "public", "vendor", "scalar-api-reference.js");

const bytes = readFileSync(source);
const current = existsSync(target) ? readFileSync(target) : undefined;

if (process.argv.includes("--check")) {
	if (!current?.equals(bytes)) {
		console.error(`out of date: ${path.relative(projectRoot, target)} (want @scalar/api-reference ${version})`);
		console.error("Run `node scripts/docs-assets.ts` (npm ci does).");
		process.exit(1);
	}
	console.log(`docs assets up to date (@scalar/api-reference ${version})`);
} else {
	mkdirSync(path.dirname(target), { recursive: true });
	if (!current?.equals(bytes)) writeFileSync(target, bytes);
	console.log(`docs assets: @scalar/api-reference ${version} → ${path.relative(projectRoot, target)}`);
}
