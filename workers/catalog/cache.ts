/**
 * The catalog read cache, in layers: a per-isolate memory map, then KV, then
 * Postgres. Keys carry two versions, so an entry is never invalidated, only
 * left behind: a read after a change builds a new key and misses.
 *
 * - The catalog version: every admin write bumps it.
 * - The stock version: the orders consumer bumps it whenever a batch of
 *   InventoryItem events flips a SKU between in stock and sold out, because
 *   cached product and list JSON carries `in_stock`. Only flips bump it, so a
 *   flash sale that moves a SKU's figure with every checkout writes KV once
 *   when the SKU sells out, not once per checkout.
 *
 * KV writes of entries happen in `waitUntil`; KV down or slow degrades to
 * Postgres, never to an error.
 */

import { sha256Hex } from "../domain/hash.ts";
import type { WaitUntil } from "../domain/runtime.ts";

const VERSION_KEY = "catalog:version";
const STOCK_VERSION_KEY = "catalog:stock-version";
/** Old versions' entries are garbage; KV drops them after this. */
const ENTRY_TTL_SECONDS = 24 * 3600;
/** How long an isolate trusts a version it read; its own bumps apply at once. */
const VERSION_MEMORY_MS = 1000;
/**
 * How long a KV location may keep serving a version it read: the shortest KV
 * allows, since another location's bump is seen only when this runs out.
 */
const VERSION_KV_CACHE_TTL_SECONDS = 30;
/** A KV read slower than this is abandoned for Postgres. */
const KV_TIMEOUT_MS = 250;
const MEMORY_ENTRIES = 500;

export interface CachedBody {
	/** The JSON text served. */
	body: string;
	/** Strong ETag (quoted) of exactly these bytes. */
	etag: string;
}

const memoryVersions = new Map<string, { value: string; readAt: number }>();
const memory = new Map<string, CachedBody>();

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	try {
		return await Promise.race([
			promise,
			new Promise<never>((_, reject) => {
				timer = setTimeout(() => reject(new Error("kv timeout")), ms);
			}),
		]);
	} finally {
		if (timer !== undefined) clearTimeout(timer);
	}
}

function logKvFailure(operation: string): void {
	console.warn(JSON.stringify({ level: "warn", msg: "kv_degraded", operation }));
}

/** The version under `key`; "0" before its first bump, or a one-off value (bypassing every entry) when KV cannot tell. */
async function readVersion(kv: KVNamespace, key: string): Promise<string> {
	const remembered = memoryVersions.get(key);
	if (remembered && Date.now() - remembered.readAt < VERSION_MEMORY_MS) return remembered.value;
	try {
		const value = (await withTimeout(kv.get(key, { cacheTtl: VERSION_KV_CACHE_TTL_SECONDS }), KV_TIMEOUT_MS)) ?? "0";
		memoryVersions.set(key, { value, readAt: Date.now() });
		return value;
	} catch {
		logKvFailure("version_get");
		// Without a trustworthy version, bypass every cached entry.
		return `unknown-${crypto.randomUUID()}`;
	}
}

/** Writes a new version under `key`; this isolate uses it at once and drops what it remembers. */
async function bumpVersion(kv: KVNamespace, key: string): Promise<string> {
	const value = `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
	memoryVersions.set(key, { value, readAt: Date.now() });
	memory.clear();
	await kv.put(key, value);
	return value;
}

/** The current catalog version; "0" before the first admin write, or when KV cannot tell. */
export function catalogVersion(kv: KVNamespace): Promise<string> {
	return readVersion(kv, VERSION_KEY);
}

/** The current stock version; "0" before the first flip, or when KV cannot tell. */
export function stockVersion(kv: KVNamespace): Promise<string> {
	return readVersion(kv, STOCK_VERSION_KEY);
}

/**
 * Makes every cached catalog entry unreachable. Awaited by admin writes (not
 * deferred) so the writer's next read, in the same location, misses. If KV
 * refuses, cached entries expire on their own within ENTRY_TTL_SECONDS; the
 * failure is logged, the admin write itself has already committed.
 */
export async function bumpCatalogVersion(kv: KVNamespace): Promise<string> {
	try {
		return await bumpVersion(kv, VERSION_KEY);
	} catch {
		logKvFailure("version_put");
		return memoryVersions.get(VERSION_KEY)?.value ?? "0";
	}
}

/**
 * Makes every cached catalog entry unreachable after a SKU flipped between
 * in stock and sold out. Throws when KV refuses: the queue then retries the
 * events that flipped it, and their redelivery bumps again, where a logged
 * failure would leave a sold-out product listed for a day.
 */
export function bumpStockVersion(kv: KVNamespace): Promise<string> {
	return bumpVersion(kv, STOCK_VERSION_KEY);
}

/** A strong ETag: the first 128 bits of the body's SHA-256. */
async function strongEtag(body: string): Promise<string> {
	return `"${(await sha256Hex(body)).slice(0, 32)}"`;
}

function remember(key: string, entry: CachedBody): void {
	if (memory.size >= MEMORY_ENTRIES) {
		const oldest = memory.keys().next().value;
		if (oldest !== undefined) memory.delete(oldest);
	}
	memory.set(key, entry);
}

/**
 * Returns the cached JSON for `name` under the current versions, or builds it
 * with `load` (undefined means "nothing to cache", e.g. not found), stores it
 * in memory at once and in KV after the response.
 */
export async function readThrough(
	kv: KVNamespace,
	ctx: WaitUntil,
	name: string,
	load: () => Promise<unknown | undefined>,
): Promise<(CachedBody & { source: "memory" | "kv" | "origin" }) | undefined> {
	const [catalog, stock] = await Promise.all([catalogVersion(kv), stockVersion(kv)]);
	const key = `catalog:v${catalog}:s${stock}:${name}`;
	const fromMemory = memory.get(key);
	if (fromMemory) return { ...fromMemory, source: "memory" };
	try {
		const stored = await withTimeout(kv.get<CachedBody>(key, "json"), KV_TIMEOUT_MS);
		if (stored?.body && stored.etag) {
			remember(key, stored);
			return { ...stored, source: "kv" };
		}
	} catch {
		logKvFailure("entry_get");
	}
	const value = await load();
	if (value === undefined) return undefined;
	const body = JSON.stringify(value);
	const entry = { body, etag: await strongEtag(body) };
	remember(key, entry);
	ctx.waitUntil(kv.put(key, JSON.stringify(entry), { expirationTtl: ENTRY_TTL_SECONDS }).catch(() => logKvFailure("entry_put")));
	return { ...entry, source: "origin" };
}

/** True when an If-None-Match header names this ETag (or is `*`). */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
	if (!ifNoneMatch) return false;
	return ifNoneMatch
		.split(",")
		.map((candidate) => candidate.trim().replace(/^W\//, ""))
		.some((candidate) => candidate === etag || candidate === "*");
}

/** Test hook: forgets what this isolate remembers. */
export function clearCatalogMemory(): void {
	memory.clear();
	memoryVersions.clear();
}
