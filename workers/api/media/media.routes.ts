import { createRoute, z } from "@hono/zod-openapi";
import { MAX_ALT_LENGTH, MAX_POSITION } from "../../media/upload.ts";
import { authProblems, bearerAuth, jsonResponse } from "../lib/openapi.ts";
import { problemResponse } from "../lib/problem.ts";

/** Every stored key: `media/<sha256 of the bytes>.<extension of the sniffed type>`. */
export const MEDIA_KEY_PATTERN = /^media\/[0-9a-f]{64}\.(jpg|png|webp|avif)$/;

const EXAMPLE_KEY = "media/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.png";

export const MediaSchema = z
	.object({
		id: z.string().openapi({ example: "med_9q0x7v3b6n1c5d4f8k2m" }),
		product_id: z.string().openapi({ example: "prod_9q0x7v3b6n1c5d4f8k2m" }),
		key: z.string().openapi({ example: EXAMPLE_KEY }),
		url: z.string().openapi({ example: `/v1/media/${EXAMPLE_KEY}`, description: "Where GET /v1/media/{key} serves it" }),
		content_type: z.enum(["image/jpeg", "image/png", "image/webp", "image/avif"]),
		bytes: z.number().int(),
		alt: z.string(),
		position: z.number().int(),
	})
	.openapi("Media");

const ProductIdParam = z.object({
	id: z
		.string()
		.min(1)
		.max(64)
		.openapi({ param: { name: "id", in: "path" }, example: "prod_9q0x7v3b6n1c5d4f8k2m" }),
});

const MediaKeyParam = z.object({
	key: z
		.string()
		.regex(MEDIA_KEY_PATTERN, "Use a key as returned by the upload: media/<64 hex>.<jpg|png|webp|avif>.")
		.openapi({
			param: { name: "key", in: "path" },
			description: "The `key` of a media item; its slash may be sent as is or as %2F.",
			example: EXAMPLE_KEY,
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
		file: { type: "string" as const, format: "binary", description: "JPEG, PNG, WebP or AVIF; the type is read from the bytes" },
		alt: { type: "string" as const, maxLength: MAX_ALT_LENGTH, description: "Text alternative for the image" },
		position: {
			type: "integer" as const,
			minimum: 0,
			maximum: MAX_POSITION,
			description: "Order among the product's images (default: last)",
		},
	},
};

export const uploadMedia = createRoute({
	method: "post",
	path: "/admin/products/{id}/media",
	tags: ["Admin"],
	security: bearerAuth,
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
		400: problemResponse("`validation_failed` (missing file, alt too long, bad position) or `malformed_request` (unreadable form)"),
		...authProblems,
		403: problemResponse("Not an admin"),
		404: problemResponse("No such product"),
		413: problemResponse("Body larger than MEDIA_MAX_BYTES"),
		415: problemResponse("Body is not multipart/form-data, or the file is not a JPEG, PNG, WebP or AVIF image"),
	},
});

const imageContent = Object.fromEntries(
	["image/jpeg", "image/png", "image/webp", "image/avif"].map((type) => [type, { schema: { type: "string" as const, format: "binary" } }]),
);

const cachingHeaders = {
	ETag: { description: "Strong validator of the stored bytes", schema: { type: "string" as const } },
	"Cache-Control": { description: "public, max-age=31536000, immutable", schema: { type: "string" as const } },
	"Accept-Ranges": { description: "bytes", schema: { type: "string" as const } },
};

const getMediaConfig = {
	method: "get" as const,
	tags: ["Catalog"],
	summary: "Media bytes from R2 (ETag, single byte ranges, immutable caching); HEAD is answered too",
	request: { params: MediaKeyParam },
	responses: {
		200: { description: "The whole file", headers: cachingHeaders, content: imageContent },
		206: {
			description: "The requested byte range (`Range: bytes=a-b`, `a-` or `-n`)",
			headers: { ...cachingHeaders, "Content-Range": { description: "bytes a-b/size", schema: { type: "string" as const } } },
			content: imageContent,
		},
		304: { description: "If-None-Match named the current ETag", headers: cachingHeaders },
		400: problemResponse("Not a media key"),
		404: problemResponse("No media with this key"),
		416: problemResponse("`range_not_satisfiable`; Content-Range gives the size as `bytes */size`"),
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
