/**
 * The measurement Worker behind `npm run bench:hash`: each request runs one
 * password-hashing option `n` times. Deployed Workers freeze their clock during
 * computation, so the timing is taken by the Node caller around the request.
 */
import { argon2id as nobleArgon2id } from "@noble/hashes/argon2.js";
import { scrypt as nobleScrypt } from "@noble/hashes/scrypt.js";
import { argon2id as hashWasmArgon2id } from "hash-wasm";
import { ARGON2ID_PARAMS, hashPassword } from "../../workers/auth/password.ts";

const password = new TextEncoder().encode("correct horse battery staple");
// A fixed salt: random values cannot be drawn at global scope, and the cost does not depend on it.
const salt = new Uint8Array(16).fill(7);

const options: Record<string, () => Promise<unknown>> = {
	noop: async () => undefined,
	"argon2id-wasm (current)": () => hashPassword("correct horse battery staple"),
	"pbkdf2-sha256 100k (WebCrypto)": async () => {
		const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
		return crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: 100_000 }, key, 256);
	},
	"pbkdf2-sha256 600k (WebCrypto)": async () => {
		const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
		return crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: 600_000 }, key, 256);
	},
	"argon2id hash-wasm (compiles WASM at run time)": () =>
		hashWasmArgon2id({ password, salt, parallelism: 1, iterations: ARGON2ID_PARAMS.t, memorySize: ARGON2ID_PARAMS.m, hashLength: 32 }),
	"argon2id pure JS (@noble/hashes)": async () => nobleArgon2id(password, salt, { t: ARGON2ID_PARAMS.t, m: ARGON2ID_PARAMS.m, p: 1 }),
	"scrypt N=2^17 r=8 p=1 pure JS (@noble/hashes)": async () => nobleScrypt(password, salt, { N: 2 ** 17, r: 8, p: 1, dkLen: 32 }),
};

export default {
	async fetch(request: Request): Promise<Response> {
		const url = new URL(request.url);
		if (url.pathname === "/v1/health/live") return Response.json({ status: "ok" });
		const name = url.searchParams.get("option") ?? "";
		const n = Number(url.searchParams.get("n") ?? "1");
		const run = options[name];
		if (!run) return Response.json({ options: Object.keys(options) });
		try {
			for (let i = 0; i < n; i++) await run();
			return Response.json({ ok: true });
		} catch (err) {
			return Response.json({ ok: false, error: err instanceof Error ? err.message : String(err) });
		}
	},
};
