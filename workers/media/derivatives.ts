/**
 * Image derivatives: the WebP copies of an upload at DERIVATIVE_WIDTHS that
 * the storefront's `srcset` and `GET /v1/media/{key}?w=` serve instead of the
 * original. They are made once, at upload, behind `ImageResizer`; IMAGE_RESIZER
 * names the implementation ("wasm", the default and the only one: jSquash's
 * WASM codecs in the Worker itself).
 *
 * Memory bounds everything here: an isolate has 128 MB for the whole Worker,
 * and a decoded image takes 4 bytes a pixel in JS plus its decoder's heap
 * (measured per pixel: mozjpeg 8 bytes, png 10 plus the file, libwebp 5). So
 * images above MAX_IMAGE_PIXELS are refused from their header before any
 * decoding (at the limit, workerd's resident set rose by about 68 MB during a
 * PNG's upload in the bench; every codec instance is let go afterwards), and
 * one isolate derives one image at a time.
 */
import type { MediaDerivative } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import { decodeJpeg, decodePng, decodeWebp, webpEncoderFor } from "./codecs.ts";
import { downscale, type Pixels } from "./downscale.ts";
import { readImageHeader } from "./image-header.ts";
import { DERIVATIVE_WIDTHS, MAX_IMAGE_PIXELS } from "./sizes.ts";
import type { ImageContentType } from "./sniff.ts";

/** One resized copy, before it is stored. */
export interface Derivative {
	width: number;
	height: number;
	contentType: "image/webp";
	bytes: Uint8Array<ArrayBuffer>;
}

/** Makes an upload's derivatives; an implementation refuses with `image_too_large` or `image_unreadable` (422). */
export interface ImageResizer {
	/**
	 * The copies at each of DERIVATIVE_WIDTHS narrower than the image,
	 * narrowest first; none for an image that narrow, for AVIF, for an animation, or
	 * for a file whose header declares no size.
	 */
	derive(bytes: Uint8Array, contentType: ImageContentType): Promise<Derivative[]>;
}

const megapixels = (pixels: number) => (pixels / 1_000_000).toFixed(1);

function tooLarge(width: number, height: number): DomainError {
	return new DomainError("image_too_large", {
		detail: `The image is ${width} × ${height} pixels (${megapixels(width * height)} MP); images up to ${megapixels(MAX_IMAGE_PIXELS)} MP (2048 × 2048) are accepted. Scale it down and upload it again.`,
		extensions: { width, height, max_pixels: MAX_IMAGE_PIXELS },
	});
}

function unreadable(contentType: ImageContentType, cause: unknown): DomainError {
	return new DomainError("image_unreadable", {
		detail: `The file starts like ${contentType} but could not be decoded; it may be truncated or damaged.`,
		cause,
	});
}

/** A derivative's height: the original's aspect ratio at `width`, at least one pixel. */
export const heightAt = (width: number, source: { width: number; height: number }) =>
	Math.max(1, Math.round((source.height * width) / source.width));

let busy: Promise<unknown> = Promise.resolve();
/** Runs `task` after every derivation already started in this isolate: their buffers are never held at once. */
function oneAtATime<T>(task: () => Promise<T>): Promise<T> {
	const run = busy.then(task, task);
	busy = run.catch(() => undefined);
	return run;
}

function decode(bytes: Uint8Array, contentType: ImageContentType): Promise<Pixels> {
	if (contentType === "image/png") return Promise.resolve().then(() => decodePng(bytes));
	if (contentType === "image/jpeg") return decodeJpeg(bytes);
	return decodeWebp(bytes);
}

/** Derivatives made in the Worker: decode (mozjpeg, png, libwebp), area-average downscale, libwebp encode. */
export const wasmImageResizer: ImageResizer = {
	async derive(bytes, contentType) {
		const header = readImageHeader(bytes, contentType);
		if (!header || header.animated) return [];
		if (header.width * header.height > MAX_IMAGE_PIXELS) throw tooLarge(header.width, header.height);
		// A JPEG's EXIF orientation may turn it on its side, so either edge may become its width.
		const widest = contentType === "image/jpeg" ? Math.max(header.width, header.height) : header.width;
		if (!DERIVATIVE_WIDTHS.some((width) => width < widest)) return [];
		return oneAtATime(async () => {
			let source: Pixels;
			try {
				source = await decode(bytes, contentType);
			} catch (err) {
				throw unreadable(contentType, err);
			}
			if (source.width * source.height > MAX_IMAGE_PIXELS) throw tooLarge(source.width, source.height);
			const widths = DERIVATIVE_WIDTHS.filter((width) => width < source.width).reverse();
			if (widths.length === 0) return [];
			// Every copy is reduced from the next wider one: each pass reads a quarter of the pixels the last did.
			const scaled: Pixels[] = [];
			let from = source;
			for (const width of widths) {
				from = downscale(from, width, heightAt(width, source));
				scaled.push(from);
			}
			const encode = await webpEncoderFor();
			return scaled
				.reverse()
				.map((image) => ({ width: image.width, height: image.height, contentType: "image/webp" as const, bytes: encode(image) }));
		});
	},
};

/** The resizer IMAGE_RESIZER names ("wasm" when unset); any other name is a deployment error. */
export function imageResizerFor(env: { IMAGE_RESIZER?: string }): ImageResizer {
	const name = env.IMAGE_RESIZER || "wasm";
	if (name === "wasm") return wasmImageResizer;
	throw new Error(`IMAGE_RESIZER must be "wasm", not "${name}"`);
}

/**
 * What `GET /v1/media/{key}?w=` serves: the narrowest derivative at least
 * `width` wide, else the widest one; undefined (the original) when the image
 * has none.
 */
export function pickDerivative(derivatives: readonly MediaDerivative[], width: number): MediaDerivative | undefined {
	const byWidth = [...derivatives].sort((a, b) => a.width - b.width);
	return byWidth.find((d) => d.width >= width) ?? byWidth.at(-1);
}
