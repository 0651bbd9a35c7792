import type { Context } from "hono";
import type { FC } from "hono/jsx";
import { RefundReturnBody, ReturnNoteBody } from "../../../api/returns/returns.schemas.ts";
import type { AppEnv } from "../../../api/types.ts";
import { DomainError } from "../../../domain/errors.ts";
import {
	type AdminReturnView,
	approveReturn,
	listReturnsForAdmin,
	type ReturnActor,
	receiveReturn,
	refundReturn,
	rejectReturn,
	returnNotFound,
	returnView,
} from "../../../returns/returns.ts";
import { RETURN_STATUSES, type ReturnStatus } from "../../../returns/state.ts";
import { RETURN_STATUS_TEXT } from "../../components/returns.tsx";
import { money } from "../../layout.tsx";
import { IDEMPOTENCY_FIELD, idempotentAction, newFormKey } from "../actions.ts";
import { AdminLayout, listUrl, NextPage, Time } from "../layout.tsx";
import type { NoticeCode } from "../messages.ts";
import { type Messages, messagesOf } from "../messages.ts";

const RETURN_ID = /^ret_[0-9a-z]{20}$/;
const PAGE_SIZE = 25;

const TONE: Record<ReturnStatus, string> = {
	requested: "warn",
	approved: "info",
	received: "info",
	refunded: "ok",
	rejected: "danger",
	cancelled: "",
};

const ReturnBadge: FC<{ status: ReturnStatus }> = ({ status }) => (
	<span class={`badge status ${TONE[status]}`.trim()} data-return-status={status}>
		{RETURN_STATUS_TEXT[status]}
	</span>
);

function isStatus(value: string | undefined): value is ReturnStatus {
	return value !== undefined && (RETURN_STATUSES as readonly string[]).includes(value);
}

const units = (ret: AdminReturnView) => ret.lines.reduce((sum, line) => sum + line.quantity, 0);

/** `GET /admin/returns?status=&cursor=`: every return, newest first, the ones waiting for a decision a filter away. */
export async function returnsPage(c: Context<AppEnv>): Promise<Response> {
	const statusParam = c.req.query("status");
	const status = isStatus(statusParam) ? statusParam : undefined;
	const cursor = c.req.query("cursor") || undefined;
	let messages: Messages = messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") });
	const db = c.get("database").primary;
	let page: Awaited<ReturnType<typeof listReturnsForAdmin>>;
	try {
		page = await listReturnsForAdmin(db, { status, limit: PAGE_SIZE, cursor });
	} catch (err) {
		if (!(err instanceof DomainError) || err.code !== "invalid_cursor") throw err;
		messages = { error: "That page link is no longer valid; showing the newest returns." };
		page = await listReturnsForAdmin(db, { status, limit: PAGE_SIZE });
	}
	return c.html(
		<AdminLayout title="Returns" current="returns" messages={messages}>
			<h1>Returns</h1>
			<form class="filters panel" method="get" action="/admin/returns" aria-label="Filter returns">
				<div class="field">
					<label for="return-status">Status</label>
					<select id="return-status" name="status">
						<option value="">Any status</option>
						{RETURN_STATUSES.map((value) => (
							<option value={value} selected={value === status}>
								{RETURN_STATUS_TEXT[value]}
							</option>
						))}
					</select>
				</div>
				<button type="submit">Filter</button>
				{status ? (
					<a class="button secondary" href="/admin/returns">
						Clear
					</a>
				) : null}
			</form>
			{page.data.length === 0 ? (
				<p class="panel">{status ? "No returns match this filter." : "No returns yet."}</p>
			) : (
				<div class="table-wrap">
					<table class="cards">
						<caption class="visually-hidden">Returns, newest first</caption>
						<thead>
							<tr>
								<th scope="col">Return</th>
								<th scope="col">Asked</th>
								<th scope="col">Order</th>
								<th scope="col">Email</th>
								<th scope="col">Units</th>
								<th scope="col">Status</th>
							</tr>
						</thead>
						<tbody>
							{page.data.map((ret) => (
								<tr>
									<td>
										<a href={`/admin/returns/${ret.id}`}>{ret.id}</a>
									</td>
									<td class="nowrap" data-label="Asked">
										<Time at={ret.created_at} />
									</td>
									<td data-label="Order">
										<a href={`/admin/orders/${ret.order_id}`}>{ret.order_id}</a>
									</td>
									<td class="wrap" data-label="Email">
										{ret.email}
									</td>
									<td class="num" data-label="Units">
										{units(ret)}
									</td>
									<td data-label="Status">
										<ReturnBadge status={ret.status} />
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
			<NextPage href={page.next_cursor ? listUrl("/admin/returns", { status, cursor: page.next_cursor }) : null} />
		</AdminLayout>,
	);
}

const HiddenKey: FC = () => <input type="hidden" name={IDEMPOTENCY_FIELD} value={newFormKey()} />;

const NoteForm: FC<{ ret: AdminReturnView; action: "approve" | "reject" }> = ({ ret, action }) => {
	const id = `${action}-note`;
	return (
		<form method="post" action={`/admin/returns/${ret.id}/${action}`}>
			<HiddenKey />
			<div class="field">
				<label for={id}>{action === "approve" ? "Instructions for the customer" : "Reason for the customer"}</label>
				<textarea id={id} name="note" required maxlength={2000} rows={4} />
			</div>
			<p class="hint">
				{action === "approve"
					? "E-mailed to the customer: where and how to send the parcel."
					: "E-mailed to the customer. The units may be asked to return again."}
			</p>
			<button type="submit" class={action === "reject" ? "danger" : undefined}>
				{action === "approve" ? "Approve return" : "Reject return"}
			</button>
		</form>
	);
};

/** `GET /admin/returns/{id}`: the return, its steps, and the actions its status allows. */
export async function returnPage(c: Context<AppEnv>): Promise<Response> {
	const id = c.req.param("id") ?? "";
	const ret = RETURN_ID.test(id) ? await returnView(c.get("database").primary, id) : undefined;
	if (!ret) throw returnNotFound();
	return c.html(
		<AdminLayout
			title={`Return ${ret.id}`}
			current="returns"
			messages={messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") })}
		>
			<p>
				<a href="/admin/returns">← All returns</a>
			</p>
			<div class="page-head">
				<h1>Return {ret.id}</h1>
				<ReturnBadge status={ret.status} />
			</div>
			<div class="two-col">
				<div>
					<section class="panel" aria-labelledby="summary-heading">
						<h2 id="summary-heading">Summary</h2>
						<dl class="facts">
							<dt>Order</dt>
							<dd>
								<a href={`/admin/orders/${ret.order_id}`}>{ret.order_id}</a>
							</dd>
							<dt>Email</dt>
							<dd>{ret.email}</dd>
							<dt>Asked by</dt>
							<dd>{ret.requested_by === "guest" ? "The guest who placed the order" : ret.requested_by}</dd>
							<dt>Reason</dt>
							<dd>{ret.reason || "—"}</dd>
							{ret.note ? (
								<>
									<dt>{ret.status === "rejected" ? "Rejection reason" : "Instructions"}</dt>
									<dd class="wrap">{ret.note}</dd>
								</>
							) : null}
							<dt>Refund</dt>
							<dd>
								{ret.refund
									? `${money(ret.refund.amount.amount, ret.refund.amount.currency)} (${ret.refund.id}, ${ret.refund.status})${ret.restock ? ", restocked" : ", not restocked"}`
									: ret.status === "refunded"
										? "Under way"
										: "—"}
							</dd>
						</dl>
					</section>
					<section class="panel" aria-labelledby="actions-heading">
						<h2 id="actions-heading">Actions</h2>
						<div class="stack">
							{ret.status === "requested" ? <NoteForm ret={ret} action="approve" /> : null}
							{ret.status === "approved" ? (
								<form method="post" action={`/admin/returns/${ret.id}/receive`}>
									<HiddenKey />
									<p class="hint">The parcel has arrived back at the shop.</p>
									<button type="submit">Mark received</button>
								</form>
							) : null}
							{ret.status === "received" ? (
								<form
									method="post"
									action={`/admin/returns/${ret.id}/refund`}
									data-confirm={`Refund the returned items to ${ret.email}? This cannot be undone.`}
								>
									<HiddenKey />
									<div class="field">
										<label>
											<input type="checkbox" name="restock" value="1" checked /> Put the returned units back in stock
										</label>
									</div>
									<p class="hint">
										Refunds what the customer paid for the returned lines through the payment provider; the customer is e-mailed the amount.
									</p>
									<button type="submit" class="danger">
										Refund return
									</button>
								</form>
							) : null}
							{ret.status === "requested" || ret.status === "approved" ? <NoteForm ret={ret} action="reject" /> : null}
							{ret.status !== "requested" && ret.status !== "approved" && ret.status !== "received" ? (
								<p class="muted">No actions are possible for a return that is {RETURN_STATUS_TEXT[ret.status].toLowerCase()}.</p>
							) : null}
						</div>
					</section>
				</div>
				<div>
					<section class="panel" aria-labelledby="items-heading">
						<h2 id="items-heading">Items</h2>
						<div class="table-wrap">
							<table>
								<caption class="visually-hidden">Items in this return</caption>
								<thead>
									<tr>
										<th scope="col">Item</th>
										<th scope="col" class="num">
											Units
										</th>
										<th scope="col" class="num">
											Unit price
										</th>
									</tr>
								</thead>
								<tbody>
									{ret.lines.map((line) => (
										<tr>
											<td>
												{line.title}
												<div class="muted small">{line.sku}</div>
											</td>
											<td class="num">{line.quantity}</td>
											<td class="num">{money(line.unit_price.amount, line.unit_price.currency)}</td>
										</tr>
									))}
								</tbody>
							</table>
						</div>
					</section>
					<section class="panel" aria-labelledby="history-heading">
						<h2 id="history-heading">History</h2>
						<ol class="history">
							<li>
								<Time at={ret.created_at} /> — Requested
							</li>
							{ret.approved_at ? (
								<li>
									<Time at={ret.approved_at} /> — Approved
								</li>
							) : null}
							{ret.received_at ? (
								<li>
									<Time at={ret.received_at} /> — Received
								</li>
							) : null}
							{ret.refunded_at ? (
								<li>
									<Time at={ret.refunded_at} /> — Refunded
								</li>
							) : null}
							{ret.status === "rejected" || ret.status === "cancelled" ? (
								<li>
									<Time at={ret.closed_at} /> — {RETURN_STATUS_TEXT[ret.status]}
								</li>
							) : null}
						</ol>
					</section>
				</div>
			</div>
		</AdminLayout>,
	);
}

function returnIdOf(c: Context<AppEnv>): string {
	const id = c.req.param("id") ?? "";
	if (!RETURN_ID.test(id)) throw returnNotFound();
	return id;
}

const actorOf = (c: Context<AppEnv>): ReturnActor => ({ userId: c.get("auth").userId, requestId: c.get("requestId") });

/** The console's form for one step, once per rendered form, 303 back to the return. */
function stepAction(step: "approve" | "reject" | "receive" | "refund", notice: NoticeCode) {
	return (c: Context<AppEnv>): Promise<Response> => {
		const id = returnIdOf(c);
		return idempotentAction(c, {
			route: `/admin/returns/:id/${step}`,
			back: `/admin/returns/${id}`,
			run: async (_key, fields) => {
				const db = c.get("database").primary;
				if (step === "receive") {
					await receiveReturn(c.env, db, id, actorOf(c));
				} else if (step === "refund") {
					const { restock } = RefundReturnBody.parse({ restock: fields.get("restock") === "1" });
					await refundReturn(c.env, db, id, restock, actorOf(c));
				} else {
					const parsed = ReturnNoteBody.safeParse({ note: fields.get("note") ?? "" });
					if (!parsed.success) throw new DomainError("validation_failed");
					if (step === "approve") await approveReturn(c.env, db, id, parsed.data.note, actorOf(c));
					else await rejectReturn(c.env, db, id, parsed.data.note, actorOf(c));
				}
				return notice;
			},
		});
	};
}

/** `POST /admin/returns/{id}/approve` (note): requested → approved, the customer e-mailed the instructions. */
export const approveAction = stepAction("approve", "return_approved");
/** `POST /admin/returns/{id}/reject` (note): the customer e-mailed the reason. */
export const rejectAction = stepAction("reject", "return_rejected");
/** `POST /admin/returns/{id}/receive`: approved → received. */
export const receiveAction = stepAction("receive", "return_received");
/** `POST /admin/returns/{id}/refund` (restock): the lines refunded through the provider. */
export const refundAction = stepAction("refund", "return_refunded");
