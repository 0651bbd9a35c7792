import type { Context } from "hono";
import type { FC } from "hono/jsx";
import { ResolveDriftBody } from "../../../api/admin/stock-reconciliation.routes.ts";
import type { AppEnv } from "../../../api/types.ts";
import { DomainError, notFound } from "../../../domain/errors.ts";
import {
	knownSkus,
	listStockDrift,
	listStockRuns,
	reconcileStock,
	resolveStockDrift,
	type StockDriftView,
	type StockRunView,
} from "../../../inventory/reconcile.ts";
import { action, field, readForm } from "../actions.ts";
import { AdminLayout, listUrl, NextPage, Time } from "../layout.tsx";
import { messagesOf } from "../messages.ts";

const PATH = "/admin/stock-reconciliation";
const SKU = /^[A-Z0-9]+(?:-[A-Z0-9]+)*$/;
const RUNS_PAGE = 20;
const DRIFT_PAGE = 50;

const KIND_TEXT: Record<StockDriftView["kind"], string> = {
	ledger: "Ledger",
	projection: "Stock level",
	orders: "Paid orders",
};

const STATUS_TONE: Record<StockRunView["status"], string> = { running: "info", succeeded: "ok", failed: "danger" };

/** The ledger's on hand less the object's: what setting the object from the ledger changes it by. */
function ledgerDifference(drift: StockDriftView): number {
	return (drift.observed.ledger_on_hand ?? 0) - (drift.observed.object_on_hand ?? 0);
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

/** What the object and the disagreeing record said, in words. */
const Figures: FC<{ drift: StockDriftView }> = ({ drift }) => {
	const o = drift.observed;
	if (drift.kind === "ledger") {
		return (
			<p>
				Object: {o.object_on_hand} on hand after {o.object_seq} events. Ledger: {o.ledger_on_hand} in {o.ledger_events} rows (newest event{" "}
				{o.ledger_max_seq}).
			</p>
		);
	}
	if (drift.kind === "projection") {
		return (
			<p>
				Object: {o.object_available} available at event {o.object_seq}. Stock level: {o.projection_available ?? "none"}
				{o.projection_seq === null || o.projection_seq === undefined ? "" : ` at event ${o.projection_seq}`}.
			</p>
		);
	}
	return (
		<p>
			Object: {o.object_sold} units sold. Orders ever paid: {o.paid_units} units.
		</p>
	);
};

const DriftActions: FC<{ drift: StockDriftView; back: string }> = ({ drift, back }) => {
	const difference = ledgerDifference(drift);
	return (
		<div class="stack">
			<form method="post" action={`${PATH}/run`}>
				<input type="hidden" name="sku" value={drift.sku} />
				<input type="hidden" name="back" value={back} />
				<button type="submit" class="secondary">
					Check again<span class="visually-hidden"> {drift.sku}</span>
				</button>
			</form>
			<form method="post" action={`/admin/stock-drift/${drift.id}/resolve`} aria-label={`Accept drift ${drift.id}`}>
				<input type="hidden" name="action" value="accept" />
				<input type="hidden" name="back" value={back} />
				<div class="field">
					<label for={`accept-note-${drift.id}`}>Note</label>
					<input id={`accept-note-${drift.id}`} name="note" required maxlength={500} placeholder="Why the difference is fine" />
				</div>
				<button type="submit">Accept</button>
			</form>
			{drift.kind === "ledger" ? (
				<form
					method="post"
					action={`/admin/stock-drift/${drift.id}/resolve`}
					aria-label={`Set ${drift.sku} from the ledger`}
					data-confirm={`Change ${drift.sku}'s on hand by ${signed(difference)} to the ledger's figure? Checkout sells from the new figure at once.`}
				>
					<input type="hidden" name="action" value="set_object_from_ledger" />
					<input type="hidden" name="back" value={back} />
					<div class="field">
						<label for={`set-note-${drift.id}`}>Note</label>
						<input id={`set-note-${drift.id}`} name="note" required maxlength={500} placeholder="e.g. counted on the shelf" />
					</div>
					<p class="hint">Changes on hand by {signed(difference)}, as an adjustment of its own.</p>
					<button type="submit" class="danger">
						Set object from ledger
					</button>
				</form>
			) : null}
		</div>
	);
};

/**
 * `GET /admin/stock-reconciliation?cursor=`: open stock drift, each with its
 * figures and what an admin can do about it, "Run now", and the last runs.
 */
export async function stockReconciliationPage(c: Context<AppEnv>): Promise<Response> {
	const db = c.get("database").primary;
	const cursorParam = Number(c.req.query("cursor"));
	const cursor = Number.isSafeInteger(cursorParam) && cursorParam > 0 ? cursorParam : undefined;
	const drift = await listStockDrift(db, { open: true, limit: DRIFT_PAGE });
	const runs = await listStockRuns(db, { limit: RUNS_PAGE, cursor });
	const here = listUrl(PATH, { cursor });
	return c.html(
		<AdminLayout
			title="Stock reconciliation"
			current="stock-reconciliation"
			messages={messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") })}
		>
			<h1>Stock reconciliation</h1>
			<p class="hint">
				Every minute a slice of the SKUs is checked: each SKU's inventory object, which checkout sells from, against the ledger, the stock
				levels the catalog shows and paid orders. A stock level that disagrees is rewritten from the object at once. The ledger and the
				objects are never changed by the job: accept a difference, or set the object from the ledger, here.
			</p>
			<form method="post" action={`${PATH}/run`} class="panel">
				<input type="hidden" name="back" value={here} />
				<p class="hint">Checks the next slice of SKUs now, as the next minute would.</p>
				<button type="submit">Run now</button>
			</form>
			<section aria-labelledby="drift-heading">
				<h2 id="drift-heading">Open drift</h2>
				{drift.data.length === 0 ? (
					<p class="panel">No open drift: every SKU checked agreed with its records.</p>
				) : (
					<div class="table-wrap">
						<table class="cards">
							<caption class="visually-hidden">Open stock drift, newest first</caption>
							<thead>
								<tr>
									<th scope="col">SKU</th>
									<th scope="col">Disagrees</th>
									<th scope="col">Figures</th>
									<th scope="col">First seen</th>
									<th scope="col">Resolve</th>
								</tr>
							</thead>
							<tbody>
								{drift.data.map((row) => (
									<tr id={`drift-${row.id}`} data-kind={row.kind}>
										<th scope="row">
											<a class="sku" href={listUrl("/admin/inventory", { sku: row.sku })}>
												{row.sku}
											</a>
										</th>
										<td data-label="Disagrees">
											<span class="badge warn">{KIND_TEXT[row.kind]}</span>
										</td>
										<td data-label="Figures">
											<Figures drift={row} />
											<div class="hint">Last seen by run {row.run_id}.</div>
										</td>
										<td class="nowrap" data-label="First seen">
											<Time at={row.created_at} />
										</td>
										<td>
											<DriftActions drift={row} back={here} />
										</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
				{drift.next_cursor ? <p class="hint">More open drift than shown: resolve these first.</p> : null}
			</section>
			<section aria-labelledby="runs-heading">
				<h2 id="runs-heading">Last runs</h2>
				{runs.data.length === 0 ? (
					<p class="panel">No run yet.</p>
				) : (
					<div class="table-wrap">
						<table class="cards">
							<caption class="visually-hidden">Stock reconciliation runs, newest first</caption>
							<thead>
								<tr>
									<th scope="col">Run</th>
									<th scope="col">Status</th>
									<th scope="col">Started</th>
									<th scope="col">Finished</th>
									<th scope="col" class="num">
										SKUs checked
									</th>
									<th scope="col" class="num">
										Drift found
									</th>
									<th scope="col" class="num">
										Repaired
									</th>
									<th scope="col">Errors</th>
								</tr>
							</thead>
							<tbody>
								{runs.data.map((run) => (
									<tr id={`run-${run.id}`}>
										<td data-label="Run">{run.id}</td>
										<td data-label="Status">
											<span class={`badge ${STATUS_TONE[run.status]}`}>{run.status}</span>
										</td>
										<td class="nowrap" data-label="Started">
											<Time at={run.started_at} />
										</td>
										<td class="nowrap" data-label="Finished">
											<Time at={run.finished_at} />
										</td>
										<td class="num" data-label="SKUs checked">
											{run.skus_checked}
										</td>
										<td class="num" data-label="Drift found">
											{run.drifted}
										</td>
										<td class="num" data-label="Repaired">
											{run.repaired}
										</td>
										<td data-label="Errors">
											{run.errors.length === 0 ? (
												<span class="muted">none</span>
											) : (
												<details>
													<summary>{run.errors.length}</summary>
													<ul>
														{run.errors.map((error) => (
															<li>
																{error.sku ? <code>{error.sku}</code> : null} {error.message}
															</li>
														))}
													</ul>
												</details>
											)}
										</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
				<NextPage href={runs.next_cursor ? listUrl(PATH, { cursor: runs.next_cursor }) : null} />
			</section>
		</AdminLayout>,
	);
}

/** Back to the page the form was on, never elsewhere. */
function backOf(fields: URLSearchParams): string {
	const back = fields.get("back") ?? "";
	return back.startsWith(PATH) && !back.startsWith("//") ? back : PATH;
}

/** `POST /admin/stock-reconciliation/run`: the next slice now, or one SKU (`sku`); refused while a run is in progress. */
export async function stockRunAction(c: Context<AppEnv>): Promise<Response> {
	const { fields } = await readForm(c);
	const sku = field(fields, "sku");
	return action(c, backOf(fields), async () => {
		if (sku !== undefined && (!SKU.test(sku) || (await knownSkus(c.get("database").primary, [sku])).length === 0)) {
			throw notFound(`No SKU ${sku}.`);
		}
		const run = await reconcileStock(c.env, c.get("database"), sku ? { skus: [sku] } : {});
		if (!run) throw new DomainError("reconciliation_running");
		return "stock_run_done";
	});
}

/** `POST /admin/stock-drift/{id}/resolve`: accept the difference, or set the object from the ledger (the page asks first). */
export async function resolveDriftAction(c: Context<AppEnv>): Promise<Response> {
	const id = Number(c.req.param("id"));
	const { fields } = await readForm(c);
	return action(c, backOf(fields), async () => {
		if (!Number.isSafeInteger(id) || id <= 0) throw notFound("No stock drift with this id.");
		const parsed = ResolveDriftBody.safeParse({ action: fields.get("action") ?? "", note: fields.get("note") ?? "" });
		if (!parsed.success) throw new DomainError("validation_failed");
		await resolveStockDrift(c.env, c.get("database").primary, id, parsed.data, {
			userId: c.get("auth").userId,
			requestId: c.get("requestId"),
		});
		return parsed.data.action === "accept" ? "drift_accepted" : "drift_set_from_ledger";
	});
}
