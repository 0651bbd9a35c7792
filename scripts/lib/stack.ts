import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded-postgres.ts";
import { applyMigrations } from "./migrate.ts";
import { assertPortFree, isListening } from "./ports.ts";
import { startWsProxy, type WsProxy } from "./ws-proxy.ts";

export interface DatabaseStack {
	/** Connection string the Worker and the scripts use. */
	readonly databaseUrl: string;
	/** host:port of the WebSocket proxy, for the Worker's DATABASE_WS_PROXY. */
	readonly wsProxy: string;
	/** True when the stack runs its own embedded Postgres. */
	readonly embedded: boolean;
	stop(): Promise<void>;
}

export interface DatabaseStackOptions {
	/** An existing Postgres to use instead of the embedded one. */
	databaseUrl?: string | undefined;
	/** Where the embedded Postgres keeps its files; in memory when absent. */
	dataDir?: string | undefined;
	/** Port for the embedded Postgres (0 picks a free one). */
	dbPort: number;
	/** Port for the WebSocket proxy (0 picks a free one). */
	proxyPort: number;
	migrate?: boolean;
	log?: (line: string) => void;
}

/**
 * Starts what the Worker needs to reach Postgres locally: the embedded
 * database (unless a URL is given), the WebSocket proxy in front of it, and
 * the migrations. Stops whatever it started if a later step fails.
 */
export async function startDatabaseStack(options: DatabaseStackOptions): Promise<DatabaseStack> {
	const log = options.log ?? (() => {});
	let embedded: EmbeddedPostgres | undefined;
	let proxy: WsProxy | undefined;
	try {
		let databaseUrl = options.databaseUrl;
		if (databaseUrl) {
			const target = new URL(databaseUrl);
			const port = Number(target.port || 5432);
			if (!(await isListening(target.hostname, port))) {
				throw new Error(`No Postgres answers at ${target.hostname}:${port} (from DATABASE_URL).`);
			}
			log(`using Postgres at ${target.hostname}:${port}`);
		} else {
			if (options.dbPort) await assertPortFree(options.dbPort, "embedded Postgres");
			embedded = await startEmbeddedPostgres({ port: options.dbPort, dataDir: options.dataDir });
			databaseUrl = embedded.url;
			log(`embedded Postgres (PGlite) on 127.0.0.1:${embedded.port}${options.dataDir ? `, data in ${options.dataDir}` : ", in memory"}`);
		}
		const target = new URL(databaseUrl);
		if (options.proxyPort) await assertPortFree(options.proxyPort, "database WebSocket proxy");
		proxy = await startWsProxy({ port: options.proxyPort, target: { host: target.hostname, port: Number(target.port || 5432) } });
		log(`WebSocket-to-TCP proxy on ${proxy.address}`);
		if (options.migrate !== false) {
			await applyMigrations(databaseUrl);
			log("migrations applied");
		}
		const started = { embedded, proxy };
		return {
			databaseUrl,
			wsProxy: proxy.address,
			embedded: Boolean(embedded),
			stop: async () => {
				await started.proxy.stop();
				await started.embedded?.stop();
			},
		};
	} catch (err) {
		await proxy?.stop().catch(() => {});
		await embedded?.stop().catch(() => {});
		throw err;
	}
}
