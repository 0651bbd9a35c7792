/**
 * Demo product images for `npm run dev`: one 480×480 PNG per active product
 * that has none, drawn here without any image library (a colour gradient and
 * a simple shape, both derived from the product's slug, so every run draws
 * the same picture) and uploaded through the real admin upload route, so the
 * seeded media went through the same sniffing, hashing, derivatives (a 480 px
 * image gets one WebP copy, 320 px wide) and R2 path as any other.
 */
import { createHash } from "node:crypto";
import { crc32, deflateSync } from "node:zlib";
import { and, asc, eq, notExists, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import { media, products } from "../../workers/db/schema.ts";

/** Edge length of the demo images, in pixels. */
export const DEMO_IMAGE_SIZE = 480;
const REQUEST_TIMEOUT_MS = 30_000;

type Rgb = [number, number, number];
type Shape = "circle" | "square" | "diamond" | "ring" | "triangle";
const SHAPES: readonly Shape[] = ["circle", "square", "diamond", "ring", "triangle"];

function hsl(hue: number, saturation: number, lightness: number): Rgb {
	const a = saturation * Math.min(lightness, 1 - lightness);
	const channel = (n: number) => {
		const k = (n + hue / 30) % 12;
		return Math.round(255 * (lightness - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
	};
	return [channel(0), channel(8), channel(4)];
}

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

/** Signed distance from (x, y) to the shape's edge (negative inside), in pixels, centred at the origin. */
function distance(shape: Shape, x: number, y: number, radius: number): number {
	switch (shape) {
		case "circle":
			return Math.hypot(x, y) - radius;
		case "square": {
			// A rounded square: the corner radius keeps it from looking like a placeholder box.
			const corner = radius * 0.2;
			const qx = Math.abs(x) - (radius - corner);
			const qy = Math.abs(y) - (radius - corner);
			return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - corner;
		}
		case "diamond":
			return (Math.abs(x) + Math.abs(y) - radius * 1.25) / Math.SQRT2;
		case "ring":
			return Math.abs(Math.hypot(x, y) - radius * 0.8) - radius * 0.22;
		case "triangle": {
			// Equilateral, pointing up (screen y grows downwards).
			const k = Math.sqrt(3);
			let px = Math.abs(x) - radius;
			let py = -y + radius / k;
			if (px + k * py > 0) [px, py] = [(px - k * py) / 2, (-k * px - py) / 2];
			px -= Math.min(Math.max(px, -2 * radius), 0);
			return -Math.hypot(px, py) * Math.sign(py);
		}
	}
}

function pngChunk(type: string, data: Buffer): Buffer {
	const typeAndData = Buffer.concat([Buffer.from(type, "latin1"), data]);
	const length = Buffer.alloc(4);
	length.writeUInt32BE(data.length);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(typeAndData));
	return Buffer.concat([length, typeAndData, crc]);
}

/**
 * A square RGB PNG for a product, the same for the same slug on every
 * machine: a diagonal gradient between two related hues, a soft shadow and a
 * light shape (circle, rounded square, diamond, ring or triangle) chosen by
 * the slug's hash. Encoded by hand: IHDR, one zlib IDAT, IEND, each with its CRC-32.
 */
export function productImagePng(slug: string, size = DEMO_IMAGE_SIZE): Buffer {
	const seed = createHash("sha256").update(slug).digest();
	const byte = (index: number) => seed[index] ?? 0;
	const hue = (byte(0) / 255) * 360;
	const from = hsl(hue, 0.45 + byte(1) / 1275, 0.5);
	const to = hsl((hue + 30 + (byte(2) / 255) * 60) % 360, 0.55, 0.3);
	const shapeColour = hsl((hue + 180) % 360, 0.35, 0.88);
	const shape = SHAPES[byte(3) % SHAPES.length] ?? "circle";
	const radius = size * (0.22 + (byte(4) / 255) * 0.08);
	const centre = size / 2;
	const shadowOffset = size * 0.025;

	const stride = size * 3 + 1;
	const raw = Buffer.alloc(stride * size);
	for (let y = 0; y < size; y++) {
		const row = y * stride;
		raw[row] = 0; // filter: none
		for (let x = 0; x < size; x++) {
			let colour = mix(from, to, (x + y) / (2 * (size - 1)));
			const shadow = distance(shape, x - centre - shadowOffset, y - centre - shadowOffset, radius);
			// Edges fade over a few pixels so nothing looks jagged.
			colour = mix(colour, [0, 0, 0], 0.25 * Math.min(1, Math.max(0, (6 - shadow) / 12)));
			const edge = distance(shape, x - centre, y - centre, radius);
			colour = mix(colour, shapeColour, Math.min(1, Math.max(0, 0.5 - edge)));
			const offset = row + 1 + x * 3;
			raw[offset] = Math.round(colour[0]);
			raw[offset + 1] = Math.round(colour[1]);
			raw[offset + 2] = Math.round(colour[2]);
		}
	}

	const header = Buffer.alloc(13);
	header.writeUInt32BE(size, 0);
	header.writeUInt32BE(size, 4);
	header[8] = 8; // bits per channel
	header[9] = 2; // colour type: RGB
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		pngChunk("IHDR", header),
		pngChunk("IDAT", deflateSync(raw, { level: 9 })),
		pngChunk("IEND", Buffer.alloc(0)),
	]);
}

/** What `seedDemoMedia` did. */
export interface MediaSeedResult {
	/** Active products that had no media. */
	candidates: number;
	uploaded: number;
	/** One line per failed upload (product slug and the answer). */
	failures: string[];
}

async function answerOf(res: Response): Promise<string> {
	const text = await res.text().catch(() => "");
	try {
		const problem = JSON.parse(text) as { code?: string; detail?: string };
		return `${res.status} ${problem.code ?? ""}${problem.detail ? `: ${problem.detail}` : ""}`.trim();
	} catch {
		return `${res.status}`;
	}
}

/** Signs in as the given admin through the Worker and returns the access token. */
export async function login(baseUrl: string, email: string, password: string): Promise<string> {
	const res = await fetch(`${baseUrl}/v1/auth/login`, {
		method: "POST",
		// The login rate limit counts per client address; wrangler dev has none of its own to give.
		headers: { "content-type": "application/json", "cf-connecting-ip": "127.0.0.1" },
		body: JSON.stringify({ email, password }),
		signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
	});
	if (!res.ok) throw new Error(`admin login answered ${await answerOf(res)}`);
	const { access_token: token } = (await res.json()) as { access_token?: string };
	if (!token) throw new Error("admin login returned no access token");
	return token;
}

/**
 * Gives every active product without media one generated image, uploaded
 * through `POST /v1/admin/products/{id}/media` as the given admin. Logs in
 * once and reuses the token (the login route is rate limited); one more login
 * happens only if the token expires midway. Throws when it cannot start
 * (login refused, the first upload refused); later failures are returned.
 */
export async function seedDemoMedia(
	baseUrl: string,
	adminEmail: string,
	adminPassword: string,
	databaseUrl: string,
): Promise<MediaSeedResult> {
	const client = new pg.Client({ connectionString: databaseUrl });
	await client.connect();
	let pending: { id: string; slug: string; title: string }[];
	try {
		const db = drizzle({ client });
		pending = await db
			.select({ id: products.id, slug: products.slug, title: products.title })
			.from(products)
			.where(and(eq(products.status, "active"), notExists(db.select({ one: sql`1` }).from(media).where(eq(media.productId, products.id)))))
			.orderBy(asc(products.slug));
	} finally {
		await client.end();
	}
	const result: MediaSeedResult = { candidates: pending.length, uploaded: 0, failures: [] };
	if (pending.length === 0) return result;

	let token = await login(baseUrl, adminEmail, adminPassword);
	// At most one more login, if the token (15 minutes) expires midway.
	let relogged = false;
	const uploadOne = async (product: { id: string; slug: string; title: string }): Promise<string | undefined> => {
		const png = productImagePng(product.slug);
		for (;;) {
			const form = new FormData();
			form.append("file", new Blob([new Uint8Array(png)], { type: "image/png" }), `${product.slug}.png`);
			form.append("alt", product.title.slice(0, 300));
			const res = await fetch(`${baseUrl}/v1/admin/products/${encodeURIComponent(product.id)}/media`, {
				method: "POST",
				headers: { authorization: `Bearer ${token}` },
				body: form,
				signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
			});
			if (res.status === 201 || res.status === 200) {
				await res.body?.cancel();
				return undefined;
			}
			if (res.status === 401 && !relogged) {
				relogged = true;
				token = await login(baseUrl, adminEmail, adminPassword);
				continue;
			}
			return `${product.slug}: ${await answerOf(res)}`;
		}
	};

	// One at a time: the embedded Postgres serves every connection from one
	// session, and concurrent requests gain nothing there (and have been seen
	// to trip its connection multiplexing). The first failure of the very first
	// upload means the route is missing or refusing: say so once, not per product.
	for (const [index, product] of pending.entries()) {
		const failure = await uploadOne(product).catch(
			(err: unknown) => `${product.slug}: ${err instanceof Error ? err.message : String(err)}`,
		);
		if (failure && index === 0) throw new Error(`the upload route refused the first image (${failure})`);
		if (failure) result.failures.push(failure);
		else result.uploaded += 1;
	}
	return result;
}
