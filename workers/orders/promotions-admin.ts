import type { z } from "@hono/zod-openapi";
import { and, count, desc, eq, getTableColumns, ilike, inArray, or, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { recordAudit } from "../catalog/audit.ts";
import { bumpCatalogVersion } from "../catalog/cache.ts";
import type { Db, Executor, Tx } from "../db/client.ts";
import { isUniqueViolation } from "../db/client.ts";
import { categories, orders, products, promotionRedemptions, promotions } from "../db/schema.ts";
import { CURSOR_TIMESTAMP, decodeCursor, encodeCursor, invalidCursor } from "../domain/cursor.ts";
import { DomainError, fieldErrors, notFound } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";
import type { PromotionRow } from "./promotions.ts";
import {
	type AdminPromotionDetailSchema,
	type AdminPromotionSchema,
	type CreatePromotionBody,
	FULL_BP,
	type PatchPromotionBody,
	type PromotionFields,
	type PromotionKind,
	PromotionRules,
	RECENT_REDEMPTIONS,
} from "./promotions-admin.schemas.ts";

/**
 * Promotion management for admins: the one implementation behind the
 * `/v1/admin/promotions` API and the console's Promotions screen. What a
 * promotion does at checkout is orders/promotions.ts; here it is made,
 * changed, stopped and (if never used) deleted.
 *
 * Every write runs in one transaction with its audit entry, holding the
 * promotion's row lock — the lock checkout's `redeem()` takes too, so a
 * change and a use never interleave — and then bumps the catalog version so
 * cached cart views and catalog reads see it.
 */

export type AdminPromotion = z.infer<typeof AdminPromotionSchema>;
export type AdminPromotionDetail = z.infer<typeof AdminPromotionDetailSchema>;
export type CreatePromotionInput = z.infer<typeof CreatePromotionBody>;
export type PatchPromotionInput = z.infer<typeof PatchPromotionBody>;

/** Who is making an admin change, for the audit log. */
export interface PromotionActor {
	userId: string;
	requestId?: string | undefined;
}

export interface PromotionQuery {
	active?: boolean | undefined;
	kind?: PromotionKind | undefined;
	q?: string | undefined;
	limit: number;
	cursor?: string | undefined;
}

const CODE_CONSTRAINT = "promotions_code_key";
const USES_CONSTRAINT = "promotions_uses";
const PROMOTION_ID = /^prm_[0-9a-z]{20}$/;

export const promotionNotFound = () => notFound("No promotion with this id.");

const codeTaken = (code: string | null | undefined) =>
	new DomainError("promotion_code_taken", {
		detail: code ? `The code ${code} belongs to another promotion; choose another.` : "The code belongs to another promotion.",
		// `code` is the problem's own member; the promotion's code goes by another name.
		...(code ? { extensions: { promotion_code: code } } : {}),
	});

const usesBelowUsed = (usedCount?: number) =>
	new DomainError("max_uses_below_used", {
		detail:
			usedCount === undefined
				? "Orders have used this promotion more often than that maximum allows; it cannot be lower."
				: `Orders have used this promotion ${usedCount} time${usedCount === 1 ? "" : "s"}; its maximum cannot be lower.`,
		...(usedCount === undefined ? {} : { extensions: { used_count: usedCount } }),
	});

/** Timestamps as text with microseconds: a Date would round them to milliseconds and break keyset cursors. */
const isoText = (column: AnyPgColumn) => sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const iso = (at: Date | null) => (at ? at.toISOString() : null);

export function promotionJson(row: PromotionRow): AdminPromotion {
	return {
		id: row.id,
		code: row.code,
		name: row.name,
		kind: row.kind,
		value: row.value,
		currency: row.currency,
		target: row.target,
		target_ids: row.targetIds,
		buy_quantity: row.buyQuantity,
		get_quantity: row.getQuantity,
		min_subtotal_minor: row.minSubtotalMinor,
		starts_at: iso(row.startsAt),
		ends_at: iso(row.endsAt),
		max_uses: row.maxUses,
		max_uses_per_customer: row.maxUsesPerCustomer,
		used_count: row.usedCount,
		active: row.active,
		created_at: row.createdAt.toISOString(),
		updated_at: row.updatedAt.toISOString(),
	};
}

function fieldsOf(row: PromotionRow): PromotionFields {
	const { id: _id, used_count: _used, created_at: _created, updated_at: _updated, ...fields } = promotionJson(row);
	return fields;
}

/** The CHECK constraints' rules, in words and per field, before the database sees the row. */
function assertRules(fields: PromotionFields): void {
	const checked = PromotionRules.safeParse(fields);
	if (checked.success) return;
	const errors = fieldErrors(checked.error.issues, "body");
	throw new DomainError("invalid_promotion", {
		detail: `The promotion's fields do not fit together: ${errors.map((error) => error.message).join(" ")}`,
		extensions: { errors },
	});
}

/** Every target id names a product (`products`) or a category (`categories`); 422 naming the ones that do not. */
async function assertTargetsExist(tx: Tx, fields: PromotionFields): Promise<void> {
	if (fields.target === "order" || fields.target_ids.length === 0) return;
	const table = fields.target === "products" ? products : categories;
	const found = await tx.select({ id: table.id }).from(table).where(inArray(table.id, fields.target_ids));
	const known = new Set(found.map((row) => row.id));
	const missing = fields.target_ids.filter((id) => !known.has(id));
	if (missing.length === 0) return;
	const noun = fields.target === "products" ? "product" : "category";
	throw new DomainError("unknown_promotion_target", {
		detail: `No ${noun} with ${missing.length === 1 ? "this id" : "these ids"}: ${missing.join(", ")}.`,
		extensions: { missing, errors: [{ path: "body.target_ids", message: `Unknown ${noun} ids: ${missing.join(", ")}.` }] },
	});
}

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
 * The unique index is the one check of a code's uniqueness (two admins
 * creating the same code race only there); the uses check catches a
 * maximum lowered while a checkout's use was committing.
 */
async function mapConstraintErrors<T>(write: Promise<T>, context: { code?: string | null | undefined }): Promise<T> {
	try {
		return await write;
	} catch (err) {
		const constraint = errorProperty(err, "constraint");
		if (isUniqueViolation(err) && constraint === CODE_CONSTRAINT) throw codeTaken(context.code);
		if (errorProperty(err, "code") === "23514" && constraint === USES_CONSTRAINT) throw usesBelowUsed();
		throw err;
	}
}

async function readPromotion(db: Executor, id: string, { lock = false } = {}): Promise<PromotionRow | undefined> {
	if (!PROMOTION_ID.test(id)) return undefined;
	const query = db.select().from(promotions).where(eq(promotions.id, id));
	const [row] = lock ? await query.for("update") : await query;
	return row;
}

/** One promotion with how many orders hold a use of it and the latest of them; 404 when there is none. */
export async function getPromotion(db: Db, id: string): Promise<AdminPromotionDetail> {
	const row = await readPromotion(db, id);
	if (!row) throw promotionNotFound();
	const [counted, recent] = await Promise.all([
		db.select({ n: count() }).from(promotionRedemptions).where(eq(promotionRedemptions.promotionId, id)),
		db
			.select({
				orderId: promotionRedemptions.orderId,
				customer: promotionRedemptions.customer,
				usedAt: promotionRedemptions.createdAt,
				status: orders.status,
				totalMinor: orders.totalMinor,
				currency: orders.currency,
			})
			.from(promotionRedemptions)
			.innerJoin(orders, eq(orders.id, promotionRedemptions.orderId))
			.where(eq(promotionRedemptions.promotionId, id))
			.orderBy(desc(promotionRedemptions.createdAt), desc(promotionRedemptions.orderId))
			.limit(RECENT_REDEMPTIONS),
	]);
	return {
		...promotionJson(row),
		redemptions: {
			count: counted[0]?.n ?? 0,
			recent: recent.map((use) => ({
				order_id: use.orderId,
				customer: use.customer,
				status: use.status,
				total_minor: use.totalMinor,
				currency: use.currency,
				used_at: use.usedAt.toISOString(),
			})),
		},
	};
}

interface Cursor {
	createdAt: string;
	id: string;
}

function decodePromotionCursor(text: string): Cursor {
	const decoded = decodeCursor(text);
	// Checked before it reaches SQL: a malformed timestamp would fail the cast and answer 500.
	if (!Array.isArray(decoded) || decoded.length !== 2) throw invalidCursor();
	const [createdAt, id] = decoded as unknown[];
	if (typeof createdAt !== "string" || typeof id !== "string" || !CURSOR_TIMESTAMP.test(createdAt) || !PROMOTION_ID.test(id)) {
		throw invalidCursor();
	}
	return { createdAt, id };
}

/** LIKE treats % and _ as wildcards; an admin searching for "SUMMER_10" means the characters. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/** A page of promotions, newest first, filtered by state, kind and a substring of the code or name. */
export async function listPromotions(db: Db, query: PromotionQuery): Promise<{ data: AdminPromotion[]; next_cursor: string | null }> {
	const after = query.cursor ? decodePromotionCursor(query.cursor) : undefined;
	const conditions: (SQL | undefined)[] = [
		query.active === undefined ? undefined : eq(promotions.active, query.active),
		query.kind ? eq(promotions.kind, query.kind) : undefined,
	];
	if (query.q) {
		const pattern = likePattern(query.q);
		conditions.push(or(ilike(promotions.code, pattern), ilike(promotions.name, pattern)));
	}
	if (after) conditions.push(sql`(${promotions.createdAt}, ${promotions.id}) < (${after.createdAt}::timestamptz, ${after.id})`);
	const rows = await db
		.select({ ...getTableColumns(promotions), cursorAt: isoText(promotions.createdAt) })
		.from(promotions)
		.where(and(...conditions))
		.orderBy(desc(promotions.createdAt), desc(promotions.id))
		.limit(query.limit + 1);
	const page = rows.slice(0, query.limit);
	const last = page.at(-1);
	return {
		data: page.map(({ cursorAt: _cursorAt, ...row }) => promotionJson(row)),
		next_cursor: rows.length > query.limit && last ? encodeCursor([last.cursorAt, last.id]) : null,
	};
}

/** Columns of `promotions` for the fields given. */
function columnsOf(fields: Partial<PromotionFields>) {
	const at = (value: string | null | undefined) => (value === undefined ? undefined : value === null ? null : new Date(value));
	const set = {
		code: fields.code,
		name: fields.name,
		kind: fields.kind,
		value: fields.value,
		currency: fields.currency,
		target: fields.target,
		targetIds: fields.target_ids,
		buyQuantity: fields.buy_quantity,
		getQuantity: fields.get_quantity,
		minSubtotalMinor: fields.min_subtotal_minor,
		startsAt: at(fields.starts_at),
		endsAt: at(fields.ends_at),
		maxUses: fields.max_uses,
		maxUsesPerCustomer: fields.max_uses_per_customer,
		active: fields.active,
	};
	return Object.fromEntries(Object.entries(set).filter(([, value]) => value !== undefined)) as Partial<typeof set>;
}

/** Creates a promotion (active unless told otherwise), audited. */
export async function createPromotion(env: Env, db: Db, body: CreatePromotionInput, actor: PromotionActor): Promise<AdminPromotion> {
	const fields: PromotionFields = {
		code: body.code ?? null,
		name: body.name,
		kind: body.kind,
		value: body.value ?? (body.kind === "buy_x_get_y" ? FULL_BP : 0),
		currency: body.currency ?? null,
		target: body.target ?? "order",
		target_ids: body.target_ids ?? [],
		buy_quantity: body.buy_quantity ?? null,
		get_quantity: body.get_quantity ?? null,
		min_subtotal_minor: body.min_subtotal_minor ?? 0,
		starts_at: body.starts_at ?? null,
		ends_at: body.ends_at ?? null,
		max_uses: body.max_uses ?? null,
		max_uses_per_customer: body.max_uses_per_customer ?? null,
		active: body.active ?? true,
	};
	assertRules(fields);
	const created = await mapConstraintErrors(
		db.transaction(async (tx) => {
			await assertTargetsExist(tx, fields);
			const [row] = await tx
				.insert(promotions)
				.values({ id: newId("prm"), ...columnsOf(fields), name: fields.name, kind: fields.kind })
				.returning();
			if (!row) throw new Error("the promotion insert returned no row");
			const after = promotionJson(row);
			await recordAudit(tx, {
				actorId: actor.userId,
				action: "promotion.create",
				entityType: "promotion",
				entityId: row.id,
				before: null,
				after,
				requestId: actor.requestId,
			});
			return after;
		}),
		{ code: fields.code },
	);
	await bumpCatalogVersion(env.CATALOG);
	return created;
}

/**
 * Changes the fields sent; the rules are checked on the promotion as it will
 * be (a kind changed to `fixed` needs a currency, say). A maximum below the
 * uses so far is a 409: the uses happened.
 */
export async function updatePromotion(
	env: Env,
	db: Db,
	id: string,
	body: PatchPromotionInput,
	actor: PromotionActor,
): Promise<AdminPromotion> {
	const updated = await mapConstraintErrors(
		db.transaction(async (tx) => {
			const before = await readPromotion(tx, id, { lock: true });
			if (!before) throw promotionNotFound();
			const change = Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined)) as Partial<PromotionFields>;
			const fields: PromotionFields = { ...fieldsOf(before), ...change };
			assertRules(fields);
			if (fields.max_uses !== null && fields.max_uses < before.usedCount) throw usesBelowUsed(before.usedCount);
			// Targets named before may have gone since (a deleted category); only a change of targets is checked.
			if (change.target !== undefined || change.target_ids !== undefined) await assertTargetsExist(tx, fields);
			const [row] = await tx
				.update(promotions)
				.set({ ...columnsOf(change), updatedAt: sql`now()` })
				.where(eq(promotions.id, id))
				.returning();
			if (!row) throw new Error("the locked promotion vanished in its own transaction");
			const after = promotionJson(row);
			await recordAudit(tx, {
				actorId: actor.userId,
				action: "promotion.update",
				entityType: "promotion",
				entityId: id,
				before: promotionJson(before),
				after,
				requestId: actor.requestId,
			});
			return after;
		}),
		{ code: body.code },
	);
	await bumpCatalogVersion(env.CATALOG);
	return updated;
}

/** Stops a promotion at once; orders that used it keep their discount. Deactivating twice changes nothing. */
export async function deactivatePromotion(env: Env, db: Db, id: string, actor: PromotionActor): Promise<AdminPromotion> {
	const { promotion, changed } = await db.transaction(async (tx) => {
		const before = await readPromotion(tx, id, { lock: true });
		if (!before) throw promotionNotFound();
		if (!before.active) return { promotion: promotionJson(before), changed: false };
		const [row] = await tx.update(promotions).set({ active: false, updatedAt: sql`now()` }).where(eq(promotions.id, id)).returning();
		if (!row) throw new Error("the locked promotion vanished in its own transaction");
		const after = promotionJson(row);
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "promotion.deactivate",
			entityType: "promotion",
			entityId: id,
			before: promotionJson(before),
			after,
			requestId: actor.requestId,
		});
		return { promotion: after, changed: true };
	});
	if (changed) await bumpCatalogVersion(env.CATALOG);
	return promotion;
}

/**
 * Deletes a promotion no order ever used: none holds a use now, and none
 * lists it among its promotions (a cancelled order gave its use back but
 * still shows what it was offered). Anything else is a 409: deactivate it.
 */
export async function deletePromotion(env: Env, db: Db, id: string, actor: PromotionActor): Promise<AdminPromotion> {
	const deleted = await db.transaction(async (tx) => {
		const before = await readPromotion(tx, id, { lock: true });
		if (!before) throw promotionNotFound();
		const uses = await tx.execute<{ used: boolean }>(
			sql`select exists (select 1 from ${promotionRedemptions} where ${promotionRedemptions.promotionId} = ${id})
				or exists (select 1 from ${orders} where ${orders.promotions} @> ${JSON.stringify([{ id }])}::jsonb) as used`,
		);
		const used = uses.rows[0]?.used === true;
		if (before.usedCount > 0 || used) {
			throw new DomainError("promotion_used", {
				detail: "Orders used this promotion, so it stays for their history; deactivate it instead.",
			});
		}
		await tx.delete(promotions).where(eq(promotions.id, id));
		const view = promotionJson(before);
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "promotion.delete",
			entityType: "promotion",
			entityId: id,
			before: view,
			after: null,
			requestId: actor.requestId,
		});
		return view;
	});
	await bumpCatalogVersion(env.CATALOG);
	return deleted;
}
