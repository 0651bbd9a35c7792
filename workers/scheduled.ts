import { Database } from "./db/client.ts";
import { purgeIdempotencyKeys } from "./idempotency/store.ts";
import { relayOutbox } from "./orders/outbox.ts";
import { reconcilePayments } from "./orders/reconciliation.ts";

/**
 * The cron trigger (every minute): publishes outbox rows whose writer died
 * between its commit and the send, drops idempotency keys past their 24-hour
 * replay window, and reconciles payments with the provider (payments that
 * succeeded there and never reached an order here are applied). Each job runs
 * on its own, so one failing does not stop the others; a failure is retried
 * by the next run.
 */
export async function runScheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
	const db = new Database(env);
	try {
		const [relayed, purged, reconciled] = await Promise.allSettled([
			relayOutbox(env, db.primary),
			purgeIdempotencyKeys(db.primary),
			reconcilePayments(env, db),
		]);
		const failed = [relayed, purged, reconciled].some((job) => job.status === "rejected");
		console.log(
			JSON.stringify({
				msg: "scheduled",
				outbox_relayed: relayed.status === "fulfilled" ? relayed.value : null,
				idempotency_purged: purged.status === "fulfilled" ? purged.value : null,
				payments_reconciled: reconciled.status === "fulfilled" ? (reconciled.value?.applied ?? 0) : null,
				...(reconciled.status === "rejected" ? { reconciliation_error: errorName(reconciled.reason) } : {}),
				level: failed ? "error" : "info",
			}),
		);
	} finally {
		ctx.waitUntil(db.close());
	}
}

function errorName(err: unknown): string {
	return err instanceof Error ? err.name : typeof err;
}
