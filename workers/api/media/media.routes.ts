import { createRoute, z } from "@hono/zod-openapi";
import { DERIVATIVE_WIDTHS, MAX_IMAGE_PIXELS, MAX_REQUESTED_WIDTH } from "../../media/sizes.ts";
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

const EXAMPLE_DERIVATIVE_KEY = "media/2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae.webp";

/** One WebP copy of an image, made at upload (media/derivatives.ts). */
export const MediaDerivativeSchema = z
	.object({
		width: integer(1, MAX_REQUESTED_WIDTH).openapi({ description: `Width in pixels: one of ${DERIVATIVE_WIDTHS.join(", ")}` }),
		height: integer(1, MAX_IMAGE_PIXELS),
		key: MediaKey.openapi({ example: EXAMPLE_DERIVATIVE_KEY }),
		url: z
			.string()
			.max(100)
			.openapi({ format: "uri-reference", example: `/v1/media/${EXAMPLE_DERIVATIVE_KEY}` }),
		content_type: ImageType,
		bytes: count(),
	})
	.openapi("MediaDerivative");

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
		derivatives: z
			.array(MediaDerivativeSchema)
			.max(DERIVATIVE_WIDTHS.length)
			.openapi({
				description: `WebP copies at each of ${DERIVATIVE_WIDTHS.join(", ")} px narrower than the image, narrowest first; none for AVIF or animations`,
			}),
	})
	.openapi("Media");

const MediaKeyParam = z.object({
	key: MediaKey.openapi({
		param: { name: "key", in: "path" },
		description: "The `key` of a media item; its slash may be sent as is or as %2F.",
	}),
});

const MediaWidthQuery = z.object({
	w: z.coerce
		.number()
		.int()
		.min(1)
		.max(MAX_REQUESTED_WIDTH)
		.optional()
		.openapi({
			param: { name: "w", in: "query" },
			format: "int32",
			description: `The width the image is shown at, in device pixels: serves the narrowest derivative at least this wide (of ${DERIVATIVE_WIDTHS.join(", ")}), else the widest one, or the original when the image has none.`,
			example: 640,
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
		"multipart/form-data with `file` (JPEG, PNG, WebP or AVIF, recognised from its bytes, never from its name or declared type), optional `alt` and `position`. The body is capped at MEDIA_MAX_BYTES (10 MiB by default), the image at 2048 × 2048 pixels. JPEG, PNG and WebP get WebP copies (`derivatives`) at each of 320, 640 and 1280 px narrower than the image. The same bytes uploaded again to the same product return the existing item with 200.",
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
		422: problem(
			"`image_too_large` (more than 2048 × 2048 pixels, read from the header) or `image_unreadable` (the image cannot be decoded)",
		),
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
		"Keys are content hashes, so an answer may be cached forever. `?w=` serves the nearest WebP derivative instead of the original (its own ETag and type). `Range: bytes=a-b`, `a-` or `-n` asks for one part (206); If-None-Match with the ETag answers 304.",
	request: { params: MediaKeyParam, query: MediaWidthQuery },
	responses: {
		200: { description: "The whole file", headers: cachingHeaders, content: imageContent },
		206: {
			description: "The requested byte range (`Range: bytes=a-b`, `a-` or `-n`)",
			headers: { ...cachingHeaders, "Content-Range": header("bytes a-b/size", { maxLength: 64, pattern: "^bytes \\d+-\\d+/\\d+$" }) },
			content: imageContent,
		},
		304: { description: "If-None-Match named the current ETag", headers: cachingHeaders },
		...baseProblems,
		400: problem("Not a media key, or `w` is not a whole number from 1 to 4000"),
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
