/**
 * Point-in-time recovery of a SQLite-backed Durable Object: its whole storage
 * (tables, alarms' data) back to any moment of the last 30 days, through the
 * storage API's bookmarks. Only the object's own code can do it (no wrangler
 * command or REST API restores one object), so InventoryItem and Cart expose
 * it as RPC methods for the admin maintenance routes (ops/restore.ts).
 *
 * A restore is scheduled with `onNextSessionRestoreBookmark` and happens when
 * the object restarts, which `ctx.abort()` forces at once: the RPC call that
 * scheduled it therefore fails by design, with `durableObjectReset`, and the
 * caller's next call reaches the restored object.
 *
 * The local runtime (workerd under wrangler dev and the tests) answers the
 * current bookmark but implements neither lookup by time nor restore; those
 * calls throw PITR_UNSUPPORTED there, which is reported as "unsupported".
 */

/** What workerd throws for a bookmark lookup or restore where its storage keeps no history (the local runtime). */
export const PITR_UNSUPPORTED = "This Durable Object's storage back-end does not implement point-in-time recovery.";

/** The reason given to `ctx.abort()`: the caller recognises the restart it causes by it. */
export const RESTORE_ABORT_REASON = "point-in-time restore";

/** Where to go back to: an instant (ms since the epoch) or a bookmark (an earlier `getCurrentBookmark()`, or an undo bookmark). */
export type RestoreTarget = { at: number } | { bookmark: string };

/** Why a restore was not scheduled; nothing changed. */
export interface RestoreRefusal {
	ok: false;
	/** unsupported: the storage keeps no history (local runtime); changed: the object changed since the caller read it; refused: the platform refused (e.g. a time past 30 days). */
	reason: "unsupported" | "changed" | "refused";
	detail: string;
}

/**
 * A bookmark of the object's current state, its writes so far included: a
 * bookmark read while writes are still being committed (a new object's
 * first tables, say) would name the state before them.
 */
export async function currentBookmark(ctx: DurableObjectState): Promise<string> {
	await ctx.storage.sync();
	return ctx.storage.getCurrentBookmark();
}

/**
 * Schedules the restore of `ctx`'s storage to `target` and restarts the
 * object, unless `changed` (run just before) names a reason not to: the
 * caller read the object's state and needs the restore to replace exactly
 * that state. Answers only when it refuses; otherwise the restart makes this
 * call throw.
 *
 * No check compares bookmarks: the local runtime hands out a new bookmark on
 * every call even when nothing changed, and nothing promises that Cloudflare's
 * does not, so "the same bookmark" cannot mean "the same state".
 */
export async function restoreTo(
	ctx: DurableObjectState,
	target: RestoreTarget,
	changed?: () => string | undefined,
): Promise<RestoreRefusal> {
	const change = changed?.();
	if (change) return { ok: false, reason: "changed", detail: change };
	let bookmark: string;
	let undo: string;
	try {
		bookmark = "bookmark" in target ? target.bookmark : await ctx.storage.getBookmarkForTime(target.at);
		undo = await ctx.storage.onNextSessionRestoreBookmark(bookmark);
	} catch (err) {
		const message = err instanceof Error ? err.message : String(err);
		return { ok: false, reason: message.includes(PITR_UNSUPPORTED) ? "unsupported" : "refused", detail: message };
	}
	// Workers Logs keeps the exact way back (the state just before the restore) even if the caller never hears of it.
	console.log(
		JSON.stringify({ level: "warn", msg: "durable_object_restore", id: ctx.id.toString(), restored_to: bookmark, undo_bookmark: undo }),
	);
	ctx.abort(RESTORE_ABORT_REASON);
	// abort() throws; should it ever return, the restore still happens at the object's next restart.
	throw new Error(RESTORE_ABORT_REASON);
}
