/**
 * The widths product images are derived at, and the URLs that ask for them:
 * `GET /v1/media/{key}?w=<px>` answers the nearest derivative (see
 * `pickDerivative` in derivatives.ts). Kept apart from the codecs so the
 * storefront and the catalog can build `srcset` without loading any WASM.
 */

/** Widths of the WebP copies made at upload, narrowest first; only those narrower than the original are made. */
export const DERIVATIVE_WIDTHS = [320, 640, 1280] as const;

/**
 * The most pixels an upload may have: 2048 × 2048, the size most shops ask
 * of product photos, and what decoding fits in an isolate's memory (see
 * derivatives.ts).
 */
export const MAX_IMAGE_PIXELS = 2048 * 2048;

/** The largest `w` the media route accepts. */
export const MAX_REQUESTED_WIDTH = 4000;

/** An image's URL (`/v1/media/{key}`) asking for the derivative nearest to `width`. */
export const atWidth = (url: string, width: number) => `${url}?w=${width}`;

/** Where GET /v1/media/{key} serves an image, optionally the derivative nearest to `width`. */
export function mediaUrl(key: string, width?: number): string {
	const url = `/v1/media/${key}`;
	return width === undefined ? url : atWidth(url, width);
}

/**
 * A `srcset` of an image's URL at the given derivative widths
 * (`…?w=320 320w, …?w=640 640w`), or undefined when there are none (the
 * original then stands alone in `src`).
 */
export function srcsetOf(url: string, widths: readonly number[]): string | undefined {
	if (widths.length === 0) return undefined;
	return widths.map((width) => `${atWidth(url, width)} ${width}w`).join(", ");
}
