import { base64url, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import worker from "../workers/index.ts";
import { authed, env, registerShopper } from "./accounts-helpers.ts";
import { call, callWith, problemOf } from "./helpers.ts";

const signingJwk = () => (JSON.parse(env.JWT_KEYS) as { keys: JWK[] }).keys[0] as JWK;

/** Signs claims the way the Worker does, with overrides to break one property at a time. */
async function forge(
	claims: Record<string, unknown>,
	options: { key?: JWK; kid?: string; iss?: string; aud?: string; exp?: number; nbf?: number; typ?: string } = {},
): Promise<string> {
	const jwk = options.key ?? signingJwk();
	const key = await importJWK({ ...jwk, alg: "ES256" }, "ES256");
	const now = Math.floor(Date.now() / 1000);
	return await new SignJWT({ role: "customer", sid: "ses_test", ...claims })
		.setProtectedHeader({ alg: "ES256", kid: options.kid ?? (jwk.kid as string), typ: options.typ ?? "at+jwt" })
		.setIssuer(options.iss ?? env.JWT_ISSUER)
		.setAudience(options.aud ?? env.JWT_AUDIENCE)
		.setIssuedAt(now - 10)
		.setNotBefore(options.nbf ?? now - 10)
		.setExpirationTime(options.exp ?? now + 600)
		.sign(key);
}

async function expect401(token: string) {
	const res = await call("/v1/me", authed(token));
	expect(res.status).toBe(401);
	expect((await problemOf(res)).code).toBe("unauthorized");
	expect(res.headers.get("www-authenticate")).toContain("Bearer");
}

describe("access token verification", () => {
	it("accepts a token signed exactly like the Worker's own", async () => {
		const session = await registerShopper();
		const token = await forge({ sub: session.user.id });
		expect((await call("/v1/me", authed(token))).status).toBe(200);
	});

	it("refuses alg none", async () => {
		const session = await registerShopper();
		const [, payload] = session.access_token.split(".");
		const header = base64url.encode(JSON.stringify({ alg: "none", typ: "at+jwt", kid: signingJwk().kid }));
		await expect401(`${header}.${payload}.`);
	});

	it("refuses an HS256 token whose HMAC secret is the public key", async () => {
		const session = await registerShopper();
		const { d: _d, ...publicJwk } = signingJwk();
		const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
		const token = await new SignJWT({ role: "admin", sid: "ses_x" })
			.setProtectedHeader({ alg: "HS256", kid: publicJwk.kid as string, typ: "at+jwt" })
			.setSubject(session.user.id)
			.setIssuer(env.JWT_ISSUER)
			.setAudience(env.JWT_AUDIENCE)
			.setIssuedAt()
			.setExpirationTime("10m")
			.sign(secret);
		await expect401(token);
	});

	it("refuses a wrong issuer, a wrong audience, an expired token, a future nbf and a wrong type", async () => {
		const { user } = await registerShopper();
		const now = Math.floor(Date.now() / 1000);
		await expect401(await forge({ sub: user.id }, { iss: "https://evil.example" }));
		await expect401(await forge({ sub: user.id }, { aud: "another-api" }));
		await expect401(await forge({ sub: user.id }, { exp: now - 120 }));
		await expect401(await forge({ sub: user.id }, { nbf: now + 600 }));
		await expect401(await forge({ sub: user.id }, { typ: "JWT" }));
	});

	it("tolerates a few seconds of clock skew", async () => {
		const { user } = await registerShopper();
		const now = Math.floor(Date.now() / 1000);
		expect((await call("/v1/me", authed(await forge({ sub: user.id }, { exp: now - 5 })))).status).toBe(200);
	});

	it("refuses an unknown kid, and a known kid over a signature by another key", async () => {
		const { user } = await registerShopper();
		const { privateKey } = await generateKeyPair("ES256", { extractable: true });
		const stranger = { ...(await exportJWK(privateKey)), kid: "k-stranger" };
		await expect401(await forge({ sub: user.id }, { key: stranger }));
		await expect401(await forge({ sub: user.id }, { key: stranger, kid: signingJwk().kid as string }));
	});

	it("refuses a tampered payload", async () => {
		const session = await registerShopper();
		const [header, payload, signature] = session.access_token.split(".") as [string, string, string];
		const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload)));
		const tampered = base64url.encode(JSON.stringify({ ...claims, role: "admin" }));
		await expect401(`${header}.${tampered}.${signature}`);
	});

	it("refuses a missing or malformed Authorization header", async () => {
		expect((await call("/v1/me")).status).toBe(401);
		expect((await call("/v1/me", { headers: { authorization: "Basic dXNlcjpwYXNz" } })).status).toBe(401);
		expect((await call("/v1/me", { headers: { authorization: "Bearer not-a-jwt" } })).status).toBe(401);
	});
});

describe("key rotation", () => {
	it("publishes every accepted key and accepts tokens of the previous key while both are configured", async () => {
		const { user } = await registerShopper();
		const { privateKey } = await generateKeyPair("ES256", { extractable: true });
		const next = { ...(await exportJWK(privateKey)), kid: "k-next" };
		const previous = signingJwk();
		const rotated = JSON.stringify({ keys: [next, previous] });

		const jwks = (await (await callWith(worker, "/.well-known/jwks.json", {}, { JWT_KEYS: rotated })).json()) as { keys: JWK[] };
		expect(jwks.keys.map((k) => k.kid)).toEqual(["k-next", previous.kid]);
		expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);

		const oldToken = await forge({ sub: user.id });
		expect((await callWith(worker, "/v1/me", authed(oldToken), { JWT_KEYS: rotated })).status).toBe(200);

		// New tokens are signed with the first key of the set.
		const login = await callWith(
			worker,
			"/v1/auth/login",
			{
				method: "POST",
				headers: { "content-type": "application/json", "cf-connecting-ip": "10.99.0.1" },
				body: JSON.stringify({ email: user.email, password: "correct horse battery staple" }),
			},
			{ JWT_KEYS: rotated },
		);
		const { access_token } = (await login.json()) as { access_token: string };
		const header = JSON.parse(new TextDecoder().decode(base64url.decode(access_token.split(".")[0] as string)));
		expect(header).toMatchObject({ alg: "ES256", kid: "k-next", typ: "at+jwt" });

		// Once the previous key is retired, its tokens stop working.
		const retired = JSON.stringify({ keys: [next] });
		expect((await callWith(worker, "/v1/me", authed(oldToken), { JWT_KEYS: retired })).status).toBe(401);
		expect((await callWith(worker, "/v1/me", authed(access_token), { JWT_KEYS: retired })).status).toBe(200);
	});

	it("answers 503, not 500, when no signing keys are configured", async () => {
		const res = await callWith(worker, "/.well-known/jwks.json", {}, { JWT_KEYS: "" });
		expect(res.status).toBe(503);
		expect((await problemOf(res)).code).toBe("auth_unavailable");
	});
});
