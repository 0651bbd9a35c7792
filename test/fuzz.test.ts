import { beforeAll, describe, expect, it } from "vitest";
import { makeAdmin, registerShopper } from "./accounts-helpers.ts";
import { call } from "./helpers.ts";

/**
 * Malformed input to every operation of /openapi.json, as an outsider would
 * send it (issue 16 found a 500 this way): whatever arrives, the answer is
 * never a 5xx. Each operation is called without a token, with a customer's and
 * with an admin's, with hostile path values, query values and bodies. A 503
 * would mean a fault, not a refusal, so it fails the test too.
 */

type Json = Record<string, unknown>;
interface Operation {
	method: string;
	path: string;
	op: Json & { parameters?: Json[]; requestBody?: Json; security?: Json[] };
}

const METHODS = ["get", "post", "put", "patch", "delete"];

/** Values no parameter accepts, or accepts only at its edges. */
const HOSTILE_VALUES = [
	"%00",
	"a%0Ab",
	"%F0%9F%92%A9",
	"%C0%AF",
	"..%2F..%2Fetc%2Fpasswd",
	"x".repeat(5000),
	"-1",
	"99999999999999999999999",
	"1e309",
	"NaN",
	"null",
	"%27%20OR%201%3D1--",
	"%5B%5D",
];

/** Bodies of every wrong shape. */
const HOSTILE_BODIES: (string | undefined)[] = [
	undefined,
	"",
	"{",
	"[]",
	"null",
	'"text"',
	"12",
	'{"__proto__":{"admin":true}}',
	JSON.stringify({ email: "a\u0000b@example.com", password: "\u0000".repeat(200), quantity: 1e300, sku: "X".repeat(10_000) }),
	JSON.stringify({ items: Array.from({ length: 2000 }, () => ({ sku: "A", quantity: -1 })) }),
	JSON.stringify({ cart_id: "cart_00000000000000000000", email: "x@y.z", shipping_address: { country: "ZZ" }, amount: -5 }),
];

let operations: Operation[];
let customer: string;
let admin: string;

beforeAll(async () => {
	const res = await call("/openapi.json");
	const doc = (await res.json()) as { paths: Record<string, Record<string, Operation["op"]>> };
	operations = Object.entries(doc.paths).flatMap(([path, item]) =>
		Object.entries(item)
			.filter(([method]) => METHODS.includes(method))
			.map(([method, op]) => ({ method, path, op })),
	);
	customer = (await registerShopper()).access_token;
	admin = (await makeAdmin(await registerShopper())).access_token;
});

/** The path with each `{param}` replaced by `value` (already encoded). */
function pathWith(path: string, value: string): string {
	return path.replace(/\{[^}]+\}/g, value);
}

/** The path with each `{param}` replaced by its documented example: well-formed, so the body is what gets tested. */
function examplePath(operation: Operation): string {
	const examples = new Map(
		(operation.op.parameters ?? [])
			.filter((p) => p.in === "path")
			.map((p) => [String(p.name), String((p.schema as Json | undefined)?.example ?? p.example ?? "x")]),
	);
	return operation.path.replace(/\{([^}]+)\}/g, (_, param: string) => encodeURIComponent(examples.get(param) ?? "x"));
}

async function send(operation: Operation, url: string, body: string | undefined, token: string | undefined): Promise<number> {
	const headers: Record<string, string> = {
		"content-type": "application/json",
		"idempotency-key": `fuzz-${crypto.randomUUID()}`,
		"x-cart-token": "not-a-token",
		"x-order-token": "%00",
	};
	if (token) headers.authorization = `Bearer ${token}`;
	const res = await call(url, {
		method: operation.method.toUpperCase(),
		headers,
		body: operation.method === "get" ? undefined : body,
	});
	await res.body?.cancel();
	return res.status;
}

describe("fuzzing every operation", () => {
	it("answers no malformed path, query or body with a 5xx, whoever sends it", { timeout: 240_000 }, async () => {
		expect(operations.length).toBeGreaterThan(50);
		const fives: string[] = [];
		let requests = 0;
		for (const operation of operations) {
			// The live-stock socket route needs an upgrade; without one it answers 426, which this covers too.
			const queryNames = (operation.op.parameters ?? []).filter((p) => p.in === "query").map((p) => String(p.name));
			const urls = [
				...HOSTILE_VALUES.map((value) => pathWith(operation.path, value)),
				...HOSTILE_VALUES.map(
					(value) => `${examplePath(operation)}?${(queryNames.length ? queryNames : ["q"]).map((n) => `${n}=${value}`).join("&")}`,
				),
			];
			for (const token of [undefined, customer, admin]) {
				for (const url of urls) {
					const status = await send(operation, url, "{}", token);
					requests++;
					if (status >= 500) fives.push(`${status} ${operation.method.toUpperCase()} ${url.slice(0, 120)}`);
				}
				if (operation.method !== "get") {
					for (const body of HOSTILE_BODIES) {
						const status = await send(operation, examplePath(operation), body, token);
						requests++;
						if (status >= 500)
							fives.push(`${status} ${operation.method.toUpperCase()} ${operation.path} body ${String(body).slice(0, 60)}`);
					}
				}
			}
		}
		expect(requests).toBeGreaterThan(3000);
		expect(fives).toEqual([]);
	});
});
