import { and, asc, count, countDistinct, eq, inArray, isNull, lt, min, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { alertIncidents, deadLetters, orders, outbox, stockDrift, users } from "../db/schema.ts";
import { newId } from "../domain/ids.ts";
import { ALERT_KINDS, type AlertKind, type EmailPayload } from "../notifications/email-schemas.ts";
import { enqueue, type OutboxMessage, publish } from "../orders/outbox.ts";

export { ALERT_KINDS, type AlertKind } from "../notifications/email-schemas.ts";

/**
 * Alerts (issue 19): conditions an admin must look at, each an incident with
 * a stable key, kept in `alert_incidents`:
 *
 * | kind             | open while                                                    | key        |
 * | ---------------- | ------------------------------------------------------------- | ---------- |
 * | `dead_letters`   | a dead letter of the queue waits for a replay                 | the queue  |
 * | `stock_drift`    | a `stock_drift` row is unresolved                             | `open`     |
 * | `payment_review` | the order is in `payment_review`                              | order id   |
 * | `outbox_lag`     | an outbox row is unpublished for ALERT_OUTBOX_LAG_MINUTES     | `outbox`   |
 *
 * The scheduled job (`runAlerts`, every minute) evaluates the conditions,
 * opens an incident for each one that holds (INSERT … ON CONFLICT DO NOTHING
 * on the partial unique index of open incidents, so concurrent runs open one)
 * and resolves those whose condition cleared: the next occurrence is a new
 * incident. Every admin is e-mailed once per incident: the run that sets
 * `notified_at` enqueues the `ops.alert` event in the same transaction, and
 * the event id is the incident's, so each (incident, admin) e-mail has one
 * id and a redelivery sends nothing twice (notifications/emails.ts). With no
 * admin, nothing is marked and the job logs it every run until one exists.
 *
 * `/v1/health/ready` only reads open incidents (`openIncidents`, one query
 * on the partial index), so it stays as cheap as its dependency probes and
 * lags the conditions by at most one cron run. Summaries are what it shows,
 * unauthenticated: counts, queue names and times, never an order id, an
 * address or a message body. The e-mail adds the key (an order id is fine
 * for admins) and the facts of `details`.
 *
 * An alert travels the notifications queue like every e-mail: an outbox that
 * lags because that queue refuses cannot deliver its own alert until the
 * queue is back; the readiness answer says `degraded` meanwhile.
 */

/** ALERT_OUTBOX_LAG_MINUTES when it is not set, or not a whole number of minutes. */
export const DEFAULT_OUTBOX_LAG_MINUTES = 10;

/** How long an outbox row may wait unpublished before it is an incident. */
export function outboxLagMinutes(env: { ALERT_OUTBOX_LAG_MINUTES?: string }): number {
	const minutes = Number(env.ALERT_OUTBOX_LAG_MINUTES);
	return Number.isInteger(minutes) && minutes >= 1 && minutes <= 10_080 ? minutes : DEFAULT_OUTBOX_LAG_MINUTES;
}

/** An incident's identity: one open incident per (kind, key). */
export interface IncidentRef {
	kind: string;
	key: string;
}

/** Facts of an incident, as `details` holds them and the e-mail shows them. Never personal data. */
type Details = Record<string, string | number>;

interface Observation {
	kind: AlertKind;
	key: string;
	summary: string;
	details: Details;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

async function deadLetterIncidents(db: Db): Promise<Observation[]> {
	const rows = await db
		.select({ queue: deadLetters.queue, waiting: count(), oldest: min(deadLetters.receivedAt) })
		.from(deadLetters)
		.where(isNull(deadLetters.replayedAt))
		.groupBy(deadLetters.queue);
	return rows.map((row) => ({
		kind: "dead_letters",
		key: row.queue,
		summary: `${plural(row.waiting, "dead letter", "dead letters")} of the ${row.queue} queue ${row.waiting === 1 ? "waits" : "wait"} for a replay.`,
		details: { queue: row.queue, waiting: row.waiting, oldest: row.oldest?.toISOString() ?? "" },
	}));
}

async function stockDriftIncidents(db: Db): Promise<Observation[]> {
	const [row] = await db
		.select({
			open: count(),
			skus: countDistinct(stockDrift.sku),
			sample: sql<string[] | null>`(array_agg(distinct ${stockDrift.sku} order by ${stockDrift.sku}))[1:10]`,
		})
		.from(stockDrift)
		.where(isNull(stockDrift.resolvedAt));
	if (!row || row.open === 0) return [];
	return [
		{
			kind: "stock_drift",
			key: "open",
			summary: `Stock records disagree with the inventory: ${plural(row.open, "open drift record", "open drift records")} on ${plural(row.skus, "SKU", "SKUs")}.`,
			details: { open_records: row.open, skus: row.skus, sample_skus: (row.sample ?? []).join(", ") },
		},
	];
}

async function paymentReviewIncidents(db: Db): Promise<Observation[]> {
	// Orders wait here only until an admin decides, so there are few; all of them, or some would look resolved.
	const rows = await db
		.select({ id: orders.id, since: orders.updatedAt })
		.from(orders)
		.where(eq(orders.status, "payment_review"))
		.orderBy(asc(orders.createdAt));
	return rows.map((row) => ({
		kind: "payment_review",
		key: row.id,
		// The summary is public (the readiness answer): the order id is in the key and the e-mail only.
		summary: "An order waits in payment review: a payment arrived that does not match it.",
		details: { order_id: row.id, in_review_since: row.since.toISOString() },
	}));
}

async function outboxLagIncidents(env: { ALERT_OUTBOX_LAG_MINUTES?: string }, db: Db): Promise<Observation[]> {
	const minutes = outboxLagMinutes(env);
	const [row] = await db
		.select({ waiting: count(), oldest: min(outbox.createdAt) })
		.from(outbox)
		.where(and(isNull(outbox.publishedAt), lt(outbox.createdAt, sql`now() - make_interval(mins => ${minutes})`)));
	if (!row || row.waiting === 0) return [];
	return [
		{
			kind: "outbox_lag",
			key: "outbox",
			summary: `${plural(row.waiting, "outbox message has", "outbox messages have")} waited more than ${plural(minutes, "minute", "minutes")} to be published.`,
			details: { unpublished: row.waiting, oldest: row.oldest?.toISOString() ?? "", lag_minutes: minutes },
		},
	];
}

const CONDITIONS: Record<AlertKind, (env: { ALERT_OUTBOX_LAG_MINUTES?: string }, db: Db) => Promise<Observation[]>> = {
	dead_letters: (_env, db) => deadLetterIncidents(db),
	stock_drift: (_env, db) => stockDriftIncidents(db),
	payment_review: (_env, db) => paymentReviewIncidents(db),
	outbox_lag: outboxLagIncidents,
};

const FACT_LABELS: Record<string, string> = {
	queue: "Queue",
	waiting: "Waiting",
	oldest: "Oldest",
	order_id: "Order",
	in_review_since: "In review since",
	open_records: "Open drift records",
	skus: "SKUs",
	sample_skus: "Among them",
	unpublished: "Unpublished messages",
	lag_minutes: "Threshold (minutes)",
};

function factsOf(details: Record<string, unknown>): EmailPayload<"ops_alert">["facts"] {
	return Object.entries(details)
		.filter(([name, value]) => name in FACT_LABELS && (typeof value === "number" || (typeof value === "string" && value.trim() !== "")))
		.slice(0, 20)
		.map(([name, value]) => ({ label: FACT_LABELS[name] as string, value: String(value).slice(0, 500) }));
}

function isAlertKind(kind: string): kind is AlertKind {
	return (ALERT_KINDS as readonly string[]).includes(kind);
}

type IncidentRow = typeof alertIncidents.$inferSelect;

function alertMessage(incident: IncidentRow & { kind: AlertKind }): OutboxMessage {
	const data: EmailPayload<"ops_alert"> = {
		incident_id: incident.id,
		alert_kind: incident.kind,
		key: incident.key,
		summary: incident.summary,
		opened_at: incident.openedAt.toISOString(),
		facts: factsOf(incident.details),
	};
	return { queue: "notifications", id: `ops_alert:${incident.id}`, type: "ops.alert", data };
}

/** One or more conditions could not be evaluated; their incidents were left as they were. */
export class AlertConditionError extends Error {
	override name = "AlertConditionError";
}

export interface AlertRun {
	/** Incidents open after the run (within its scope). */
	open: number;
	opened: number;
	resolved: number;
	/** Incidents whose e-mail to the admins was enqueued by this run. */
	notified: number;
}

export interface AlertOptions {
	/** Only the incidents this accepts are opened, resolved or mailed (every one when absent). */
	scope?: (incident: IncidentRef) => boolean;
}

/**
 * The scheduled alerting job: evaluates every condition, opens and resolves
 * incidents, and e-mails the admins about each open incident once. A
 * condition that fails to evaluate leaves its incidents alone (none resolved
 * for want of an answer); the others still apply, then the job throws so the
 * run is logged as failed.
 */
export async function runAlerts(env: Env, db: Db, { scope = () => true }: AlertOptions = {}): Promise<AlertRun> {
	const kinds = [...ALERT_KINDS];
	const outcomes = await Promise.allSettled(kinds.map((kind) => CONDITIONS[kind](env, db)));
	const evaluated = new Set<string>();
	const failed: AlertKind[] = [];
	const observed: Observation[] = [];
	outcomes.forEach((outcome, i) => {
		const kind = kinds[i] as AlertKind;
		if (outcome.status === "rejected") {
			failed.push(kind);
			const reason = outcome.reason;
			console.log(
				JSON.stringify({
					level: "error",
					msg: "alert_condition_failed",
					kind,
					error: reason instanceof Error ? reason.name : typeof reason,
				}),
			);
			return;
		}
		evaluated.add(kind);
		observed.push(...outcome.value.filter(scope));
	});

	let opened = 0;
	if (observed.length > 0) {
		const inserted = await db
			.insert(alertIncidents)
			.values(observed.map((o) => ({ id: newId("inc"), kind: o.kind, key: o.key, summary: o.summary, details: o.details })))
			.onConflictDoNothing({ target: [alertIncidents.kind, alertIncidents.key], where: isNull(alertIncidents.resolvedAt) })
			.returning({ id: alertIncidents.id });
		opened = inserted.length;
		// One statement for every incident still seen, new or not: the summary and facts follow the condition.
		const seenNow = observed.map((o) => ({ kind: o.kind, key: o.key, summary: o.summary, details: o.details }));
		await db.execute(sql`
			update ${alertIncidents} as i
			set last_seen_at = now(), summary = o.summary, details = o.details
			from jsonb_to_recordset(${JSON.stringify(seenNow)}::jsonb) as o(kind text, key text, summary text, details jsonb)
			where i.kind = o.kind and i.key = o.key and i.resolved_at is null`);
	}

	const seen = new Set(observed.map((o) => `${o.kind}\u0000${o.key}`));
	const open = (await db.select().from(alertIncidents).where(isNull(alertIncidents.resolvedAt))).filter(scope);
	const cleared = open.filter((incident) => evaluated.has(incident.kind) && !seen.has(`${incident.kind}\u0000${incident.key}`));
	let resolved = 0;
	if (cleared.length > 0) {
		const rows = await db
			.update(alertIncidents)
			.set({ resolvedAt: sql`now()` })
			.where(
				and(
					inArray(
						alertIncidents.id,
						cleared.map((incident) => incident.id),
					),
					isNull(alertIncidents.resolvedAt),
				),
			)
			.returning({ id: alertIncidents.id });
		resolved = rows.length;
	}

	const clearedIds = new Set(cleared.map((incident) => incident.id));
	const pending = open.filter(
		(incident): incident is IncidentRow & { kind: AlertKind } =>
			incident.notifiedAt === null && !clearedIds.has(incident.id) && isAlertKind(incident.kind),
	);
	const notified = await notifyAdmins(env, db, pending);

	if (failed.length > 0) throw new AlertConditionError(`Could not evaluate: ${failed.join(", ")}.`);
	return { open: open.length - clearedIds.size, opened, resolved, notified };
}

/**
 * Claims the pending incidents (sets `notified_at` where it is still null)
 * and enqueues their e-mails in the same transaction: of two concurrent runs,
 * the one that waits for the other's row locks finds them claimed and
 * enqueues nothing. The e-mail goes to every user with the admin role, looked
 * up when the event is delivered (notifications/consumer.ts).
 */
async function notifyAdmins(env: Env, db: Db, pending: (IncidentRow & { kind: AlertKind })[]): Promise<number> {
	if (pending.length === 0) return 0;
	const [admins] = await db.select({ n: count() }).from(users).where(eq(users.role, "admin"));
	if (!admins || admins.n === 0) {
		console.log(JSON.stringify({ level: "warn", msg: "alert_no_admins", incidents: pending.map((incident) => incident.id) }));
		return 0;
	}
	const ids = await db.transaction(async (tx) => {
		const claimed = await tx
			.update(alertIncidents)
			.set({ notifiedAt: sql`now()` })
			.where(
				and(
					inArray(
						alertIncidents.id,
						pending.map((incident) => incident.id),
					),
					isNull(alertIncidents.notifiedAt),
					isNull(alertIncidents.resolvedAt),
				),
			)
			.returning();
		return enqueue(
			tx,
			claimed.filter((incident): incident is IncidentRow & { kind: AlertKind } => isAlertKind(incident.kind)).map(alertMessage),
		);
	});
	// A refused send is left to the outbox relay, like every other writer's.
	await publish(env, db, ids).catch(() => 0);
	return ids.length;
}

/** What `/v1/health/ready` reports of the open incidents. */
export interface OpenIncidents {
	total: number;
	reasons: { kind: AlertKind; summary: string; since: string }[];
}

/**
 * The open incidents, oldest first, at most `limit` of them and how many
 * there are in all: one query, on the partial index of open incidents.
 */
export async function openIncidents(db: Db, limit = 20): Promise<OpenIncidents> {
	const rows = await db
		.select({
			kind: alertIncidents.kind,
			summary: alertIncidents.summary,
			openedAt: alertIncidents.openedAt,
			total: sql<number>`count(*) over ()`.mapWith(Number),
		})
		.from(alertIncidents)
		.where(isNull(alertIncidents.resolvedAt))
		.orderBy(asc(alertIncidents.openedAt), asc(alertIncidents.id))
		.limit(limit);
	return {
		total: rows[0]?.total ?? 0,
		// Only runAlerts writes incidents, and only of ALERT_KINDS.
		reasons: rows.map((row) => ({ kind: row.kind as AlertKind, summary: row.summary, since: row.openedAt.toISOString() })),
	};
}
