/**
 * `npm run lockfile:platforms`: completes package-lock.json with the other
 * platforms' optional binaries (workerd, biome …) when the registry this
 * machine reaches lacks those exact versions. npm then leaves them out of the
 * lock, and `npm ci` refuses the lock as out of sync with package.json.
 *
 * Each missing entry is written as npm itself writes one (version, os, cpu,
 * libc, optional), next to the sibling binary that npm did resolve, with the
 * platform fields read from the newest version the registry has. npm skips
 * entries for other platforms at install time, so nothing here is fetched on
 * Linux; on macOS or Windows with a full registry npm fetches them as usual.
 * Run it after `npm install` changes the lock; CI's `npm ci` proves the result.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "./lib/wrangler-dev.ts";

interface LockEntry {
	version?: string;
	dev?: boolean;
	optional?: boolean;
	os?: string[];
	cpu?: string[];
	libc?: string[];
	optionalDependencies?: Record<string, string>;
	[key: string]: unknown;
}

const lockPath = path.join(projectRoot, "package-lock.json");
const text = readFileSync(lockPath, "utf8");
const lock = JSON.parse(text) as { packages: Record<string, LockEntry> };
const packages = lock.packages;

/** Where `name` resolves from the package at `from`, following Node's lookup. */
function resolveFrom(from: string, name: string): string | undefined {
	let dir = from;
	for (;;) {
		const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
		if (packages[candidate]) return candidate;
		if (!dir) return undefined;
		const cut = dir.lastIndexOf("/node_modules/");
		dir = cut === -1 ? "" : dir.slice(0, cut);
	}
}

/**
 * Platform fields from the package name, as these binary packages are named
 * (`cli-darwin-arm64`, `workerd-windows-64`, `cli-linux-x64-musl`): the
 * registry reached here may not have the package at all, so it cannot be asked.
 */
function platformFields(name: string): Pick<LockEntry, "os" | "cpu" | "libc"> {
	const os = /(darwin|linux|win32|windows|android|freebsd)/.exec(name)?.[1];
	const cpu = /(arm64|x64|ia32|arm)\b/.exec(name)?.[1] ?? (/-64\b/.test(name) ? "x64" : undefined);
	if (!os || !cpu) throw new Error(`cannot tell the platform of ${name}; add its entry by hand`);
	const libc = os === "linux" ? (name.includes("musl") ? "musl" : "glibc") : undefined;
	return { os: [os === "windows" ? "win32" : os], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) };
}

let added = 0;
for (const [location, entry] of Object.entries(packages)) {
	const optional = entry.optionalDependencies ?? {};
	for (const [name, version] of Object.entries(optional)) {
		// Platform binaries are pinned to their parent's exact version; ranges are ordinary optional deps.
		if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version)) continue;
		const found = resolveFrom(location, name);
		if (found && packages[found]?.version === version) continue;
		const sibling = Object.entries(optional)
			.map(([other, otherVersion]) => {
				const at = resolveFrom(location, other);
				return at && packages[at]?.version === otherVersion ? at : undefined;
			})
			.find((at): at is string => Boolean(at));
		if (!sibling) continue;
		const siblingEntry = packages[sibling] as LockEntry;
		const prefix = sibling.slice(0, sibling.lastIndexOf("node_modules/") + "node_modules/".length);
		const fields = platformFields(name);
		packages[`${prefix}${name}`] = {
			version,
			...(fields.cpu ? { cpu: fields.cpu } : {}),
			...(siblingEntry.dev ? { dev: true } : {}),
			...(fields.libc ? { libc: fields.libc } : {}),
			optional: true,
			...(fields.os ? { os: fields.os } : {}),
		};
		added++;
		console.log(`lockfile: added ${prefix}${name}@${version}`);
	}
}

if (added > 0) {
	lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
	const indent = /\n(\s+)"/.exec(text)?.[1] ?? "  ";
	writeFileSync(lockPath, `${JSON.stringify(lock, null, indent)}\n`);
}
console.log(`lockfile: ${added} platform entries added`);
