/** The image types the shop stores and serves. */
export type ImageContentType = "image/jpeg" | "image/png" | "image/webp" | "image/avif";

/** What the bytes of an upload really are, and the extension its R2 key gets. */
export interface SniffedImage {
	contentType: ImageContentType;
	extension: "jpg" | "png" | "webp" | "avif";
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** AVIF stills and AVIF image sequences. */
const AVIF_BRANDS = new Set(["avif", "avis"]);

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
	if (bytes.length < offset + signature.length) return false;
	return signature.every((byte, index) => bytes[offset + index] === byte);
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
	return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

/**
 * AVIF is an ISO-BMFF file: it opens with an `ftyp` box (size, "ftyp", major
 * brand, minor version, compatible brands). HEIC and MP4 share the container,
 * so only the avif/avis brands count.
 */
function isAvif(bytes: Uint8Array): boolean {
	if (bytes.length < 16 || ascii(bytes, 4, 4) !== "ftyp") return false;
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const boxSize = view.getUint32(0);
	if (boxSize < 16) return false;
	if (AVIF_BRANDS.has(ascii(bytes, 8, 4))) return true;
	// Compatible brands follow the minor version; never read past the box or the buffer.
	const end = Math.min(boxSize, bytes.length);
	for (let offset = 16; offset + 4 <= end; offset += 4) {
		if (AVIF_BRANDS.has(ascii(bytes, offset, 4))) return true;
	}
	return false;
}

/**
 * Identifies an image from its magic bytes alone. The file name and the
 * declared Content-Type are the client's claims and are never consulted: a
 * script renamed `photo.jpg` is still not a JPEG. Undefined for anything else.
 */
export function sniffImage(bytes: Uint8Array): SniffedImage | undefined {
	if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { contentType: "image/jpeg", extension: "jpg" };
	if (startsWith(bytes, PNG_SIGNATURE)) return { contentType: "image/png", extension: "png" };
	if (bytes.length >= 12 && ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP") {
		return { contentType: "image/webp", extension: "webp" };
	}
	if (isAvif(bytes)) return { contentType: "image/avif", extension: "avif" };
	return undefined;
}
