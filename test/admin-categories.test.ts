import { and, asc, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditLog, categories } from "../workers/db/schema.ts";
import { authed, env, makeAdmin, registerShopper, type Session } from "./accounts-helpers.ts";
import { call, problemOf, withDb } from "./helpers.ts";

interface Category {
	id: string;
	parent_id: string | null;
	slug: string;
	name: string;
	position: number;
	product_count: number;
	created_at: string;
	updated_at: string;
}

type Node = Category & { children: Node[] };

/** A tag of its own per test: the database is shared with every other test file and the demo catalog. */
const tag = () => crypto.randomUUID().slice(0, 8);

let admin: Session;
let customer: Session;

beforeAll(async () => {
	admin = await makeAdmin(await registerShopper());
	customer = await registerShopper();
});

const send = (method: string, path: string, body?: unknown, token = admin.access_token) =>
	call(path, authed(token, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));

async function create(body: Record<string, unknown>): Promise<Category> {
	const res = await send("POST", "/v1/admin/categories", body);
	if (res.status !== 201) throw new Error(`create answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as Category;
}

async function expectProblem(res: Response, status: number, code: string) {
	expect(res.status).toBe(status);
	const problem = await problemOf(res);
	expect(problem.code).toBe(code);
	return problem;
}

async function tree(): Promise<Node[]> {
	const res = await send("GET", "/v1/admin/categories");
	expect(res.status).toBe(200);
	return ((await res.json()) as { data: Node[] }).data;
}

function find(nodes: Node[], id: string): Node | undefined {
	for (const node of nodes) {
		if (node.id === id) return node;
		const below = find(node.children, id);
		if (below) return below;
	}
	return undefined;
}

/** The public tree, as the shop reads it (through the versioned cache). */
async function publicSlugs(): Promise<string[]> {
	const res = await call("/v1/categories");
	expect(res.status).toBe(200);
	const slugs: string[] = [];
	const walk = (nodes: { slug: string; children: unknown[] }[]) => {
		for (const node of nodes) {
			slugs.push(node.slug);
			walk(node.children as { slug: string; children: unknown[] }[]);
		}
	};
	walk(((await res.json()) as { data: { slug: string; children: unknown[] }[] }).data);
	return slugs;
}

async function auditRows(categoryId: string) {
	return withDb((db) =>
		db.primary
			.select()
			.from(auditLog)
			.where(and(eq(auditLog.entityType, "category"), eq(auditLog.entityId, categoryId)))
			.orderBy(asc(auditLog.id)),
	);
}

/** A root with a child with a grandchild. */
async function threeLevels(t: string) {
	const root = await create({ name: `Root ${t}`, slug: `root-${t}` });
	const child = await create({ name: `Child ${t}`, slug: `child-${t}`, parent_id: root.id });
	const grandchild = await create({ name: `Grandchild ${t}`, slug: `grandchild-${t}`, parent_id: child.id });
	return { root, child, grandchild };
}

describe("admin categories: tree and create", () => {
	it("creates nested categories, lists them as a tree with product counts, audits each write and refreshes the public tree", async () => {
		const t = tag();
		// The public tree is read (and cached) before the change, so a stale cache would show without the new category.
		expect(await publicSlugs()).not.toContain(`root-${t}`);
		const versionBefore = await env.CATALOG.get("catalog:version");
		const { root, child, grandchild } = await threeLevels(t);
		expect(await env.CATALOG.get("catalog:version")).not.toBe(versionBefore);
		expect(root).toMatchObject({ parent_id: null, slug: `root-${t}`, name: `Root ${t}`, product_count: 0 });
		expect(root.id).toMatch(/^cat_[0-9a-z]{20}$/);
		expect(child.parent_id).toBe(root.id);
		expect(grandchild.parent_id).toBe(child.id);

		const product = await send("POST", "/v1/admin/products", {
			title: `Filed ${t}`,
			category_id: child.id,
			variants: [{ sku: `CAT-${t.toUpperCase()}`, title: "One", price_minor: 100, currency: "EUR" }],
		});
		expect(product.status).toBe(201);

		const listed = find(await tree(), root.id);
		expect(listed).toMatchObject({ id: root.id, product_count: 0 });
		expect(listed?.children.map((node) => [node.id, node.product_count])).toEqual([[child.id, 1]]);
		expect(listed?.children[0]?.children.map((node) => [node.id, node.product_count, node.children.length])).toEqual([
			[grandchild.id, 0, 0],
		]);

		for (const category of [root, child, grandchild]) {
			const audit = await auditRows(category.id);
			expect(audit.map((row) => [row.action, row.actorId, row.before])).toEqual([["category.create", admin.user.id, null]]);
			expect(audit[0]?.after).toEqual(category);
			expect(audit[0]?.requestId).toBeTruthy();
		}
		expect(await publicSlugs()).toEqual(expect.arrayContaining([`root-${t}`, `child-${t}`, `grandchild-${t}`]));
	});

	it("derives the slug from the name and places a new category after its siblings", async () => {
		const t = tag();
		const parent = await create({ name: `Parent ${t}`, slug: `parent-${t}` });
		const first = await create({ name: `Pull-overs & Cardigans ${t}`, parent_id: parent.id });
		const second = await create({ name: `Socks ${t}`, parent_id: parent.id });
		expect(first).toMatchObject({ slug: `pull-overs-cardigans-${t}`, position: 0 });
		expect(second).toMatchObject({ slug: `socks-${t}`, position: 1 });
		const placed = await create({ name: `First ${t}`, parent_id: parent.id, position: 0 });
		// Same position: by name, so "First" comes before "Pull-overs".
		expect(find(await tree(), parent.id)?.children.map((node) => node.id)).toEqual([placed.id, first.id, second.id]);
	});

	it("answers 409 slug_taken for a used slug and 422 unknown_category for a missing parent, writing nothing", async () => {
		const t = tag();
		const taken = await create({ name: `Taken ${t}`, slug: `taken-${t}` });
		await expectProblem(await send("POST", "/v1/admin/categories", { name: "Again", slug: `taken-${t}` }), 409, "slug_taken");
		await expectProblem(
			await send("POST", "/v1/admin/categories", { name: `Orphan ${t}`, slug: `orphan-${t}`, parent_id: "cat_doesnotexist" }),
			422,
			"unknown_category",
		);
		const rows = await withDb((db) =>
			db.primary
				.select()
				.from(categories)
				.where(eq(categories.slug, `orphan-${t}`)),
		);
		expect(rows).toEqual([]);
		const other = await create({ name: `Other ${t}`, slug: `other-${t}` });
		await expectProblem(await send("PATCH", `/v1/admin/categories/${other.id}`, { slug: taken.slug }), 409, "slug_taken");
		expect((await auditRows(other.id)).map((row) => row.action)).toEqual(["category.create"]);
		expect(find(await tree(), other.id)?.slug).toBe(`other-${t}`);
	});

	it("refuses unknown fields, an empty change and malformed values with 400", async () => {
		const t = tag();
		const category = await create({ name: `Strict ${t}`, slug: `strict-${t}` });
		for (const body of [{ name: "X", id: "cat_mine" }, { name: "X", product_count: 3 }, { name: "" }, { name: "X", slug: "Not A Slug" }]) {
			await expectProblem(await send("POST", "/v1/admin/categories", body), 400, "validation_failed");
		}
		await expectProblem(await send("PATCH", `/v1/admin/categories/${category.id}`, {}), 400, "validation_failed");
		await expectProblem(await send("PATCH", `/v1/admin/categories/${category.id}`, { position: -1 }), 400, "validation_failed");
		await expectProblem(await send("PATCH", `/v1/admin/categories/${category.id}`, { parent_id: "prod_x" }), 400, "validation_failed");
		expect((await auditRows(category.id)).map((row) => row.action)).toEqual(["category.create"]);
	});
});

describe("admin categories: moves", () => {
	it("moves a category with its subtree, renames and re-orders it, auditing before and after", async () => {
		const t = tag();
		const { root, child, grandchild } = await threeLevels(t);
		const other = await create({ name: `Other root ${t}`, slug: `other-root-${t}` });
		const res = await send("PATCH", `/v1/admin/categories/${child.id}`, { parent_id: other.id, name: `Moved ${t}`, position: 7 });
		expect(res.status).toBe(200);
		const moved = (await res.json()) as Category;
		expect(moved).toMatchObject({ id: child.id, parent_id: other.id, name: `Moved ${t}`, position: 7, slug: child.slug });

		const now = await tree();
		expect(find(now, root.id)?.children).toEqual([]);
		expect(find(now, other.id)?.children.map((node) => node.id)).toEqual([child.id]);
		expect(find(now, child.id)?.children.map((node) => node.id)).toEqual([grandchild.id]);

		const audit = await auditRows(child.id);
		expect(audit.map((row) => row.action)).toEqual(["category.create", "category.update"]);
		expect(audit[1]?.before).toEqual(child);
		expect(audit[1]?.after).toEqual(moved);

		const top = (await (await send("PATCH", `/v1/admin/categories/${child.id}`, { parent_id: null })).json()) as Category;
		expect(top.parent_id).toBeNull();
		expect((await tree()).some((node) => node.id === child.id)).toBe(true);
	});

	it("refuses a move under itself or one of its descendants with 422 category_cycle, changing and auditing nothing", async () => {
		const t = tag();
		const { root, child, grandchild } = await threeLevels(t);
		for (const parent of [root.id, child.id, grandchild.id]) {
			const problem = await expectProblem(
				await send("PATCH", `/v1/admin/categories/${root.id}`, { parent_id: parent, name: "Renamed" }),
				422,
				"category_cycle",
			);
			expect(problem.detail).toMatch(parent === root.id ? /own parent/ : /subtree/);
		}
		await expectProblem(await send("PATCH", `/v1/admin/categories/${child.id}`, { parent_id: grandchild.id }), 422, "category_cycle");
		const now = find(await tree(), root.id);
		expect(now).toMatchObject({ name: `Root ${t}`, parent_id: null });
		expect(now?.children.map((node) => node.id)).toEqual([child.id]);
		expect((await auditRows(root.id)).map((row) => row.action)).toEqual(["category.create"]);
		expect((await auditRows(child.id)).map((row) => row.action)).toEqual(["category.create"]);
	});

	it("two concurrent moves that would make a loop together: one wins, the other is refused, and no loop exists", async () => {
		const t = tag();
		const a = await create({ name: `A ${t}`, slug: `a-${t}` });
		const b = await create({ name: `B ${t}`, slug: `b-${t}` });
		const answers = await Promise.all([
			send("PATCH", `/v1/admin/categories/${a.id}`, { parent_id: b.id }),
			send("PATCH", `/v1/admin/categories/${b.id}`, { parent_id: a.id }),
		]);
		expect(answers.map((res) => res.status).sort()).toEqual([200, 422]);
		const rows = await withDb((db) =>
			db.primary
				.select({ id: categories.id, parent: categories.parentId })
				.from(categories)
				.where(eq(categories.name, `A ${t}`)),
		);
		const others = await withDb((db) =>
			db.primary
				.select({ id: categories.id, parent: categories.parentId })
				.from(categories)
				.where(eq(categories.name, `B ${t}`)),
		);
		const parents = [rows[0]?.parent, others[0]?.parent];
		expect(parents.filter((parent) => parent === null)).toHaveLength(1);
		const updates = [...(await auditRows(a.id)), ...(await auditRows(b.id))].filter((row) => row.action === "category.update");
		expect(updates).toHaveLength(1);
	});

	it("answers 404 for a category that does not exist", async () => {
		await expectProblem(await send("PATCH", "/v1/admin/categories/cat_doesnotexist", { name: "X" }), 404, "not_found");
		await expectProblem(await send("DELETE", "/v1/admin/categories/cat_doesnotexist"), 404, "not_found");
	});
});

describe("admin categories: delete", () => {
	it("refuses to delete a category with sub-categories or products (409 category_not_empty), then deletes it once empty", async () => {
		const t = tag();
		const { root, child, grandchild } = await threeLevels(t);
		const withChildren = await expectProblem(await send("DELETE", `/v1/admin/categories/${root.id}`), 409, "category_not_empty");
		expect(withChildren).toMatchObject({ children: 1, products: 0 });
		expect(withChildren.detail).toBe("The category still has 1 sub-category; move or delete it first.");

		const made = await send("POST", "/v1/admin/products", {
			title: `In grandchild ${t}`,
			category_id: grandchild.id,
			status: "draft",
			variants: [{ sku: `DEL-${t.toUpperCase()}`, title: "One", price_minor: 100, currency: "EUR" }],
		});
		expect(made.status).toBe(201);
		const productId = ((await made.json()) as { id: string }).id;
		const withProducts = await expectProblem(await send("DELETE", `/v1/admin/categories/${grandchild.id}`), 409, "category_not_empty");
		expect(withProducts).toMatchObject({ children: 0, products: 1 });
		expect(withProducts.detail).toBe("The category still has 1 product; move or delete it first.");
		for (const id of [root.id, grandchild.id]) expect((await auditRows(id)).map((row) => row.action)).toEqual(["category.create"]);

		expect((await send("PATCH", `/v1/admin/products/${productId}`, { category_id: null })).status).toBe(200);
		const deleted = await send("DELETE", `/v1/admin/categories/${grandchild.id}`);
		expect(deleted.status).toBe(204);
		expect((await send("DELETE", `/v1/admin/categories/${child.id}`)).status).toBe(204);
		expect((await send("DELETE", `/v1/admin/categories/${root.id}`)).status).toBe(204);

		const audit = await auditRows(grandchild.id);
		expect(audit.map((row) => [row.action, row.after])).toEqual([
			["category.create", grandchild],
			["category.delete", null],
		]);
		expect(audit[1]?.before).toMatchObject({ id: grandchild.id, product_count: 0 });
		const now = await tree();
		expect([root.id, child.id, grandchild.id].map((id) => find(now, id))).toEqual([undefined, undefined, undefined]);
		expect(await publicSlugs()).not.toContain(`grandchild-${t}`);
		await expectProblem(await send("DELETE", `/v1/admin/categories/${root.id}`), 404, "not_found");
	});
});

describe("admin categories: access", () => {
	it("refuses customers with 403 and anonymous callers with 401 on every route, changing nothing", async () => {
		const t = tag();
		const category = await create({ name: `Guarded ${t}`, slug: `guarded-${t}` });
		const routes: [string, string, unknown][] = [
			["GET", "/v1/admin/categories", undefined],
			["POST", "/v1/admin/categories", { name: `Hijack ${t}` }],
			["PATCH", `/v1/admin/categories/${category.id}`, { name: "Hijacked" }],
			["DELETE", `/v1/admin/categories/${category.id}`, undefined],
		];
		for (const [method, path, body] of routes) {
			await expectProblem(await send(method, path, body, customer.access_token), 403, "forbidden");
			const anonymous = await call(path, {
				method,
				...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
			});
			await expectProblem(anonymous, 401, "unauthorized");
		}
		expect(find(await tree(), category.id)).toMatchObject({ name: `Guarded ${t}` });
		expect((await auditRows(category.id)).map((row) => row.action)).toEqual(["category.create"]);
	});

	it("documents the four operations", async () => {
		const doc = (await (await call("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
		expect(Object.keys(doc.paths["/v1/admin/categories"] ?? {}).sort()).toEqual(["get", "post"]);
		expect(Object.keys(doc.paths["/v1/admin/categories/{id}"] ?? {}).sort()).toEqual(["delete", "patch"]);
	});
});
