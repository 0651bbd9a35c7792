/**
 * The catalog read cache, in layers: a per-isolate memory map, then KV, then
 * Postgres. Keys are versioned by a catalog version that every admin write
 * bumps, so an entry is never invalidated, only left behind: a read after an
 * edit builds a new key and misses. KV writes happen in `waitUntil`; KV down
 * or slow degrades to Postgres, never to an error.
 */

import { sha256Hex } from "../domain/hash.ts";

const VERSION_KEY = "catalog:version";
/** Old versions' entries are garbage; KV drops them after this. */
const ENTRY_TTL_SECONDS = 24 * 3600;
/** How long an isolate trusts the version it read; its own bumps apply at once. */
const VERSION_MEMORY_MS = 1000;
/** A KV read slower than this is abandoned for Postgres. */
const KV_TIMEOUT_MS = 250;
const MEMORY_ENTRIES = 500;

export interface CachedBody {
	/** The JSON text served. */
	body: string;
	/** Strong ETag (quoted) of exactly these bytes. */
	etag: string;
}

let memoryVersion: { value: string; readAt: number } | undefined;
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

/** The current catalog version; "0" before the first admin write, or when KV cannot tell. */
export async function catalogVersion(kv: KVNamespace): Promise<string> {
	if (memoryVersion && Date.now() - memoryVersion.readAt < VERSION_MEMORY_MS) return memoryVersion.value;
	try {
		const value = (await withTimeout(kv.get(VERSION_KEY), KV_TIMEOUT_MS)) ?? "0";
		memoryVersion = { value, readAt: Date.now() };
		return value;
	} catch {
		logKvFailure("version_get");
		// Without a trustworthy version, bypass every cached entry.
		return `unknown-${crypto.randomUUID()}`;
	}
}

/**
 * Makes every cached catalog entry unreachable. Awaited by admin writes (not
 * deferred) so the writer's next read, in the same location, misses. If KV
 * refuses, cached entries expire on their own within ENTRY_TTL_SECONDS; the
 * failure is logged, the admin write itself has already committed.
 */
export async function bumpCatalogVersion(kv: KVNamespace): Promise<string> {
	const value = `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
	memoryVersion = { value, readAt: Date.now() };
	memory.clear();
	try {
		await kv.put(VERSION_KEY, value);
	} catch {
		logKvFailure("version_put");
	}
	return value;
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
 * Returns the cached JSON for `name` under the current version, or builds it
 * with `load` (undefined means "nothing to cache", e.g. not found), stores it
 * in memory at once and in KV after the response.
 */
export async function readThrough(
	kv: KVNamespace,
	ctx: { waitUntil(promise: Promise<unknown>): void },
	name: string,
	load: () => Promise<unknown | undefined>,
): Promise<(CachedBody & { source: "memory" | "kv" | "origin" }) | undefined> {
	const key = `catalog:v${await catalogVersion(kv)}:${name}`;
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
	memoryVersion = undefined;
}
