/**
 * Password hashing for the Worker.
 *
 * Current algorithm: Argon2id at OWASP's minimum (m=19456 KiB, t=2, p=1), 16-byte
 * random salt, 32-byte output, stored as a PHC string:
 * `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (standard base64, no padding).
 * Legacy format, still verified so accounts can be upgraded on their next login:
 * `$pbkdf2-sha256$i=100000$<salt>$<hash>` (WebCrypto; workerd refuses more than
 * 100,000 PBKDF2 iterations, below OWASP's 600,000, which is why it is not current).
 * The measurements behind the choice are in bench/hash/RESULTS.md (`npm run bench:hash`).
 *
 * Argon2 runs in WebAssembly: the reference C implementation built by
 * @phi-ag/argon2. Workers may not compile WebAssembly from bytes at run time, so
 * the compiled module is handed in with `provideArgon2Module`: the Worker imports
 * it from its `.wasm` file (password.ts), Node scripts compile the same file. We call the library's C exports ourselves
 * instead of its `Argon2` class because the class passes the UTF-16 length of the
 * password as its byte length, which truncates any non-ASCII password.
 */

/** Current Argon2id parameters (OWASP Password Storage Cheat Sheet, first option). */
export const ARGON2ID_PARAMS = { m: 19_456, t: 2, p: 1 } as const;
/** PBKDF2-SHA256 iterations of the legacy format; also workerd's ceiling. */
export const PBKDF2_ITERATIONS = 100_000;

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const ARGON2_VERSION = 0x13;
const ARGON2_TYPE_ID = 2;

/*
 * Bounds on what a stored string may ask for. A tampered or corrupt row must not
 * be able to make a login allocate more memory than an isolate has (128 MB) or
 * burn seconds of CPU: anything outside these bounds is treated as malformed.
 */
const MAX_ARGON2_MEMORY_KIB = 65_536;
const MAX_ARGON2_TIME = 10;
const MAX_ARGON2_PARALLELISM = 4;
const MIN_SALT_BYTES = 8;
const MAX_SALT_BYTES = 64;
const MIN_HASH_BYTES = 16;
const MAX_HASH_BYTES = 64;

type Argon2Params = { m: number; t: number; p: number };

type ParsedHash =
	| { alg: "argon2id"; params: Argon2Params; salt: Uint8Array<ArrayBuffer>; hash: Uint8Array<ArrayBuffer> }
	| { alg: "pbkdf2-sha256"; iterations: number; salt: Uint8Array<ArrayBuffer>; hash: Uint8Array<ArrayBuffer> };

/** The C exports of @phi-ag/argon2's module (reference libargon2 built with emscripten). */
interface Argon2Exports {
	memory: WebAssembly.Memory;
	_initialize(): void;
	malloc(size: number): number;
	free(ptr: number): void;
	argon2_hash(
		tCost: number,
		mCost: number,
		parallelism: number,
		pwd: number,
		pwdLen: number,
		salt: number,
		saltLen: number,
		hash: number,
		hashLen: number,
		encoded: number,
		encodedLen: number,
		type: number,
		version: number,
	): number;
}

let argon2Module: WebAssembly.Module | undefined;
let argon2Exports: Argon2Exports | undefined;

/** Hands over the compiled @phi-ag/argon2 module; must be called before hashing. */
export function provideArgon2Module(module: WebAssembly.Module): void {
	argon2Module = module;
}

/**
 * One instance per isolate, created on first use. Hashing is synchronous, so calls
 * never overlap, and the instance's memory (about 20 MiB once it has grown for
 * m=19456) is reused instead of growing a fresh instance per login.
 */
function argon2(): Argon2Exports {
	if (!argon2Exports) {
		if (!argon2Module) throw new Error("argon2: provideArgon2Module() was not called");
		const instance = new WebAssembly.Instance(argon2Module, {});
		const exports = instance.exports as unknown as Argon2Exports;
		exports._initialize();
		argon2Exports = exports;
	}
	return argon2Exports;
}

/** Raw Argon2id (version 0x13) of `password` bytes. Throws if libargon2 reports an error. */
export function argon2idRaw(password: Uint8Array, salt: Uint8Array, params: Argon2Params, length: number): Uint8Array<ArrayBuffer> {
	const lib = argon2();
	// malloc(0) may return NULL, which libargon2 rejects even with a zero length.
	const pwdPtr = lib.malloc(Math.max(password.length, 1));
	const saltPtr = lib.malloc(salt.length);
	const hashPtr = lib.malloc(length);
	try {
		if (!pwdPtr || !saltPtr || !hashPtr) throw new Error("argon2: out of WebAssembly memory");
		// Take the view after malloc: growing memory detaches the previous buffer.
		const heap = new Uint8Array(lib.memory.buffer);
		heap.set(password, pwdPtr);
		heap.set(salt, saltPtr);
		const rc = lib.argon2_hash(
			params.t,
			params.m,
			params.p,
			pwdPtr,
			password.length,
			saltPtr,
			salt.length,
			hashPtr,
			length,
			0,
			0,
			ARGON2_TYPE_ID,
			ARGON2_VERSION,
		);
		if (rc !== 0) throw new Error(`argon2: libargon2 error ${rc}`);
		return new Uint8Array(lib.memory.buffer).slice(hashPtr, hashPtr + length);
	} finally {
		// The instance outlives the call: do not leave the password in its memory.
		if (pwdPtr) new Uint8Array(lib.memory.buffer).fill(0, pwdPtr, pwdPtr + password.length);
		if (pwdPtr) lib.free(pwdPtr);
		if (saltPtr) lib.free(saltPtr);
		if (hashPtr) lib.free(hashPtr);
	}
}

/** PBKDF2-HMAC-SHA256 through WebCrypto (native in workerd). */
export async function pbkdf2Sha256(password: Uint8Array<ArrayBuffer>, salt: Uint8Array<ArrayBuffer>, iterations: number, length: number) {
	const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
	const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, length * 8);
	return new Uint8Array(bits) as Uint8Array<ArrayBuffer>;
}

/**
 * The same password typed on different systems may arrive composed (NFC) or
 * decomposed (NFD); normalising first makes both verify. Hashed as UTF-8 bytes.
 */
function passwordBytes(password: string): Uint8Array<ArrayBuffer> {
	return new Uint8Array(new TextEncoder().encode(password.normalize("NFC")));
}

function randomSalt(): Uint8Array<ArrayBuffer> {
	return crypto.getRandomValues(new Uint8Array(SALT_BYTES));
}

/** PHC strings use standard base64 without padding. */
function toB64(bytes: Uint8Array): string {
	let binary = "";
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary).replace(/=+$/, "");
}

/** Strict inverse of toB64; undefined for anything else (padding, URL alphabet, bad length). */
function fromB64(text: string): Uint8Array<ArrayBuffer> | undefined {
	if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) return undefined;
	try {
		const binary = atob(text + "=".repeat((4 - (text.length % 4)) % 4));
		const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
		// Reject non-canonical encodings (unused low bits set), so one hash has one spelling.
		return toB64(bytes) === text ? bytes : undefined;
	} catch {
		return undefined;
	}
}

/** A decimal integer without sign or leading zeros, within [min, max]; else undefined. */
function boundedInt(text: string | undefined, min: number, max: number): number | undefined {
	if (text === undefined || !/^[1-9][0-9]{0,8}$/.test(text)) return undefined;
	const value = Number(text);
	return value >= min && value <= max ? value : undefined;
}

function saltAndHash(saltText: string | undefined, hashText: string | undefined) {
	const salt = saltText === undefined ? undefined : fromB64(saltText);
	const hash = hashText === undefined ? undefined : fromB64(hashText);
	if (!salt || salt.length < MIN_SALT_BYTES || salt.length > MAX_SALT_BYTES) return undefined;
	if (!hash || hash.length < MIN_HASH_BYTES || hash.length > MAX_HASH_BYTES) return undefined;
	return { salt, hash };
}

const ARGON2ID_FORMAT = /^\$argon2id\$v=19\$m=([0-9]+),t=([0-9]+),p=([0-9]+)\$([^$]+)\$([^$]+)$/;
const PBKDF2_FORMAT = /^\$pbkdf2-sha256\$i=([0-9]+)\$([^$]+)\$([^$]+)$/;

function parse(stored: string): ParsedHash | undefined {
	const argon = ARGON2ID_FORMAT.exec(stored);
	if (argon) {
		const p = boundedInt(argon[3], 1, MAX_ARGON2_PARALLELISM);
		const t = boundedInt(argon[2], 1, MAX_ARGON2_TIME);
		// libargon2 needs at least 8 KiB per lane.
		const m = p === undefined ? undefined : boundedInt(argon[1], 8 * p, MAX_ARGON2_MEMORY_KIB);
		const bytes = saltAndHash(argon[4], argon[5]);
		if (p === undefined || t === undefined || m === undefined || !bytes) return undefined;
		return { alg: "argon2id", params: { m, t, p }, ...bytes };
	}
	const pbkdf2 = PBKDF2_FORMAT.exec(stored);
	if (pbkdf2) {
		const iterations = boundedInt(pbkdf2[1], 1, PBKDF2_ITERATIONS);
		const bytes = saltAndHash(pbkdf2[2], pbkdf2[3]);
		if (iterations === undefined || !bytes) return undefined;
		return { alg: "pbkdf2-sha256", iterations, ...bytes };
	}
	return undefined;
}

/**
 * Constant-time equality written out rather than workerd's
 * `crypto.subtle.timingSafeEqual`, so the same code runs in Node scripts.
 */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
	if (a.length !== b.length) return false;
	let diff = 0;
	for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
	return diff === 0;
}

/**
 * Anything but the current algorithm with exactly the current parameters and
 * sizes: weaker settings are upgraded, and stronger ones brought back to the
 * CPU budget the current ones were measured against.
 */
function isCurrent(parsed: ParsedHash): boolean {
	return (
		parsed.alg === "argon2id" &&
		parsed.params.m === ARGON2ID_PARAMS.m &&
		parsed.params.t === ARGON2ID_PARAMS.t &&
		parsed.params.p === ARGON2ID_PARAMS.p &&
		parsed.salt.length === SALT_BYTES &&
		parsed.hash.length === HASH_BYTES
	);
}

/** Hashes a new password with the current algorithm and parameters; returns a self-describing PHC-style string. */
export async function hashPassword(password: string): Promise<string> {
	const { m, t, p } = ARGON2ID_PARAMS;
	const salt = randomSalt();
	const hash = argon2idRaw(passwordBytes(password), salt, ARGON2ID_PARAMS, HASH_BYTES);
	return `$argon2id$v=19$m=${m},t=${t},p=${p}$${toB64(salt)}$${toB64(hash)}`;
}

/**
 * Verifies against any supported stored format. needsRehash is true when the stored
 * hash uses an older algorithm or weaker parameters than current (in fact whenever
 * they differ from current). Never throws for a malformed stored string: returns ok:false.
 */
export async function verifyPassword(password: string, stored: string): Promise<{ ok: boolean; needsRehash: boolean }> {
	try {
		const parsed = typeof stored === "string" ? parse(stored) : undefined;
		if (!parsed) return { ok: false, needsRehash: false };
		const bytes = passwordBytes(password);
		const computed =
			parsed.alg === "argon2id"
				? argon2idRaw(bytes, parsed.salt, parsed.params, parsed.hash.length)
				: await pbkdf2Sha256(bytes, parsed.salt, parsed.iterations, parsed.hash.length);
		const ok = equalBytes(computed, parsed.hash);
		return { ok, needsRehash: ok && !isCurrent(parsed) };
	} catch {
		// A parameter combination libargon2 or WebCrypto refuses is as good as malformed.
		return { ok: false, needsRehash: false };
	}
}

/**
 * A well-formed hash with the current parameters that no password matches in
 * practice (its hash bytes are arbitrary). Built from the constants so that it
 * costs exactly what a real verification costs when the parameters change.
 */
const DUMMY_HASH = `$argon2id$v=19$m=${ARGON2ID_PARAMS.m},t=${ARGON2ID_PARAMS.t},p=${ARGON2ID_PARAMS.p}$${toB64(new Uint8Array(SALT_BYTES).fill(0x5a))}$${toB64(new Uint8Array(HASH_BYTES).fill(0xa5))}`;

/** Runs a full verification against a fixed dummy hash and returns false; used for unknown e-mails so login takes similar time either way. */
export async function verifyDummy(password: string): Promise<false> {
	await verifyPassword(password, DUMMY_HASH);
	return false;
}
