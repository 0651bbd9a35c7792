/**
 * The idempotency store (invariant I2): keys claimed in Postgres per caller
 * scope, the stored answer replayed for 24 hours, 409 while the first request
 * runs, 422 when the key comes back with another request, and a recovery
 * point a handler writes inside its own transaction so a retry resumes what a
 * request that died had committed. Used by the API's `idempotent()`
 * middleware, the place-order service and the admin console's forms.
 */
import { and, eq, lt, sql } from "drizzle-orm";
import type { WithSubquery } from "drizzle-orm/subquery";
import type { Db, Executor, Tx } from "../db/client.ts";
import { idempotencyKeys } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import { sha256Hex } from "../domain/hash.ts";

/** How long a stored answer is replayed. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** How long a claim holds before a retry may take over a request that died without answering. */
export const IDEMPOTENCY_LOCK_MS = 60 * 1000;

const KEY = /^[\x21-\x7e]{8,255}$/;
/** Response headers worth replaying; the rest (request id, dates) belong to the replaying request. */
const REPLAYED_HEADERS = ["content-type", "location", "cache-control"];

/** What the request holding a key can use: the claim, and what an earlier attempt committed. */
export interface IdempotencyClaim {
	scope: string;
	key: string;
	/** What an attempt that died after committing left behind (see `remember`), or null. */
	recovery: Record<string, unknown> | null;
	/** Records progress inside the handler's own transaction, so a retry resumes instead of repeating it. */
	remember(tx: Tx, recovery: Record<string, unknown>): Promise<void>;
	/** The same write as a data-modifying CTE named `alias`, for a handler that commits in one statement. */
	rememberAs(db: Executor, alias: string, recovery: Record<string, unknown>): WithSubquery;
	/** Drops the recovery point: what it pointed at was undone, so a retry starts afresh. */
	forget(db: Db): Promise<void>;
}

/**
 * JSON with sorted keys, so the same body sent with other spacing or key order
 * counts as the same request.
 */
function canonical(text: string): string {
	if (text === "") return "";
	try {
		return JSON.stringify(JSON.parse(text), (_key, value: unknown) =>
			value && typeof value === "object" && !Array.isArray(value)
				? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
				: value,
		);
	} catch {
		return text;
	}
}

const conflict = () =>
	new DomainError("idempotency_in_progress", {
		detail: "A request with this Idempotency-Key is still being processed. Retry shortly for its answer.",
		retryAfterSeconds: 1,
	});

const reused = () =>
	new DomainError("idempotency_key_reused", {
		detail: "This Idempotency-Key was used with a different request. Use a new key for a new request.",
	});

type Row = typeof idempotencyKeys.$inferSelect;

/** What identifies one idempotent request: the caller's scope, its key, and what it asked for. */
export interface IdempotentRequest {
	scope: string;
	key: string;
	/** The method and route pattern, e.g. `POST /checkout`. */
	route: string;
	/** See `requestHashOf`: the same key with another hash is a 422. */
	requestHash: string;
}

/** The fingerprint of a request's method, path and body (JSON compared canonically). */
export function requestHashOf(method: string, path: string, body: string): Promise<string> {
	return sha256Hex(`${method} ${path}\n${canonical(body)}`);
}

/** True for a key the store accepts: 8 to 255 visible ASCII characters. */
export function isIdempotencyKey(key: string): boolean {
	return KEY.test(key);
}

/**
 * The key of a request that must carry one: refuses a missing key (400
 * `idempotency_key_required`) and a malformed one (400 `validation_failed`).
 */
export function requireIdempotencyKey(key: string | undefined): string {
	if (key === undefined) {
		throw new DomainError("idempotency_key_required", {
			detail: "This route changes state: send an Idempotency-Key header, unique per intended change (8 to 255 visible ASCII characters).",
		});
	}
	if (!KEY.test(key)) {
		throw new DomainError("validation_failed", {
			detail: "The Idempotency-Key must be 8 to 255 visible ASCII characters.",
			extensions: { errors: [{ path: "header.idempotency-key", message: "8 to 255 visible ASCII characters" }] },
		});
	}
	return key;
}

/**
 * The idempotency store without the middleware, for callers that are not a
 * JSON route (the storefront's checkout form): claims the key (409 while
 * another request holds it, 422 when it was used for another request), then
 * either replays the stored answer or runs `run` and stores its answer under
 * the rules of `idempotent()`: 5xx answers and thrown errors are not stored,
 * and a claim that committed a recovery point is kept for the next retry.
 */
export async function runIdempotent(
	db: Db,
	request: IdempotentRequest,
	run: (claim: IdempotencyClaim) => Promise<Response>,
): Promise<{ replayed: boolean; response: Response }> {
	const { scope, key } = request;
	const row = await claim(db, scope, key, request.route, request.requestHash);
	if (row.responseStatus !== null) return { replayed: true, response: replay(row) };

	let status = 500;
	let response: Response;
	try {
		response = await run({
			scope,
			key,
			recovery: row.recovery ?? null,
			remember: async (tx, recovery) => {
				await tx
					.update(idempotencyKeys)
					.set({ recovery })
					.where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
			},
			rememberAs: (executor, alias, recovery) =>
				executor.$with(alias).as(
					executor
						.update(idempotencyKeys)
						.set({ recovery })
						.where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
						.returning({ key: idempotencyKeys.key }),
				),
			forget: async (executor) => {
				await executor
					.update(idempotencyKeys)
					.set({ recovery: null })
					.where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
			},
		});
		status = response.status;
	} finally {
		if (status >= 500) await release(db, scope, key);
	}
	if (status < 500) {
		const body = await response.clone().text();
		const headers: Record<string, string> = {};
		for (const name of REPLAYED_HEADERS) {
			const value = response.headers.get(name);
			if (value !== null) headers[name] = value;
		}
		await db
			.update(idempotencyKeys)
			.set({ responseStatus: status, responseBody: body, responseHeaders: headers, completedAt: sql`now()` })
			.where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
	}
	return { replayed: false, response };
}

/**
 * Claims the key, or returns the row of the request that already holds it.
 * Throws 409 while that request is running and 422 when it was another request.
 */
async function claim(db: Db, scope: string, key: string, route: string, requestHash: string): Promise<Row> {
	for (let attempt = 0; attempt < 3; attempt++) {
		const [claimed] = await db
			.insert(idempotencyKeys)
			.values({ scope, key, route, requestHash, lockedUntil: sql`now() + make_interval(secs => ${IDEMPOTENCY_LOCK_MS / 1000})` })
			.onConflictDoNothing()
			.returning();
		if (claimed) return claimed;
		const [existing] = await db
			.select()
			.from(idempotencyKeys)
			.where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
		if (!existing) continue; // freed by a failed first attempt in between: claim again
		if (Date.now() - existing.createdAt.getTime() > IDEMPOTENCY_TTL_MS) {
			// Past its 24 hours the key is new again.
			await db
				.delete(idempotencyKeys)
				.where(
					and(
						eq(idempotencyKeys.scope, scope),
						eq(idempotencyKeys.key, key),
						lt(idempotencyKeys.createdAt, sql`now() - make_interval(secs => ${IDEMPOTENCY_TTL_MS / 1000})`),
					),
				);
			continue;
		}
		if (existing.route !== route || existing.requestHash !== requestHash) throw reused();
		if (existing.responseStatus !== null) return existing;
		// Still running, unless its lock ran out: then the request died and this one takes over.
		const [taken] = await db
			.update(idempotencyKeys)
			.set({ lockedUntil: sql`now() + make_interval(secs => ${IDEMPOTENCY_LOCK_MS / 1000})` })
			.where(
				and(
					eq(idempotencyKeys.scope, scope),
					eq(idempotencyKeys.key, key),
					sql`${idempotencyKeys.responseStatus} IS NULL`,
					lt(idempotencyKeys.lockedUntil, sql`now()`),
				),
			)
			.returning();
		if (taken) return taken;
		throw conflict();
	}
	throw conflict();
}

/** The recovery point another request of the same scope left under `key` (null when none). */
export async function recoveryOf(db: Db, scope: string, key: string): Promise<Record<string, unknown> | null> {
	const [row] = await db
		.select({ recovery: idempotencyKeys.recovery })
		.from(idempotencyKeys)
		.where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
	return row?.recovery ?? null;
}

/**
 * After a 5xx. A claim with no recovery point left nothing behind (I4): the
 * key is freed for a clean retry. One whose handler already committed
 * something (an order) must keep that point, or a retry would do it again:
 * its lock is dropped instead, so the very next retry takes the claim over and
 * resumes. Best effort: if the database is what failed, the lock expires on
 * its own a minute later.
 */
async function release(db: Db, scope: string, key: string): Promise<void> {
	const mine = and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key), sql`${idempotencyKeys.responseStatus} IS NULL`);
	try {
		await db.delete(idempotencyKeys).where(and(mine, sql`${idempotencyKeys.recovery} IS NULL`));
		await db
			.update(idempotencyKeys)
			.set({ lockedUntil: sql`now() - interval '1 second'` })
			.where(and(mine, sql`${idempotencyKeys.recovery} IS NOT NULL`));
	} catch {
		// The lock expires by itself.
	}
}

function replay(row: Row): Response {
	const headers = new Headers(row.responseHeaders ?? {});
	headers.set("idempotent-replayed", "true");
	return new Response(row.responseBody, { status: row.responseStatus ?? 200, headers });
}

/** Deletes keys past their replay window; run by the scheduled handler. */
export async function purgeIdempotencyKeys(db: Db, limit = 1000): Promise<number> {
	const deleted = await db.execute(
		sql`DELETE FROM ${idempotencyKeys} WHERE ctid IN (SELECT ctid FROM ${idempotencyKeys} WHERE ${idempotencyKeys.createdAt} < now() - make_interval(secs => ${IDEMPOTENCY_TTL_MS / 1000}) LIMIT ${limit})`,
	);
	return deleted.rowCount ?? 0;
}
