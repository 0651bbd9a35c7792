import mozjpegEncoder from "@jsquash/jpeg/codec/enc/mozjpeg_enc.js";
import mozjpegEncoderWasm from "@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm";
import { defaultOptions as jpegDefaults } from "@jsquash/jpeg/meta.js";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../workers/api/app.ts";
import { adminMediaRouter, mediaRouter } from "../workers/api/media/media.index.ts";
import { requireAdmin } from "../workers/api/middleware/auth.ts";
import { type MediaDerivative, media, products } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { webpEncoderFor } from "../workers/media/codecs.ts";
import { pickDerivative } from "../workers/media/derivatives.ts";
import { downscale } from "../workers/media/downscale.ts";
import { readImageHeader } from "../workers/media/image-header.ts";
import { env, makeAdmin, registerShopper, type Session } from "./accounts-helpers.ts";
import { call, callWith, problemOf, withDb } from "./helpers.ts";
import { newSku } from "./orders-helpers.ts";

/**
 * Image derivatives (media/derivatives.ts): an upload gets WebP copies at
 * 320, 640 and 1280 px, each narrower than the original, under their own
 * content hashes, and `GET /v1/media/{key}?w=` serves the nearest one.
 */

const app = createApp((root) => {
	root.use("/v1/admin/*", requireAdmin());
	root.route("/v1", mediaRouter);
	root.route("/v1", adminMediaRouter);
});
const send = (path: string, init: RequestInit = {}) => callWith(app, path, init);

interface DerivativeBody extends MediaDerivative {
	url: string;
}
interface MediaBody {
	id: string;
	key: string;
	bytes: number;
	content_type: string;
	derivatives: DerivativeBody[];
}

// ---- images, made here: a PNG by hand (zlib from CompressionStream), a JPEG with mozjpeg ----

/** A deterministic picture with detail (gradients, rings, a little noise), so it compresses like a photo would. */
function picture(width: number, height: number, alpha = false): Uint8ClampedArray {
	const data = new Uint8ClampedArray(width * height * 4);
	let seed = width * 31 + height;
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			seed = (seed * 1103515245 + 12345) >>> 0;
			const noise = (seed >>> 24) % 24;
			const ring = Math.sin(Math.hypot(x - width / 2, y - height / 2) / 9) * 60;
			const at = (y * width + x) * 4;
			data[at] = (x * 255) / width + noise;
			data[at + 1] = 120 + ring + noise;
			data[at + 2] = (y * 255) / height;
			data[at + 3] = alpha ? (x * 255) / width : 255;
		}
	}
	return data;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
	let crc = 0xffffffff;
	for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
	return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
	const out = new Uint8Array(12 + data.length);
	const view = new DataView(out.buffer);
	view.setUint32(0, data.length);
	for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
	out.set(data, 8);
	view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
	return out;
}

async function concat(parts: Uint8Array[]): Promise<Uint8Array<ArrayBuffer>> {
	return new Uint8Array(await new Blob(parts).arrayBuffer());
}

/** An 8-bit RGBA PNG of `pixels` (rows unfiltered), or with `idat` standing in for its image data. */
async function png(width: number, height: number, pixels = picture(width, height), idat?: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
	const header = new Uint8Array(13);
	const view = new DataView(header.buffer);
	view.setUint32(0, width);
	view.setUint32(4, height);
	header[8] = 8;
	header[9] = 6;
	let data = idat;
	if (!data) {
		const raw = new Uint8Array((width * 4 + 1) * height);
		for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
		data = new Uint8Array(await new Response(new Blob([raw]).stream().pipeThrough(new CompressionStream("deflate"))).arrayBuffer());
	}
	return concat([
		new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		pngChunk("IHDR", header),
		pngChunk("IDAT", data),
		pngChunk("IEND", new Uint8Array()),
	]);
}

async function jpeg(width: number, height: number): Promise<Uint8Array<ArrayBuffer>> {
	const encoder = await (
		mozjpegEncoder as unknown as (options: object) => Promise<{ encode(data: BufferSource, w: number, h: number, o: object): Uint8Array }>
	)({
		noInitialRun: true,
		instantiateWasm: (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) => {
			const instance = new WebAssembly.Instance(mozjpegEncoderWasm, imports);
			done(instance);
			return instance.exports;
		},
	});
	return new Uint8Array(encoder.encode(picture(width, height), width, height, { ...jpegDefaults, quality: 85 }));
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
	return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const isWebp = (bytes: Uint8Array) =>
	String.fromCharCode(...bytes.subarray(0, 4)) === "RIFF" && String.fromCharCode(...bytes.subarray(8, 12)) === "WEBP";

async function newProduct(): Promise<string> {
	const id = newId("prod");
	await withDb((db) => db.primary.insert(products).values({ id, slug: `deriv-${id.slice(5)}`, title: "Derivatives", status: "active" }));
	return id;
}

function uploadInit(token: string, bytes: Uint8Array<ArrayBuffer>, name = "photo.bin"): RequestInit {
	const form = new FormData();
	form.append("file", new File([bytes], name));
	return { method: "POST", headers: { authorization: `Bearer ${token}` }, body: form };
}

let admin: Session;
beforeAll(async () => {
	admin = await makeAdmin(await registerShopper());
});

const upload = (productId: string, bytes: Uint8Array<ArrayBuffer>) =>
	send(`/v1/admin/products/${productId}/media`, uploadInit(admin.access_token, bytes));

const storedMedia = (productId: string) => withDb((db) => db.primary.select().from(media).where(eq(media.productId, productId)));

describe("derivatives at upload", () => {
	let original: Uint8Array<ArrayBuffer>;
	let body: MediaBody;

	beforeAll(async () => {
		original = await png(1600, 900);
		const res = await upload(await newProduct(), original);
		expect(res.status).toBe(201);
		body = (await res.json()) as MediaBody;
	});

	it("stores WebP copies 320, 640 and 1280 px wide (aspect kept) under the SHA-256 of their bytes, immutable", async () => {
		expect(body.derivatives.map((d) => [d.width, d.height])).toEqual([
			[320, 180],
			[640, 360],
			[1280, 720],
		]);
		for (const derivative of body.derivatives) {
			const object = await env.MEDIA.get(derivative.key);
			expect(object, derivative.key).not.toBeNull();
			const bytes = new Uint8Array(await (object as R2ObjectBody).arrayBuffer());
			expect(isWebp(bytes)).toBe(true);
			expect(derivative.key).toBe(`media/${await sha256(bytes)}.webp`);
			expect(derivative).toMatchObject({ content_type: "image/webp", bytes: bytes.byteLength, url: `/v1/media/${derivative.key}` });
			expect(object?.httpMetadata).toMatchObject({ contentType: "image/webp", cacheControl: "public, max-age=31536000, immutable" });
			expect(readImageHeader(bytes, "image/webp")).toMatchObject({ width: derivative.width, height: derivative.height });
			expect(bytes.byteLength).toBeLessThan(original.byteLength);
		}
	});

	it("records the derivatives on the media row, written with it", async () => {
		const [row] = await withDb((db) => db.primary.select().from(media).where(eq(media.id, body.id)));
		expect(row?.derivatives).toEqual(body.derivatives.map(({ url: _url, ...derivative }) => derivative));
	});

	it("serves ?w=640 as a WebP smaller than the original, with its own ETag, immutable", async () => {
		const res = await send(`/v1/media/${body.key}?w=640`);
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toBe("image/webp");
		expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
		const bytes = new Uint8Array(await res.arrayBuffer());
		expect(bytes.byteLength).toBe(body.derivatives[1]?.bytes);
		expect(bytes.byteLength).toBeLessThan(original.byteLength / 4);
		expect(res.headers.get("etag")).toBe((await env.MEDIA.head(body.derivatives[1]?.key as string))?.httpEtag);
		expect(res.headers.get("etag")).not.toBe((await env.MEDIA.head(body.key))?.httpEtag);
	});

	it("serves the narrowest copy at least w wide, the widest above 1280, and the original without w", async () => {
		const served = async (query: string) => {
			const res = await send(`/v1/media/${body.key}${query}`);
			expect(res.status, query).toBe(200);
			await res.body?.cancel();
			return Number(res.headers.get("content-length"));
		};
		const [small, medium, large] = body.derivatives.map((d) => d.bytes);
		expect(await served("?w=100")).toBe(small);
		expect(await served("?w=320")).toBe(small);
		expect(await served("?w=321")).toBe(medium);
		expect(await served("?w=1280")).toBe(large);
		expect(await served("?w=4000")).toBe(large);
		expect(await served("")).toBe(original.byteLength);
	});

	it("keeps ranges, HEAD and If-None-Match on the derivative it serves", async () => {
		const derivative = body.derivatives[0] as DerivativeBody;
		const head = await send(`/v1/media/${body.key}?w=300`, { method: "HEAD" });
		expect(head.status).toBe(200);
		expect(head.headers.get("content-length")).toBe(String(derivative.bytes));
		const etag = head.headers.get("etag") as string;
		expect((await send(`/v1/media/${body.key}?w=300`, { headers: { "if-none-match": etag } })).status).toBe(304);
		const part = await send(`/v1/media/${body.key}?w=300`, { headers: { range: "bytes=0-11" } });
		expect(part.status).toBe(206);
		expect(part.headers.get("content-range")).toBe(`bytes 0-11/${derivative.bytes}`);
		expect(isWebp(new Uint8Array(await part.arrayBuffer()))).toBe(true);
	});

	it("refuses a w that is not a whole number from 1 to 4000 with 400", async () => {
		for (const w of ["0", "4001", "5000", "-3", "1.5", "wide"]) {
			const res = await send(`/v1/media/${body.key}?w=${w}`);
			expect(res.status, w).toBe(400);
			expect((await problemOf(res)).code).toBe("validation_failed");
		}
	});

	it("reuses the stored derivatives when the same bytes are attached to another product", async () => {
		const res = await upload(await newProduct(), original);
		expect(res.status).toBe(201);
		expect(((await res.json()) as MediaBody).derivatives).toEqual(body.derivatives);
	});
});

describe("which images get derivatives", () => {
	it("decodes a JPEG: a 1000 px one gets 320 and 640 only", async () => {
		const productId = await newProduct();
		const res = await upload(productId, await jpeg(1000, 750));
		expect(res.status).toBe(201);
		const body = (await res.json()) as MediaBody;
		expect(body.content_type).toBe("image/jpeg");
		expect(body.derivatives.map((d) => [d.width, d.height])).toEqual([
			[320, 240],
			[640, 480],
		]);
	});

	it("decodes a WebP original, transparency included", async () => {
		const encode = await webpEncoderFor();
		const webp = encode({ data: picture(700, 500, true), width: 700, height: 500 });
		const res = await upload(await newProduct(), webp);
		expect(res.status).toBe(201);
		const body = (await res.json()) as MediaBody;
		expect(body.derivatives.map((d) => d.width)).toEqual([320, 640]);
		const small = new Uint8Array(await ((await env.MEDIA.get(body.derivatives[0]?.key as string)) as R2ObjectBody).arrayBuffer());
		// VP8X with the alpha flag: the transparency survived.
		expect(String.fromCharCode(...small.subarray(12, 16))).toBe("VP8X");
		expect((small[20] as number) & 0x10).toBe(0x10);
	});

	it("makes none for a 200 px original, and ?w= then serves the original", async () => {
		const small = await png(200, 150);
		const res = await upload(await newProduct(), small);
		expect(res.status).toBe(201);
		const body = (await res.json()) as MediaBody;
		expect(body.derivatives).toEqual([]);
		const served = await send(`/v1/media/${body.key}?w=640`);
		expect(served.status).toBe(200);
		expect(served.headers.get("content-type")).toBe("image/png");
		expect(new Uint8Array(await served.arrayBuffer())).toEqual(small);
	});

	it("refuses a corrupt image with 422 image_unreadable and stores nothing", async () => {
		const productId = await newProduct();
		const garbage = crypto.getRandomValues(new Uint8Array(4000));
		const corrupt = await png(1600, 900, undefined, garbage);
		const res = await upload(productId, corrupt);
		expect(res.status).toBe(422);
		expect((await problemOf(res)).code).toBe("image_unreadable");
		expect(await storedMedia(productId)).toEqual([]);
		expect(await env.MEDIA.head(`media/${await sha256(corrupt)}.png`)).toBeNull();

		// A JPEG whose scan refers to Huffman tables it never defines: libjpeg gives up on it.
		// (A merely truncated JPEG decodes as far as its data goes, greyed below, as browsers show it.)
		const real = await jpeg(800, 600);
		let sof = 2;
		while (!((real[sof + 1] as number) >= 0xc0 && (real[sof + 1] as number) <= 0xc2))
			sof += 2 + (((real[sof + 2] as number) << 8) | (real[sof + 3] as number));
		const frameEnd = sof + 2 + (((real[sof + 2] as number) << 8) | (real[sof + 3] as number));
		const scan = [0xff, 0xda, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3f, 0];
		const broken = await concat([real.subarray(0, frameEnd), new Uint8Array(scan), garbage, new Uint8Array([0xff, 0xd9])]);
		const brokenRes = await upload(productId, broken);
		expect(brokenRes.status).toBe(422);
		expect((await problemOf(brokenRes)).code).toBe("image_unreadable");
		expect(await storedMedia(productId)).toEqual([]);
	});

	it("refuses more than 2048 × 2048 pixels with 422 image_too_large from the header, before decoding", async () => {
		const productId = await newProduct();
		// The header claims 4000 × 3000; the data is garbage, so only a header check can answer too_large.
		const huge = await png(4000, 3000, undefined, crypto.getRandomValues(new Uint8Array(100)));
		const res = await upload(productId, huge);
		expect(res.status).toBe(422);
		const problem = await problemOf(res);
		expect(problem).toMatchObject({ code: "image_too_large", width: 4000, height: 3000, max_pixels: 2048 * 2048 });
		expect(problem.detail).toContain("4000 × 3000");
		expect(await storedMedia(productId)).toEqual([]);
		expect(await env.MEDIA.head(`media/${await sha256(huge)}.png`)).toBeNull();
		// Exactly at the limit is accepted.
		const atLimit = await upload(productId, await png(2048, 2048, new Uint8ClampedArray(2048 * 2048 * 4).fill(200)));
		expect(atLimit.status).toBe(201);
		expect(((await atLimit.json()) as MediaBody).derivatives.map((d) => d.width)).toEqual([320, 640, 1280]);
	});
});

describe("the storefront and the product API", () => {
	it("list the derivatives in the product's media and in srcset", async () => {
		const { productId } = await newSku(2500);
		const uploaded = await call(`/v1/admin/products/${productId}/media`, uploadInit(admin.access_token, await png(900, 900)));
		expect(uploaded.status).toBe(201);
		const { key } = (await uploaded.json()) as MediaBody;
		const detail = (await (await call(`/v1/products/${productId}`)).json()) as {
			slug: string;
			media: { key: string; derivatives: { width: number; height: number; url: string }[] }[];
		};
		expect(detail.media[0]?.derivatives).toEqual([
			{ width: 320, height: 320, url: `/v1/media/${key}?w=320` },
			{ width: 640, height: 640, url: `/v1/media/${key}?w=640` },
		]);
		const page = await (await call(`/p/${detail.slug}`)).text();
		expect(page).toContain(`srcset="/v1/media/${key}?w=320 320w, /v1/media/${key}?w=640 640w"`);
		const served = await call(`/v1/media/${key}?w=640`);
		expect(served.status).toBe(200);
		expect(served.headers.get("content-type")).toBe("image/webp");
	});
});

describe("pieces", () => {
	it("reads sizes from JPEG, PNG and WebP headers, and flags animations", async () => {
		expect(readImageHeader(await jpeg(33, 17), "image/jpeg")).toEqual({ width: 33, height: 17, animated: false });
		expect(readImageHeader(await png(5, 7), "image/png")).toEqual({ width: 5, height: 7, animated: false });
		const encode = await webpEncoderFor();
		expect(readImageHeader(encode({ data: picture(9, 4), width: 9, height: 4 }), "image/webp")).toEqual({
			width: 9,
			height: 4,
			animated: false,
		});
		const vp8x = new Uint8Array(30);
		vp8x.set([..."RIFF"].map((c) => c.charCodeAt(0)));
		vp8x.set(
			[..."WEBPVP8X"].map((c) => c.charCodeAt(0)),
			8,
		);
		vp8x.set([0x02, 0, 0, 0, 0x3f, 0x01, 0, 0xef, 0, 0], 20);
		expect(readImageHeader(vp8x, "image/webp")).toEqual({ width: 320, height: 240, animated: true });
		expect(readImageHeader(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), "image/jpeg")).toBeUndefined();
	});

	it("averages in linear light and weighs colour by alpha", () => {
		// Black and white side by side average to sRGB 188 (linear 0.5), not 128.
		const stripes = { data: new Uint8ClampedArray([0, 0, 0, 255, 255, 255, 255, 255]), width: 2, height: 1 };
		expect([...downscale(stripes, 1, 1).data]).toEqual([188, 188, 188, 255]);
		// A transparent pixel lends no colour: red next to transparent black stays red, half covered.
		const edge = { data: new Uint8ClampedArray([255, 0, 0, 255, 0, 0, 0, 0]), width: 2, height: 1 };
		expect([...downscale(edge, 1, 1).data]).toEqual([255, 0, 0, 128]);
	});

	it("picks the narrowest derivative at least w wide, else the widest", () => {
		const made = [1280, 320, 640].map((width) => ({ width, height: width, key: `k${width}`, content_type: "image/webp", bytes: 1 }));
		expect(pickDerivative(made, 1)?.width).toBe(320);
		expect(pickDerivative(made, 641)?.width).toBe(1280);
		expect(pickDerivative(made, 4000)?.width).toBe(1280);
		expect(pickDerivative([], 640)).toBeUndefined();
	});
});
