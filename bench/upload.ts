/**
 * What image derivatives cost an upload (issue 18), for `npm run bench`:
 * `POST /v1/admin/products/{id}/media`, one request at a time, for a few
 * kinds of image. Each round uploads new bytes (a random comment or text
 * chunk, so the content hash is new and the Worker decodes, downscales and
 * encodes three WebP copies), then the same bytes to a second product: that
 * upload finds the copies listed on the stored original and makes none, so it
 * is the plain upload (same body, same R2 and Postgres writes of the
 * original) to compare with. Rounds alternate the two, so drift hits both.
 *
 * Memory: workerd's resident set (VmRSS in /proc, sampled every 5 ms while
 * each request runs; Linux only) above its level just before the request.
 * It shows what the process had to find, not what an isolate is charged:
 * freed WASM heaps stay resident until V8 collects them, and the allocator
 * keeps pages it may reuse, so later uploads often need no new memory at all.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { crc32 } from "node:zlib";
import mozjpegEncoder from "@jsquash/jpeg/codec/enc/mozjpeg_enc.js";
import { defaultOptions as jpegDefaults } from "@jsquash/jpeg/meta.js";
import { productImagePng } from "../scripts/lib/seed-media.ts";
import type { BenchContext } from "./scenarios.ts";

export interface UploadCost {
	image: string;
	width: number;
	height: number;
	file_bytes: number;
	/** The decoded image, 4 bytes a pixel: what every decoder holds at least once. */
	decoded_mib: number;
	derivative_widths: number[];
	/** The WebP copies together, as a share of the original's bytes. */
	derivative_bytes_ratio: number;
	rounds: number;
	derive_p50_ms: number;
	plain_p50_ms: number;
	/** derive_p50_ms / plain_p50_ms: how many plain uploads one upload with derivatives costs. */
	ratio: number;
	/** Largest rise of workerd's resident set during one upload, in MiB; null where /proc is not there. */
	derive_rss_rise_mib: number | null;
	plain_rss_rise_mib: number | null;
}

const require = createRequire(import.meta.url);

/** A photo-like picture: soft gradients, rings and some grain, so JPEG sizes are realistic. */
function photo(width: number, height: number): Uint8ClampedArray<ArrayBuffer> {
	const data = new Uint8ClampedArray(width * height * 4);
	let seed = 42;
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			seed = (seed * 1103515245 + 12345) >>> 0;
			const grain = (seed >>> 27) - 16;
			const ring = Math.sin(Math.hypot(x - width * 0.4, y - height * 0.6) / 23) * 40;
			const at = (y * width + x) * 4;
			data[at] = 90 + (x * 120) / width + ring + grain;
			data[at + 1] = 70 + (y * 110) / height + grain;
			data[at + 2] = 140 - ring + grain;
			data[at + 3] = 255;
		}
	}
	return data;
}

async function jpegOf(width: number, height: number): Promise<Uint8Array> {
	const wasm = new WebAssembly.Module(readFileSync(require.resolve("@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm")));
	const factory = mozjpegEncoder as unknown as (options: object) => Promise<{
		encode(data: BufferSource, width: number, height: number, options: object): Uint8Array;
	}>;
	const encoder = await factory({
		noInitialRun: true,
		instantiateWasm: (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) => {
			const instance = new WebAssembly.Instance(wasm, imports);
			done(instance);
			return instance.exports;
		},
	});
	return new Uint8Array(encoder.encode(photo(width, height), width, height, { ...jpegDefaults, quality: 85 }));
}

/** The same image with a random comment (JPEG COM segment, PNG tEXt chunk): new bytes, same pixels. */
function variant(bytes: Uint8Array, kind: "jpeg" | "png"): Uint8Array {
	const note = new TextEncoder().encode(`bench ${crypto.randomUUID()}`);
	if (kind === "jpeg") {
		const length = note.length + 2;
		return Buffer.concat([bytes.subarray(0, 2), Buffer.from([0xff, 0xfe, length >> 8, length & 0xff]), note, bytes.subarray(2)]);
	}
	// A tEXt chunk just before IEND (the last 12 bytes), with its CRC: decoders check it.
	const body = Buffer.concat([Buffer.from("tEXtComment\0", "latin1"), note]);
	const chunk = Buffer.alloc(body.length + 8);
	chunk.writeUInt32BE(body.length - 4, 0);
	chunk.set(body, 4);
	chunk.writeUInt32BE(crc32(body), body.length + 4);
	const end = bytes.length - 12;
	return Buffer.concat([bytes.subarray(0, end), chunk, bytes.subarray(end)]);
}

/** workerd processes started (at any depth) by `root`. */
function workerdPids(root: number): number[] {
	const parents = new Map<number, number>();
	const names = new Map<number, string>();
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
			const close = stat.lastIndexOf(")");
			names.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
			parents.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
		} catch {
			// The process ended meanwhile.
		}
	}
	const descends = (pid: number): boolean => {
		for (let at = parents.get(pid); at !== undefined && at > 1; at = parents.get(at)) if (at === root) return true;
		return false;
	};
	return [...names].filter(([pid, name]) => name === "workerd" && descends(pid)).map(([pid]) => pid);
}

function rssMb(pids: number[]): number {
	let kb = 0;
	for (const pid of pids) {
		const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
		kb += Number(match?.[1] ?? 0);
	}
	return kb / 1024;
}

/** Runs `request`, sampling the resident set meanwhile: its duration and the largest rise above the level before. */
async function timed(pids: number[], request: () => Promise<Response>): Promise<{ ms: number; rise: number | null; body: unknown }> {
	const sample = pids.length > 0 ? () => rssMb(pids) : undefined;
	const before = sample?.() ?? 0;
	let peak = before;
	const sampler = sample ? setInterval(() => (peak = Math.max(peak, sample())), 5) : undefined;
	const started = performance.now();
	const res = await request();
	const text = await res.text();
	const ms = performance.now() - started;
	clearInterval(sampler);
	if (sample) peak = Math.max(peak, sample());
	if (res.status !== 201) throw new Error(`bench upload: answered ${res.status}: ${text.slice(0, 300)}`);
	return { ms, rise: sample ? peak - before : null, body: JSON.parse(text) };
}

const median = (xs: number[]) => {
	const sorted = [...xs].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
const round1 = (x: number) => Math.round(x * 10) / 10;

async function benchProduct(context: BenchContext, label: string): Promise<string> {
	const run = crypto.randomUUID().slice(0, 8).toUpperCase();
	const res = await fetch(`${context.baseUrl}/v1/admin/products`, {
		method: "POST",
		headers: { "content-type": "application/json", authorization: `Bearer ${await context.adminToken()}` },
		body: JSON.stringify({
			title: `Bench uploads ${label}`,
			variants: [{ sku: `BENCH-UP-${run}`, title: "Default", price_minor: 100, currency: "EUR" }],
		}),
	});
	if (res.status !== 201) throw new Error(`bench upload: product creation answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
	return ((await res.json()) as { id: string }).id;
}

/**
 * Times uploads with and without making derivatives, `rounds` of each per
 * image kind. `workerRoot` is the pid of `wrangler dev`, whose workerd's
 * memory is sampled.
 */
export async function measureUploadCost(context: BenchContext, workerRoot: number | undefined, rounds = 8): Promise<UploadCost[]> {
	const images = [
		{ image: "photo JPEG 2048×1536", kind: "jpeg" as const, width: 2048, height: 1536, bytes: await jpegOf(2048, 1536) },
		{ image: "product PNG 2048×2048", kind: "png" as const, width: 2048, height: 2048, bytes: productImagePng("bench-upload", 2048) },
		{ image: "demo PNG 480×480 (seed)", kind: "png" as const, width: 480, height: 480, bytes: productImagePng("bench-upload-small") },
	];
	const pids = workerRoot !== undefined && process.platform === "linux" ? workerdPids(workerRoot) : [];
	const [fresh, again] = [await benchProduct(context, "with derivatives"), await benchProduct(context, "plain")];
	const results: UploadCost[] = [];
	for (const image of images) {
		const derive: { ms: number; rise: number | null }[] = [];
		const plain: { ms: number; rise: number | null }[] = [];
		let widths: number[] = [];
		let derivativeBytes = 0;
		// One round more than measured: the first warms the codecs' compilation and the connections.
		for (let i = 0; i <= rounds; i++) {
			const bytes = variant(image.bytes, image.kind);
			const send = (productId: string) => async () => {
				const form = new FormData();
				form.append("file", new Blob([new Uint8Array(bytes)]), `bench.${image.kind}`);
				return fetch(`${context.baseUrl}/v1/admin/products/${productId}/media`, {
					method: "POST",
					headers: { authorization: `Bearer ${await context.adminToken()}` },
					body: form,
				});
			};
			const made = await timed(pids, send(fresh));
			const reused = await timed(pids, send(again));
			const listed = (made.body as { derivatives: { width: number; bytes: number }[] }).derivatives;
			widths = listed.map((d) => d.width);
			derivativeBytes = listed.reduce((sum, d) => sum + d.bytes, 0);
			if (i === 0) continue;
			derive.push(made);
			plain.push(reused);
		}
		const riseOf = (xs: { rise: number | null }[]) => (pids.length > 0 ? round1(Math.max(...xs.map((x) => x.rise ?? 0))) : null);
		const deriveMs = median(derive.map((x) => x.ms));
		const plainMs = median(plain.map((x) => x.ms));
		results.push({
			image: image.image,
			width: image.width,
			height: image.height,
			file_bytes: image.bytes.byteLength,
			decoded_mib: round1((image.width * image.height * 4) / 1024 / 1024),
			derivative_widths: widths,
			derivative_bytes_ratio: Math.round((derivativeBytes / image.bytes.byteLength) * 1000) / 1000,
			rounds,
			derive_p50_ms: round1(deriveMs),
			plain_p50_ms: round1(plainMs),
			ratio: Math.round((deriveMs / Math.max(plainMs, 0.1)) * 10) / 10,
			derive_rss_rise_mib: riseOf(derive),
			plain_rss_rise_mib: riseOf(plain),
		});
	}
	return results;
}
