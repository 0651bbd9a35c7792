import type { RouteHandler } from "@hono/zod-openapi";
import { matchesEtag } from "../../catalog/cache.ts";
import { notFound } from "../../domain/errors.ts";
import {
	attachProductImage,
	checkUploadRequest,
	IMMUTABLE,
	keyForWidth,
	mediaMaxBytes,
	productExists,
	productNotFound,
	readUploadForm,
} from "../../media/upload.ts";
import { HttpError } from "../lib/problem.ts";
import type { AppEnv } from "../types.ts";
import type { getMediaRouting, uploadMedia } from "./media.routes.ts";

/**
 * Stores an image for a product (see `attachProductImage`). The cheap checks
 * come first: a declared oversize, the media type and the product are refused
 * before a byte of the body is read.
 */
export const uploadMediaHandler: RouteHandler<typeof uploadMedia, AppEnv> = async (c) => {
	const { id: productId } = c.req.valid("param");
	const max = mediaMaxBytes(c.env);
	const contentType = checkUploadRequest(c.req.raw, max);
	const db = c.get("database").primary;
	if (!(await productExists(db, productId))) throw productNotFound();
	const upload = await readUploadForm(c.req.raw, contentType, max);
	const { media, created } = await attachProductImage(c.env, db, productId, upload, {
		userId: c.get("auth").userId,
		requestId: c.get("requestId"),
	});
	return c.json(media, created ? 201 : 200);
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
 * 416 never transfers the file. `?w=` first reads the original's metadata for
 * the derivative to serve, which is then answered like any other object.
 */
export const getMediaHandler: RouteHandler<typeof getMediaRouting, AppEnv> = async (c) => {
	const { key: requested } = c.req.valid("param");
	const { w } = c.req.valid("query");
	const bucket = c.env.MEDIA;
	const key = w === undefined ? requested : await keyForWidth(bucket, requested, w);
	const isHead = c.req.method === "HEAD";
	const rangeHeader = c.req.header("range");
	const ifNoneMatch = c.req.header("if-none-match");
	const missing = () => notFound("There is no media with this key.");

	if (!isHead && !rangeHeader && !ifNoneMatch) {
		const object = await bucket.get(key);
		if (!object) throw missing();
		const headers = objectHeaders(object);
		headers.set("content-length", String(object.size));
		return new Response(object.body, { status: 200, headers });
	}

	const object = await bucket.head(key);
	if (!object) throw missing();
	const headers = objectHeaders(object);
	if (matchesEtag(ifNoneMatch, object.httpEtag)) return new Response(null, { status: 304, headers });

	// If-Range naming another version asks for the whole file; keys are immutable, but honour it anyway.
	const ifRange = c.req.header("if-range");
	const range = ifRange !== undefined && ifRange !== object.httpEtag ? undefined : parseRange(rangeHeader, object.size);
	if (range === "unsatisfiable") {
		throw new HttpError("range_not_satisfiable", {
			detail: `The file has ${object.size} bytes.`,
			headers: { "content-range": `bytes */${object.size}` },
		});
	}
	if (!range) {
		headers.set("content-length", String(object.size));
		if (isHead) return new Response(null, { status: 200, headers });
		const full = await bucket.get(key);
		if (!full) throw missing();
		return new Response(full.body, { status: 200, headers });
	}
	headers.set("content-range", `bytes ${range.offset}-${range.offset + range.length - 1}/${object.size}`);
	headers.set("content-length", String(range.length));
	if (isHead) return new Response(null, { status: 206, headers });
	const part = await bucket.get(key, { range });
	if (!part) throw missing();
	return new Response(part.body, { status: 206, headers });
};
