import { Database } from "./db/client.ts";
import { purgeIdempotencyKeys } from "./idempotency/store.ts";
import { reconcileStock } from "./inventory/reconcile.ts";
import { runAlerts } from "./ops/alerts.ts";
import { applyRetention, retentionOf } from "./ops/retention.ts";
import { relayOutbox } from "./orders/outbox.ts";
import { reconcilePayments } from "./orders/reconciliation.ts";

/**
 * The cron trigger (every minute): publishes outbox rows whose writer died
 * between its commit and the send, drops idempotency keys past their 24-hour
 * replay window, purges what RETENTION_DAYS no longer keeps (ops/retention.ts),
 * and reconciles payments with the provider (payments that
 * succeeded there and never reached an order here are applied), and opens,
 * resolves and mails alert incidents (ops/alerts.ts), and reconciles a slice
 * of the SKUs' stock (inventory/reconcile.ts). Each job runs
 * on its own, so one failing does not stop the others; a failure is retried
 * by the next run.
 */
export async function runScheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
	const db = new Database(env);
	try {
		const [relayed, purged, reconciled, retained, alerted, stocked] = await Promise.allSettled([
			relayOutbox(env, db.primary),
			purgeIdempotencyKeys(db.primary),
			reconcilePayments(env, db),
			Promise.resolve().then(() => applyRetention(db.primary, retentionOf(env))),
			runAlerts(env, db.primary),
			reconcileStock(env, db),
		]);
		const failed = [relayed, purged, reconciled, retained, alerted, stocked].some((job) => job.status === "rejected");
		console.log(
			JSON.stringify({
				msg: "scheduled",
				outbox_relayed: relayed.status === "fulfilled" ? relayed.value : null,
				idempotency_purged: purged.status === "fulfilled" ? purged.value : null,
				payments_reconciled: reconciled.status === "fulfilled" ? (reconciled.value?.applied ?? 0) : null,
				...(reconciled.status === "rejected" ? { reconciliation_error: errorName(reconciled.reason) } : {}),
				retention: retained.status === "fulfilled" ? retained.value : null,
				...(retained.status === "rejected" ? { retention_error: errorName(retained.reason) } : {}),
				alerts: alerted.status === "fulfilled" ? alerted.value : null,
				...(alerted.status === "rejected" ? { alerts_error: errorName(alerted.reason) } : {}),
				stock_drifted: stocked.status === "fulfilled" ? (stocked.value?.drifted ?? 0) : null,
				...(stocked.status === "rejected" ? { stock_reconciliation_error: errorName(stocked.reason) } : {}),
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
