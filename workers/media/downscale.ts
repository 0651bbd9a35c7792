/**
 * Downscaling by area averaging: each output pixel is the mean of the source
 * pixels it covers (fractionally at its edges), the filter that suits pure
 * reduction (no ringing, no aliasing). Averages are taken in linear light and
 * premultiplied by alpha, so fine detail does not darken and transparent
 * pixels lend no colour to their neighbours.
 *
 * Plain JS rather than a WASM resizer: it needs only the output and one row
 * of sums, where the squoosh resizer (`@jsquash/resize`) holds the source,
 * the output and an f32 intermediate in its heap; that measured 331 MB for a
 * 12 MP photo, more than an isolate has. This takes about 20 ms per source
 * megapixel (warm, in Node on the development machine).
 */

/** RGBA pixels, 8 bits per channel, rows top to bottom. */
export interface Pixels {
	data: Uint8Array | Uint8ClampedArray;
	width: number;
	height: number;
}

let toLinear: Float32Array | undefined;
let toSrgb: Uint8Array | undefined;
/** The precision of linear values on the way back to sRGB: 16 bits keeps the darkest steps apart. */
const LINEAR_STEPS = 65535;

function tables(): { toLinear: Float32Array; toSrgb: Uint8Array } {
	if (!toLinear || !toSrgb) {
		toLinear = new Float32Array(256);
		for (let v = 0; v < 256; v++) {
			const c = v / 255;
			toLinear[v] = c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
		}
		toSrgb = new Uint8Array(LINEAR_STEPS + 1);
		for (let i = 0; i <= LINEAR_STEPS; i++) {
			const l = i / LINEAR_STEPS;
			toSrgb[i] = Math.round(255 * (l <= 0.0031308 ? l * 12.92 : 1.055 * l ** (1 / 2.4) - 0.055));
		}
	}
	return { toLinear, toSrgb };
}

/**
 * Which source pixels each output column (or row) covers, and how much of
 * each: flat lists, `taps` from `start[i]` to `start[i + 1]`.
 */
function spans(from: number, to: number): { start: Int32Array; index: Int32Array; weight: Float32Array } {
	const scale = from / to;
	const start = new Int32Array(to + 1);
	const index: number[] = [];
	const weight: number[] = [];
	for (let i = 0; i < to; i++) {
		start[i] = index.length;
		const left = i * scale;
		const right = left + scale;
		for (let s = Math.floor(left); s < Math.min(from, Math.ceil(right)); s++) {
			index.push(s);
			weight.push(Math.min(right, s + 1) - Math.max(left, s));
		}
	}
	start[to] = index.length;
	return { start, index: Int32Array.from(index), weight: Float32Array.from(weight) };
}

/** `source` reduced to `width` × `height` (each no larger than the source's). */
export function downscale(source: Pixels, width: number, height: number): Pixels {
	const { toLinear: lin, toSrgb: srgb } = tables();
	const { data: src, width: sw } = source;
	const cols = spans(sw, width);
	const rows = spans(source.height, height);
	const area = (sw / width) * (source.height / height);
	const out = new Uint8ClampedArray(width * height * 4);
	// Sums of one source row per output column, then of the output row: premultiplied linear r, g, b and alpha.
	const line = new Float32Array(width * 4);
	const sums = new Float64Array(width * 4);
	for (let y = 0; y < height; y++) {
		sums.fill(0);
		for (let r = rows.start[y] as number; r < (rows.start[y + 1] as number); r++) {
			const rowWeight = rows.weight[r] as number;
			const base = (rows.index[r] as number) * sw * 4;
			for (let x = 0; x < width; x++) {
				let red = 0;
				let green = 0;
				let blue = 0;
				let alpha = 0;
				for (let t = cols.start[x] as number; t < (cols.start[x + 1] as number); t++) {
					const at = base + (cols.index[t] as number) * 4;
					const a = ((src[at + 3] as number) / 255) * (cols.weight[t] as number);
					red += (lin[src[at] as number] as number) * a;
					green += (lin[src[at + 1] as number] as number) * a;
					blue += (lin[src[at + 2] as number] as number) * a;
					alpha += a;
				}
				const k = x * 4;
				line[k] = red;
				line[k + 1] = green;
				line[k + 2] = blue;
				line[k + 3] = alpha;
			}
			for (let k = 0; k < line.length; k++) sums[k] = (sums[k] as number) + (line[k] as number) * rowWeight;
		}
		const row = y * width * 4;
		for (let x = 0; x < width; x++) {
			const k = x * 4;
			const alpha = sums[k + 3] as number;
			if (alpha <= 0) continue;
			const scale = LINEAR_STEPS / alpha;
			out[row + k] = srgb[Math.min(LINEAR_STEPS, Math.round((sums[k] as number) * scale))] as number;
			out[row + k + 1] = srgb[Math.min(LINEAR_STEPS, Math.round((sums[k + 1] as number) * scale))] as number;
			out[row + k + 2] = srgb[Math.min(LINEAR_STEPS, Math.round((sums[k + 2] as number) * scale))] as number;
			out[row + k + 3] = Math.round((alpha / area) * 255);
		}
	}
	return { data: out, width, height };
}
