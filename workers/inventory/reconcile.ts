/**
 * Stock reconciliation (issue 19): each SKU's InventoryItem, the authority on
 * its stock, against what Postgres says of it. Every run records itself in
 * `stock_reconciliation_runs`, and each disagreement in `stock_drift` (one open
 * row per SKU and kind: a disagreement seen again updates its figures).
 *
 * What is compared, per SKU (the object answers `figures()`, read-only):
 *
 * - `ledger`: every event of the object is one ledger row (holds and releases
 *   too, with a delta of 0), so the ledger holds exactly `seq` rows and their
 *   deltas sum to `on_hand`. Both are checked: a lost hold is a gap in the
 *   record even when the units agree.
 * - `projection`: `stock_levels.available` at the object's `seq` is the
 *   object's `available`.
 * - `orders`: the units of every order that was ever paid (an `order_events`
 *   row into `paid`) never exceed the object's sold units. The object counts
 *   every committed sale, and a sale is never undone: a cancellation or a
 *   refund with restock gives the units back as an adjustment of on hand
 *   (seen by the ledger check), so refunded and cancelled paid orders stay
 *   counted. The other direction is not drift: a payment that lost the race
 *   for part of its order commits the lines it got before it is refunded,
 *   so the object may have sold units no paid order names. (The sum reads
 *   order_lines by SKU, which no index leads with yet: order_lines_order_sku_key
 *   starts with the order.)
 *
 * Queue lag: Postgres is read before the objects are asked, and the consumer
 * cannot apply an event the object has not made, so Postgres is never ahead
 * of the answer it is compared with. A check is only decided where Postgres
 * has caught up: the ledger when it holds the object's newest event, the
 * projection when its `seq` is the object's. One still behind is read again
 * once after the objects answered (most lag is a batch in flight), and if it
 * is still behind it is left for the next run: not drift. A ledger row lost
 * from the middle shows at once (its neighbour at the object's `seq` is
 * there); the newest row lost shows with the SKU's next change. An event
 * that never arrives sits in the dead letters, which are alerted on their own.
 *
 * Repairs: the projection is only a projection, so a disagreeing one is
 * rewritten from the object in the run (compare-and-set on the row it read,
 * so a consumer write in between wins) and its drift resolved `repaired`.
 * An object that never recorded an event while Postgres has its history has
 * lost its state (or never had it): that is one ledger drift, and its other
 * checks wait until it has a history again (an admin sets it from the
 * ledger; the next run then repairs its projection). The ledger and the
 * objects are never changed here: `resolveStockDrift` sets an object from
 * the ledger, or accepts a difference, on an admin's explicit request. An
 * accepted difference (the ledger minus the object, in units and in events)
 * stays the expected one: the same difference is not reported again, and
 * a drift that agrees again is resolved `cleared`.
 *
 * Bounds: each SKU costs one Durable Object call, so a run checks at most
 * STOCK_RECONCILIATION_BATCH SKUs (every variant's SKU and every SKU with a
 * stock level, which the consumer writes in the statement that writes its
 * ledger rows). The SKUs, in order, are cut into slices of that size and run
 * `id` takes slice `id mod slices`: with the cron every minute, a catalog of
 * 10 000 SKUs is checked every 100 minutes. A SKU added meanwhile shifts the
 * slices, so some SKU may wait a slice longer once. At most one run is in
 * progress (an advisory lock around the claim of a `running` row); one still
 * running after the cron's longest possible run died, and is marked failed.
 */
import { and, desc, eq, gt, inArray, isNotNull, isNull, lt, type SQL, sql } from "drizzle-orm";
import type { StockFigures } from "../../durable-objects/inventory-item.ts";
import { type AuditActor, recordAudit } from "../catalog/audit.ts";
import { bumpStockVersion } from "../catalog/cache.ts";
import { type Database, type Db, type Executor, isDatabaseUnavailable } from "../db/client.ts";
import {
	auditLog,
	inventoryLedger,
	orderEvents,
	orderLines,
	stockDrift,
	stockLevels,
	stockReconciliationRuns,
	variants,
} from "../db/schema.ts";
import { DomainError, notFound } from "../domain/errors.ts";
import { inventoryItem } from "./reservations.ts";

/** SKUs one run checks at most: one Durable Object call each. */
export const STOCK_RECONCILIATION_BATCH = 100;
/** Objects asked at once. */
const OBJECT_CONCURRENCY = 10;
/** A run still `running` after this long died (a cron invocation lasts 15 minutes at most). */
const RUN_LEASE_MS = 15 * 60 * 1000;
/** Who resolves what the job resolves by itself. */
const SYSTEM = "reconciliation";

export const DRIFT_KINDS = ["ledger", "projection", "orders"] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

/** How a drift was resolved: by the run (`repaired`, `cleared`) or by an admin. */
export const DRIFT_RESOLUTIONS = ["repaired", "cleared", "accepted", "set_object_from_ledger"] as const;
export type DriftResolution = (typeof DRIFT_RESOLUTIONS)[number];

/** What a drift row records: the object's figures and those of the record that disagrees. */
export type Observed = Record<string, number | null>;

type RunRow = typeof stockReconciliationRuns.$inferSelect;
type DriftRow = typeof stockDrift.$inferSelect;
type RunError = RunRow["errors"][number];

/** A run as the admin route shows it. */
export interface StockRunView {
	id: number;
	status: RunRow["status"];
	started_at: string;
	finished_at: string | null;
	skus_checked: number;
	/** Disagreements this run found, the repaired ones included. */
	drifted: number;
	/** Of those, the projections it rewrote from their object. */
	repaired: number;
	errors: RunError[];
}

/** A drift as the admin route shows it. */
export interface StockDriftView {
	id: number;
	/** The last run that saw it. */
	run_id: number;
	sku: string;
	kind: DriftKind;
	observed: Observed;
	/** When a run first saw it. */
	created_at: string;
	resolved_at: string | null;
	resolution: DriftResolution | null;
	/** The admin's user id, or `reconciliation` for the job. */
	resolved_by: string | null;
	/** The admin's note, for a drift an admin resolved. */
	note: string | null;
}

function runView(row: RunRow): StockRunView {
	return {
		id: row.id,
		status: row.status,
		started_at: row.startedAt.toISOString(),
		finished_at: row.finishedAt?.toISOString() ?? null,
		skus_checked: row.skusChecked,
		drifted: row.drifted,
		repaired: row.repaired,
		errors: row.errors,
	};
}

function driftView(row: DriftRow, note: string | null): StockDriftView {
	return {
		id: row.id,
		run_id: row.runId,
		sku: row.sku,
		kind: row.kind as DriftKind,
		observed: row.observed,
		created_at: row.createdAt.toISOString(),
		resolved_at: row.resolvedAt?.toISOString() ?? null,
		resolution: (row.resolution as DriftResolution | null) ?? null,
		resolved_by: row.resolvedBy,
		note,
	};
}

export interface StockReconcileOptions {
	/** Exactly these SKUs instead of the run's slice (a targeted re-check; tests). */
	skus?: readonly string[] | undefined;
	/** SKUs per slice; STOCK_RECONCILIATION_BATCH unless given. */
	batchSize?: number | undefined;
}

/**
 * One reconciliation run. Answers the finished run, or null when another run
 * is in progress. What fails for one SKU (its object does not answer) is in
 * the run's errors; an error thrown here means Postgres could not record the
 * run at all.
 */
export async function reconcileStock(env: Env, database: Database, options: StockReconcileOptions = {}): Promise<StockRunView | null> {
	const db = database.primary;
	const run = await claimRun(db);
	if (!run) {
		log({ level: "info", outcome: "skipped", reason: "a run is in progress" });
		return null;
	}
	const tally: Tally = { checked: 0, drifted: 0, repaired: 0, unsettled: 0 };
	const errors: RunError[] = [];
	try {
		const size = Math.max(1, Math.min(options.batchSize ?? STOCK_RECONCILIATION_BATCH, 1000));
		const skus = options.skus ? await knownSkus(db, [...new Set(options.skus)]) : await sliceOf(db, run.id, size);
		await checkSkus(env, db, run.id, skus, tally, errors);
	} catch (err) {
		errors.push(runError(err, null));
	}
	const [finished] = await db
		.update(stockReconciliationRuns)
		.set({
			status: errors.length === 0 ? "succeeded" : "failed",
			finishedAt: sql`now()`,
			skusChecked: tally.checked,
			drifted: tally.drifted,
			repaired: tally.repaired,
			errors,
		})
		.where(eq(stockReconciliationRuns.id, run.id))
		.returning();
	if (!finished) throw new Error(`stock reconciliation run ${run.id} vanished`);
	log({
		level: errors.length === 0 ? "info" : "error",
		run_id: run.id,
		outcome: finished.status,
		checked: tally.checked,
		drifted: tally.drifted,
		repaired: tally.repaired,
		unsettled: tally.unsettled,
		errors: errors.length,
	});
	return runView(finished);
}

/**
 * Starts a run unless one is in progress. The claim is serialized by an
 * advisory lock, so two runs starting together cannot both see none
 * running; a run past its lease died and is marked failed first.
 */
async function claimRun(db: Db): Promise<RunRow | null> {
	const runs = stockReconciliationRuns;
	return db.transaction(async (tx) => {
		await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('stock_reconciliation', 0))`);
		// Only one run is ever in progress, so one that died is among the last day's (the index on started_at).
		const running = await tx
			.select({ id: runs.id, stale: sql<boolean>`${runs.startedAt} < now() - make_interval(secs => ${RUN_LEASE_MS / 1000})` })
			.from(runs)
			.where(and(eq(runs.status, "running"), gt(runs.startedAt, sql`now() - interval '1 day'`)));
		const stale = running.filter((row) => row.stale).map((row) => row.id);
		if (stale.length > 0) {
			await tx
				.update(runs)
				.set({
					status: "failed",
					finishedAt: sql`now()`,
					errors: sql`${runs.errors} || ${JSON.stringify([{ sku: null, message: "Abandoned: the run did not finish within its lease." }])}::jsonb`,
				})
				.where(inArray(runs.id, stale));
		}
		if (running.some((row) => !row.stale)) return null;
		const [row] = await tx.insert(runs).values({ status: "running" }).returning();
		return row ?? null;
	});
}

/**
 * The SKUs among these that a variant or a stock level names: only those are
 * checked, since asking for a made-up SKU's object would create one.
 */
export async function knownSkus(db: Db, skus: readonly string[]): Promise<string[]> {
	if (skus.length === 0) return [];
	const [named, levelled] = [
		await db
			.select({ sku: variants.sku })
			.from(variants)
			.where(inArray(variants.sku, [...skus])),
		await db
			.select({ sku: stockLevels.sku })
			.from(stockLevels)
			.where(inArray(stockLevels.sku, [...skus])),
	];
	const known = new Set([...named, ...levelled].map((row) => row.sku));
	return skus.filter((sku) => known.has(sku));
}

/** The run's slice of every SKU a variant or a stock level names, in SKU order. */
async function sliceOf(db: Db, runId: number, size: number): Promise<string[]> {
	const result = await db.execute<{ sku: string }>(sql`
		with universe as (select ${variants.sku} as sku from ${variants} union select ${stockLevels.sku} from ${stockLevels})
		select sku from universe order by sku
		offset (select (${runId}::bigint % greatest(1, ceil(count(*)::numeric / ${size}::int))::bigint) * ${size}::int from universe)
		limit ${size}::int`);
	return result.rows.map((row) => row.sku);
}

interface Tally {
	checked: number;
	drifted: number;
	repaired: number;
	/** Checks left for the next run because Postgres had not caught up. */
	unsettled: number;
}

interface LedgerFigures {
	onHand: number;
	events: number;
	maxSeq: number;
}

interface ProjectionFigures {
	available: number;
	seq: number;
}

const key = (sku: string, kind: DriftKind) => `${kind}:${sku}`;

/** Each SKU's ledger: the sum of its deltas, its rows, and the newest object `seq` among their event ids (`inv:{sku}:{seq}`). */
async function ledgerOf(db: Db, skus: readonly string[]): Promise<Map<string, LedgerFigures>> {
	if (skus.length === 0) return new Map();
	const rows = await db
		.select({
			sku: inventoryLedger.sku,
			onHand: sql<string>`coalesce(sum(${inventoryLedger.delta}), 0)`,
			events: sql<string>`count(*)`,
			maxSeq: sql<string | null>`max(substring(${inventoryLedger.eventId} from ':([0-9]+)$')::bigint)`,
		})
		.from(inventoryLedger)
		.where(inArray(inventoryLedger.sku, [...skus]))
		.groupBy(inventoryLedger.sku);
	return new Map(rows.map((row) => [row.sku, { onHand: Number(row.onHand), events: Number(row.events), maxSeq: Number(row.maxSeq ?? 0) }]));
}

async function projectionOf(db: Db, skus: readonly string[]): Promise<Map<string, ProjectionFigures>> {
	if (skus.length === 0) return new Map();
	const rows = await db
		.select({ sku: stockLevels.sku, available: stockLevels.available, seq: stockLevels.seq })
		.from(stockLevels)
		.where(inArray(stockLevels.sku, [...skus]));
	return new Map(rows.map((row) => [row.sku, { available: row.available, seq: Number(row.seq) }]));
}

/** Units of each SKU in orders that were ever paid. */
async function paidUnitsOf(db: Db, skus: readonly string[]): Promise<Map<string, number>> {
	if (skus.length === 0) return new Map();
	const rows = await db
		.select({ sku: orderLines.sku, units: sql<string>`sum(${orderLines.quantity})` })
		.from(orderLines)
		.where(
			and(
				inArray(orderLines.sku, [...skus]),
				sql`exists (select 1 from ${orderEvents} where ${orderEvents.orderId} = ${orderLines.orderId} and ${orderEvents.toStatus} = 'paid')`,
			),
		)
		.groupBy(orderLines.sku);
	return new Map(rows.map((row) => [row.sku, Number(row.units)]));
}

/** The open drift of these SKUs, by kind and SKU. */
async function openDriftOf(db: Db, skus: readonly string[]): Promise<Map<string, number>> {
	if (skus.length === 0) return new Map();
	const rows = await db
		.select({ id: stockDrift.id, sku: stockDrift.sku, kind: stockDrift.kind })
		.from(stockDrift)
		.where(and(inArray(stockDrift.sku, [...skus]), isNull(stockDrift.resolvedAt)));
	return new Map(rows.map((row) => [key(row.sku, row.kind as DriftKind), row.id]));
}

/** What an admin last accepted (or set the object from) per SKU and kind: the expected difference from then on. */
async function baselinesOf(db: Db, skus: readonly string[]): Promise<Map<string, Observed>> {
	if (skus.length === 0) return new Map();
	const rows = await db
		.selectDistinctOn([stockDrift.sku, stockDrift.kind], { sku: stockDrift.sku, kind: stockDrift.kind, observed: stockDrift.observed })
		.from(stockDrift)
		.where(and(inArray(stockDrift.sku, [...skus]), inArray(stockDrift.resolution, ["accepted", "set_object_from_ledger"])))
		.orderBy(stockDrift.sku, stockDrift.kind, desc(stockDrift.resolvedAt));
	return new Map(rows.map((row) => [key(row.sku, row.kind as DriftKind), row.observed]));
}

/** Each SKU's object figures, a few objects at a time; an object that fails is an Error in its place. */
async function figuresOf(env: Env, skus: readonly string[]): Promise<Map<string, StockFigures | Error>> {
	const answers = new Map<string, StockFigures | Error>();
	let next = 0;
	const worker = async () => {
		while (next < skus.length) {
			const sku = skus[next++] as string;
			try {
				answers.set(sku, await inventoryItem(env, sku).figures());
			} catch (err) {
				answers.set(sku, err instanceof Error ? err : new Error(String(err)));
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(OBJECT_CONCURRENCY, skus.length) }, worker));
	return answers;
}

type Verdict = { state: "agrees" } | { state: "unsettled" } | { state: "drift"; observed: Observed };

const AGREES: Verdict = { state: "agrees" };
const UNSETTLED: Verdict = { state: "unsettled" };

function objectFacts(f: StockFigures): Observed {
	return {
		object_on_hand: f.onHand,
		object_reserved: f.reserved,
		object_available: f.available,
		object_sold: f.sold,
		object_seq: f.seq,
	};
}

/**
 * The ledger against the object, once it holds the object's newest event.
 * `again` marks a second read taken after the object answered, which may
 * already hold events the answer predates.
 */
function ledgerVerdict(f: StockFigures, found: LedgerFigures | undefined, baseline: Observed | undefined, again: boolean): Verdict {
	const ledger = found ?? { onHand: 0, events: 0, maxSeq: 0 };
	if (ledger.maxSeq < f.seq || (again && ledger.maxSeq > f.seq)) return UNSETTLED;
	const units = ledger.onHand - f.onHand;
	const events = ledger.events - f.seq;
	// A ledger ahead of its object (events the object never made) never agrees, unless an admin accepted exactly this.
	if (ledger.maxSeq === f.seq && units === 0 && events === 0) return AGREES;
	if (
		baseline &&
		units === differenceOf(baseline, "ledger_on_hand", "object_on_hand") &&
		events === differenceOf(baseline, "ledger_events", "object_seq")
	) {
		return AGREES;
	}
	return {
		state: "drift",
		observed: { ...objectFacts(f), ledger_on_hand: ledger.onHand, ledger_events: ledger.events, ledger_max_seq: ledger.maxSeq },
	};
}

/** The projection against the object, once it is at the object's `seq`. */
function projectionVerdict(f: StockFigures, found: ProjectionFigures | undefined, again: boolean): Verdict {
	const seq = found?.seq ?? 0;
	if (seq < f.seq || (again && seq > f.seq)) return UNSETTLED;
	if (seq === f.seq && (found ? found.available === f.available : true)) return AGREES;
	const observed = { ...objectFacts(f), projection_available: found?.available ?? null, projection_seq: found?.seq ?? null };
	return { state: "drift", observed };
}

/** Units of paid orders against the object's sales: never more. */
function ordersVerdict(f: StockFigures, paid: number, baseline: Observed | undefined): Verdict {
	const excess = paid - f.sold;
	if (excess <= 0) return AGREES;
	if (baseline && excess === differenceOf(baseline, "paid_units", "object_sold")) return AGREES;
	return { state: "drift", observed: { ...objectFacts(f), paid_units: paid } };
}

function differenceOf(observed: Observed, minuend: string, subtrahend: string): number {
	return (observed[minuend] ?? 0) - (observed[subtrahend] ?? 0);
}

async function checkSkus(env: Env, db: Db, runId: number, skus: readonly string[], tally: Tally, errors: RunError[]): Promise<void> {
	if (skus.length === 0) return;
	// Postgres first: whatever it holds, the object had already done when it answers.
	const ledger = await ledgerOf(db, skus);
	const projection = await projectionOf(db, skus);
	const paid = await paidUnitsOf(db, skus);
	const open = await openDriftOf(db, skus);
	const baselines = await baselinesOf(db, skus);
	const figures = await figuresOf(env, skus);

	const behind = skus.filter((sku) => {
		const f = figures.get(sku);
		return f && !(f instanceof Error) && ((ledger.get(sku)?.maxSeq ?? 0) < f.seq || (projection.get(sku)?.seq ?? 0) < f.seq);
	});
	const ledgerAgain = await ledgerOf(db, behind);
	const projectionAgain = await projectionOf(db, behind);

	for (const sku of skus) {
		const f = figures.get(sku);
		if (!f || f instanceof Error) {
			errors.push({ sku, message: `The InventoryItem did not answer (${f?.name ?? "no answer"}).` });
			continue;
		}
		tally.checked++;
		const ledgerBaseline = baselines.get(key(sku, "ledger"));
		const ledgerFirst = ledgerVerdict(f, ledger.get(sku), ledgerBaseline, false);
		const projectionFirst = projectionVerdict(f, projection.get(sku), false);
		const seen = projectionFirst.state === "unsettled" ? projectionAgain.get(sku) : projection.get(sku);
		const verdicts: [DriftKind, Verdict][] = [
			["ledger", ledgerFirst.state === "unsettled" ? ledgerVerdict(f, ledgerAgain.get(sku), ledgerBaseline, true) : ledgerFirst],
		];
		// An object without a single event while Postgres has its history lost its state (or never had it): that is
		// the ledger drift, and the projection and the orders follow from it, so they wait until it has a history.
		if (f.seq > 0) {
			verdicts.push(
				["projection", projectionFirst.state === "unsettled" ? projectionVerdict(f, seen, true) : projectionFirst],
				["orders", ordersVerdict(f, paid.get(sku) ?? 0, baselines.get(key(sku, "orders")))],
			);
		}
		for (const [kind, verdict] of verdicts) {
			try {
				await apply(env, db, { runId, sku, kind, verdict, openId: open.get(key(sku, kind)), figures: f, projection: seen }, tally);
			} catch (err) {
				errors.push(runError(err, sku));
			}
		}
	}
}

interface Finding {
	runId: number;
	sku: string;
	kind: DriftKind;
	verdict: Verdict;
	openId: number | undefined;
	figures: StockFigures;
	/** The projection row the verdict was reached on, which a repair replaces. */
	projection: ProjectionFigures | undefined;
}

const resolvedBySystem = (resolution: DriftResolution) => ({ resolvedAt: sql`now()`, resolution, resolvedBy: SYSTEM });

/** Records a verdict: a disagreement opened or updated (and a projection repaired), an open drift that agrees again cleared. */
async function apply(env: Env, db: Db, finding: Finding, tally: Tally): Promise<void> {
	const { verdict, openId } = finding;
	if (verdict.state === "unsettled") {
		tally.unsettled++;
		return;
	}
	if (verdict.state === "agrees") {
		if (openId !== undefined) {
			await db
				.update(stockDrift)
				.set(resolvedBySystem("cleared"))
				.where(and(eq(stockDrift.id, openId), isNull(stockDrift.resolvedAt)));
		}
		return;
	}
	tally.drifted++;
	if (finding.kind !== "projection" || !finding.projection) {
		await recordDrift(db, finding, verdict.observed);
		return;
	}
	const before = finding.projection;
	const repaired = await db.transaction(async (tx) => {
		const id = await recordDrift(tx, finding, verdict.observed);
		const f = finding.figures;
		const [row] = await tx
			.insert(stockLevels)
			.values({ sku: finding.sku, available: f.available, seq: f.seq, updatedAt: sql`now()` })
			.onConflictDoUpdate({
				target: stockLevels.sku,
				set: {
					available: sql`excluded.available`,
					previousAvailable: sql`${stockLevels.available}`,
					seq: sql`excluded.seq`,
					updatedAt: sql`excluded.updated_at`,
				},
				// Compare-and-set on the row the verdict read: a consumer write in between wins.
				setWhere: and(eq(stockLevels.seq, before.seq), eq(stockLevels.available, before.available)),
			})
			.returning({ sku: stockLevels.sku });
		if (!row || id === undefined) return false;
		await tx.update(stockDrift).set(resolvedBySystem("repaired")).where(eq(stockDrift.id, id));
		return true;
	});
	if (!repaired) return;
	tally.repaired++;
	// Catalog answers cache only in stock or not: a repair that flips it makes them stale (inventory/ledger.ts).
	if (before.available > 0 !== finding.figures.available > 0) await bumpStockVersion(env.CATALOG);
}

/**
 * The open drift of the SKU and kind, its figures brought up to date, or a new
 * one. Answers its id; undefined when it was resolved while the run looked
 * (the next run judges again).
 */
async function recordDrift(db: Executor, finding: Finding, observed: Observed): Promise<number | undefined> {
	if (finding.openId !== undefined) {
		const [updated] = await db
			.update(stockDrift)
			.set({ observed, runId: finding.runId })
			.where(and(eq(stockDrift.id, finding.openId), isNull(stockDrift.resolvedAt)))
			.returning({ id: stockDrift.id });
		return updated?.id;
	}
	const [inserted] = await db
		.insert(stockDrift)
		.values({ runId: finding.runId, sku: finding.sku, kind: finding.kind, observed })
		.returning({ id: stockDrift.id });
	return inserted?.id;
}

/** What a run records of a failure, for admins: short, never a query's parameters (drizzle puts them in its message). */
function runError(err: unknown, sku: string | null): RunError {
	if (isDatabaseUnavailable(err)) return { sku, message: "Postgres could not be reached." };
	if (err instanceof DomainError) return { sku, message: err.detail ?? err.code };
	const root = err instanceof Error && err.cause instanceof Error ? err.cause : err;
	return { sku, message: (root instanceof Error ? root.name : typeof root).slice(0, 100) };
}

function log(fields: Record<string, unknown>): void {
	console.log(JSON.stringify({ msg: "stock_reconciliation", ...fields }));
}

export interface ResolveDriftRequest {
	/** `set_object_from_ledger`: the object takes the ledger's on-hand figure (ledger drift only). `accept`: the difference stands. */
	action: "set_object_from_ledger" | "accept";
	note: string;
}

/**
 * An admin resolves an open drift. `set_object_from_ledger` changes the
 * object's on hand by the difference the drift recorded (the ledger's sum
 * less the object's on hand: every change of the object since moved both
 * alike) through its ordinary adjustment, keyed by the drift, so a retry
 * adjusts once. The object is asked inside the transaction that holds the
 * drift's row, resolves it and writes the audit entries, so two admins
 * cannot both act on it, and a resolution that fails to commit leaves it
 * open for a retry that the object replays. Resolving a resolved drift the
 * same way again answers it as it is; another way, 409.
 */
export async function resolveStockDrift(
	env: Env,
	db: Db,
	id: number,
	request: ResolveDriftRequest,
	actor: AuditActor,
): Promise<StockDriftView> {
	const resolution: DriftResolution = request.action === "accept" ? "accepted" : "set_object_from_ledger";
	const row = await db.transaction(async (tx) => {
		const [drift] = await tx.select().from(stockDrift).where(eq(stockDrift.id, id)).for("update");
		if (!drift) throw notFound("No stock drift with this id.");
		if (drift.resolvedAt) {
			if (drift.resolution === resolution) return drift;
			throw new DomainError("drift_resolved", { detail: `This drift was already resolved (${drift.resolution ?? "resolved"}).` });
		}
		let adjusted: { delta: number; on_hand: number } | null = null;
		if (request.action === "set_object_from_ledger") {
			if (drift.kind !== "ledger") {
				throw new DomainError("drift_not_ledger", { detail: "Only a ledger drift can set the object from the ledger; accept this one." });
			}
			adjusted = await setObjectFromLedger(env, tx, drift, actor);
		}
		const [resolved] = await tx
			.update(stockDrift)
			.set({ resolvedAt: sql`now()`, resolution, resolvedBy: actor.userId })
			.where(eq(stockDrift.id, id))
			.returning();
		await recordAudit(tx, {
			actorId: actor.userId,
			action: `stock_drift.${request.action}`,
			entityType: "stock_drift",
			entityId: String(id),
			before: { sku: drift.sku, kind: drift.kind, observed: drift.observed, resolved_at: null },
			after: { sku: drift.sku, kind: drift.kind, resolution, note: request.note, ...(adjusted ? { adjusted } : {}) },
			requestId: actor.requestId,
		});
		return resolved ?? drift;
	});
	return driftView(row, (await notesOf(db, [row.id])).get(row.id) ?? null);
}

async function setObjectFromLedger(
	env: Env,
	tx: Executor,
	drift: DriftRow,
	actor: AuditActor,
): Promise<{ delta: number; on_hand: number }> {
	const delta = differenceOf(drift.observed, "ledger_on_hand", "object_on_hand");
	const item = inventoryItem(env, drift.sku);
	if (delta === 0) return { delta, on_hand: (await item.figures().catch(unavailable)).onHand };
	const reason = `set from the ledger (stock drift ${drift.id})`;
	const idempotencyKey = `stock-drift:${drift.id}`;
	const result = await item.adjust(drift.sku, delta, reason, idempotencyKey).catch(unavailable);
	if (!result.ok && result.reason === "below_reserved") {
		throw new DomainError("below_reserved", {
			detail: `On hand ${result.onHand} with ${result.reserved} reserved: the ledger's figure would leave fewer units than are reserved.`,
		});
	}
	if (!result.ok) {
		throw new DomainError("idempotency_key_reused", { detail: "This drift's adjustment was already made with another difference." });
	}
	await recordAudit(tx, {
		actorId: actor.userId,
		action: "inventory.adjust",
		entityType: "sku",
		entityId: drift.sku,
		before: { on_hand: result.onHand - delta },
		after: { on_hand: result.onHand, delta, reason, idempotency_key: idempotencyKey },
		requestId: actor.requestId,
	});
	return { delta, on_hand: result.onHand };
}

function unavailable(cause: unknown): never {
	throw new DomainError("inventory_unavailable", {
		detail: "The SKU's inventory object did not answer. Retry shortly.",
		retryAfterSeconds: 2,
		cause,
	});
}

/** The notes admins left when resolving these drifts (kept with the resolution's audit entry). */
async function notesOf(db: Db, ids: readonly number[]): Promise<Map<number, string>> {
	if (ids.length === 0) return new Map();
	const rows = await db
		.select({ entityId: auditLog.entityId, note: sql<string | null>`${auditLog.after}->>'note'` })
		.from(auditLog)
		.where(
			and(
				eq(auditLog.entityType, "stock_drift"),
				inArray(
					auditLog.entityId,
					ids.map((id) => String(id)),
				),
			),
		)
		.orderBy(auditLog.id);
	const notes = new Map<number, string>();
	for (const row of rows) if (row.note !== null) notes.set(Number(row.entityId), row.note);
	return notes;
}

export interface RunQuery {
	limit: number;
	/** The id of the last run of the previous page. */
	cursor?: number | undefined;
}

/** The runs, newest first. */
export async function listStockRuns(db: Db, { limit, cursor }: RunQuery): Promise<{ data: StockRunView[]; next_cursor: number | null }> {
	const runs = stockReconciliationRuns;
	const rows = await db
		.select()
		.from(runs)
		.where(cursor ? lt(runs.id, cursor) : undefined)
		.orderBy(desc(runs.id))
		.limit(limit + 1);
	const page = rows.slice(0, limit);
	return { data: page.map(runView), next_cursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
}

export interface DriftQuery {
	/** Only open drift (true), only resolved (false), or both. */
	open?: boolean | undefined;
	sku?: string | undefined;
	kind?: DriftKind | undefined;
	limit: number;
	/** The id of the last drift of the previous page. */
	cursor?: number | undefined;
}

/** Drift, newest first. */
export async function listStockDrift(db: Db, query: DriftQuery): Promise<{ data: StockDriftView[]; next_cursor: number | null }> {
	const conditions: (SQL | undefined)[] = [
		query.open === undefined ? undefined : query.open ? isNull(stockDrift.resolvedAt) : isNotNull(stockDrift.resolvedAt),
		query.sku ? eq(stockDrift.sku, query.sku) : undefined,
		query.kind ? eq(stockDrift.kind, query.kind) : undefined,
		query.cursor ? lt(stockDrift.id, query.cursor) : undefined,
	];
	const rows = await db
		.select()
		.from(stockDrift)
		.where(and(...conditions))
		.orderBy(desc(stockDrift.id))
		.limit(query.limit + 1);
	const page = rows.slice(0, query.limit);
	const notes = await notesOf(
		db,
		page.filter((row) => row.resolvedAt && row.resolvedBy !== SYSTEM).map((row) => row.id),
	);
	return {
		data: page.map((row) => driftView(row, notes.get(row.id) ?? null)),
		next_cursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null,
	};
}

/** Open drift at a glance, for alerts and the dashboard: how many, on how many SKUs, of which kinds, since when. */
export interface OpenDriftSummary {
	open: number;
	skus: number;
	by_kind: Record<DriftKind, number>;
	/** When the oldest open drift was first seen; null when none is open. */
	oldest: string | null;
}

/** Whether stock drift is open, and how much (the partial index on open drift answers it). */
export async function openDriftSummary(db: Db): Promise<OpenDriftSummary> {
	const rows = await db
		.select({
			kind: stockDrift.kind,
			open: sql<string>`count(*)`,
			oldest: sql<Date | string | null>`min(${stockDrift.createdAt})`,
		})
		.from(stockDrift)
		.where(isNull(stockDrift.resolvedAt))
		.groupBy(stockDrift.kind);
	const [all] = await db
		.select({ skus: sql<string>`count(distinct ${stockDrift.sku})` })
		.from(stockDrift)
		.where(isNull(stockDrift.resolvedAt));
	const by_kind: Record<DriftKind, number> = { ledger: 0, projection: 0, orders: 0 };
	let oldest: number | undefined;
	for (const row of rows) {
		if ((DRIFT_KINDS as readonly string[]).includes(row.kind)) by_kind[row.kind as DriftKind] = Number(row.open);
		const at = row.oldest === null ? undefined : new Date(row.oldest).getTime();
		if (at !== undefined) oldest = Math.min(oldest ?? at, at);
	}
	return {
		open: rows.reduce((sum, row) => sum + Number(row.open), 0),
		skus: Number(all?.skus ?? 0),
		by_kind,
		oldest: oldest === undefined ? null : new Date(oldest).toISOString(),
	};
}
