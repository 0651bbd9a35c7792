import { and, asc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { recordAudit } from "../catalog/audit.ts";
import { bumpCatalogVersion } from "../catalog/cache.ts";
import type { Db } from "../db/client.ts";
import { type MediaDerivative, media, products } from "../db/schema.ts";
import { DomainError, fieldErrors, notFound } from "../domain/errors.ts";
import { sha256Hex } from "../domain/hash.ts";
import { newId } from "../domain/ids.ts";
import { imageResizerFor, pickDerivative } from "./derivatives.ts";
import { mediaUrl } from "./sizes.ts";
import { type ImageContentType, sniffImage } from "./sniff.ts";

/** Longest accepted alt text, in characters. */
export const MAX_ALT_LENGTH = 300;
/** Largest accepted `position`; positions only order a product's images. */
export const MAX_POSITION = 10_000;
/** The text fields of the upload form; the file itself is read and checked by the handler. */
export const UploadFields = z.object({
	alt: z.string().trim().max(MAX_ALT_LENGTH).optional(),
	position: z
		.string()
		.regex(/^\d{1,5}$/, "Use a whole number from 0.")
		.transform(Number)
		.pipe(z.number().int().max(MAX_POSITION))
		.optional(),
});

/**
 * Product image uploads, shared by `POST /v1/admin/products/{id}/media` and
 * the admin console's upload form: the size cap, the form's fields, the
 * sniffing and the content-addressed R2 key live here once.
 */

const DEFAULT_MEDIA_MAX_BYTES = 10 * 1024 * 1024;
/** Keys are content hashes, so the bytes behind a URL never change. */
export const IMMUTABLE = "public, max-age=31536000, immutable";
const FORM_FIELDS = new Set(["file", "alt", "position"]);

type MediaRow = typeof media.$inferSelect;

/** A product image as the API and the console show it. */
export interface MediaView {
	id: string;
	product_id: string;
	key: string;
	url: string;
	content_type: "image/jpeg" | "image/png" | "image/webp" | "image/avif";
	bytes: number;
	alt: string;
	position: number;
	/** The WebP copies made at upload, narrowest first (see media/derivatives.ts). */
	derivatives: (Omit<MediaDerivative, "content_type"> & { url: string; content_type: MediaView["content_type"] })[];
}

export function publicMedia(row: MediaRow): MediaView {
	return {
		id: row.id,
		product_id: row.productId,
		key: row.key,
		url: `/v1/media/${row.key}`,
		content_type: row.contentType as MediaView["content_type"],
		bytes: row.bytes,
		alt: row.alt,
		position: row.position,
		derivatives: row.derivatives.map((derivative) => ({
			...derivative,
			url: mediaUrl(derivative.key),
			content_type: derivative.content_type as MediaView["content_type"],
		})),
	};
}

/**
 * The R2 custom metadata field of an original that lists its derivatives
 * (JSON `MediaDerivative[]`), so that `GET /v1/media/{key}?w=` finds them
 * without a database read. An original stored before derivatives existed
 * has none; it is then served for every width.
 */
const DERIVATIVES_METADATA = "derivatives";

/** The derivatives an original's R2 metadata lists, or undefined when it lists none. */
export function derivativesOf(object: R2Object | null): MediaDerivative[] | undefined {
	const listed = object?.customMetadata?.[DERIVATIVES_METADATA];
	if (listed === undefined) return undefined;
	try {
		const parsed: unknown = JSON.parse(listed);
		return Array.isArray(parsed) ? (parsed as MediaDerivative[]) : undefined;
	} catch {
		return undefined;
	}
}

/**
 * The key `GET /v1/media/{key}?w=` serves: the derivative `pickDerivative`
 * chooses, or the original itself when it has none (or is not stored:
 * the caller's read of it then answers 404).
 */
export async function keyForWidth(bucket: R2Bucket, key: string, width: number): Promise<string> {
	const derivatives = derivativesOf(await bucket.head(key));
	return (derivatives && pickDerivative(derivatives, width)?.key) ?? key;
}

/**
 * Makes and stores the derivatives of an original (or finds them: the same
 * bytes stored before already have theirs, listed on the original in R2).
 * Each goes under its own content hash, `media/<sha256>.webp`, immutable.
 */
async function storeDerivatives(env: Env, key: string, bytes: Uint8Array, contentType: ImageContentType): Promise<MediaDerivative[]> {
	const known = derivativesOf(await env.MEDIA.head(key));
	if (known) return known;
	const made = await imageResizerFor(env).derive(bytes, contentType);
	return Promise.all(
		made.map(async (derivative) => {
			const hash = await sha256Hex(derivative.bytes);
			const derivativeKey = `media/${hash}.webp`;
			await env.MEDIA.put(derivativeKey, derivative.bytes, {
				httpMetadata: { contentType: derivative.contentType, cacheControl: IMMUTABLE },
				sha256: hash,
			});
			return {
				width: derivative.width,
				height: derivative.height,
				key: derivativeKey,
				content_type: derivative.contentType,
				bytes: derivative.bytes.byteLength,
			};
		}),
	);
}

/** The upload cap: MEDIA_MAX_BYTES, else 10 MiB. */
export function mediaMaxBytes(env: Env): number {
	const configured = Number.parseInt(env.MEDIA_MAX_BYTES ?? "", 10);
	return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_MEDIA_MAX_BYTES;
}

export const tooLarge = (max: number) => new DomainError("payload_too_large", { detail: `Uploads are limited to ${max} bytes.` });

export const productNotFound = () => notFound("There is no product with this id.");

function invalid(path: string, message: string): DomainError {
	return new DomainError("validation_failed", {
		detail: "The request form is invalid.",
		extensions: { errors: [{ path, message }] },
	});
}

/**
 * The checks that need no body: a declared size over `max` (413; the global
 * body limit skips upload routes) and anything but multipart/form-data with a
 * boundary (415). Returns the Content-Type to parse the body with.
 */
export function checkUploadRequest(request: Request, max: number): string {
	const declared = Number(request.headers.get("content-length") ?? "");
	if (Number.isFinite(declared) && declared > max) throw tooLarge(max);
	const contentType = request.headers.get("content-type") ?? "";
	const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
	if (mediaType !== "multipart/form-data" || !/;\s*boundary=/i.test(contentType)) {
		throw new DomainError("unsupported_media_type", {
			detail: "Send the upload as multipart/form-data with the image in the field `file`.",
		});
	}
	return contentType;
}

/** Whether the product exists: cheap to ask before reading up to MEDIA_MAX_BYTES of upload for nothing. */
export async function productExists(db: Db, productId: string): Promise<boolean> {
	const [known] = await db.select({ id: products.id }).from(products).where(eq(products.id, productId));
	return known !== undefined;
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

/** What an upload form carries once checked. */
export interface UploadForm {
	file: File;
	alt: string | undefined;
	position: number | undefined;
}

/**
 * Reads a multipart upload (`file`, optional `alt` and `position`) within
 * `max` bytes, or throws the 413, 400 that explains what is wrong with it.
 * The caller has already checked the Content-Type.
 */
export async function readUploadForm(request: Request, contentType: string, max: number): Promise<UploadForm> {
	const body = await readCapped(request.body, max);
	let form: FormData;
	try {
		form = await new Response(body, { headers: { "content-type": contentType } }).formData();
	} catch {
		throw new DomainError("malformed_request", { detail: "The multipart/form-data body could not be parsed." });
	}
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
		throw new DomainError("validation_failed", {
			detail: "The request form is invalid.",
			extensions: { errors: fieldErrors(parsed.error.issues, "body") },
		});
	}
	return { file, alt: parsed.data.alt, position: parsed.data.position };
}

/**
 * Stores an image for a product. The bytes are sniffed (never the name or the
 * declared type), their derivatives made (an image too large or that cannot
 * be decoded is a 422, and nothing is stored), all put in R2 under their
 * SHA-256, then the media row with its derivatives and its audit entry commit
 * together. R2 is written first: a failed transaction leaves at worst
 * unreferenced, content-addressed objects, never a row that points at
 * nothing. The same bytes uploaded again to the same product return the
 * existing item with `created: false`.
 */
export async function attachProductImage(
	env: Env,
	db: Db,
	productId: string,
	upload: UploadForm,
	actor: { userId: string; requestId?: string | undefined },
): Promise<{ media: MediaView; created: boolean }> {
	const bytes = new Uint8Array(await upload.file.arrayBuffer());
	const sniffed = sniffImage(bytes);
	if (!sniffed) {
		throw new DomainError("unsupported_media_type", {
			detail: "The file is not a JPEG, PNG, WebP or AVIF image.",
		});
	}

	const hash = await sha256Hex(bytes);
	const key = `media/${hash}.${sniffed.extension}`;
	const derivatives = await storeDerivatives(env, key, bytes, sniffed.contentType);
	// Same bytes, same key: a repeated put rewrites identical content, and R2 checks it against the hash.
	await env.MEDIA.put(key, bytes, {
		httpMetadata: { contentType: sniffed.contentType, cacheControl: IMMUTABLE },
		customMetadata: { [DERIVATIVES_METADATA]: JSON.stringify(derivatives) },
		sha256: hash,
	});

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
				alt: upload.alt ?? "",
				derivatives,
				position: upload.position ?? next,
			})
			.returning();
		if (!inserted) throw new Error("insert returned no row");
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "media.create",
			entityType: "media",
			entityId: inserted.id,
			before: null,
			after: publicMedia(inserted),
			requestId: actor.requestId,
		});
		return { row: inserted, created: true };
	});

	if (created) await bumpCatalogVersion(env.CATALOG);
	return { media: publicMedia(row), created };
}

/** A product's images in display order. */
export async function productImages(db: Db, productId: string): Promise<MediaView[]> {
	const rows = await db.select().from(media).where(eq(media.productId, productId)).orderBy(asc(media.position), asc(media.createdAt));
	return rows.map(publicMedia);
}
