import { createRoute, z } from "@hono/zod-openapi";
import { IMMUTABLE, MAX_ALT_LENGTH, MAX_POSITION } from "../../media/upload.ts";
import {
	adminAuth,
	adminProblems,
	baseProblems,
	count,
	databaseProblems,
	integer,
	jsonResponse,
	problem,
	publicAccess,
	text,
} from "../lib/openapi.ts";
import { idPattern, ProductId, ProductIdParam, prefixedId } from "../lib/params.ts";

/** Every stored key: `media/<sha256 of the bytes>.<extension of the sniffed type>`. */
export const MEDIA_KEY_PATTERN = /^media\/[0-9a-f]{64}\.(jpg|png|webp|avif)$/;

const EXAMPLE_KEY = "media/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.png";

const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/avif"] as const;
export const ImageType = z.enum(IMAGE_TYPES);

export const MediaKey = z
	.string()
	.max(80)
	.regex(MEDIA_KEY_PATTERN, "Use a key as returned by the upload: media/<64 hex>.<jpg|png|webp|avif>.")
	.openapi({ example: EXAMPLE_KEY });

export const MediaSchema = z
	.object({
		id: prefixedId(idPattern("med"), "med_9q0x7v3b6n1c5d4f8k2m"),
		product_id: ProductId,
		key: MediaKey,
		url: z
			.string()
			.max(100)
			.openapi({ format: "uri-reference", example: `/v1/media/${EXAMPLE_KEY}`, description: "Where GET /v1/media/{key} serves it" }),
		content_type: ImageType,
		bytes: count(),
		alt: text(MAX_ALT_LENGTH),
		position: integer(0, MAX_POSITION),
	})
	.openapi("Media");

const MediaKeyParam = z.object({
	key: MediaKey.openapi({
		param: { name: "key", in: "path" },
		description: "The `key` of a media item; its slash may be sent as is or as %2F.",
	}),
});

/**
 * A plain OpenAPI schema on purpose: a zod schema here would make the
 * framework parse the whole form before the handler could cap its size.
 */
const uploadForm = {
	type: "object" as const,
	required: ["file"],
	properties: {
		file: {
			type: "string" as const,
			format: "binary",
			// MEDIA_MAX_BYTES' default (media/upload.ts); an environment may set another cap.
			maxLength: 10 * 1024 * 1024,
			description: "JPEG, PNG, WebP or AVIF; the type is read from the bytes. At most MEDIA_MAX_BYTES (10 MiB by default).",
		},
		alt: { type: "string" as const, maxLength: MAX_ALT_LENGTH, description: "Text alternative for the image" },
		position: {
			type: "integer" as const,
			format: "int32",
			minimum: 0,
			maximum: MAX_POSITION,
			description: "Order among the product's images (default: last)",
		},
	},
};

export const uploadMedia = createRoute({
	method: "post",
	path: "/admin/products/{id}/media",
	operationId: "uploadProductMedia",
	tags: ["Admin"],
	security: adminAuth,
	summary: "Upload a product image to R2 (audited)",
	description:
		"multipart/form-data with `file` (JPEG, PNG, WebP or AVIF, recognised from its bytes, never from its name or declared type), optional `alt` and `position`. The body is capped at MEDIA_MAX_BYTES (10 MiB by default). The same bytes uploaded again to the same product return the existing item with 200.",
	request: {
		params: ProductIdParam,
		body: { required: true, content: { "multipart/form-data": { schema: uploadForm } } },
	},
	responses: {
		200: jsonResponse(MediaSchema, "These bytes were already attached to this product: the existing item"),
		201: jsonResponse(MediaSchema, "Stored and attached"),
		...databaseProblems,
		400: problem("`validation_failed` (missing file, alt too long, bad position) or `malformed_request` (unreadable form)"),
		...adminProblems,
		404: problem("No such product"),
		413: problem("Body larger than MEDIA_MAX_BYTES"),
		415: problem("Body is not multipart/form-data, or the file is not a JPEG, PNG, WebP or AVIF image"),
	},
});

/** The bytes as stored; OpenAPI 3.1 describes raw bytes by the media type alone. */
const imageContent = Object.fromEntries(IMAGE_TYPES.map((type) => [type, {}]));

const header = (description: string, schema: { maxLength: number; pattern?: string; enum?: string[] }) => ({
	description,
	schema: { type: "string" as const, ...schema },
});
const cachingHeaders = {
	ETag: header("Strong validator of the stored bytes", { maxLength: 100, pattern: '^"[^"]+"$' }),
	"Cache-Control": header("The bytes behind a key never change", { maxLength: 100, enum: [IMMUTABLE] }),
	"Accept-Ranges": header("Single byte ranges are served", { maxLength: 5, enum: ["bytes"] }),
};

const getMediaConfig = {
	method: "get" as const,
	operationId: "getMedia",
	tags: ["Catalog"],
	security: publicAccess,
	summary: "Media bytes from R2 (ETag, single byte ranges, immutable caching); HEAD is answered too",
	description:
		"Keys are content hashes, so an answer may be cached forever. `Range: bytes=a-b`, `a-` or `-n` asks for one part (206); If-None-Match with the ETag answers 304.",
	request: { params: MediaKeyParam },
	responses: {
		200: { description: "The whole file", headers: cachingHeaders, content: imageContent },
		206: {
			description: "The requested byte range (`Range: bytes=a-b`, `a-` or `-n`)",
			headers: { ...cachingHeaders, "Content-Range": header("bytes a-b/size", { maxLength: 64, pattern: "^bytes \\d+-\\d+/\\d+$" }) },
			content: imageContent,
		},
		304: { description: "If-None-Match named the current ETag", headers: cachingHeaders },
		...baseProblems,
		400: problem("Not a media key"),
		404: problem("No media with this key"),
		416: problem("`range_not_satisfiable`; Content-Range gives the size as `bytes */size`"),
	},
};

/** `GET /media/{key}` as documented: the key is one parameter. */
export const getMedia = createRoute({ ...getMediaConfig, path: "/media/{key}" });

/**
 * The same route as routed: the key holds a slash, which `{key}` (one path
 * segment) cannot match, so the router takes everything after /media/.
 * Hidden from the document, which shows `getMedia` instead.
 */
export const getMediaRouting = createRoute({ ...getMediaConfig, path: "/media/{key{.+}}", hide: true });
