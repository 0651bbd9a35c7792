import { Database } from "./db/client.ts";
import { purgeIdempotencyKeys } from "./idempotency/store.ts";
import { relayOutbox } from "./orders/outbox.ts";

/**
 * The cron trigger (every minute): publishes outbox rows whose writer died
 * between its commit and the send, and drops idempotency keys past their
 * 24-hour replay window. Each job runs on its own, so one failing does not
 * stop the other; a failure is retried by the next run.
 */
export async function runScheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
	const db = new Database(env);
	try {
		const [relayed, purged] = await Promise.allSettled([relayOutbox(env, db.primary), purgeIdempotencyKeys(db.primary)]);
		console.log(
			JSON.stringify({
				msg: "scheduled",
				outbox_relayed: relayed.status === "fulfilled" ? relayed.value : null,
				idempotency_purged: purged.status === "fulfilled" ? purged.value : null,
				...(relayed.status === "rejected" || purged.status === "rejected" ? { level: "error" } : { level: "info" }),
			}),
		);
	} finally {
		ctx.waitUntil(db.close());
	}
}
