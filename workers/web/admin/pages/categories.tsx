import type { Context } from "hono";
import type { FC } from "hono/jsx";
import { statusOf } from "../../../api/lib/problem.ts";
import type { AppEnv } from "../../../api/types.ts";
import type { AuditActor } from "../../../catalog/audit.ts";
import { CreateCategoryBody, PatchCategoryBody } from "../../../catalog/categories.schemas.ts";
import { type AdminCategoryNode, adminCategoryTree, createCategory, deleteCategory, updateCategory } from "../../../catalog/categories.ts";
import { DomainError, notFound } from "../../../domain/errors.ts";
import { readForm, seeOther, withOutcome } from "../actions.ts";
import { invalidForm, issuesOf, messagesForError } from "../forms.tsx";
import { AdminLayout } from "../layout.tsx";
import { type Messages, messagesOf, type NoticeCode } from "../messages.ts";

const CATEGORY_ID = /^cat_[0-9a-z]{1,40}$/;
const LABELS: Record<string, string> = { name: "Name", slug: "Slug", parent_id: "Parent", position: "Position" };

const actorOf = (c: Context<AppEnv>): AuditActor => ({ userId: c.get("auth").userId, requestId: c.get("requestId") });

/** Every category as a parent choice, indented by depth, leaving out `except` and everything under it (a move there is a cycle). */
function parentChoices(tree: AdminCategoryNode[], except?: string): { id: string; label: string }[] {
	const rows: { id: string; label: string }[] = [];
	const walk = (nodes: AdminCategoryNode[], prefix: string) => {
		for (const node of nodes) {
			if (node.id === except) continue;
			rows.push({ id: node.id, label: `${prefix}${node.name}` });
			walk(node.children, `${prefix}${node.name} › `);
		}
	};
	walk(tree, "");
	return rows;
}

const ParentSelect: FC<{ id: string; tree: AdminCategoryNode[]; selected: string | null; except?: string }> = ({
	id,
	tree,
	selected,
	except,
}) => (
	<select id={id} name="parent_id">
		<option value="">None (top level)</option>
		{parentChoices(tree, except).map((row) => (
			<option value={row.id} selected={row.id === selected}>
				{row.label}
			</option>
		))}
	</select>
);

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** One category with its edit, move and delete forms, and its sub-categories nested under it. */
const CategoryItem: FC<{ node: AdminCategoryNode; tree: AdminCategoryNode[] }> = ({ node, tree }) => (
	<li id={node.id} data-category={node.slug}>
		<details>
			<summary>
				<strong>{node.name}</strong> <code class="muted">{node.slug}</code>{" "}
				<span class="hint">
					{plural(node.product_count, "product", "products")}
					{node.children.length > 0 ? `, ${plural(node.children.length, "sub-category", "sub-categories")}` : ""}
				</span>
			</summary>
			<form method="post" action={`/admin/categories/${node.id}`} class="compact">
				<div class="field-row">
					<div class="field">
						<label for={`${node.id}-name`}>Name</label>
						<input id={`${node.id}-name`} name="name" required maxlength={100} value={node.name} />
					</div>
					<div class="field">
						<label for={`${node.id}-slug`}>Slug</label>
						<input id={`${node.id}-slug`} name="slug" required maxlength={120} value={node.slug} />
					</div>
					<div class="field">
						<label for={`${node.id}-parent`}>Parent</label>
						<ParentSelect id={`${node.id}-parent`} tree={tree} selected={node.parent_id} except={node.id} />
					</div>
					<div class="field">
						<label for={`${node.id}-position`}>Position</label>
						<input id={`${node.id}-position`} name="position" inputmode="numeric" value={String(node.position)} />
					</div>
				</div>
				<button type="submit">
					Save<span class="visually-hidden"> {node.name}</span>
				</button>
			</form>
			<form method="post" action={`/admin/categories/${node.id}/delete`} class="row-actions compact" data-confirm="Delete this category?">
				<span class="hint">Only an empty category (no sub-categories, no products) can be deleted.</span>
				<button type="submit" class="secondary">
					Delete<span class="visually-hidden"> {node.name}</span>
				</button>
			</form>
		</details>
		{node.children.length > 0 ? (
			<ul>
				{node.children.map((child) => (
					<CategoryItem node={child} tree={tree} />
				))}
			</ul>
		) : null}
	</li>
);

/** What the operator typed into the new-category form, kept when it comes back with an error. */
interface NewCategoryValues {
	name: string;
	slug: string;
	parent_id: string;
	position: string;
}

const EMPTY: NewCategoryValues = { name: "", slug: "", parent_id: "", position: "" };

/** `GET /admin/categories`: the category tree, each category with its forms, and the new-category form. */
export async function categoriesPage(
	c: Context<AppEnv>,
	state: { status?: 200 | 400 | 404 | 409 | 422; messages?: Messages; values?: NewCategoryValues } = {},
): Promise<Response> {
	const tree = await adminCategoryTree(c.get("database").primary);
	const messages = state.messages ?? messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") });
	const values = state.values ?? EMPTY;
	return c.html(
		<AdminLayout title="Categories" current="categories" messages={messages}>
			<div class="page-head">
				<h1>Categories</h1>
				<a class="button secondary" href="#new-category">
					New category
				</a>
			</div>
			<p class="hint">
				The shop's category menu, as shoppers see it: siblings by position, then by name. Open a category to rename it, move it under
				another one (its sub-categories move with it) or delete it.
			</p>
			<section class="panel" aria-labelledby="tree-heading">
				<h2 id="tree-heading" class="visually-hidden">
					Category tree
				</h2>
				{tree.length === 0 ? (
					<p class="muted">No categories yet.</p>
				) : (
					<ul class="category-tree">
						{tree.map((node) => (
							<CategoryItem node={node} tree={tree} />
						))}
					</ul>
				)}
			</section>
			<section class="panel" id="new-category" aria-labelledby="new-category-heading">
				<h2 id="new-category-heading">New category</h2>
				<form method="post" action="/admin/categories">
					<div class="field-row">
						<div class="field">
							<label for="new-name">Name</label>
							<input id="new-name" name="name" required maxlength={100} value={values.name} />
						</div>
						<div class="field">
							<label for="new-slug">Slug</label>
							<input id="new-slug" name="slug" maxlength={120} value={values.slug} aria-describedby="new-slug-hint" />
							<p class="hint" id="new-slug-hint">
								Optional: made from the name when empty.
							</p>
						</div>
						<div class="field">
							<label for="new-parent">Parent</label>
							<ParentSelect id="new-parent" tree={tree} selected={values.parent_id || null} />
						</div>
						<div class="field">
							<label for="new-position">Position</label>
							<input id="new-position" name="position" inputmode="numeric" value={values.position} aria-describedby="new-position-hint" />
							<p class="hint" id="new-position-hint">
								Optional: after its siblings when empty.
							</p>
						</div>
					</div>
					<button type="submit">Create category</button>
				</form>
			</section>
		</AdminLayout>,
		state.status ?? 200,
	);
}

/** A position typed into a form: empty is "not given", anything but a whole number is a form error. */
function positionOf(text: string): number | undefined {
	const value = text.trim();
	if (value === "") return undefined;
	if (!/^\d{1,9}$/.test(value)) throw invalidForm(["Position: write a whole number, e.g. 0 or 10."]);
	return Number(value);
}

function formStatus(err: DomainError): 400 | 404 | 409 | 422 {
	const status = statusOf(err);
	return status === 404 || status === 409 || status === 422 ? status : 400;
}

/**
 * Runs a category write and answers 303 back to the tree with `notice`; a
 * refusal (bad value, slug taken, a cycle, a category not empty) shows the
 * tree again with the service's own explanation.
 */
async function write(c: Context<AppEnv>, run: () => Promise<unknown>, notice: NoticeCode, values?: NewCategoryValues): Promise<Response> {
	try {
		await run();
		return seeOther(c, withOutcome("/admin/categories", { notice }));
	} catch (err) {
		if (err instanceof DomainError && statusOf(err) < 500) {
			return categoriesPage(c, { status: formStatus(err), messages: messagesForError(err), ...(values ? { values } : {}) });
		}
		throw err;
	}
}

function categoryIdOf(c: Context<AppEnv>): string {
	const id = c.req.param("id") ?? "";
	if (!CATEGORY_ID.test(id)) throw notFound("No category with this id.");
	return id;
}

/** `POST /admin/categories`: a new category, at the top or under a parent. */
export async function createCategoryAction(c: Context<AppEnv>): Promise<Response> {
	const { fields } = await readForm(c);
	const values: NewCategoryValues = {
		name: fields.get("name") ?? "",
		slug: fields.get("slug") ?? "",
		parent_id: fields.get("parent_id") ?? "",
		position: fields.get("position") ?? "",
	};
	return write(
		c,
		async () => {
			const position = positionOf(values.position);
			const parsed = CreateCategoryBody.safeParse({
				name: values.name,
				...(values.slug.trim() ? { slug: values.slug.trim() } : {}),
				parent_id: values.parent_id || null,
				...(position !== undefined ? { position } : {}),
			});
			if (!parsed.success) throw invalidForm(issuesOf(parsed.error, LABELS));
			await createCategory(c.env, c.get("database").primary, parsed.data, actorOf(c));
		},
		"category_created",
		values,
	);
}

/** `POST /admin/categories/{id}`: its name, slug, parent (a move) and position. */
export async function saveCategoryAction(c: Context<AppEnv>): Promise<Response> {
	const id = categoryIdOf(c);
	const { fields } = await readForm(c);
	return write(
		c,
		async () => {
			const position = positionOf(fields.get("position") ?? "");
			const parsed = PatchCategoryBody.safeParse({
				name: fields.get("name") ?? "",
				slug: (fields.get("slug") ?? "").trim(),
				parent_id: fields.get("parent_id") || null,
				...(position !== undefined ? { position } : {}),
			});
			if (!parsed.success) throw invalidForm(issuesOf(parsed.error, LABELS));
			await updateCategory(c.env, c.get("database").primary, id, parsed.data, actorOf(c));
		},
		"category_saved",
	);
}

/** `POST /admin/categories/{id}/delete`: an empty category goes; one with sub-categories or products is refused, saying which. */
export async function deleteCategoryAction(c: Context<AppEnv>): Promise<Response> {
	const id = categoryIdOf(c);
	return write(c, () => deleteCategory(c.env, c.get("database").primary, id, actorOf(c)), "category_deleted");
}
