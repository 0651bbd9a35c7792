import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface EmbeddedPostgres {
	readonly url: string;
	readonly port: number;
	stop(): Promise<void>;
}

/**
 * PGlite (Postgres compiled to WASM) served over the Postgres wire protocol.
 * `dataDir` keeps data across restarts; without it the database lives in memory.
 * The socket server multiplexes connections onto PGlite's single session and
 * keeps a transaction's statements together, which is what the app needs.
 */
export async function startEmbeddedPostgres(options: {
	port: number;
	dataDir?: string;
	maxConnections?: number;
}): Promise<EmbeddedPostgres> {
	if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
	const db = await PGlite.create(options.dataDir ?? "memory://");
	const server = new PGLiteSocketServer({
		db,
		host: "127.0.0.1",
		port: options.port,
		maxConnections: options.maxConnections ?? 64,
	});
	try {
		await server.start();
	} catch (err) {
		await db.close();
		throw err;
	}
	const port = server.getServerConn().split(":").pop();
	return {
		port: Number(port),
		url: `postgres://postgres@127.0.0.1:${port}/postgres`,
		stop: async () => {
			await server.stop();
			await db.close();
		},
	};
}
