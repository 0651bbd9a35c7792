import { neonConfig, Pool } from "@neondatabase/serverless";
import { DrizzleQueryError } from "drizzle-orm/errors";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import { DomainError } from "../domain/errors.ts";
import { AdmissionTimeoutError, databaseAdmission } from "./admission.ts";
import * as schema from "./schema.ts";

export type Db = NeonDatabase<typeof schema>;

export interface DatabaseEnv {
	DATABASE_URL?: string;
	DATABASE_READ_URL?: string;
	DATABASE_WS_PROXY?: string;
}

let configuredProxy: string | undefined;

// The driver buffers writes and flushes them on a timer, but `end()` closes the
// WebSocket at once: the buffered Terminate message is then sent after close,
// which workerd reports as an uncaught "send() after close()". Writing
// straight through costs a few more frames and keeps shutdown clean.
neonConfig.coalesceWrites = false;

/**
 * Local mode: the driver reaches a plain Postgres through our WebSocket-to-TCP
 * proxy instead of Neon's. This is configuration, not a code path: with
 * DATABASE_WS_PROXY empty the driver keeps its defaults and talks to Neon.
 * neonConfig is per isolate, and every request of an isolate sees the same env.
 */
function configureDriver(proxy: string | undefined): void {
	if (!proxy || proxy === configuredProxy) return;
	neonConfig.wsProxy = (host, port) => `${proxy}/v1?address=${host}:${port}`;
	neonConfig.useSecureWebSocket = false;
	neonConfig.pipelineTLS = false;
	neonConfig.pipelineConnect = false;
	configuredProxy = proxy;
}

/** How long a request waits for its admission slot and then for its connection. */
export interface Patience {
	admissionMs: number;
	connectMs: number;
	/**
	 * When set, the slot and the connection share this one budget: the
	 * connection gets what the wait for the slot left of it (never more than
	 * `connectMs`, never less than a second).
	 */
	totalMs?: number;
}

/** The connection timeout of a pool admitted `waitedMs` after it first asked for its slot. */
export function connectTimeoutMs(patience: Patience, waitedMs: number): number {
	if (patience.totalMs === undefined) return patience.connectMs;
	return Math.max(1_000, Math.min(patience.connectMs, patience.totalMs - waitedMs));
}

const USUAL_PATIENCE: Patience = { admissionMs: databaseAdmission.timeoutMs, connectMs: 5_000 };

/**
 * For a request that already holds stock (a checkout past its reservation):
 * giving up would hand its units back and answer a shopper who got them
 * "try again", behind everyone else. It waits its turn instead, well within
 * the reservation's lifetime and a client's usual minute: 45 s for the slot
 * and the connection together. A separate 15 s for the connection once
 * lost winners of the bench's flash sale (up to 23 of 100, 503 after 19 s
 * with a connection still opening on a saturated isolate) that had time left.
 */
export const HOLDER_PATIENCE: Patience = { admissionMs: 45_000, connectMs: 45_000, totalMs: 45_000 };

/**
 * A Db that opens its pool on first use. Cached reads are handed a Db to
 * query on a miss (`cachedMarkets(env, ctx, c.get("database").read)`) and
 * mostly never do; opening one for each of them (a Pool, and drizzle's
 * relational config of the whole schema) was about a quarter of the CPU of a
 * warm product read (README, Benchmarks). Methods are bound to the opened Db.
 */
function openOnFirstUse(open: () => Db): Db {
	let db: Db | undefined;
	const opened = () => {
		db ??= open();
		return db;
	};
	return new Proxy({} as Db, {
		get(_, property) {
			const target = opened();
			const value: unknown = Reflect.get(target, property, target);
			return typeof value === "function" && property !== "constructor" ? value.bind(target) : value;
		},
		has: (_, property) => Reflect.has(opened(), property),
		getPrototypeOf: () => Reflect.getPrototypeOf(opened()),
	});
}

/**
 * The database handles of one request. Pools open on first use, so routes
 * that never query Postgres pay nothing, and are closed by `close()` in
 * `waitUntil`: Neon's driver objects must not outlive the request that made
 * them.
 */
export class Database {
	readonly #env: DatabaseEnv;
	readonly #pools: Pool[] = [];
	#primary: Db | undefined;
	#read: Db | undefined;
	#patience: Patience = USUAL_PATIENCE;

	constructor(env: DatabaseEnv) {
		this.#env = env;
	}

	/** Sets how long this request waits for a connection; applies to the pools it has not opened yet. */
	wait(patience: Patience): void {
		this.#patience = patience;
	}

	/** The primary: every write, and every read that must see its own writes. */
	get primary(): Db {
		this.#primary ??= openOnFirstUse(() => this.#open(this.#env.DATABASE_URL));
		return this.#primary;
	}

	/** A read replica for catalog reads when DATABASE_READ_URL is set, else the primary. */
	get read(): Db {
		if (!this.#env.DATABASE_READ_URL) return this.primary;
		this.#read ??= openOnFirstUse(() => this.#open(this.#env.DATABASE_READ_URL));
		return this.#read;
	}

	/** Whether a pool was opened, so there is something for `close()` to do. */
	get opened(): boolean {
		return this.#pools.length > 0;
	}

	async close(): Promise<void> {
		const pools = this.#pools.splice(0);
		await Promise.allSettled(pools.map((pool) => pool.end()));
	}

	#open(url: string | undefined): Db {
		if (!url) {
			throw new DomainError("database_unavailable", {
				detail: "The database is not configured.",
			});
		}
		configureDriver(this.#env.DATABASE_WS_PROXY);
		const pool = new AdmittedPool(this.#patience, {
			connectionString: url,
			max: 2,
			connectionTimeoutMillis: this.#patience.connectMs,
		});
		// An idle client's socket dying must not become an unhandled error.
		pool.on("error", () => {});
		this.#pools.push(pool);
		return drizzle({ client: pool, schema });
	}
}

/**
 * A request's pool that first waits for its isolate's admission slot (see
 * admission.ts): taken when the pool first connects, given back when it ends.
 * Every query and transaction goes through `connect()` (pg-pool's `query`
 * calls it too), so nothing reaches the server without a slot.
 */
class AdmittedPool extends Pool {
	readonly #patience: Patience;
	#admitted: Promise<void> | undefined;
	#held = false;

	constructor(patience: Patience, config: ConstructorParameters<typeof Pool>[0]) {
		super(config);
		this.#patience = patience;
	}

	#admit(): Promise<void> {
		if (!this.#admitted) {
			const asked = Date.now();
			this.#admitted = databaseAdmission.acquire(this.#patience.admissionMs).then(() => {
				this.#held = true;
				// pg-pool hands its options to each client it makes, so this is what the connections get.
				this.options.connectionTimeoutMillis = connectTimeoutMs(this.#patience, Date.now() - asked);
			});
		}
		return this.#admitted;
	}

	// biome-ignore lint/suspicious/noExplicitAny: pg-pool's overloads (callback or promise) are not expressible here.
	override connect(callback?: any): any {
		if (this.#held) return super.connect(callback);
		const admitted = this.#admit();
		if (typeof callback === "function") {
			admitted.then(
				() => super.connect(callback),
				(err) => callback(err),
			);
			return undefined;
		}
		return admitted.then(() => super.connect());
	}

	override async end(): Promise<void> {
		try {
			await super.end();
		} finally {
			if (this.#admitted) {
				await this.#admitted.catch(() => {});
				if (this.#held) {
					this.#held = false;
					databaseAdmission.release();
				}
			}
		}
	}
}

/** SQLSTATE classes that mean "the server cannot serve now", not "the query is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P|58)/;

/**
 * True when an error means Postgres could not be reached or is refusing work,
 * so the request deserves a 503 and a retry rather than a 500.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
	let current: unknown = err;
	for (let depth = 0; current && depth < 5; depth++) {
		if (current instanceof AdmissionTimeoutError) return true;
		if (current instanceof DrizzleQueryError) {
			current = current.cause;
			continue;
		}
		if (typeof current === "object") {
			const code = (current as { code?: unknown }).code;
			if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_SQLSTATE.test(code);
			const message = String((current as { message?: unknown }).message ?? "");
			if (/websocket|connect|connection|terminated|timeout|ECONNREFUSED|socket/i.test(message)) return true;
			// workerd reports a failed WebSocket as an ErrorEvent, not an Error.
			if ((current as { type?: unknown }).type === "error" && !(current instanceof Error)) return true;
			current = (current as { cause?: unknown }).cause;
		} else {
			return false;
		}
	}
	return false;
}

/** A transaction handle, for functions that must run inside the caller's transaction. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** Either a database or a transaction: for helpers that can run inside or outside one. */
export type Executor = Db | Tx;

/** True for Postgres' unique_violation, however the driver wraps it. */
export function isUniqueViolation(err: unknown): boolean {
	for (let current = err, depth = 0; current && depth < 5; depth++) {
		if ((current as { code?: unknown }).code === "23505") return true;
		current = (current as { cause?: unknown }).cause;
	}
	return false;
}
