/**
 * Payment reconciliation (I8: every payment the provider holds is eventually
 * reflected here). Webhooks are the fast path; this is the backstop for the
 * ones that never arrived or never applied (Postgres down past every queue
 * retry, a dead letter dropped, a webhook endpoint misconfigured).
 *
 * Each run (the cron trigger, every minute) asks the provider for the
 * payments that succeeded between its checkpoint, less an overlap, and now,
 * and applies those our orders do not reflect through the queue consumer's
 * own handler (`onPaymentEvent`), keyed by the provider's event id: a payment
 * that the webhook and reconciliation both see is applied once, whichever is
 * first, even when they race (`processed_events` commits with the effect).
 *
 * The checkpoint moves only as far as everything before it is known to be
 * applied: to the window's end after a clean run, to the oldest failed
 * payment when some failed, nowhere when the listing failed. The overlap
 * (10 minutes) covers a provider clock ahead of ours and events that show in
 * the provider's list a little after they happened; re-listed payments cost
 * one lookup per page. At most one run per provider is in progress (a partial
 * unique index); one that died is marked abandoned after the cron's longest
 * possible run.
 */
import { and, desc, eq, inArray, isNotNull, lt, sql } from "drizzle-orm";
import { DrizzleQueryError } from "drizzle-orm/errors";
import { type Database, type Db, isDatabaseUnavailable } from "../db/client.ts";
import { paymentReconciliationRuns, processedEvents } from "../db/schema.ts";
import { DomainError } from "../domain/errors.ts";
import type { PaymentEvent, PaymentProvider } from "../payments/provider.ts";
import { PaymentProviderError } from "../payments/provider.ts";
import { postgresTestLedger } from "../payments/test-ledger.ts";
import { createTestProvider } from "../payments/test-provider.ts";
import { onPaymentEvent, paymentEnvelope } from "./events.ts";
import { paymentsFor } from "./payments.ts";

/** How far each run reaches back before its checkpoint. */
export const RECONCILIATION_OVERLAP_MS = 10 * 60 * 1000;
/** Where the very first run starts: Stripe lists events of the last 30 days; three days covers any outage worth the name. */
export const FIRST_RUN_LOOKBACK_MS = 3 * 24 * 60 * 60 * 1000;
/** A run still `running` after this long died (a cron invocation lasts 15 minutes at most). */
const RUN_LEASE_MS = 15 * 60 * 1000;
const PAGE_SIZE = 100;

type RunRow = typeof paymentReconciliationRuns.$inferSelect;
type RunError = RunRow["errors"][number];

/** A run as the admin route shows it. */
export interface ReconciliationRunView {
	id: number;
	provider: string;
	status: RunRow["status"];
	started_at: string;
	finished_at: string | null;
	/** The window asked about: the previous checkpoint less the overlap, to the run's start. */
	window: { from: string; to: string };
	/** Succeeded payments the provider listed in the window. */
	checked: number;
	/** Of those, the ones our orders did not reflect and this run applied. */
	applied: number;
	/** Succeeded payments no order of ours matches: logged, left alone. */
	unmatched: number;
	errors: RunError[];
	/** Where the next run starts (less the overlap); null while running or when abandoned. */
	checkpoint: string | null;
}

function runView(row: RunRow): ReconciliationRunView {
	return {
		id: row.id,
		provider: row.provider,
		status: row.status,
		started_at: row.startedAt.toISOString(),
		finished_at: row.finishedAt?.toISOString() ?? null,
		window: { from: row.windowFrom.toISOString(), to: row.windowTo.toISOString() },
		checked: row.checked,
		applied: row.applied,
		unmatched: row.unmatched,
		errors: row.errors,
		checkpoint: row.checkpoint?.toISOString() ?? null,
	};
}

/**
 * The configured provider, able to list: Stripe as checkout uses it; the
 * test provider with its ledger in this database.
 */
function listingProvider(env: Env, db: Db): PaymentProvider {
	const configured = paymentsFor(env);
	if (configured.name !== "test") return configured;
	return createTestProvider({ webhookSecret: env.TEST_PAYMENT_WEBHOOK_SECRET, ledger: postgresTestLedger(db) });
}

export interface ReconcileOptions {
	/** The run's clock, ms since the epoch. */
	nowMs?: number;
	/** Instead of the configured provider (tests). */
	provider?: PaymentProvider;
}

/**
 * One reconciliation run, recorded in `payment_reconciliation_runs`.
 * Answers the finished run, or null when another run of the provider is in
 * progress. Failures to reach the provider or to apply a payment are part
 * of the run's record, not thrown; an error thrown here means Postgres could
 * not record the run at all.
 */
export async function reconcilePayments(
	env: Env,
	database: Database,
	options: ReconcileOptions = {},
): Promise<ReconciliationRunView | null> {
	const db = database.primary;
	const provider = options.provider ?? listingProvider(env, db);
	const nowMs = options.nowMs ?? Date.now();
	const runs = paymentReconciliationRuns;

	// On the database's clock, like started_at, whatever clock the run's window uses.
	await db
		.update(runs)
		.set({ status: "abandoned", finishedAt: sql`now()` })
		.where(
			and(
				eq(runs.provider, provider.name),
				eq(runs.status, "running"),
				lt(runs.startedAt, sql`now() - make_interval(secs => ${RUN_LEASE_MS / 1000})`),
			),
		);
	const [previous] = await db
		.select({ checkpoint: runs.checkpoint })
		.from(runs)
		.where(and(eq(runs.provider, provider.name), isNotNull(runs.checkpoint)))
		.orderBy(desc(runs.id))
		.limit(1);
	const since = previous?.checkpoint ? previous.checkpoint.getTime() - RECONCILIATION_OVERLAP_MS : nowMs - FIRST_RUN_LOOKBACK_MS;
	const until = nowMs;
	const [run] = await db
		.insert(runs)
		.values({ provider: provider.name, windowFrom: new Date(since), windowTo: new Date(until) })
		.onConflictDoNothing()
		.returning({ id: runs.id });
	if (!run) {
		log({ level: "info", provider: provider.name, outcome: "skipped", reason: "a run is in progress" });
		return null;
	}

	const tally = { checked: 0, applied: 0, unmatched: 0 };
	const errors: RunError[] = [];
	let oldestFailure: number | undefined;
	let complete = false;
	const seen = new Set<string>();
	try {
		let cursor: string | undefined;
		do {
			const page = await provider.listSucceededPayments({ since, until, cursor, limit: PAGE_SIZE });
			// A page boundary that moved under a listing may show an event twice; it is one payment.
			const events = page.events.filter((event) => !seen.has(event.id));
			for (const event of events) seen.add(event.id);
			tally.checked += events.length;
			const reflected = await processedIds(db, provider.name, events);
			for (const event of events) {
				if (reflected.has(event.id)) continue;
				try {
					await onPaymentEvent(paymentEnvelope(event), { env, db: database });
					// applyPaymentEvent records every event it acts on; one it leaves unrecorded named no order of ours.
					if ((await processedIds(db, provider.name, [event])).has(event.id)) tally.applied++;
					else tally.unmatched++;
				} catch (err) {
					errors.push(runError(err, event.id));
					oldestFailure = Math.min(oldestFailure ?? event.occurredAt, event.occurredAt);
				}
			}
			cursor = page.nextCursor ?? undefined;
		} while (cursor);
		complete = true;
	} catch (err) {
		errors.push(runError(err, null));
	}

	// Never past a payment that is not applied: the next window must include it.
	const checkpoint = !complete ? since + RECONCILIATION_OVERLAP_MS : oldestFailure !== undefined ? Math.min(until, oldestFailure) : until;
	const [finished] = await db
		.update(runs)
		.set({
			status: errors.length === 0 ? "succeeded" : "failed",
			finishedAt: sql`now()`,
			...tally,
			errors,
			checkpoint: new Date(checkpoint),
		})
		.where(eq(runs.id, run.id))
		.returning();
	if (!finished) throw new Error(`reconciliation run ${run.id} vanished`);
	log({
		level: errors.length === 0 ? "info" : "error",
		provider: provider.name,
		run_id: run.id,
		outcome: finished.status,
		...tally,
		errors: errors.length,
	});
	return runView(finished);
}

/** The ids among `events` that `processed_events` holds, under the source the lifecycle records payments with. */
async function processedIds(db: Db, provider: string, events: readonly PaymentEvent[]): Promise<Set<string>> {
	if (events.length === 0) return new Set();
	const rows = await db
		.select({ id: processedEvents.eventId })
		.from(processedEvents)
		.where(
			and(
				eq(processedEvents.source, `payment:${provider}`),
				inArray(
					processedEvents.eventId,
					events.map((event) => event.id),
				),
			),
		);
	return new Set(rows.map((row) => row.id));
}

/**
 * What the run records of a failure, for admins: a stable code and a short
 * message, never a stack, a secret (Stripe's messages are redacted) or a
 * failed query's parameters (drizzle puts them in its message).
 */
function runError(err: unknown, eventId: string | null): RunError {
	if (isDatabaseUnavailable(err)) return { event_id: eventId, code: "database_unavailable", message: "Postgres could not be reached." };
	if (err instanceof DomainError) return { event_id: eventId, code: err.code, message: err.detail ?? err.code };
	if (err instanceof PaymentProviderError) {
		return { event_id: eventId, code: `provider_${err.kind}`, message: err.message.slice(0, 300) };
	}
	const root = err instanceof DrizzleQueryError && err.cause ? err.cause : err;
	const name = root instanceof Error ? root.name : typeof root;
	const message = root instanceof Error ? root.message : String(root);
	return { event_id: eventId, code: name, message: message.slice(0, 300) };
}

function log(fields: Record<string, unknown>): void {
	console.log(JSON.stringify({ msg: "payment_reconciliation", ...fields }));
}

export interface RunQuery {
	limit: number;
	/** The id of the last run of the previous page. */
	cursor?: number | undefined;
}

/** The reconciliation runs, newest first. */
export async function listReconciliationRuns(
	db: Db,
	{ limit, cursor }: RunQuery,
): Promise<{ data: ReconciliationRunView[]; next_cursor: number | null }> {
	const runs = paymentReconciliationRuns;
	const rows = await db
		.select()
		.from(runs)
		.where(cursor ? lt(runs.id, cursor) : undefined)
		.orderBy(desc(runs.id))
		.limit(limit + 1);
	const page = rows.slice(0, limit);
	return { data: page.map(runView), next_cursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
}
