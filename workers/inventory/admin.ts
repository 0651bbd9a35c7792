import { and, asc, eq, gt, ilike, or, type SQL, sql } from "drizzle-orm";
import { recordAudit } from "../catalog/audit.ts";
import type { Executor } from "../db/client.ts";
import { auditLog, products, variants } from "../db/schema.ts";
import { DomainError, notFound } from "../domain/errors.ts";
import { inventoryItem } from "./reservations.ts";

/**
 * Stock changes made by admins, shared by `POST /v1/admin/inventory/{sku}/adjust`
 * and the admin console's adjust form.
 */

/** Only SKUs the catalog knows get an object: a made-up SKU must not create one. */
export async function assertKnownSku(db: Executor, sku: string): Promise<void> {
	const [row] = await db.select({ id: variants.id }).from(variants).where(eq(variants.sku, sku));
	if (!row) throw notFound(`No SKU ${sku}.`);
}

export interface StockAfterAdjust {
	sku: string;
	on_hand: number;
	available: number;
	replayed: boolean;
}

/**
 * Changes a SKU's on-hand stock by `delta` through its InventoryItem. The
 * object keeps its own record per key, scoped to the admin (two admins cannot
 * collide on one), so a repeated key changes nothing and answers the same:
 * a second line behind the Postgres idempotency store. 409 when the change
 * would leave fewer units than are reserved, 422 when the key was used for
 * another change. `db` must be the primary: the audit entry is written there.
 */
export async function adjustStock(
	env: Env,
	db: Executor,
	change: { sku: string; delta: number; reason: string; key: string; actorId: string; requestId?: string | undefined },
): Promise<StockAfterAdjust> {
	const { sku, delta, reason, key, actorId } = change;
	await assertKnownSku(db, sku);
	const result = await inventoryItem(env, sku).adjust(sku, delta, reason, `${actorId}:${key}`);
	if (!result.ok && result.reason === "below_reserved") {
		throw new DomainError("below_reserved", {
			detail: `On hand ${result.onHand} with ${result.reserved} reserved: the change would leave fewer units than are reserved.`,
		});
	}
	if (!result.ok) {
		throw new DomainError("idempotency_key_reused", {
			detail: "This key was already used for a different change.",
		});
	}
	await auditAdjustment(db, change, result);
	return { sku, on_hand: result.onHand, available: result.available, replayed: result.replayed };
}

/**
 * The audit entry of an adjustment, written right after the InventoryItem
 * confirmed it. The object is the authority and cannot join a Postgres
 * transaction, and the request writes nothing else to Postgres (the ledger
 * row comes later, from the object's `inventory.adjusted` event through the
 * orders queue, inventory/ledger.ts): so the entry is a statement of its
 * own. Writing it before asking the object would log changes that were
 * then refused. Should it fail (Postgres down), the request answers 503 and
 * its retry, replayed by the object under the same key, writes the entry
 * it finds missing; a replay whose entry exists writes none, so each
 * applied change is audited once.
 */
async function auditAdjustment(
	db: Executor,
	change: { sku: string; delta: number; reason: string; key: string; actorId: string; requestId?: string | undefined },
	result: { onHand: number; available: number; replayed: boolean },
): Promise<void> {
	if (result.replayed) {
		const [logged] = await db
			.select({ id: auditLog.id })
			.from(auditLog)
			.where(
				and(
					eq(auditLog.entityType, "sku"),
					eq(auditLog.entityId, change.sku),
					eq(auditLog.action, "inventory.adjust"),
					eq(auditLog.actorId, change.actorId),
					sql`${auditLog.after}->>'idempotency_key' = ${change.key}`,
				),
			)
			.limit(1);
		if (logged) return;
	}
	await recordAudit(db, {
		actorId: change.actorId,
		action: "inventory.adjust",
		entityType: "sku",
		entityId: change.sku,
		before: { on_hand: result.onHand - change.delta },
		after: { on_hand: result.onHand, delta: change.delta, reason: change.reason, idempotency_key: change.key },
		requestId: change.requestId,
	});
}

export interface StockLevel {
	sku: string;
	available: number;
	onHand: number;
	reserved: number;
}

/**
 * The live levels of catalog SKUs, asked of their objects in parallel. A SKU
 * whose object cannot answer right now is left out rather than failing the
 * whole page.
 */
export async function stockLevels(env: Env, skus: readonly string[]): Promise<Map<string, StockLevel>> {
	const answers = await Promise.allSettled(skus.map((sku) => inventoryItem(env, sku).available(sku)));
	const levels = new Map<string, StockLevel>();
	answers.forEach((answer, index) => {
		const sku = skus[index];
		if (answer.status === "fulfilled" && sku !== undefined) {
			const { available, onHand, reserved } = answer.value;
			levels.set(sku, { sku, available, onHand, reserved });
		}
	});
	return levels;
}

/** A catalog SKU with what an operator needs to recognise it. */
export interface SkuRow {
	sku: string;
	variantTitle: string;
	productId: string;
	productTitle: string;
	archived: boolean;
}

export interface SkuQuery {
	/** Exactly this SKU. */
	sku?: string | undefined;
	/** Every SKU of this product. */
	productId?: string | undefined;
	/** A substring of the SKU or of the product's title (case-insensitive). */
	q?: string | undefined;
	limit: number;
	/** The last SKU of the previous page. */
	after?: string | undefined;
}

/** Catalog SKUs in SKU order, a page at a time: the rows of the inventory page. */
export async function listSkus(db: Executor, query: SkuQuery): Promise<{ rows: SkuRow[]; next: string | null }> {
	const conditions: (SQL | undefined)[] = [
		query.sku ? eq(variants.sku, query.sku) : undefined,
		query.productId ? eq(variants.productId, query.productId) : undefined,
		query.after ? gt(variants.sku, query.after) : undefined,
	];
	if (query.q) {
		// LIKE treats % and _ as wildcards; an operator searching for "50%" means the characters.
		const pattern = `%${query.q.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
		conditions.push(or(ilike(variants.sku, pattern), ilike(products.title, pattern)));
	}
	const found = await db
		.select({
			sku: variants.sku,
			variantTitle: variants.title,
			productId: products.id,
			productTitle: products.title,
			archivedAt: variants.archivedAt,
		})
		.from(variants)
		.innerJoin(products, eq(products.id, variants.productId))
		.where(and(...conditions))
		.orderBy(asc(variants.sku))
		.limit(query.limit + 1);
	const rows = found.slice(0, query.limit).map(({ archivedAt, ...row }) => ({ ...row, archived: archivedAt !== null }));
	return { rows, next: found.length > query.limit ? (rows.at(-1)?.sku ?? null) : null };
}
