/**
 * The WASM codecs behind image derivatives (jSquash: mozjpeg, libwebp and the
 * Rust png crate, as Squoosh builds them). The `.wasm` files arrive compiled,
 * as wrangler and the Vitest plugin bundle `.wasm` imports.
 *
 * Every call makes a fresh instance and lets it go afterwards. A WASM heap
 * only grows, so an instance kept per isolate would hold the largest image it
 * ever decoded for the isolate's life, and a failed decode leaks its buffers
 * into it (20 corrupt 1 MP PNGs grew the png decoder's heap from 13 to 90 MB).
 * Instantiating an already compiled module costs a few milliseconds.
 */
import mozjpegDecoder from "@jsquash/jpeg/codec/dec/mozjpeg_dec.js";
import mozjpegDecoderWasm from "@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm";
// `?module`: the package ships a .d.ts for this file describing its exports, not the compiled module the bundlers hand over.
import pngDecoderWasm from "@jsquash/png/codec/pkg/squoosh_png_bg.wasm?module";
import webpDecoder from "@jsquash/webp/codec/dec/webp_dec.js";
import webpDecoderWasm from "@jsquash/webp/codec/dec/webp_dec.wasm";
import webpEncoder from "@jsquash/webp/codec/enc/webp_enc_simd.js";
import webpEncoderWasm from "@jsquash/webp/codec/enc/webp_enc_simd.wasm";
import { defaultOptions as webpDefaults } from "@jsquash/webp/meta.js";
import type { Pixels } from "./downscale.ts";

/** The emscripten module factories as this module uses them. */
type Factory<T> = (options: {
	noInitialRun: boolean;
	instantiateWasm: (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) => WebAssembly.Exports;
}) => Promise<T>;

function instantiate<T>(factory: unknown, wasm: WebAssembly.Module): Promise<T> {
	return (factory as Factory<T>)({
		noInitialRun: true,
		instantiateWasm: (imports, done) => {
			const instance = new WebAssembly.Instance(wasm, imports);
			done(instance);
			return instance.exports;
		},
	});
}

type Decoded = { data: Uint8ClampedArray; width: number; height: number } | null;

/** JPEG to RGBA, turned upright as its EXIF orientation says (the WebP copies carry no EXIF). */
export async function decodeJpeg(bytes: Uint8Array): Promise<Pixels> {
	const codec = await instantiate<{ decode(data: BufferSource, preserveOrientation: boolean): Decoded }>(
		mozjpegDecoder,
		mozjpegDecoderWasm,
	);
	return decoded(codec.decode(bytes, true));
}

export async function decodeWebp(bytes: Uint8Array): Promise<Pixels> {
	const codec = await instantiate<{ decode(data: BufferSource): Decoded }>(webpDecoder, webpDecoderWasm);
	return decoded(codec.decode(bytes));
}

function decoded(image: Decoded): Pixels {
	if (!image) throw new Error("the decoder returned no image");
	return { data: image.data, width: image.width, height: image.height };
}

interface PngExports {
	memory: WebAssembly.Memory;
	decode(pointer: number, length: number): number;
	__wbindgen_malloc(size: number, align: number): number;
	__wbindgen_free(pointer: number, size: number, align: number): void;
}

/**
 * PNG to RGBA (any colour type and depth, interlaced or not). The package's
 * wasm-bindgen glue keeps one instance per isolate, so this instantiates the
 * module itself with the few imports `decode` calls: the glue's object table
 * shrinks to the one image handed back, and a Rust error becomes a JS error.
 * An import it does not know (a later build of the package) fails loudly.
 */
export function decodePng(bytes: Uint8Array): Pixels {
	let exports: PngExports | undefined;
	const memory = () => (exports as PngExports).memory.buffer;
	const handles = new Map<number, Pixels>();
	// wasm-bindgen reserves handles below 132 for undefined, null, true and false.
	let nextHandle = 132;
	const bindings: Record<string, (...args: number[]) => unknown> = {
		__wbg_newwithownedu8clampedarrayandsh: (pointer, length, width, height) => {
			const data = new Uint8ClampedArray(memory(), pointer >>> 0, length >>> 0).slice();
			exports?.__wbindgen_free(pointer, length, 1);
			handles.set(nextHandle, { data, width: width >>> 0, height: height >>> 0 });
			return nextHandle++;
		},
		__wbindgen_object_drop_ref: (handle) => {
			handles.delete(handle);
		},
		__wbindgen_throw: (pointer, length) => {
			throw new Error(new TextDecoder().decode(new Uint8Array(memory(), pointer >>> 0, length >>> 0)));
		},
	};
	const imports: Record<string, Record<string, (...args: number[]) => unknown>> = {};
	for (const { module, name } of WebAssembly.Module.imports(pngDecoderWasm)) {
		const binding = bindings[name.replace(/_[0-9a-f]{16}$/, "")];
		imports[module] ??= {};
		(imports[module] as Record<string, (...args: number[]) => unknown>)[name] =
			binding ??
			(() => {
				throw new Error(`the PNG decoder called ${name}, which is not provided`);
			});
	}
	exports = new WebAssembly.Instance(pngDecoderWasm, imports).exports as unknown as PngExports;
	const input = exports.__wbindgen_malloc(bytes.byteLength, 1);
	new Uint8Array(exports.memory.buffer, input, bytes.byteLength).set(bytes);
	// decode takes ownership of the input buffer and answers the handle of its ImageData.
	const image = handles.get(exports.decode(input, bytes.byteLength));
	if (!image) throw new Error("the PNG decoder returned no image");
	return image;
}

/** WebP quality of the derivatives (libwebp's 0–100 scale; its own default is 75). */
export const WEBP_QUALITY = 80;

/**
 * A lossy WebP encoder for one upload's derivatives (libwebp with SIMD,
 * method 4, quality WEBP_QUALITY, alpha kept lossless-quality).
 */
export async function webpEncoderFor(): Promise<(image: Pixels) => Uint8Array<ArrayBuffer>> {
	const codec = await instantiate<{
		encode(data: BufferSource, width: number, height: number, options: object): Uint8Array<ArrayBuffer> | null;
	}>(webpEncoder, webpEncoderWasm);
	const options = { ...webpDefaults, quality: WEBP_QUALITY };
	return (image) => {
		const bytes = codec.encode(image.data, image.width, image.height, options);
		if (!bytes) throw new Error("the WebP encoder returned nothing");
		return bytes;
	};
}
