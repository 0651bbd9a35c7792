/**
 * `npm run assets`: copies the storefront's static files from web/ into
 * public/assets/ under content-hashed names (app.3f2a9c1b7e.css) and writes
 * workers/web/assets.ts, the map the pages use to link them. Hashed names let
 * the CDN and browsers cache them forever (public/_headers); a change is a new
 * name. Both outputs are committed, so `wrangler dev`, the tests and a deploy
 * need no build step; `npm run assets -- --check` (CI) fails when they are stale.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "./lib/wrangler-dev.ts";

const sources = path.join(projectRoot, "web");
const outDir = path.join(projectRoot, "public", "assets");
const manifestPath = path.join(projectRoot, "workers", "web", "assets.ts");
const headersPath = path.join(projectRoot, "public", "_headers");
const check = process.argv.includes("--check");

const HEADERS = `# Written by \`npm run assets\`. Hashed asset names never change content: cache them for a year.
/assets/*
  Cache-Control: public, max-age=31536000, immutable
  X-Content-Type-Options: nosniff
`;

function files(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
		entry.isDirectory() ? files(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
	);
}

const outputs = new Map<string, Buffer | string>();
const manifest: Record<string, string> = {};
for (const file of files(sources).sort()) {
	const bytes = readFileSync(file);
	const name = path.basename(file);
	const ext = path.extname(name);
	const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 10);
	const hashed = `${name.slice(0, -ext.length)}.${hash}${ext}`;
	outputs.set(path.join(outDir, hashed), bytes);
	manifest[name] = `/assets/${hashed}`;
}
const manifestSource = `// Written by \`npm run assets\` (scripts/build-assets.ts); do not edit.
/** Public URL of each static file in web/, under its content-hashed name. */
export const assets = ${JSON.stringify(manifest, null, "\t")} as const;

export type AssetName = keyof typeof assets;
`;
outputs.set(manifestPath, manifestSource);
outputs.set(headersPath, HEADERS);

const stale = existsSync(outDir)
	? readdirSync(outDir)
			.map((name) => path.join(outDir, name))
			.filter((file) => !outputs.has(file))
	: [];
const differing = [...outputs].filter(([file, content]) => !existsSync(file) || !readFileSync(file).equals(Buffer.from(content)));

if (check) {
	if (differing.length > 0 || stale.length > 0) {
		for (const file of [...differing.map(([f]) => f), ...stale]) console.error(`out of date: ${path.relative(projectRoot, file)}`);
		console.error("Run `npm run assets` and commit the result.");
		process.exit(1);
	}
	console.log(`assets up to date (${Object.keys(manifest).length} files)`);
} else {
	mkdirSync(outDir, { recursive: true });
	for (const file of stale) rmSync(file);
	for (const [file, content] of differing) writeFileSync(file, content);
	console.log(`assets: ${Object.keys(manifest).length} files, ${differing.length} written, ${stale.length} removed`);
}
