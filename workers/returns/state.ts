import { returnStatus } from "../db/schema.ts";

/**
 * The return state machine: the one place that says which status of a return
 * may follow which. Every change goes through `returnTransition()` and is
 * applied as a conditional update on the status it was read in
 * (returns.ts), so two admins acting on one return at once cannot both win.
 *
 *   requested ─approve─▶ approved ─receive─▶ received ─refund─▶ refunded
 *     │    │               │
 *     │  reject          reject (the parcel never came)
 *     │    ▼               ▼
 *     │  rejected        rejected
 *   cancel (the shopper)
 *     ▼
 *   cancelled
 *
 * `rejected` and `cancelled` give the units back to the order (they may be
 * asked for again); `refunded` keeps them, refunded.
 */
export const RETURN_STATUSES = returnStatus.enumValues;
export type ReturnStatus = (typeof RETURN_STATUSES)[number];

export type ReturnAction = "approve" | "reject" | "receive" | "refund" | "cancel";

const TRANSITIONS: Record<ReturnAction, Partial<Record<ReturnStatus, ReturnStatus>>> = {
	approve: { requested: "approved" },
	reject: { requested: "rejected", approved: "rejected" },
	receive: { approved: "received" },
	refund: { received: "refunded" },
	cancel: { requested: "cancelled" },
};

/** The timestamp column each status sets when it is entered. */
export const RETURN_ENTERED_AT: Record<ReturnStatus, "createdAt" | "approvedAt" | "receivedAt" | "refundedAt" | "closedAt"> = {
	requested: "createdAt",
	approved: "approvedAt",
	received: "receivedAt",
	refunded: "refundedAt",
	rejected: "closedAt",
	cancelled: "closedAt",
};

/** Statuses a return no longer leaves. */
export const FINAL_RETURN_STATUSES: readonly ReturnStatus[] = ["refunded", "rejected", "cancelled"];

/** Statuses whose units go back to the order: what they asked for may be asked for again. */
export const RELEASING_RETURN_STATUSES: readonly ReturnStatus[] = ["rejected", "cancelled"];

export type ReturnTransition = { ok: true; from: ReturnStatus; to: ReturnStatus } | { ok: false; from: ReturnStatus; action: ReturnAction };

/** The status `action` leads to from `from`, or a refusal (answered as 409 `invalid_return_transition`). */
export function returnTransition(from: ReturnStatus, action: ReturnAction): ReturnTransition {
	const to = TRANSITIONS[action][from];
	return to ? { ok: true, from, to } : { ok: false, from, action };
}
