import type { z } from "@hono/zod-openapi";
import { and, asc, desc, eq, ilike, inArray, or, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn, PgInsertValue } from "drizzle-orm/pg-core";
import type { Db, Executor, Tx } from "../db/client.ts";
import { isUniqueViolation } from "../db/client.ts";
import { categories, products, variants } from "../db/schema.ts";
import { CURSOR_TIMESTAMP, decodeCursor, encodeCursor, invalidCursor } from "../domain/cursor.ts";
import type { FieldError } from "../domain/errors.ts";
import { DomainError, notFound } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";
import type { AdminProductSchema, CreateProductBody, PatchProductBody, PRODUCT_STATUSES } from "./admin.schemas.ts";
import { MAX_LIVE_VARIANTS } from "./admin.schemas.ts";
import { recordAudit } from "./audit.ts";
import { bumpCatalogVersion } from "./cache.ts";

/**
 * Product management for admins: the one implementation behind both the
 * `/v1/admin/products` API and the admin console's product pages. Every write
 * runs in one transaction with its audit entry, then bumps the catalog
 * version so cached reads see it.
 */

/** A product as admins see it: every status, every variant (archived ones too). */
export type AdminProduct = z.infer<typeof AdminProductSchema>;
export type AdminVariant = AdminProduct["variants"][number];
export type CreateProductInput = z.infer<typeof CreateProductBody>;
export type PatchProductInput = z.infer<typeof PatchProductBody>;
type VariantUpsert = NonNullable<PatchProductInput["variants"]>[number];

/** Who is making an admin change, for the audit log. */
export interface AdminActor {
	userId: string;
	requestId?: string | undefined;
}

export interface AdminProductQuery {
	status?: (typeof PRODUCT_STATUSES)[number] | undefined;
	q?: string | undefined;
	limit: number;
	cursor?: string | undefined;
}

/** Timestamps as text with microseconds: a Date would round them to milliseconds and break keyset cursors. */
const isoText = (column: AnyPgColumn) => sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const productColumns = {
	id: products.id,
	slug: products.slug,
	title: products.title,
	description: products.description,
	status: products.status,
	categoryId: products.categoryId,
	taxClass: products.taxClass,
	attributes: products.attributes,
	createdAt: isoText(products.createdAt),
	updatedAt: isoText(products.updatedAt),
};

type ProductRow = {
	id: string;
	slug: string;
	title: string;
	description: string;
	status: AdminProduct["status"];
	categoryId: string | null;
	taxClass: AdminProduct["tax_class"];
	attributes: Record<string, string>;
	createdAt: string;
	updatedAt: string;
};

const SLUG_CONSTRAINT = "products_slug_key";
const SKU_CONSTRAINT = "variants_sku_key";
const CATEGORY_FK = "products_category_id_categories_id_fk";

const productNotFound = () => notFound("No product with this id.");

const slugTaken = (slug: string, derived: boolean) =>
	new DomainError("slug_taken", {
		detail: derived
			? `The slug "${slug}", derived from the title, belongs to another product; send a slug of your own.`
			: `The slug "${slug}" belongs to another product.`,
		extensions: { slug },
	});

const skuTaken = (skus: string[] | undefined) =>
	new DomainError("sku_taken", {
		detail: skus?.length ? `These SKUs belong to another product: ${skus.join(", ")}.` : "A SKU in the request belongs to another product.",
		...(skus?.length ? { extensions: { skus } } : {}),
	});

const unknownCategory = (id: string | null | undefined) =>
	new DomainError("unknown_category", { detail: id ? `No category with id ${id}.` : "The category does not exist." });

/** The first value of `key` along an error's cause chain (drizzle wraps the driver's error). */
function errorProperty(err: unknown, key: "code" | "constraint"): string | undefined {
	for (let current = err, depth = 0; current && typeof current === "object" && depth < 5; depth++) {
		const value = (current as Record<string, unknown>)[key];
		if (typeof value === "string") return value;
		current = (current as { cause?: unknown }).cause;
	}
	return undefined;
}

/**
 * Turns constraint violations into their 409/422. The unique index is the only
 * slug check; for SKUs and categories it catches what a concurrent writer did
 * after our pre-checks (same SKU inserted, category deleted meanwhile).
 */
async function mapConstraintErrors<T>(
	write: Promise<T>,
	context: { slug?: string | undefined; slugDerived?: boolean; categoryId?: string | null },
): Promise<T> {
	try {
		return await write;
	} catch (err) {
		const constraint = errorProperty(err, "constraint");
		if (isUniqueViolation(err) && constraint === SLUG_CONSTRAINT) throw slugTaken(context.slug ?? "", context.slugDerived ?? false);
		if (isUniqueViolation(err) && constraint === SKU_CONSTRAINT) throw skuTaken(undefined);
		if (errorProperty(err, "code") === "23503" && constraint === CATEGORY_FK) throw unknownCategory(context.categoryId);
		throw err;
	}
}

/** A URL slug from a title, the way the demo catalog makes them: accents dropped, runs of anything else become one dash. */
function slugFromTitle(title: string, productId: string): string {
	const slug = title
		.normalize("NFKD")
		.replace(/[\u0300-\u036f'’]/g, "")
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, "-")
		.replace(/^-+|-+$/g, "")
		.slice(0, 120)
		.replace(/-+$/, "");
	// A title with no Latin letters or digits still needs a slug; the id's random part is unique and slug-safe.
	return slug || `product-${productId.slice(productId.indexOf("_") + 1)}`;
}

function variantJson(row: typeof variants.$inferSelect): AdminVariant {
	return {
		id: row.id,
		sku: row.sku,
		title: row.title,
		options: row.options,
		price_minor: row.priceMinor,
		currency: row.currency,
		weight_grams: row.weightGrams,
		position: row.position,
		archived: row.archivedAt !== null,
	};
}

function productJson(row: ProductRow, productVariants: AdminVariant[]): AdminProduct {
	return {
		id: row.id,
		slug: row.slug,
		title: row.title,
		description: row.description,
		status: row.status,
		category_id: row.categoryId,
		tax_class: row.taxClass,
		attributes: row.attributes,
		variants: productVariants,
		created_at: row.createdAt,
		updated_at: row.updatedAt,
	};
}

/** Every variant (archived too) of the given products, by position, grouped by product id. */
async function variantsOf(db: Executor, productIds: string[]): Promise<Map<string, AdminVariant[]>> {
	const grouped = new Map<string, AdminVariant[]>(productIds.map((id) => [id, []]));
	if (productIds.length === 0) return grouped;
	const rows = await db
		.select()
		.from(variants)
		.where(inArray(variants.productId, productIds))
		.orderBy(asc(variants.productId), asc(variants.position), asc(variants.createdAt), asc(variants.id));
	for (const row of rows) grouped.get(row.productId)?.push(variantJson(row));
	return grouped;
}

/** One product with all its variants; `lock` takes the product row lock that serialises admin writes to it. */
export async function readProduct(db: Executor, id: string, options: { lock?: boolean } = {}): Promise<AdminProduct | undefined> {
	const query = db.select(productColumns).from(products).where(eq(products.id, id));
	const [row] = options.lock ? await query.for("update") : await query;
	if (!row) return undefined;
	return productJson(row, (await variantsOf(db, [id])).get(id) ?? []);
}

async function assertCategoryExists(tx: Tx, categoryId: string | null | undefined): Promise<void> {
	if (!categoryId) return;
	const [found] = await tx.select({ id: categories.id }).from(categories).where(eq(categories.id, categoryId));
	if (!found) throw unknownCategory(categoryId);
}

/** The SKUs among `skus` that some product other than `productId` already uses. */
async function skusOfOtherProducts(tx: Tx, skus: string[], productId: string): Promise<string[]> {
	if (skus.length === 0) return [];
	const rows = await tx.select({ sku: variants.sku, productId: variants.productId }).from(variants).where(inArray(variants.sku, skus));
	return rows.filter((row) => row.productId !== productId).map((row) => row.sku);
}

interface Cursor {
	createdAt: string;
	id: string;
}

const CURSOR_ID = /^[a-z]+_[a-z0-9]{1,40}$/;

function decodeAdminCursor(text: string): Cursor {
	const decoded = decodeCursor(text);
	// Checked before it reaches SQL: a malformed timestamp would fail the cast and answer 500.
	if (!Array.isArray(decoded) || decoded.length !== 2) throw invalidCursor();
	const [createdAt, id] = decoded as unknown[];
	if (typeof createdAt !== "string" || typeof id !== "string" || !CURSOR_TIMESTAMP.test(createdAt) || !CURSOR_ID.test(id)) {
		throw invalidCursor();
	}
	return { createdAt, id };
}

/** LIKE treats % and _ as wildcards; an admin searching for "50%" means the characters. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/** A page of products, newest first, filtered by status and a substring of the title, slug or a SKU. */
export async function listAdminProducts(db: Db, query: AdminProductQuery): Promise<{ data: AdminProduct[]; next_cursor: string | null }> {
	const { status, q, limit, cursor } = query;
	const after = cursor ? decodeAdminCursor(cursor) : undefined;
	const conditions: (SQL | undefined)[] = [status ? eq(products.status, status) : undefined];
	if (q) {
		const pattern = likePattern(q);
		conditions.push(
			or(
				ilike(products.title, pattern),
				ilike(products.slug, pattern),
				sql`exists (select 1 from ${variants} where ${variants.productId} = ${products.id} and ${variants.sku} ilike ${pattern})`,
			),
		);
	}
	if (after) conditions.push(sql`(${products.createdAt}, ${products.id}) < (${after.createdAt}::timestamptz, ${after.id})`);
	const rows = await db
		.select(productColumns)
		.from(products)
		.where(and(...conditions))
		.orderBy(desc(products.createdAt), desc(products.id))
		.limit(limit + 1);
	const page = rows.slice(0, limit);
	const grouped = await variantsOf(
		db,
		page.map((row) => row.id),
	);
	const last = page.at(-1);
	return {
		data: page.map((row) => productJson(row, grouped.get(row.id) ?? [])),
		next_cursor: rows.length > limit && last ? encodeCursor([last.createdAt, last.id]) : null,
	};
}

/** Creates a product with its variants (a draft unless told otherwise), audited. */
export async function createProduct(env: Env, db: Db, body: CreateProductInput, actor: AdminActor): Promise<AdminProduct> {
	const id = newId("prod");
	const slug = body.slug ?? slugFromTitle(body.title, id);
	const skus = body.variants.map((variant) => variant.sku);
	const created = await mapConstraintErrors(
		db.transaction(async (tx) => {
			await assertCategoryExists(tx, body.category_id);
			const taken = await skusOfOtherProducts(tx, skus, id);
			if (taken.length > 0) throw skuTaken(taken);
			await tx.insert(products).values({
				id,
				slug,
				title: body.title,
				description: body.description ?? "",
				status: body.status ?? "draft",
				categoryId: body.category_id ?? null,
				taxClass: body.tax_class ?? "standard",
				attributes: body.attributes ?? {},
			});
			await tx.insert(variants).values(
				body.variants.map((variant, position) => ({
					id: newId("var"),
					productId: id,
					sku: variant.sku,
					title: variant.title,
					options: variant.options ?? {},
					priceMinor: variant.price_minor,
					weightGrams: variant.weight_grams ?? 0,
					currency: variant.currency,
					position,
				})),
			);
			const product = await readProduct(tx, id);
			if (!product) throw new Error("created product not readable in its own transaction");
			await recordAudit(tx, {
				actorId: actor.userId,
				action: "product.create",
				entityType: "product",
				entityId: id,
				before: null,
				after: product,
				requestId: actor.requestId,
			});
			return product;
		}),
		{ slug, slugDerived: body.slug === undefined, categoryId: body.category_id },
	);
	await bumpCatalogVersion(env.CATALOG);
	return created;
}

/**
 * Applies variant upserts to a locked product: checks everything first (SKUs of
 * other products, fields a new SKU needs, the live-variant cap, one currency)
 * so that a refused request writes nothing, then updates and inserts.
 */
async function upsertVariants(tx: Tx, productId: string, current: AdminVariant[], upserts: VariantUpsert[]): Promise<void> {
	const bySku = new Map(current.map((variant) => [variant.sku, variant]));
	// A SKU of another product is refused first: completing its fields would not help.
	const taken = await skusOfOtherProducts(
		tx,
		upserts.filter((upsert) => !bySku.has(upsert.sku)).map((upsert) => upsert.sku),
		productId,
	);
	if (taken.length > 0) throw skuTaken(taken);
	const missing: FieldError[] = [];
	upserts.forEach((upsert, index) => {
		if (bySku.has(upsert.sku)) return;
		for (const field of ["title", "price_minor", "currency"] as const) {
			if (upsert[field] === undefined)
				missing.push({ path: `body.variants.${index}.${field}`, message: `Required for a new SKU (${upsert.sku}).` });
		}
	});
	if (missing.length > 0) {
		throw new DomainError("validation_failed", {
			detail: "The request body is invalid.",
			extensions: { errors: missing },
		});
	}

	// The product's live variants as they will be once this request applies.
	const upsertBySku = new Map(upserts.map((upsert) => [upsert.sku, upsert]));
	const live: { sku: string; currency: string }[] = [];
	for (const variant of current) {
		const upsert = upsertBySku.get(variant.sku);
		if (!(upsert?.archived ?? variant.archived)) live.push({ sku: variant.sku, currency: upsert?.currency ?? variant.currency });
	}
	for (const upsert of upserts) {
		if (!bySku.has(upsert.sku) && !upsert.archived) live.push({ sku: upsert.sku, currency: upsert.currency as string });
	}
	if (live.length > MAX_LIVE_VARIANTS) {
		throw new DomainError("too_many_variants", {
			detail: `A product has at most ${MAX_LIVE_VARIANTS} live variants; this change would leave ${live.length}. Archive some first.`,
		});
	}
	const currencies = [...new Set(live.map((variant) => variant.currency))];
	if (currencies.length > 1) {
		throw new DomainError("currency_mismatch", {
			detail: `All live variants of a product share one currency; this change would mix ${currencies.join(", ")}.`,
			extensions: { currencies },
		});
	}

	let nextPosition = Math.max(-1, ...current.map((variant) => variant.position)) + 1;
	const inserts: PgInsertValue<typeof variants>[] = [];
	for (const upsert of upserts) {
		const existing = bySku.get(upsert.sku);
		if (!existing) {
			inserts.push({
				id: newId("var"),
				productId,
				sku: upsert.sku,
				title: upsert.title as string,
				options: upsert.options ?? {},
				priceMinor: upsert.price_minor as number,
				weightGrams: upsert.weight_grams ?? 0,
				currency: upsert.currency as string,
				position: nextPosition++,
				archivedAt: upsert.archived ? sql`now()` : null,
			});
			continue;
		}
		// Re-archiving keeps the original archive time; only a real change of state touches archived_at.
		const archiveChange =
			upsert.archived === undefined || upsert.archived === existing.archived ? {} : { archivedAt: upsert.archived ? sql`now()` : null };
		await tx
			.update(variants)
			.set({
				...(upsert.title !== undefined ? { title: upsert.title } : {}),
				...(upsert.options !== undefined ? { options: upsert.options } : {}),
				...(upsert.price_minor !== undefined ? { priceMinor: upsert.price_minor } : {}),
				...(upsert.weight_grams !== undefined ? { weightGrams: upsert.weight_grams } : {}),
				...(upsert.currency !== undefined ? { currency: upsert.currency } : {}),
				...archiveChange,
				updatedAt: sql`now()`,
			})
			.where(eq(variants.id, existing.id));
	}
	if (inserts.length > 0) await tx.insert(variants).values(inserts);
}

/** Changes a product and upserts its variants by SKU, audited. */
export async function updateProduct(env: Env, db: Db, id: string, body: PatchProductInput, actor: AdminActor): Promise<AdminProduct> {
	const updated = await mapConstraintErrors(
		db.transaction(async (tx) => {
			const before = await readProduct(tx, id, { lock: true });
			if (!before) throw productNotFound();
			await assertCategoryExists(tx, body.category_id);
			await tx
				.update(products)
				.set({
					...(body.title !== undefined ? { title: body.title } : {}),
					...(body.slug !== undefined ? { slug: body.slug } : {}),
					...(body.description !== undefined ? { description: body.description } : {}),
					...(body.status !== undefined ? { status: body.status } : {}),
					...(body.category_id !== undefined ? { categoryId: body.category_id } : {}),
					...(body.tax_class !== undefined ? { taxClass: body.tax_class } : {}),
					...(body.attributes !== undefined ? { attributes: body.attributes } : {}),
					updatedAt: sql`now()`,
				})
				.where(eq(products.id, id));
			if (body.variants) await upsertVariants(tx, id, before.variants, body.variants);
			const after = await readProduct(tx, id);
			if (!after) throw new Error("updated product not readable in its own transaction");
			await recordAudit(tx, {
				actorId: actor.userId,
				action: "product.update",
				entityType: "product",
				entityId: id,
				before,
				after,
				requestId: actor.requestId,
			});
			return after;
		}),
		{ slug: body.slug, categoryId: body.category_id },
	);
	await bumpCatalogVersion(env.CATALOG);
	return updated;
}

/** Archives rather than deletes: orders keep pointing at the product's SKUs. Archiving twice changes nothing. */
export async function archiveProduct(env: Env, db: Db, id: string, actor: AdminActor): Promise<AdminProduct> {
	const { product, changed } = await db.transaction(async (tx) => {
		const before = await readProduct(tx, id, { lock: true });
		if (!before) throw productNotFound();
		if (before.status === "archived") return { product: before, changed: false };
		await tx.update(products).set({ status: "archived", updatedAt: sql`now()` }).where(eq(products.id, id));
		const after = await readProduct(tx, id);
		if (!after) throw new Error("archived product not readable in its own transaction");
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "product.archive",
			entityType: "product",
			entityId: id,
			before,
			after,
			requestId: actor.requestId,
		});
		return { product: after, changed: true };
	});
	if (changed) await bumpCatalogVersion(env.CATALOG);
	return product;
}
