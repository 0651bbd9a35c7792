import { and, asc, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { Database } from "../workers/db/client.ts";
import { auditLog } from "../workers/db/schema.ts";
import { authed, env, makeAdmin, registerShopper, type Session } from "./accounts-helpers.ts";
import { call, problemOf } from "./helpers.ts";

interface Variant {
	id: string;
	sku: string;
	title: string;
	options: Record<string, string>;
	price_minor: number;
	currency: string;
	position: number;
	archived: boolean;
}

interface Product {
	id: string;
	slug: string;
	title: string;
	description: string;
	status: string;
	category_id: string | null;
	attributes: Record<string, string>;
	variants: Variant[];
	created_at: string;
	updated_at: string;
}

/** A tag of its own per product: the database is shared with every other test file and the demo catalog. */
const tag = () => crypto.randomUUID().slice(0, 8);

function productBody(t: string, overrides: Record<string, unknown> = {}) {
	return {
		title: `Test Jacket ${t}`,
		slug: `test-jacket-${t}`,
		description: "Warm. Waterproof.",
		attributes: { material: "wool" },
		variants: [
			{ sku: `TJ-${t.toUpperCase()}-S`, title: "Small", options: { Size: "S" }, price_minor: 12900, currency: "EUR" },
			{ sku: `TJ-${t.toUpperCase()}-M`, title: "Medium", options: { Size: "M" }, price_minor: 12900, currency: "EUR" },
		],
		...overrides,
	};
}

async function auditRows(productId: string) {
	const db = new Database(env);
	try {
		return await db.primary
			.select()
			.from(auditLog)
			.where(and(eq(auditLog.entityType, "product"), eq(auditLog.entityId, productId)))
			.orderBy(asc(auditLog.id));
	} finally {
		await db.close();
	}
}

let admin: Session;
let customer: Session;

beforeAll(async () => {
	admin = await makeAdmin(await registerShopper());
	customer = await registerShopper();
});

const send = (method: string, path: string, body?: unknown, token = admin.access_token) =>
	call(path, authed(token, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));

async function create(body: unknown): Promise<Product> {
	const res = await send("POST", "/v1/admin/products", body);
	if (res.status !== 201) throw new Error(`create answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as Product;
}

async function expectProblem(res: Response, status: number, code: string) {
	expect(res.status).toBe(status);
	const problem = await problemOf(res);
	expect(problem.code).toBe(code);
	return problem;
}

const errorPaths = (problem: Record<string, unknown>) => ((problem.errors ?? []) as { path: string }[]).map((e) => e.path).sort();

describe("admin products: create", () => {
	it("creates a draft product with its variants, lists it, audits it and bumps the catalog version", async () => {
		const t = tag();
		const versionBefore = await env.CATALOG.get("catalog:version");
		const res = await send("POST", "/v1/admin/products", productBody(t));
		expect(res.status).toBe(201);
		const product = (await res.json()) as Product;
		expect(product).toMatchObject({
			slug: `test-jacket-${t}`,
			title: `Test Jacket ${t}`,
			status: "draft",
			category_id: null,
			attributes: { material: "wool" },
		});
		expect(product.id).toMatch(/^prod_[a-z0-9]{20}$/);
		expect(product.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
		expect(product.variants.map((v) => [v.sku, v.position, v.price_minor, v.currency, v.archived])).toEqual([
			[`TJ-${t.toUpperCase()}-S`, 0, 12900, "EUR", false],
			[`TJ-${t.toUpperCase()}-M`, 1, 12900, "EUR", false],
		]);
		expect(product.variants[0]?.id).toMatch(/^var_/);
		expect(await env.CATALOG.get("catalog:version")).not.toBe(versionBefore);

		const list = await send("GET", `/v1/admin/products?q=${t}`);
		expect(list.status).toBe(200);
		expect(list.headers.get("cache-control")).toBe("private, no-store");
		const page = (await list.json()) as { data: Product[]; next_cursor: string | null };
		expect(page.data).toEqual([product]);
		expect(page.next_cursor).toBeNull();

		const audit = await auditRows(product.id);
		expect(audit.map((row) => [row.action, row.actorId, row.before])).toEqual([["product.create", admin.user.id, null]]);
		expect(audit[0]?.after).toEqual(product);
	});

	it("derives the slug from the title when none is sent", async () => {
		const t = tag();
		const product = await create(productBody(t, { slug: undefined, title: `Crème Brûlée Set — ${t}!` }));
		expect(product.slug).toBe(`creme-brulee-set-${t}`);
	});

	it("answers 409 sku_taken for a SKU of another product and 409 slug_taken for a used slug, writing nothing", async () => {
		const t = tag();
		const first = await create(productBody(t));
		const other = tag();
		const dupSku = await send(
			"POST",
			"/v1/admin/products",
			productBody(other, { variants: [{ sku: first.variants[0]?.sku, title: "Small", price_minor: 100, currency: "EUR" }] }),
		);
		const problem = await expectProblem(dupSku, 409, "sku_taken");
		expect(problem.skus).toEqual([first.variants[0]?.sku]);

		const dupSlug = await send("POST", "/v1/admin/products", productBody(other, { slug: first.slug }));
		await expectProblem(dupSlug, 409, "slug_taken");

		const page = (await (await send("GET", `/v1/admin/products?q=${other}`)).json()) as { data: Product[] };
		expect(page.data).toEqual([]);
	});

	it("refuses a negative price with the field path", async () => {
		const t = tag();
		const body = productBody(t);
		body.variants[0] = { ...body.variants[0], price_minor: -1 } as (typeof body.variants)[0];
		const problem = await expectProblem(await send("POST", "/v1/admin/products", body), 400, "validation_failed");
		expect(errorPaths(problem)).toEqual(["body.variants.0.price_minor"]);
	});

	it("refuses unknown fields, server-owned ones included", async () => {
		for (const extra of [{ id: "prod_mine" }, { search: "x" }, { created_at: "2020-01-01T00:00:00Z" }]) {
			const problem = await expectProblem(await send("POST", "/v1/admin/products", productBody(tag(), extra)), 400, "validation_failed");
			expect(errorPaths(problem)).toEqual(["body"]);
		}
		const t = tag();
		const variantExtra = productBody(t, {
			variants: [{ sku: `X-${t.toUpperCase()}`, title: "X", price_minor: 1, currency: "EUR", stock: 5 }],
		});
		const problem = await expectProblem(await send("POST", "/v1/admin/products", variantExtra), 400, "validation_failed");
		expect(errorPaths(problem)).toEqual(["body.variants.0"]);
	});

	it("refuses mixed currencies, repeated SKUs and malformed SKUs or slugs", async () => {
		const t = tag().toUpperCase();
		const mixed = productBody(t.toLowerCase(), {
			variants: [
				{ sku: `A-${t}`, title: "A", price_minor: 100, currency: "EUR" },
				{ sku: `B-${t}`, title: "B", price_minor: 100, currency: "USD" },
			],
		});
		expect(errorPaths(await expectProblem(await send("POST", "/v1/admin/products", mixed), 400, "validation_failed"))).toEqual([
			"body.variants.1.currency",
		]);
		const repeated = productBody(t.toLowerCase(), {
			variants: [
				{ sku: `A-${t}`, title: "A", price_minor: 100, currency: "EUR" },
				{ sku: `A-${t}`, title: "B", price_minor: 100, currency: "EUR" },
			],
		});
		expect(errorPaths(await expectProblem(await send("POST", "/v1/admin/products", repeated), 400, "validation_failed"))).toEqual([
			"body.variants.1.sku",
		]);
		const malformed = productBody(t.toLowerCase(), {
			slug: "Not A Slug",
			variants: [{ sku: `lower-${t}`, title: "A", price_minor: 1.5, currency: "eur" }],
		});
		expect(errorPaths(await expectProblem(await send("POST", "/v1/admin/products", malformed), 400, "validation_failed"))).toEqual([
			"body.slug",
			"body.variants.0.currency",
			"body.variants.0.price_minor",
			"body.variants.0.sku",
		]);
		expect((await send("POST", "/v1/admin/products", productBody(tag(), { variants: [] }))).status).toBe(400);
	});

	it("answers 422 unknown_category for a category that does not exist", async () => {
		const res = await send("POST", "/v1/admin/products", productBody(tag(), { category_id: "cat_doesnotexist" }));
		await expectProblem(res, 422, "unknown_category");
	});
});

describe("admin products: access", () => {
	it("refuses customers with 403 and anonymous callers with 401 on every route", async () => {
		const product = await create(productBody(tag()));
		const routes: [string, string, unknown][] = [
			["GET", "/v1/admin/products", undefined],
			["POST", "/v1/admin/products", productBody(tag())],
			["PATCH", `/v1/admin/products/${product.id}`, { title: "Hijacked" }],
			["DELETE", `/v1/admin/products/${product.id}`, undefined],
		];
		for (const [method, path, body] of routes) {
			await expectProblem(await send(method, path, body, customer.access_token), 403, "forbidden");
			const anonymous = await call(path, {
				method,
				...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
			});
			await expectProblem(anonymous, 401, "unauthorized");
		}
		const unchanged = (await (await send("GET", `/v1/admin/products?q=${product.slug}`)).json()) as { data: Product[] };
		expect(unchanged.data).toEqual([product]);
	});
});

describe("admin products: update", () => {
	it("changes a price, adds a variant and archives one, auditing before and after", async () => {
		const t = tag();
		const T = t.toUpperCase();
		const created = await create(productBody(t));
		const res = await send("PATCH", `/v1/admin/products/${created.id}`, {
			title: `Renamed ${t}`,
			status: "active",
			variants: [
				{ sku: `TJ-${T}-S`, price_minor: 9900 },
				{ sku: `TJ-${T}-M`, archived: true },
				{ sku: `TJ-${T}-L`, title: "Large", options: { Size: "L" }, price_minor: 13900, currency: "EUR" },
			],
		});
		expect(res.status).toBe(200);
		const updated = (await res.json()) as Product;
		expect(updated).toMatchObject({ id: created.id, title: `Renamed ${t}`, status: "active", slug: created.slug });
		expect(updated.variants.map((v) => [v.sku, v.position, v.price_minor, v.archived])).toEqual([
			[`TJ-${T}-S`, 0, 9900, false],
			[`TJ-${T}-M`, 1, 12900, true],
			[`TJ-${T}-L`, 2, 13900, false],
		]);
		expect(updated.updated_at > created.updated_at).toBe(true);
		expect(updated.created_at).toBe(created.created_at);

		const audit = await auditRows(created.id);
		expect(audit.map((row) => row.action)).toEqual(["product.create", "product.update"]);
		const before = audit[1]?.before as Product;
		const after = audit[1]?.after as Product;
		expect(before).toEqual(created);
		expect(after).toEqual(updated);
		expect(before.variants.find((v) => v.sku === `TJ-${T}-S`)?.price_minor).toBe(12900);
		expect(after.variants.find((v) => v.sku === `TJ-${T}-S`)?.price_minor).toBe(9900);
		expect(before.variants.some((v) => v.sku === `TJ-${T}-L`)).toBe(false);
		expect(before.variants.find((v) => v.sku === `TJ-${T}-M`)?.archived).toBe(false);
		expect(after.variants.find((v) => v.sku === `TJ-${T}-M`)?.archived).toBe(true);

		// Reviving an archived variant is an upsert too.
		const revived = (await (
			await send("PATCH", `/v1/admin/products/${created.id}`, { variants: [{ sku: `TJ-${T}-M`, archived: false }] })
		).json()) as Product;
		expect(revived.variants.find((v) => v.sku === `TJ-${T}-M`)?.archived).toBe(false);
	});

	it("clears the category and replaces attributes", async () => {
		const created = await create(productBody(tag(), { attributes: { a: "1", b: "2" } }));
		const updated = (await (
			await send("PATCH", `/v1/admin/products/${created.id}`, { category_id: null, attributes: { c: "3" }, description: "" })
		).json()) as Product;
		expect(updated).toMatchObject({ category_id: null, attributes: { c: "3" }, description: "" });
	});

	it("refuses a SKU of another product, an incomplete new SKU, a used slug and an empty body, changing nothing", async () => {
		const t = tag();
		const mine = await create(productBody(t));
		const theirs = await create(productBody(tag()));
		const path = `/v1/admin/products/${mine.id}`;

		const stolen = await send("PATCH", path, { title: "Changed", variants: [{ sku: theirs.variants[0]?.sku, price_minor: 1 }] });
		expect((await expectProblem(stolen, 409, "sku_taken")).skus).toEqual([theirs.variants[0]?.sku]);

		const incomplete = await send("PATCH", path, { variants: [{ sku: `NEW-${t.toUpperCase()}`, title: "New" }] });
		const problem = await expectProblem(incomplete, 400, "validation_failed");
		expect(errorPaths(problem)).toEqual(["body.variants.0.currency", "body.variants.0.price_minor"]);

		await expectProblem(await send("PATCH", path, { slug: theirs.slug }), 409, "slug_taken");
		await expectProblem(await send("PATCH", path, {}), 400, "validation_failed");
		await expectProblem(await send("PATCH", path, { search: "x" }), 400, "validation_failed");
		await expectProblem(await send("PATCH", path, { category_id: "cat_doesnotexist" }), 422, "unknown_category");

		const page = (await (await send("GET", `/v1/admin/products?q=${mine.slug}`)).json()) as { data: Product[] };
		expect(page.data).toEqual([mine]);
		expect((await auditRows(mine.id)).map((row) => row.action)).toEqual(["product.create"]);
	});

	it("keeps one currency and at most 100 live variants per product", async () => {
		const t = tag();
		const T = t.toUpperCase();
		const mixed = await send("PATCH", `/v1/admin/products/${(await create(productBody(t))).id}`, {
			variants: [{ sku: `TJ-${T}-S`, currency: "USD" }],
		});
		await expectProblem(mixed, 422, "currency_mismatch");

		const u = tag().toUpperCase();
		const full = await create(
			productBody(tag(), {
				variants: Array.from({ length: 100 }, (_, i) => ({ sku: `FULL-${u}-${i}`, title: `V${i}`, price_minor: 100, currency: "EUR" })),
			}),
		);
		const path = `/v1/admin/products/${full.id}`;
		const extra = { sku: `FULL-${u}-X`, title: "Extra", price_minor: 100, currency: "EUR" };
		await expectProblem(await send("PATCH", path, { variants: [extra] }), 422, "too_many_variants");
		// Archiving one in the same request makes room.
		const swapped = await send("PATCH", path, { variants: [{ sku: `FULL-${u}-0`, archived: true }, extra] });
		expect(swapped.status).toBe(200);
		const product = (await swapped.json()) as Product;
		expect(product.variants).toHaveLength(101);
		expect(product.variants.filter((v) => !v.archived)).toHaveLength(100);
	});

	it("answers 404 for an unknown product", async () => {
		await expectProblem(await send("PATCH", "/v1/admin/products/prod_doesnotexist", { title: "X" }), 404, "not_found");
	});
});

describe("admin products: archive", () => {
	it("archives instead of deleting, once, and is idempotent", async () => {
		const created = await create(productBody(tag(), { status: "active" }));
		const res = await send("DELETE", `/v1/admin/products/${created.id}`);
		expect(res.status).toBe(200);
		const archived = (await res.json()) as Product;
		expect(archived).toMatchObject({ id: created.id, status: "archived", variants: created.variants });

		const again = await send("DELETE", `/v1/admin/products/${created.id}`);
		expect(again.status).toBe(200);
		expect(await again.json()).toEqual(archived);

		const audit = await auditRows(created.id);
		expect(audit.map((row) => row.action)).toEqual(["product.create", "product.archive"]);
		expect(audit[1]?.before).toMatchObject({ status: "active" });
		expect(audit[1]?.after).toMatchObject({ status: "archived" });

		const page = (await (await send("GET", `/v1/admin/products?status=archived&q=${created.slug}`)).json()) as { data: Product[] };
		expect(page.data.map((p) => p.id)).toEqual([created.id]);
	});

	it("answers 404 for an unknown product", async () => {
		await expectProblem(await send("DELETE", "/v1/admin/products/prod_doesnotexist"), 404, "not_found");
	});
});

describe("admin products: list", () => {
	it("pages newest first with an opaque cursor and filters by status", async () => {
		const t = tag();
		const first = await create(productBody(`${t}-a`, { status: "active" }));
		const second = await create(productBody(`${t}-b`));
		const third = await create(productBody(`${t}-c`, { status: "archived" }));

		const one = (await (await send("GET", `/v1/admin/products?q=${t}&limit=2`)).json()) as { data: Product[]; next_cursor: string };
		expect(one.data.map((p) => p.id)).toEqual([third.id, second.id]);
		expect(one.next_cursor).toMatch(/^[A-Za-z0-9_-]+$/);
		const two = (await (await send("GET", `/v1/admin/products?q=${t}&limit=2&cursor=${one.next_cursor}`)).json()) as {
			data: Product[];
			next_cursor: string | null;
		};
		expect(two.data.map((p) => p.id)).toEqual([first.id]);
		expect(two.next_cursor).toBeNull();

		const drafts = (await (await send("GET", `/v1/admin/products?q=${t}&status=draft`)).json()) as { data: Product[] };
		expect(drafts.data.map((p) => p.id)).toEqual([second.id]);
		// SKUs are searchable too.
		const bySku = (await (await send("GET", `/v1/admin/products?q=${first.variants[0]?.sku.toLowerCase()}`)).json()) as { data: Product[] };
		expect(bySku.data.map((p) => p.id)).toEqual([first.id]);
	});

	it("includes the seeded catalog and refuses bad queries", async () => {
		const page = (await (await send("GET", "/v1/admin/products?limit=100")).json()) as { data: Product[] };
		expect(page.data.length).toBeGreaterThan(0);
		await expectProblem(await send("GET", "/v1/admin/products?cursor=garbage"), 400, "invalid_cursor");
		await expectProblem(await send("GET", "/v1/admin/products?limit=0"), 400, "validation_failed");
		await expectProblem(await send("GET", "/v1/admin/products?status=deleted"), 400, "validation_failed");
	});
});

describe("admin products: API description", () => {
	it("documents the four routes in the OpenAPI document", async () => {
		const doc = (await (await call("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
		expect(Object.keys(doc.paths["/v1/admin/products"] ?? {}).sort()).toEqual(["get", "post"]);
		expect(Object.keys(doc.paths["/v1/admin/products/{id}"] ?? {}).sort()).toEqual(["delete", "patch"]);
	});
});
