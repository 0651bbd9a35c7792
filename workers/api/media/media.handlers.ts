import type { RouteHandler } from "@hono/zod-openapi";
import { and, eq, sql } from "drizzle-orm";
import { recordAudit } from "../../catalog/audit.ts";
import { bumpCatalogVersion, matchesEtag } from "../../catalog/cache.ts";
import { media, products } from "../../db/schema.ts";
import { sha256Hex } from "../../domain/hash.ts";
import { newId } from "../../domain/ids.ts";
import { sniffImage } from "../../media/sniff.ts";
import { AppError, fieldErrors } from "../lib/problem.ts";
import type { AppEnv } from "../types.ts";
import type { getMediaRouting, uploadMedia } from "./media.routes.ts";
import { UploadFields } from "./media.routes.ts";

const DEFAULT_MEDIA_MAX_BYTES = 10 * 1024 * 1024;
/** Keys are content hashes, so the bytes behind a URL never change. */
const IMMUTABLE = "public, max-age=31536000, immutable";
const FORM_FIELDS = new Set(["file", "alt", "position"]);

type MediaRow = typeof media.$inferSelect;

function publicMedia(row: MediaRow) {
	return {
		id: row.id,
		product_id: row.productId,
		key: row.key,
		url: `/v1/media/${row.key}`,
		content_type: row.contentType as "image/jpeg" | "image/png" | "image/webp" | "image/avif",
		bytes: row.bytes,
		alt: row.alt,
		position: row.position,
	};
}

function mediaMaxBytes(env: Env): number {
	const configured = Number.parseInt(env.MEDIA_MAX_BYTES ?? "", 10);
	return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_MEDIA_MAX_BYTES;
}

const tooLarge = (max: number) =>
	new AppError(413, "payload_too_large", "Request body too large", { detail: `Uploads are limited to ${max} bytes.` });

const productNotFound = () => new AppError(404, "not_found", "Not found", { detail: "There is no product with this id." });

function invalid(path: string, message: string): AppError {
	return new AppError(400, "validation_failed", "Request validation failed", {
		detail: "The request form is invalid.",
		extensions: { errors: [{ path, message }] },
	});
}

/**
 * Reads a body into memory, refusing it as soon as it passes `max` bytes:
 * a chunked upload without Content-Length is never buffered past the cap.
 */
async function readCapped(body: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array> {
	if (!body) return new Uint8Array(0);
	const reader = body.getReader();
	const chunks: Uint8Array[] = [];
	let total = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		total += value.byteLength;
		if (total > max) {
			await reader.cancel().catch(() => {});
			throw tooLarge(max);
		}
		chunks.push(value);
	}
	const bytes = new Uint8Array(total);
	let offset = 0;
	for (const chunk of chunks) {
		bytes.set(chunk, offset);
		offset += chunk.byteLength;
	}
	return bytes;
}

/** The file and fields of an upload form, or the 400 that explains what is wrong with it. */
function readForm(form: FormData): { file: File; alt: string | undefined; position: number | undefined } {
	const unknown = [...new Set(form.keys())].filter((name) => !FORM_FIELDS.has(name));
	if (unknown.length > 0) throw invalid("body", `Unknown field(s): ${unknown.join(", ")}`);
	const files = form.getAll("file");
	if (files.length === 0) throw invalid("body.file", "Attach the image as the form field `file`.");
	if (files.length > 1) throw invalid("body.file", "Send one file per upload.");
	const file = files[0];
	// workerd yields a string for a part sent without a filename: that is a text field, not a file.
	if (typeof file === "string" || file === undefined) throw invalid("body.file", "`file` must be a file part (with a filename).");
	if (file.size === 0) throw invalid("body.file", "The file is empty.");
	const text = (name: string) => {
		const values = form.getAll(name);
		if (values.length > 1) throw invalid(`body.${name}`, `Send \`${name}\` once.`);
		const value = values[0];
		if (value !== undefined && typeof value !== "string") throw invalid(`body.${name}`, `\`${name}\` must be a text field.`);
		return value;
	};
	const parsed = UploadFields.safeParse({ alt: text("alt"), position: text("position") });
	if (!parsed.success) {
		throw new AppError(400, "validation_failed", "Request validation failed", {
			detail: "The request form is invalid.",
			extensions: { errors: fieldErrors(parsed.error.issues, "body") },
		});
	}
	return { file, alt: parsed.data.alt, position: parsed.data.position };
}

/**
 * Stores an image for a product. The bytes are sniffed (never the name or the
 * declared type), put in R2 under their SHA-256, then the media row and its
 * audit entry commit together. R2 is written first: a failed transaction
 * leaves at worst an unreferenced, content-addressed object, never a row
 * that points at nothing.
 */
export const uploadMediaHandler: RouteHandler<typeof uploadMedia, AppEnv> = async (c) => {
	const { id: productId } = c.req.valid("param");
	const max = mediaMaxBytes(c.env);
	// The global body limit skips this route; refuse a declared oversize before reading a byte.
	const declared = Number(c.req.header("content-length") ?? "");
	if (Number.isFinite(declared) && declared > max) throw tooLarge(max);

	const contentType = c.req.header("content-type") ?? "";
	const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
	if (mediaType !== "multipart/form-data" || !/;\s*boundary=/i.test(contentType)) {
		throw new AppError(415, "unsupported_media_type", "Unsupported media type", {
			detail: "Send the upload as multipart/form-data with the image in the field `file`.",
		});
	}

	const db = c.get("database").primary;
	// Cheap to ask before reading up to MEDIA_MAX_BYTES for a product that does not exist.
	const [known] = await db.select({ id: products.id }).from(products).where(eq(products.id, productId));
	if (!known) throw productNotFound();

	const body = await readCapped(c.req.raw.body, max);
	let form: FormData;
	try {
		form = await new Response(body, { headers: { "content-type": contentType } }).formData();
	} catch {
		throw new AppError(400, "malformed_request", "Malformed request", { detail: "The multipart/form-data body could not be parsed." });
	}
	const { file, alt, position } = readForm(form);
	const bytes = new Uint8Array(await file.arrayBuffer());
	const sniffed = sniffImage(bytes);
	if (!sniffed) {
		throw new AppError(415, "unsupported_media_type", "Unsupported media type", {
			detail: "The file is not a JPEG, PNG, WebP or AVIF image.",
		});
	}

	const hash = await sha256Hex(bytes);
	const key = `media/${hash}.${sniffed.extension}`;
	// Same bytes, same key: a repeated put rewrites identical content, and R2 checks it against the hash.
	await c.env.MEDIA.put(key, bytes, {
		httpMetadata: { contentType: sniffed.contentType, cacheControl: IMMUTABLE },
		sha256: hash,
	});

	const auth = c.get("auth");
	const { row, created } = await db.transaction(async (tx) => {
		// Locking the product serialises uploads to it: the duplicate check and the default position hold.
		const [product] = await tx.select({ id: products.id }).from(products).where(eq(products.id, productId)).for("update");
		if (!product) throw productNotFound();
		const [existing] = await tx
			.select()
			.from(media)
			.where(and(eq(media.productId, productId), eq(media.key, key)));
		if (existing) return { row: existing, created: false };
		const [{ next } = { next: 0 }] = await tx
			.select({ next: sql<number>`coalesce(max(${media.position}) + 1, 0)::int` })
			.from(media)
			.where(eq(media.productId, productId));
		const [inserted] = await tx
			.insert(media)
			.values({
				id: newId("med"),
				productId,
				key,
				contentType: sniffed.contentType,
				bytes: bytes.byteLength,
				alt: alt ?? "",
				position: position ?? next,
			})
			.returning();
		if (!inserted) throw new Error("insert returned no row");
		await recordAudit(tx, {
			actorId: auth.userId,
			action: "media.create",
			entityType: "media",
			entityId: inserted.id,
			before: null,
			after: publicMedia(inserted),
			requestId: c.get("requestId"),
		});
		return { row: inserted, created: true };
	});

	if (!created) return c.json(publicMedia(row), 200);
	await bumpCatalogVersion(c.env.CATALOG);
	return c.json(publicMedia(row), 201);
};

type ByteRange = { offset: number; length: number };

/**
 * Reads a single-range `Range` header against the object's size. Undefined
 * means "serve the whole file" (no header, another unit, several ranges:
 * RFC 9110 lets a server ignore those); "unsatisfiable" means 416.
 */
function parseRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | undefined {
	if (!header) return undefined;
	const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
	if (!match) return undefined;
	const [, first = "", last = ""] = match;
	if (first === "" && last === "") return undefined;
	if (first === "") {
		const suffix = Number(last);
		if (suffix === 0 || size === 0) return "unsatisfiable";
		const length = Math.min(suffix, size);
		return { offset: size - length, length };
	}
	const start = Number(first);
	if (start >= size) return "unsatisfiable";
	const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
	if (end < start) return "unsatisfiable";
	return { offset: start, length: end - start + 1 };
}

function objectHeaders(object: R2Object): Headers {
	return new Headers({
		etag: object.httpEtag,
		"cache-control": IMMUTABLE,
		"accept-ranges": "bytes",
		"content-type": object.httpMetadata?.contentType ?? "application/octet-stream",
	});
}

/**
 * Serves an image from R2, for GET and HEAD (Hono answers HEAD with the GET
 * handler and drops the body). A plain GET costs one R2 read; conditional,
 * ranged and HEAD requests look at the object's metadata first, so a 304 or a
 * 416 never transfers the file.
 */
export const getMediaHandler: RouteHandler<typeof getMediaRouting, AppEnv> = async (c) => {
	const { key } = c.req.valid("param");
	const bucket = c.env.MEDIA;
	const isHead = c.req.method === "HEAD";
	const rangeHeader = c.req.header("range");
	const ifNoneMatch = c.req.header("if-none-match");
	const notFound = () => new AppError(404, "not_found", "Not found", { detail: "There is no media with this key." });

	if (!isHead && !rangeHeader && !ifNoneMatch) {
		const object = await bucket.get(key);
		if (!object) throw notFound();
		const headers = objectHeaders(object);
		headers.set("content-length", String(object.size));
		return new Response(object.body, { status: 200, headers });
	}

	const object = await bucket.head(key);
	if (!object) throw notFound();
	const headers = objectHeaders(object);
	if (matchesEtag(ifNoneMatch, object.httpEtag)) return new Response(null, { status: 304, headers });

	// If-Range naming another version asks for the whole file; keys are immutable, but honour it anyway.
	const ifRange = c.req.header("if-range");
	const range = ifRange !== undefined && ifRange !== object.httpEtag ? undefined : parseRange(rangeHeader, object.size);
	if (range === "unsatisfiable") {
		throw new AppError(416, "range_not_satisfiable", "Range not satisfiable", {
			detail: `The file has ${object.size} bytes.`,
			headers: { "content-range": `bytes */${object.size}` },
		});
	}
	if (!range) {
		headers.set("content-length", String(object.size));
		if (isHead) return new Response(null, { status: 200, headers });
		const full = await bucket.get(key);
		if (!full) throw notFound();
		return new Response(full.body, { status: 200, headers });
	}
	headers.set("content-range", `bytes ${range.offset}-${range.offset + range.length - 1}/${object.size}`);
	headers.set("content-length", String(range.length));
	if (isHead) return new Response(null, { status: 206, headers });
	const part = await bucket.get(key, { range });
	if (!part) throw notFound();
	return new Response(part.body, { status: 206, headers });
};
