import type { ImageContentType } from "./sniff.ts";

/** What an image's header declares, read without decoding a pixel. */
export interface ImageHeader {
	width: number;
	height: number;
	/** An animated PNG (acTL) or WebP (VP8X animation flag): a still copy would change what shoppers see. */
	animated: boolean;
}

const u16be = (b: Uint8Array, at: number) => ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
const u32be = (b: Uint8Array, at: number) => (u16be(b, at) * 0x10000 + u16be(b, at + 2)) >>> 0;
const u16le = (b: Uint8Array, at: number) => (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
const u24le = (b: Uint8Array, at: number) => u16le(b, at) | ((b[at + 2] ?? 0) << 16);
const tag = (b: Uint8Array, at: number) => String.fromCharCode(...b.subarray(at, at + 4));

/** PNG: IHDR is the first chunk; an acTL before the first IDAT makes it an APNG. */
function pngHeader(b: Uint8Array): ImageHeader | undefined {
	if (b.length < 33 || tag(b, 12) !== "IHDR") return undefined;
	const header = { width: u32be(b, 16), height: u32be(b, 20), animated: false };
	for (let at = 8; at + 8 <= b.length; at += 12 + u32be(b, at)) {
		const type = tag(b, at + 4);
		if (type === "IDAT") break;
		if (type === "acTL") header.animated = true;
	}
	return header;
}

/** SOF0–SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames. */
const isFrameMarker = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/** JPEG: walks the marker segments up to the first frame header (SOFn), which holds height then width. */
function jpegHeader(b: Uint8Array): ImageHeader | undefined {
	let at = 2;
	while (at + 4 <= b.length) {
		if (b[at] !== 0xff) return undefined;
		const marker = b[at + 1] ?? 0;
		// Fill bytes (FF FF …) may pad between segments; RSTn, TEM and SOI stand alone.
		if (marker === 0xff || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
			at += marker === 0xff ? 1 : 2;
			continue;
		}
		// End of image or start of scan before any frame: no size to read.
		if (marker === 0xd9 || marker === 0xda) return undefined;
		if (isFrameMarker(marker)) {
			if (at + 9 > b.length) return undefined;
			return { width: u16be(b, at + 7), height: u16be(b, at + 5), animated: false };
		}
		at += 2 + u16be(b, at + 2);
	}
	return undefined;
}

/** WebP: the first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended: canvas size and flags). */
function webpHeader(b: Uint8Array): ImageHeader | undefined {
	if (b.length < 30) return undefined;
	switch (tag(b, 12)) {
		case "VP8 ":
			// Frame tag (3 bytes), start code 9D 01 2A, then 14-bit width and height.
			if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return undefined;
			return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff, animated: false };
		case "VP8L": {
			if (b[20] !== 0x2f) return undefined;
			const bits = (u16le(b, 21) | (u16le(b, 23) << 16)) >>> 0;
			return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, animated: false };
		}
		case "VP8X":
			return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1, animated: ((b[20] ?? 0) & 0x02) !== 0 };
		default:
			return undefined;
	}
}

/**
 * The size an image's header declares, so that an image too large to decode
 * is refused before a byte of it is decoded. Undefined when the header
 * declares none (or for AVIF, which is stored but never decoded here).
 */
export function readImageHeader(bytes: Uint8Array, contentType: ImageContentType): ImageHeader | undefined {
	const header =
		contentType === "image/png"
			? pngHeader(bytes)
			: contentType === "image/jpeg"
				? jpegHeader(bytes)
				: contentType === "image/webp"
					? webpHeader(bytes)
					: undefined;
	return header && header.width > 0 && header.height > 0 ? header : undefined;
}
