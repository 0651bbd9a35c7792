import type { Cart } from "../../durable-objects/cart.ts";
import type { InventoryPitrState, InventoryResumeResult } from "../../durable-objects/inventory-item.ts";
import { RESTORE_ABORT_REASON, type RestoreRefusal, type RestoreTarget } from "../../durable-objects/pitr.ts";
import { cartStub } from "../carts/carts.ts";
import { type AuditActor, recordAudit } from "../catalog/audit.ts";
import type { Executor } from "../db/client.ts";
import { DomainError } from "../domain/errors.ts";
import { assertKnownSku } from "../inventory/admin.ts";
import { inventoryItem } from "../inventory/reservations.ts";

/**
 * Point-in-time recovery of one Durable Object, for the admin maintenance
 * routes (`/v1/admin/maintenance/…`): read an object's current bookmark,
 * restore it to an instant or a bookmark of the last 30 days, and, for an
 * InventoryItem, bring its event counter and the ledger along (pitrResume).
 *
 * The answer's `undo_bookmark` is a bookmark read just before the restore:
 * restoring to it goes back (the exact one, taken by the restore itself, is
 * in the object's `durable_object_restore` log line). A repeated request is
 * answered from the idempotency store, never restored twice. The local
 * runtime keeps no storage history, so there every restore answers 501
 * `restore_unsupported` (durable-objects/pitr.ts).
 */

/** How far back a Durable Object can be restored. */
export const PITR_WINDOW_DAYS = 30;

export interface RestoreRequest {
	/** An instant (ISO 8601) to go back to; or */
	at?: string | undefined;
	/** a bookmark to go back to (an earlier bookmark, or a restore's undo bookmark). */
	bookmark?: string | undefined;
}

function targetOf(request: RestoreRequest, now = Date.now()): RestoreTarget {
	if (request.bookmark !== undefined) return { bookmark: request.bookmark };
	const at = Date.parse(request.at ?? "");
	if (!Number.isFinite(at)) throw new DomainError("validation_failed", { detail: "Give `at` (an instant) or `bookmark`." });
	if (at > now) throw new DomainError("restore_refused", { detail: `${request.at} is in the future.` });
	if (at < now - PITR_WINDOW_DAYS * 86_400_000) {
		throw new DomainError("restore_refused", {
			detail: `${request.at} is more than ${PITR_WINDOW_DAYS} days ago: Durable Objects keep ${PITR_WINDOW_DAYS} days of history.`,
		});
	}
	return { at };
}

function refusal(result: RestoreRefusal): DomainError {
	switch (result.reason) {
		case "unsupported":
			return new DomainError("restore_unsupported", {
				detail: `${result.detail} The local runtime (wrangler dev, the tests) keeps no storage history; restores work on Cloudflare.`,
			});
		case "changed":
			return new DomainError("restore_conflict", { detail: result.detail });
		default:
			return new DomainError("restore_refused", { detail: result.detail });
	}
}

/** Whether an RPC failure is the restart a scheduled restore causes (pitr.ts `restoreTo`). */
function isRestoreRestart(err: unknown): boolean {
	if (!(err instanceof Error)) return false;
	return (err as { durableObjectReset?: unknown }).durableObjectReset === true && err.message.includes(RESTORE_ABORT_REASON);
}

/** Asks the object to restore itself (`schedule`); resolves once it has restarted into the restored state. */
async function restore(target: RestoreTarget, schedule: (target: RestoreTarget) => Promise<RestoreRefusal>): Promise<void> {
	let result: RestoreRefusal;
	try {
		result = await schedule(target);
	} catch (err) {
		if (isRestoreRestart(err)) return;
		throw err;
	}
	throw refusal(result);
}

/** A call to the object right after its restart, retried a few times (a fresh stub each time). */
async function afterRestart<T>(call: () => Promise<T>): Promise<T> {
	let last: unknown;
	for (let attempt = 0; attempt < 5; attempt++) {
		try {
			return await call();
		} catch (err) {
			last = err;
			await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
		}
	}
	throw last;
}

/** The audit entry of a restore: written after it, and its failure only logged (the object is restored either way). */
async function audit(
	db: Executor,
	actor: AuditActor,
	entry: { action: string; entityType: string; entityId: string; before: unknown; after: unknown },
) {
	try {
		await recordAudit(db, { ...entry, actorId: actor.userId, requestId: actor.requestId });
	} catch (err) {
		console.error(
			JSON.stringify({
				level: "error",
				msg: "restore_audit_failed",
				action: entry.action,
				entity_id: entry.entityId,
				error: (err as Error).name,
			}),
		);
	}
}

const describeTarget = (target: RestoreTarget) => ("at" in target ? new Date(target.at).toISOString() : target.bookmark);

export interface InventoryRestoreState {
	sku: string;
	bookmark: string;
	seq: number;
	on_hand: number;
	available: number;
	last_restore: { undo_bookmark: string; resumed_at: string; on_hand_delta: number } | null;
}

function inventoryStateView(sku: string, state: InventoryPitrState): InventoryRestoreState {
	return {
		sku,
		bookmark: state.bookmark,
		seq: state.seq,
		on_hand: state.onHand,
		available: state.available,
		last_restore: state.lastRestore
			? {
					undo_bookmark: state.lastRestore.undoBookmark,
					resumed_at: new Date(state.lastRestore.resumedAt).toISOString(),
					on_hand_delta: state.lastRestore.onHandDelta,
				}
			: null,
	};
}

/** A SKU's InventoryItem: its current bookmark and figures. */
export async function inventoryRestoreState(env: Env, db: Executor, sku: string): Promise<InventoryRestoreState> {
	await assertKnownSku(db, sku);
	return inventoryStateView(sku, await inventoryItem(env, sku).pitrState());
}

export interface InventoryRestoreResult {
	sku: string;
	restored_to: string;
	undo_bookmark: string;
	/** The restored object's bookmark; null when it could not be read (the restore is done all the same). */
	bookmark: string | null;
	seq: number;
	on_hand: number;
	available: number;
	on_hand_delta: number;
}

/**
 * Restores a SKU's InventoryItem, then resumes it (pitrResume): the counter
 * past every event the ledger holds, and the restore's change of on-hand
 * stock recorded as one `adjusted` event. A resume that fails after the
 * restore answers 409 `restore_incomplete` (a 4xx, so the idempotency store
 * replays it rather than letting a retry restore twice) naming the resume
 * call to make. Past the restore nothing else fails the request.
 */
export async function restoreInventory(
	env: Env,
	db: Executor,
	sku: string,
	request: RestoreRequest,
	actor: AuditActor,
): Promise<InventoryRestoreResult> {
	await assertKnownSku(db, sku);
	const target = targetOf(request);
	const before = await inventoryItem(env, sku).pitrState();
	await restore(target, (to) => inventoryItem(env, sku).pitrRestore(to, before.seq));
	const resume = { undoBookmark: before.bookmark, seq: before.seq, onHand: before.onHand };
	let resumed: InventoryResumeResult;
	try {
		resumed = await afterRestart(() => inventoryItem(env, sku).pitrResume(sku, resume));
	} catch {
		throw new DomainError("restore_incomplete", {
			detail: `The object was restored to ${describeTarget(target)} but not resumed. Call POST /v1/admin/maintenance/inventory/${sku}/resume with the body in \`resume\`.`,
			extensions: { resume: { undo_bookmark: resume.undoBookmark, seq: resume.seq, on_hand: resume.onHand } },
		});
	}
	const after = await afterRestart(() => inventoryItem(env, sku).pitrState()).catch(() => undefined);
	const result: InventoryRestoreResult = {
		sku,
		restored_to: describeTarget(target),
		undo_bookmark: before.bookmark,
		bookmark: after?.bookmark ?? null,
		seq: resumed.seq,
		on_hand: resumed.onHand,
		available: resumed.available,
		on_hand_delta: resumed.onHandDelta,
	};
	await audit(db, actor, {
		action: "inventory.restore",
		entityType: "sku",
		entityId: sku,
		before: { bookmark: before.bookmark, seq: before.seq, on_hand: before.onHand },
		after: result,
	});
	return result;
}

/**
 * The second half of a restore whose answer was 409 `restore_incomplete`:
 * once per undo bookmark, so a repeat answers the first result.
 */
export async function resumeInventory(
	env: Env,
	db: Executor,
	sku: string,
	resume: { undoBookmark: string; seq: number; onHand: number },
	actor: AuditActor,
): Promise<InventoryResumeResult & { sku: string }> {
	await assertKnownSku(db, sku);
	const resumed = await inventoryItem(env, sku).pitrResume(sku, resume);
	if (!resumed.replayed) {
		await audit(db, actor, {
			action: "inventory.restore_resume",
			entityType: "sku",
			entityId: sku,
			before: { undo_bookmark: resume.undoBookmark, seq: resume.seq, on_hand: resume.onHand },
			after: { seq: resumed.seq, on_hand: resumed.onHand, on_hand_delta: resumed.onHandDelta },
		});
	}
	return { sku, ...resumed };
}

/** A cart's Cart object: its current bookmark. */
export async function cartRestoreState(env: Env, cartId: string): Promise<{ cart_id: string; bookmark: string }> {
	return { cart_id: cartId, ...(await cartStub(env, cartId).pitrState()) };
}

/** Restores one cart's Cart object. */
export async function restoreCart(
	env: Env,
	db: Executor,
	cartId: string,
	request: RestoreRequest,
	actor: AuditActor,
): Promise<{ cart_id: string; restored_to: string; undo_bookmark: string; bookmark: string | null }> {
	const stub = (): DurableObjectStub<Cart> => cartStub(env, cartId);
	const target = targetOf(request);
	const before = await stub().pitrState();
	await restore(target, (to) => stub().pitrRestore(to));
	const after = await afterRestart(() => stub().pitrState()).catch(() => undefined);
	const result = {
		cart_id: cartId,
		restored_to: describeTarget(target),
		undo_bookmark: before.bookmark,
		bookmark: after?.bookmark ?? null,
	};
	await audit(db, actor, {
		action: "cart.restore",
		entityType: "cart",
		entityId: cartId,
		before: { bookmark: before.bookmark },
		after: result,
	});
	return result;
}
