import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type DatabaseStack, startDatabaseStack } from "./stack.ts";
import { projectRoot } from "./wrangler-dev.ts";

export const dataDir = path.join(projectRoot, ".data");
export const pgliteDir = path.join(dataDir, "pglite");
const stackFile = path.join(dataDir, "dev-stack.json");

/**
 * Tells the db:* scripts where a running `npm run dev` serves its database.
 * `.data/` is made here: with DATABASE_URL nothing else has made it yet on a
 * fresh clone. Readable by this user only, since the URL may hold a password.
 */
export function announceDevStack(databaseUrl: string): void {
	mkdirSync(dataDir, { recursive: true });
	writeFileSync(stackFile, JSON.stringify({ pid: process.pid, databaseUrl }), { mode: 0o600 });
}

/** Removes the announcement, if it is this process's own. */
export function forgetDevStack(): void {
	try {
		const { pid } = JSON.parse(readFileSync(stackFile, "utf8")) as { pid: number };
		if (pid === process.pid) rmSync(stackFile, { force: true });
	} catch {
		// nothing announced
	}
}

function runningDevStackUrl(): string | undefined {
	if (!existsSync(stackFile)) return undefined;
	try {
		const { pid, databaseUrl } = JSON.parse(readFileSync(stackFile, "utf8")) as { pid: number; databaseUrl: string };
		process.kill(pid, 0);
		return databaseUrl;
	} catch {
		return undefined;
	}
}

/**
 * The database a db:* script should work on: DATABASE_URL if set, else the
 * embedded database of a running `npm run dev`, else the embedded database's
 * files opened just for this script (PGlite allows one process per folder).
 */
export async function openDatabaseForScript(log: (line: string) => void): Promise<DatabaseStack> {
	const url = process.env.DATABASE_URL || runningDevStackUrl();
	return await startDatabaseStack({
		databaseUrl: url,
		dataDir: pgliteDir,
		dbPort: 0,
		proxyPort: 0,
		migrate: false,
		log,
	});
}

const devKeysFile = path.join(dataDir, "dev-jwt-keys.json");

/**
 * The development JWT_KEYS: generated on first run and kept in .data/, so
 * tokens survive restarts of `npm run dev`. Never used outside development.
 */
export async function devJwtKeys(): Promise<string> {
	if (existsSync(devKeysFile)) return readFileSync(devKeysFile, "utf8");
	const { generateKeySet } = await import("./jwt-keys.ts");
	const keys = await generateKeySet(1);
	mkdirSync(dataDir, { recursive: true });
	writeFileSync(devKeysFile, keys, { mode: 0o600 });
	return keys;
}
