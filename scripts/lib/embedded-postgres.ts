import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { servePglite } from "./pglite-server.ts";

export interface EmbeddedPostgres {
	readonly url: string;
	readonly port: number;
	stop(): Promise<void>;
}

/**
 * PGlite (Postgres compiled to WASM) served over the Postgres wire protocol.
 * `dataDir` keeps data across restarts; without it the database lives in memory.
 * Our own socket server (pglite-server.ts) multiplexes connections onto
 * PGlite's single session, giving each client the session for a whole
 * statement batch or transaction.
 */
export async function startEmbeddedPostgres(options: {
	port: number;
	dataDir?: string;
	maxConnections?: number;
}): Promise<EmbeddedPostgres> {
	const releaseLock = options.dataDir ? await lockDataDir(options.dataDir) : async () => {};
	let db: PGlite;
	try {
		// pg_trgm: the catalog's typo-tolerant search (migration 0020 creates the extension), as on Neon.
		db = await PGlite.create(options.dataDir ?? "memory://", { extensions: { pg_trgm } });
	} catch (err) {
		await releaseLock();
		throw err;
	}
	let server: Awaited<ReturnType<typeof servePglite>>;
	try {
		server = await servePglite(db, { host: "127.0.0.1", port: options.port, maxConnections: options.maxConnections ?? 64 });
	} catch (err) {
		await db.close();
		await releaseLock();
		throw err;
	}
	const port = server.port;
	return {
		port,
		url: `postgres://postgres@127.0.0.1:${port}/postgres`,
		stop: async () => {
			await server.stop();
			await db.close();
			await releaseLock();
		},
	};
}

/**
 * PGlite's files may be opened by one process only; a second one would corrupt
 * them. A pid file next to the folder makes the second process stop with a
 * clear message instead (a stale file from a crashed process is taken over).
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
	await mkdir(dataDir, { recursive: true });
	const lockFile = `${dataDir}.lock`;
	const holder = Number.parseInt(await readFile(lockFile, "utf8").catch(() => ""), 10);
	if (holder && holder !== process.pid && isAlive(holder)) {
		throw new Error(
			`The embedded database in ${dataDir} is in use by process ${holder} (a running \`npm run dev\`?). Stop it first, or set DATABASE_URL.`,
		);
	}
	await writeFile(lockFile, String(process.pid));
	return async () => {
		await rm(lockFile, { force: true });
	};
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (err) {
		return (err as NodeJS.ErrnoException).code === "EPERM";
	}
}
