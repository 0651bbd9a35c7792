import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { LIMITED_ROUTES } from "../workers/api/middleware/rate-limits.ts";
import { DOCS_SCRIPT_PATH } from "../workers/api/openapi.ts";
import { authed, makeAdmin, registerShopper } from "./accounts-helpers.ts";
import { call, problemOf } from "./helpers.ts";

type Json = Record<string, unknown>;
interface Operation {
	method: string;
	path: string;
	op: Json & { operationId?: string; tags?: string[]; description?: string; security?: Json[]; responses: Record<string, Json> };
}

const METHODS = ["get", "head", "post", "put", "patch", "delete"];

let doc: Json & { paths: Record<string, Record<string, Operation["op"]>>; components: Record<string, Record<string, Json>> };
let operations: Operation[];

beforeAll(async () => {
	const res = await call("/openapi.json");
	expect(res.status).toBe(200);
	doc = (await res.json()) as typeof doc;
	operations = Object.entries(doc.paths).flatMap(([path, item]) =>
		Object.entries(item)
			.filter(([method]) => METHODS.includes(method))
			.map(([method, op]) => ({ method, path, op })),
	);
});

/** Follows a local `$ref` ("#/components/…") to what it names. */
function resolve(value: unknown): Json {
	let current = value as Json;
	while (current && typeof current.$ref === "string") {
		current = (current.$ref as string)
			.slice(2)
			.split("/")
			.reduce<Json>((node, key) => node[key.replaceAll("~1", "/").replaceAll("~0", "~")] as Json, doc);
	}
	return current;
}

const name = ({ method, path }: Operation) => `${method.toUpperCase()} ${path}`;

describe("every operation is named, described and grouped", () => {
	it("has a unique camelCase operationId, a declared tag and a description", () => {
		const declaredTags = new Set((doc.tags as { name: string }[]).map((tag) => tag.name));
		const ids = operations.map(({ op }) => op.operationId);
		expect(new Set(ids).size, "operationIds are unique").toBe(ids.length);
		for (const operation of operations) {
			const { op } = operation;
			expect(op.operationId, name(operation)).toMatch(/^[a-z]+[A-Za-z]*$/);
			expect(op.tags?.length, name(operation)).toBeGreaterThan(0);
			for (const tag of op.tags ?? []) expect(declaredTags, name(operation)).toContain(tag);
			expect(op.description?.trim().length ?? 0, `${name(operation)} has a description`).toBeGreaterThan(20);
			expect(op.summary, name(operation)).toBeTruthy();
		}
	});

	it("documents the generic 500 and, where a token is taken, the 401 on every operation", () => {
		for (const operation of operations) {
			expect(resolve(operation.op.responses["500"])?.content, `${name(operation)} 500`).toBeTruthy();
			const secured = (operation.op.security ?? []).some((requirement) => Object.keys(requirement).length > 0);
			if (secured) expect(resolve(operation.op.responses["401"])?.content, `${name(operation)} 401`).toBeTruthy();
		}
	});
});

describe("admin operations have a security scheme of their own", () => {
	it("secures every /v1/admin operation with adminBearerAuth, and no other operation", () => {
		const schemes = doc.components.securitySchemes as Record<string, Json>;
		expect(schemes.adminBearerAuth).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
		expect(schemes.adminBearerAuth?.description).toMatch(/admin role/);
		for (const operation of operations) {
			const usesAdmin = (operation.op.security ?? []).some((requirement) => "adminBearerAuth" in requirement);
			if (operation.path.startsWith("/v1/admin/")) expect(operation.op.security, name(operation)).toEqual([{ adminBearerAuth: [] }]);
			else expect(usesAdmin, name(operation)).toBe(false);
		}
	});
});

describe("rate limits come from LIMITED_ROUTES", () => {
	it("documents each limited operation's 429 with Retry-After, RateLimit and RateLimit-Policy, and its successes' policy", () => {
		for (const route of LIMITED_ROUTES) {
			const op = doc.paths[route.path]?.[route.method];
			expect(op, `LIMITED_ROUTES names ${route.method.toUpperCase()} ${route.path}, which the document lacks`).toBeDefined();
			const tooMany = resolve(op?.responses["429"]);
			expect(tooMany?.content, `${route.path} 429`).toBeTruthy();
			const headers = tooMany.headers as Json;
			for (const header of ["Retry-After", "RateLimit", "RateLimit-Policy"]) {
				expect(resolve(headers[header])?.schema, `${route.method} ${route.path} 429 ${header}`).toBeTruthy();
			}
			for (const [status, response] of Object.entries(op?.responses ?? {})) {
				if (!/^2/.test(status)) continue;
				expect(resolve((resolve(response).headers as Json | undefined)?.["RateLimit-Policy"]), `${route.path} ${status}`).toBeTruthy();
			}
		}
	});

	it("documents 429 on no operation LIMITED_ROUTES leaves out", () => {
		const limited = new Set(LIMITED_ROUTES.map((route) => `${route.method} ${route.path}`));
		for (const operation of operations) {
			expect("429" in operation.op.responses, name(operation)).toBe(limited.has(`${operation.method} ${operation.path}`));
		}
	});
});

/** Every schema an operation's parameters, body, responses and their headers reach, `$ref`s followed, each once. */
function reachableSchemas(): { where: string; schema: Json }[] {
	const found: { where: string; schema: Json }[] = [];
	const seen = new Set<Json>();
	const visit = (value: unknown, where: string): void => {
		const schema = resolve(value);
		if (!schema || typeof schema !== "object" || seen.has(schema)) return;
		seen.add(schema);
		found.push({ where, schema });
		for (const [key, child] of Object.entries(schema.properties ?? {})) visit(child, `${where}.${key}`);
		if (schema.items) visit(schema.items, `${where}[]`);
		if (schema.additionalProperties && typeof schema.additionalProperties === "object") visit(schema.additionalProperties, `${where}{}`);
		for (const key of ["anyOf", "oneOf", "allOf"])
			for (const [i, child] of ((schema[key] as unknown[]) ?? []).entries()) visit(child, `${where}|${i}`);
	};
	for (const operation of operations) {
		const { op } = operation;
		for (const parameter of (op.parameters as Json[] | undefined) ?? [])
			visit(resolve(parameter).schema, `${name(operation)} ${parameter.name}`);
		const body = resolve(op.requestBody)?.content as Record<string, Json> | undefined;
		for (const [type, media] of Object.entries(body ?? {})) visit(media.schema, `${name(operation)} body ${type}`);
		for (const [status, value] of Object.entries(op.responses)) {
			const response = resolve(value);
			for (const [type, media] of Object.entries((response.content as Record<string, Json>) ?? {}))
				visit(media.schema, `${name(operation)} ${status} ${type}`);
			for (const [header, h] of Object.entries((response.headers as Json) ?? {}))
				visit(resolve(h).schema, `${name(operation)} ${status} ${header}`);
		}
	}
	return found;
}

const typesOf = (schema: Json) => [schema.type].flat();

describe("every value has bounds", () => {
	it("gives strings maxLength, integers a format and limits, arrays maxItems", () => {
		const unbounded: string[] = [];
		for (const { where, schema } of reachableSchemas()) {
			const types = typesOf(schema);
			if (types.includes("string") && schema.maxLength === undefined && !schema.enum && schema.const === undefined)
				unbounded.push(`${where}: string without maxLength`);
			if (types.includes("integer")) {
				if (!["int32", "int64"].includes(schema.format as string)) unbounded.push(`${where}: integer without int32/int64 format`);
				if (schema.minimum === undefined || schema.maximum === undefined) unbounded.push(`${where}: integer without minimum and maximum`);
			}
			if (types.includes("array") && schema.maxItems === undefined) unbounded.push(`${where}: array without maxItems`);
		}
		expect(unbounded).toEqual([]);
	});
});

const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

/**
 * A well-formed value for a parameter, from its example. Ids get a fresh tail
 * of their own shape: the rate limits count per cart id, and a shared example
 * id would spend other tests' allowance.
 */
function validValue(schema: Json): string {
	if (schema.example === undefined) throw new Error(`give the parameter schema ${JSON.stringify(schema)} an example`);
	const example = String(schema.example);
	const id = /^([a-z]+)_[0-9a-z]{20}$/.exec(example);
	if (!id) return example;
	const tail = [...crypto.getRandomValues(new Uint8Array(20))].map((byte) => CROCKFORD[byte & 31]).join("");
	return `${id[1]}_${tail}`;
}

describe("malformed path parameters are refused before any handler runs", () => {
	let userToken: string;
	let adminToken: string;

	beforeAll(async () => {
		const user = await registerShopper();
		userToken = user.access_token;
		adminToken = (await makeAdmin(await registerShopper())).access_token;
	});

	/** What lets a request reach the route's validation: the token its guard wants, an Idempotency-Key. */
	function init(operation: Operation): RequestInit {
		const headers: Record<string, string> = { "idempotency-key": `contract-${crypto.randomUUID()}` };
		const token = operation.path.startsWith("/v1/admin/") ? adminToken : operation.path.startsWith("/v1/me") ? userToken : undefined;
		const base = token ? authed(token, { method: operation.method.toUpperCase() }) : { method: operation.method.toUpperCase() };
		const merged = new Headers(base.headers);
		for (const [key, value] of Object.entries(headers)) merged.set(key, value);
		return { ...base, headers: merged };
	}

	const MALFORMED = ["%00", "%01", "%7F", "ok%00ok", "bad!id", "-".repeat(300)];

	it("answers 400 problem+json for a control character or a malformed value in any path parameter", async () => {
		const checked: string[] = [];
		for (const operation of operations) {
			const params = ((operation.op.parameters as Json[] | undefined) ?? []).map(resolve).filter((p) => p.in === "path");
			for (const param of params) {
				for (const bad of MALFORMED) {
					const path = operation.path.replace(/\{(\w+)\}/g, (_, key: string) =>
						key === param.name ? bad : encodeURIComponent(validValue(resolve(params.find((p) => p.name === key)?.schema))),
					);
					const res = await call(path, init(operation));
					const label = `${name(operation)} with ${param.name}=${bad}`;
					expect(res.status, label).toBe(400);
					// A HEAD answer has no body to read.
					if (operation.method !== "head") expect((await problemOf(res)).code, label).toBe("validation_failed");
					checked.push(label);
				}
			}
		}
		// The route table has path parameters on many operations; an empty loop would prove nothing.
		expect(checked.length).toBeGreaterThan(100);
	});

	it("still routes a well-formed id that names nothing to the handler (404, not 400)", async () => {
		const res = await call("/v1/orders/ord_0123456789abcdefghjk");
		expect(res.status).toBe(404);
		await problemOf(res);
	});
});

describe("the API reference works offline", () => {
	it("serves /docs with our own script, allowed by the page's policy", async () => {
		const res = await call("/docs");
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toMatch(/^text\/html/);
		const html = await res.text();
		const sources = [...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((match) => match[1]);
		expect(sources).toEqual([DOCS_SCRIPT_PATH]);
		expect(html).not.toMatch(/https?:\/\/(?!api\.test)/);
		const csp = res.headers.get("content-security-policy") ?? "";
		expect(csp).toMatch(/script-src 'self' 'nonce-[0-9a-f]+'/);
		expect(csp).toMatch(/connect-src 'self'/);
		const nonce = /'nonce-([0-9a-f]+)'/.exec(csp)?.[1];
		expect(html).toContain(`nonce="${nonce}"`);

		const script = await env.ASSETS.fetch(new Request(`https://api.test${DOCS_SCRIPT_PATH}`));
		expect(script.status).toBe(200);
		expect(script.headers.get("content-type")).toMatch(/javascript/);
		expect(await script.text()).toContain("createApiReference");
	});
});
