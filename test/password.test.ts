import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { ARGON2ID_PARAMS, hashPassword, verifyDummy, verifyPassword } from "../workers/auth/password.ts";
import { argon2idRaw } from "../workers/auth/password-core.ts";
import { Database } from "../workers/db/client.ts";
import { users } from "../workers/db/schema.ts";
import { PASSWORD, post, registerShopper } from "./accounts-helpers.ts";

/** A legacy PBKDF2-SHA256 hash in the stored format, built with WebCrypto directly. */
async function legacyPbkdf2(password: string, iterations = 100_000): Promise<string> {
	const salt = crypto.getRandomValues(new Uint8Array(16));
	const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
	const bits = new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256));
	const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/=+$/, "");
	return `$pbkdf2-sha256$i=${iterations}$${b64(salt)}$${b64(bits)}`;
}

describe("password hashing", () => {
	it("round-trips, rejects a wrong password, and salts every hash", async () => {
		const a = await hashPassword("correct horse battery staple");
		const b = await hashPassword("correct horse battery staple");
		expect(a).not.toBe(b);
		expect(a).toMatch(
			new RegExp(
				`^\\$argon2id\\$v=19\\$m=${ARGON2ID_PARAMS.m},t=${ARGON2ID_PARAMS.t},p=${ARGON2ID_PARAMS.p}\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}$`,
			),
		);
		expect(await verifyPassword("correct horse battery staple", a)).toEqual({ ok: true, needsRehash: false });
		expect(await verifyPassword("correct horse battery stapler", a)).toEqual({ ok: false, needsRehash: false });
	});

	it("hashes every UTF-8 byte of non-ASCII passwords (a vector computed with Node's own Argon2id)", async () => {
		const stored = "$argon2id$v=19$m=19456,t=2,p=1$WlpaWlpaWlpaWlpaWlpaWg$1jvG5DME2jiRfkLjNiq06Rk8EHznRSllLgN/Q92nmMA";
		expect(await verifyPassword("pässwörd-日本語", stored)).toEqual({ ok: true, needsRehash: false });
		expect((await verifyPassword("pässwörd-日本語".normalize("NFD"), stored)).ok).toBe(true);
		// A library that counted UTF-16 units as bytes would hash only a prefix and accept this.
		expect((await verifyPassword("pässwörd-日本", stored)).ok).toBe(false);
	});

	it("verifies composed and decomposed forms of the same password", async () => {
		const stored = await hashPassword("Café crème brûlée");
		expect((await verifyPassword("Café crème brûlée".normalize("NFD"), stored)).ok).toBe(true);
	});

	it("verifies legacy PBKDF2 and weaker Argon2 hashes and asks for a rehash", async () => {
		expect(await verifyPassword("hunter2hunter2", await legacyPbkdf2("hunter2hunter2"))).toEqual({ ok: true, needsRehash: true });
		const salt = crypto.getRandomValues(new Uint8Array(16));
		const raw = argon2idRaw(new TextEncoder().encode("hunter2hunter2"), salt, { m: 8192, t: 1, p: 1 }, 32);
		const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/=+$/, "");
		const weaker = `$argon2id$v=19$m=8192,t=1,p=1$${b64(salt)}$${b64(raw)}`;
		expect(await verifyPassword("hunter2hunter2", weaker)).toEqual({ ok: true, needsRehash: true });
	});

	it("treats malformed and hostile stored strings as a failed check, without throwing", async () => {
		const good = await hashPassword("some long password");
		const hostile = [
			"",
			"plaintext",
			good.replace("$argon2id$", "$argon2i$"),
			good.replace(`m=${ARGON2ID_PARAMS.m}`, "m=4194304"),
			good.replace(`t=${ARGON2ID_PARAMS.t}`, "t=1000"),
			good.slice(0, -4),
			`${good}$extra`,
			"$pbkdf2-sha256$i=100000000$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		];
		for (const stored of hostile) expect(await verifyPassword("some long password", stored)).toEqual({ ok: false, needsRehash: false });
	});

	it("spends a full verification on the dummy hash and never matches", async () => {
		expect(await verifyDummy("anything at all")).toBe(false);
	});

	it("upgrades a legacy hash on the next successful login", async () => {
		const session = await registerShopper();
		const db = new Database(env);
		try {
			await db.primary
				.update(users)
				.set({ passwordHash: await legacyPbkdf2(PASSWORD) })
				.where(eq(users.id, session.user.id));
			const login = await post("/v1/auth/login", { email: session.user.email, password: PASSWORD });
			expect(login.status).toBe(200);
			const [row] = await db.primary.select({ hash: users.passwordHash }).from(users).where(eq(users.id, session.user.id));
			expect(row?.hash.startsWith("$argon2id$v=19$")).toBe(true);
			expect((await post("/v1/auth/login", { email: session.user.email, password: PASSWORD })).status).toBe(200);
		} finally {
			await db.close();
		}
	});
});
