import { createRoute, z } from "@hono/zod-openapi";
import {
	adminAuth,
	adminProblems,
	bodyProblems,
	databaseProblems,
	integer,
	jsonBody,
	jsonResponse,
	problem,
	timestamp,
} from "../lib/openapi.ts";
import { CartId, CartIdParam, IdempotencyHeader, Sku, SkuParam } from "../lib/params.ts";

const tags = ["Admin"];

/** A storage bookmark of a Durable Object: opaque, lexicographically ordered text (e.g. `0000007b-0000001c-00004e2f-…`). */
const Bookmark = z
	.string()
	.min(1)
	.max(128)
	.regex(/^[0-9A-Za-z-]+$/)
	.openapi({ example: "0000007b-0000001c-00004e2f-8e61117bf38d7adb71b934ebbf891683" });

/** What a restore went back to, as asked: an instant or a bookmark. */
const RestoredTo = z
	.string()
	.max(128)
	.regex(/^[0-9A-Za-z:.-]+$/)
	.openapi({ description: "The instant (ISO 8601) or bookmark asked for" });

const Seq = integer(0, Number.MAX_SAFE_INTEGER).openapi({
	description: "How many events the object has recorded (ledger ids are `inv:<sku>:<seq>`)",
});
const Units = integer(0, 2 ** 31 - 1);

const RestoreBody = z
	.strictObject({
		at: timestamp().optional().openapi({ description: "Go back to this instant (within the last 30 days)" }),
		bookmark: Bookmark.optional().openapi({ description: "Or to this bookmark: an earlier `bookmark`, or a restore's `undo_bookmark`" }),
	})
	.refine((body) => (body.at === undefined) !== (body.bookmark === undefined), {
		message: "Give exactly one of `at` and `bookmark`.",
		path: ["at"],
	})
	.openapi("DurableObjectRestoreRequest");

const restoreProblems = {
	...databaseProblems,
	...bodyProblems,
	...adminProblems,
	400: problem("Malformed JSON, validation failed (`errors[]`), or no Idempotency-Key (`idempotency_key_required`)"),
	409: problem(
		"`restore_conflict`: the object changed while the restore was prepared (nothing restored, try again); `restore_incomplete`: restored but not resumed (call …/resume with the problem's `resume` member); or `idempotency_in_progress`",
	),
	422: problem(
		"`restore_refused`: the instant is in the future or past the 30 days, or the platform refused the bookmark (nothing changed); or `idempotency_key_reused`",
	),
	501: problem(
		"`restore_unsupported`: this runtime keeps no storage history (the local runtime: wrangler dev and the tests); nothing changed",
	),
};

const InventoryState = z
	.object({
		sku: Sku,
		bookmark: Bookmark,
		seq: Seq,
		on_hand: Units,
		available: integer(-(2 ** 31), 2 ** 31 - 1),
		last_restore: z
			.object({ undo_bookmark: Bookmark, resumed_at: timestamp(), on_hand_delta: integer(-(2 ** 31), 2 ** 31 - 1) })
			.nullable()
			.openapi({ description: "The last restore this object was resumed from" }),
	})
	.openapi("InventoryRestoreState");

const InventoryRestored = z
	.object({
		sku: Sku,
		restored_to: RestoredTo,
		undo_bookmark: Bookmark.openapi({ description: "Restore to this bookmark to undo the restore (read just before it)" }),
		bookmark: Bookmark.nullable().openapi({ description: "The restored object's bookmark; null when it could not be read" }),
		seq: Seq,
		on_hand: Units,
		available: integer(-(2 ** 31), 2 ** 31 - 1),
		on_hand_delta: integer(-(2 ** 31), 2 ** 31 - 1).openapi({
			description: "What the restore did to on-hand stock, recorded as one `adjusted` ledger event",
		}),
	})
	.openapi("InventoryRestoreResult");

export const getInventoryBookmark = createRoute({
	method: "get",
	path: "/admin/maintenance/inventory/{sku}/bookmark",
	operationId: "getInventoryBookmark",
	tags,
	security: adminAuth,
	summary: "A SKU's InventoryItem: its current storage bookmark and figures (before a point-in-time restore)",
	description:
		"Read before a restore, to note the way back and the figures it will replace. `last_restore` shows whether the last restore was resumed. Reading changes nothing.",
	request: { params: SkuParam },
	responses: {
		200: jsonResponse(InventoryState, "The object's bookmark and figures"),
		...databaseProblems,
		...adminProblems,
		404: problem("No such SKU"),
	},
});

export const restoreInventory = createRoute({
	method: "post",
	path: "/admin/maintenance/inventory/{sku}/restore",
	operationId: "restoreInventoryObject",
	tags,
	security: adminAuth,
	summary: "Point-in-time restore of a SKU's InventoryItem (Durable Object storage, last 30 days)",
	description:
		"Replaces the object's whole storage (on-hand count, reservations, sales) with its state at `at` or `bookmark`, restarts it, moves its event counter past the ledger's and records the change of on-hand stock as one `adjusted` event. Run the stock reconciliation afterwards.",
	request: { params: SkuParam, headers: IdempotencyHeader, body: jsonBody(RestoreBody) },
	responses: {
		200: jsonResponse(InventoryRestored, "Restored and resumed"),
		...restoreProblems,
		404: problem("No such SKU"),
	},
});

export const resumeInventory = createRoute({
	method: "post",
	path: "/admin/maintenance/inventory/{sku}/resume",
	operationId: "resumeInventoryObject",
	tags,
	security: adminAuth,
	summary: "Finish a restore that answered 409 restore_incomplete (once per undo bookmark; a repeat answers the same)",
	description:
		"Moves the object's event counter back to `seq` (the figure before the restore) and records the change from `on_hand` to the restored on-hand stock as one `adjusted` ledger event. The object does it once per `undo_bookmark`; a repeat answers the first result with `replayed: true`.",
	request: {
		params: SkuParam,
		headers: IdempotencyHeader,
		body: jsonBody(z.strictObject({ undo_bookmark: Bookmark, seq: Seq, on_hand: Units }).openapi("InventoryResumeRequest")),
	},
	responses: {
		200: jsonResponse(
			z.object({
				sku: Sku,
				seq: Seq,
				on_hand: Units,
				available: integer(-(2 ** 31), 2 ** 31 - 1),
				on_hand_delta: integer(-(2 ** 31), 2 ** 31 - 1),
				replayed: z.boolean(),
			}),
			"Resumed",
		),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		400: problem("Malformed JSON, validation failed (`errors[]`), or no Idempotency-Key (`idempotency_key_required`)"),
		404: problem("No such SKU"),
		409: problem("`idempotency_in_progress`: the same key is still being answered"),
		422: problem("`idempotency_key_reused`: the key was used for another request"),
	},
});

export const getCartBookmark = createRoute({
	method: "get",
	path: "/admin/maintenance/carts/{id}/bookmark",
	operationId: "getCartBookmark",
	tags,
	security: adminAuth,
	summary: "A cart's Cart object: its current storage bookmark (before a point-in-time restore)",
	description: "Read before a restore, to note the way back. Reading changes nothing.",
	request: { params: CartIdParam },
	responses: {
		200: jsonResponse(z.object({ cart_id: CartId, bookmark: Bookmark }), "The object's bookmark"),
		...databaseProblems,
		...adminProblems,
	},
});

export const restoreCart = createRoute({
	method: "post",
	path: "/admin/maintenance/carts/{id}/restore",
	operationId: "restoreCartObject",
	tags,
	security: adminAuth,
	summary: "Point-in-time restore of one cart's Cart object (Durable Object storage, last 30 days)",
	description:
		"Replaces the cart object's whole storage (lines, owner, holds, checkout state) with its state at `at` or `bookmark` and restarts it. Only this object goes back: the InventoryItems keep their reservations as they are now, so a hold the restored cart remembers may no longer be held.",
	request: { params: CartIdParam, headers: IdempotencyHeader, body: jsonBody(RestoreBody) },
	responses: {
		200: jsonResponse(
			z.object({
				cart_id: CartId,
				restored_to: RestoredTo,
				undo_bookmark: Bookmark.openapi({ description: "Restore to this bookmark to undo the restore (read just before it)" }),
				bookmark: Bookmark.nullable().openapi({ description: "The restored object's bookmark; null when it could not be read" }),
			}),
			"Restored",
		),
		...restoreProblems,
	},
});
