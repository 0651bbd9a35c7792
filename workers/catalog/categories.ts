import type { z } from "@hono/zod-openapi";
import { eq, sql } from "drizzle-orm";
import type { Db, Tx } from "../db/client.ts";
import { isUniqueViolation } from "../db/client.ts";
import { categories } from "../db/schema.ts";
import { DomainError, notFound } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";
import { type AuditActor, recordAudit } from "./audit.ts";
import { bumpCatalogVersion } from "./cache.ts";
import type { AdminCategorySchema, CreateCategoryBody, PatchCategoryBody } from "./categories.schemas.ts";

/**
 * Category management for admins: the one implementation behind the
 * `/v1/admin/categories` API and the console's category page. The tree is
 * a parent pointer per row; every write runs in one transaction with its
 * audit entry, then bumps the catalog version so the public tree (cached
 * under that version, catalog/reads.ts) is rebuilt on the next read.
 *
 * Writes serialise on a table lock (SHARE ROW EXCLUSIVE: it excludes other
 * category writes, not reads, and not the key-share locks product writes
 * take on the category they name). Two moves checked concurrently could each
 * pass the cycle check against the other's old tree and together make a
 * loop; one at a time they cannot. Category edits are rare, so waiting costs
 * nothing anyone notices.
 */

export type AdminCategory = z.infer<typeof AdminCategorySchema>;
export type AdminCategoryNode = AdminCategory & { children: AdminCategoryNode[] };
export type CreateCategoryInput = z.infer<typeof CreateCategoryBody>;
export type PatchCategoryInput = z.infer<typeof PatchCategoryBody>;

const SLUG_CONSTRAINT = "categories_slug_key";

const categoryNotFound = () => notFound("No category with this id.");

const unknownParent = (id: string) => new DomainError("unknown_category", { detail: `No category with id ${id} to file this one under.` });

const slugTaken = (slug: string) =>
	new DomainError("slug_taken", { detail: `The slug "${slug}" belongs to another category.`, extensions: { slug } });

/** Timestamps as text with microseconds, as every admin list prints them. */
const CATEGORY_COLUMNS = sql`c.id, c.parent_id, c.slug, c.name, c.position,
	(select count(*)::int from products p where p.category_id = c.id) as product_count,
	to_char(c.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at,
	to_char(c.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as updated_at`;

type CategoryRow = {
	id: string;
	parent_id: string | null;
	slug: string;
	name: string;
	position: number;
	product_count: number;
	created_at: string;
	updated_at: string;
};

function categoryJson(row: CategoryRow): AdminCategory {
	return {
		id: row.id,
		parent_id: row.parent_id,
		slug: row.slug,
		name: row.name,
		position: Number(row.position),
		product_count: Number(row.product_count),
		created_at: row.created_at,
		updated_at: row.updated_at,
	};
}

/** A URL slug from a name, as product slugs are made from titles: accents dropped, runs of anything else one dash. */
function slugFromName(name: string, id: string): string {
	const slug = name
		.normalize("NFKD")
		.replace(/[\u0300-\u036f'’]/g, "")
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, "-")
		.replace(/^-+|-+$/g, "")
		.slice(0, 120)
		.replace(/-+$/, "");
	return slug || `category-${id.slice(id.indexOf("_") + 1)}`;
}

/** Turns the slug's unique violation, raised at commit or by the statement, into its 409. */
async function mapSlugTaken<T>(write: Promise<T>, slug: string | undefined): Promise<T> {
	try {
		return await write;
	} catch (err) {
		if (isUniqueViolation(err) && constraintOf(err) === SLUG_CONSTRAINT) throw slugTaken(slug ?? "");
		throw err;
	}
}

function constraintOf(err: unknown): string | undefined {
	for (let current = err, depth = 0; current && typeof current === "object" && depth < 5; depth++) {
		const value = (current as { constraint?: unknown }).constraint;
		if (typeof value === "string") return value;
		current = (current as { cause?: unknown }).cause;
	}
	return undefined;
}

async function lockTree(tx: Tx): Promise<void> {
	await tx.execute(sql`lock table ${categories} in share row exclusive mode`);
}

/** One category with its product count; `lock` takes its row lock, which product writes naming it wait for. */
export async function readCategory(db: Db | Tx, id: string, options: { lock?: boolean } = {}): Promise<AdminCategory | undefined> {
	const rows = await db.execute<CategoryRow>(
		sql`select ${CATEGORY_COLUMNS} from categories c where c.id = ${id} ${options.lock ? sql`for update of c` : sql``}`,
	);
	const row = rows.rows[0];
	return row ? categoryJson(row) : undefined;
}

/** Every category, as a tree: siblings by position then name, each with its direct product count. */
export async function adminCategoryTree(db: Db): Promise<AdminCategoryNode[]> {
	const rows = await db.execute<CategoryRow>(sql`select ${CATEGORY_COLUMNS} from categories c order by c.position, c.name, c.id`);
	const nodes = new Map<string, AdminCategoryNode>(rows.rows.map((row) => [row.id, { ...categoryJson(row), children: [] }]));
	const roots: AdminCategoryNode[] = [];
	for (const node of nodes.values()) {
		const parent = node.parent_id ? nodes.get(node.parent_id) : undefined;
		(parent ? parent.children : roots).push(node);
	}
	return roots;
}

/** The category's ids from `id` up to its root, `id` first. */
async function lineage(tx: Tx, id: string): Promise<string[]> {
	const rows = await tx.execute<{ id: string }>(sql`
		with recursive up(id, parent_id, depth) as (
			select id, parent_id, 0 from categories where id = ${id}
			union all
			select c.id, c.parent_id, up.depth + 1 from categories c join up on c.id = up.parent_id where up.depth < 1000
		)
		select id from up order by depth
	`);
	return rows.rows.map((row) => row.id);
}

/** The parent a write names, checked: it exists (422) and, for a move, is not the category itself or below it (422). */
async function checkParent(tx: Tx, parentId: string, moving?: string): Promise<void> {
	const ancestors = await lineage(tx, parentId);
	if (ancestors.length === 0) throw unknownParent(parentId);
	if (moving && ancestors.includes(moving)) {
		throw new DomainError("category_cycle", {
			detail:
				parentId === moving
					? "A category cannot be its own parent."
					: "The new parent is inside this category's own subtree; move that sub-category out first.",
			extensions: { parent_id: parentId },
		});
	}
}

async function nextPosition(tx: Tx, parentId: string | null): Promise<number> {
	const rows = await tx.execute<{ next: number }>(
		sql`select coalesce(max(position) + 1, 0)::int as next from categories where parent_id is not distinct from ${parentId}`,
	);
	return Number(rows.rows[0]?.next ?? 0);
}

/** Creates a category (top-level unless `parent_id` names one), audited. 409 `slug_taken`, 422 `unknown_category`. */
export async function createCategory(env: Env, db: Db, body: CreateCategoryInput, actor: AuditActor): Promise<AdminCategory> {
	const id = newId("cat");
	const slug = body.slug ?? slugFromName(body.name, id);
	const parentId = body.parent_id ?? null;
	const created = await mapSlugTaken(
		db.transaction(async (tx) => {
			await lockTree(tx);
			if (parentId) await checkParent(tx, parentId);
			await tx.insert(categories).values({
				id,
				parentId,
				slug,
				name: body.name,
				position: body.position ?? (await nextPosition(tx, parentId)),
			});
			const category = await readCategory(tx, id);
			if (!category) throw new Error("created category not readable in its own transaction");
			await recordAudit(tx, {
				actorId: actor.userId,
				action: "category.create",
				entityType: "category",
				entityId: id,
				before: null,
				after: category,
				requestId: actor.requestId,
			});
			return category;
		}),
		slug,
	);
	await bumpCatalogVersion(env.CATALOG);
	return created;
}

/**
 * Renames, re-slugs, moves or re-orders a category, audited. A move takes
 * the category's whole subtree along; moving it under itself or one of its
 * descendants is a 422 `category_cycle`.
 */
export async function updateCategory(env: Env, db: Db, id: string, body: PatchCategoryInput, actor: AuditActor): Promise<AdminCategory> {
	const updated = await mapSlugTaken(
		db.transaction(async (tx) => {
			await lockTree(tx);
			const before = await readCategory(tx, id, { lock: true });
			if (!before) throw categoryNotFound();
			if (body.parent_id) await checkParent(tx, body.parent_id, id);
			await tx
				.update(categories)
				.set({
					...(body.name !== undefined ? { name: body.name } : {}),
					...(body.slug !== undefined ? { slug: body.slug } : {}),
					...(body.parent_id !== undefined ? { parentId: body.parent_id } : {}),
					...(body.position !== undefined ? { position: body.position } : {}),
					updatedAt: sql`now()`,
				})
				.where(eq(categories.id, id));
			const after = await readCategory(tx, id);
			if (!after) throw new Error("updated category not readable in its own transaction");
			await recordAudit(tx, {
				actorId: actor.userId,
				action: "category.update",
				entityType: "category",
				entityId: id,
				before,
				after,
				requestId: actor.requestId,
			});
			return after;
		}),
		body.slug,
	);
	await bumpCatalogVersion(env.CATALOG);
	return updated;
}

/**
 * Deletes an empty category, audited. One with sub-categories or products
 * (of any status: a draft filed here would silently lose its category) is a
 * 409 `category_not_empty` saying which. The row lock makes a product write
 * naming this category wait, and then fail as an unknown category, rather
 * than slip in between the count and the delete.
 */
export async function deleteCategory(env: Env, db: Db, id: string, actor: AuditActor): Promise<AdminCategory> {
	const deleted = await db.transaction(async (tx) => {
		await lockTree(tx);
		const before = await readCategory(tx, id, { lock: true });
		if (!before) throw categoryNotFound();
		const children = await tx.execute<{ n: number }>(sql`select count(*)::int as n from categories where parent_id = ${id}`);
		const childCount = Number(children.rows[0]?.n ?? 0);
		if (childCount > 0 || before.product_count > 0) {
			const reasons = [
				childCount > 0 ? `${childCount} sub-categor${childCount === 1 ? "y" : "ies"}` : undefined,
				before.product_count > 0 ? `${before.product_count} product${before.product_count === 1 ? "" : "s"}` : undefined,
			].filter(Boolean);
			throw new DomainError("category_not_empty", {
				detail: `The category still has ${reasons.join(" and ")}; move or delete ${reasons.length > 1 ? "them" : "it"} first.`,
				extensions: { children: childCount, products: before.product_count },
			});
		}
		await tx.delete(categories).where(eq(categories.id, id));
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "category.delete",
			entityType: "category",
			entityId: id,
			before,
			after: null,
			requestId: actor.requestId,
		});
		return before;
	});
	await bumpCatalogVersion(env.CATALOG);
	return deleted;
}
