import type { FC } from "hono/jsx";
import type { ReturnOffer, ReturnView } from "../../returns/returns.ts";
import type { ReturnStatus } from "../../returns/state.ts";
import { money } from "../layout.tsx";
import { Alert } from "./alert.tsx";

/** The words shoppers (and admins) see for each return status. */
export const RETURN_STATUS_TEXT: Record<ReturnStatus, string> = {
	requested: "Requested",
	approved: "Approved",
	received: "Received",
	refunded: "Refunded",
	rejected: "Rejected",
	cancelled: "Cancelled",
};

/** What the order page says after a return form, by the code in its `?return=` query (never text from the URL). */
export const RETURN_NOTICES: Record<string, string> = {
	requested: "Your return request was sent. We will e-mail you once we have looked at it.",
	cancelled: "Your return was cancelled.",
};

/** Why a return form was refused, by the code in `?return_error=`. */
export const RETURN_ERRORS: Record<string, string> = {
	return_not_allowed: "This order cannot be returned.",
	return_window_closed: "The time to return items from this order has passed.",
	return_quantity_exceeded: "You asked to return more units than are left to return. Check the quantities and try again.",
	invalid_return_transition: "This return can no longer be changed; it may have moved on meanwhile.",
	nothing_chosen: "Choose at least one unit to return.",
	validation_failed: "Choose at least one unit to return.",
	form_expired: "This form has expired. Reload the page and try again.",
	idempotency_key_reused: "This form was already sent. Reload the page and try again.",
	idempotency_in_progress: "Your request is still being processed. Reload the page in a moment.",
};

/** The form field of a line's units to return. */
export const returnQuantityField = (sku: string) => `quantity_${sku}`;

function day(iso: string | null): string | undefined {
	return iso ? new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeZone: "UTC" }).format(new Date(iso)) : undefined;
}

/** A return's steps so far, each with its date. */
function stepsOf(ret: ReturnView): { label: string; at: string | undefined }[] {
	const steps = [{ label: "Requested", at: day(ret.created_at) }];
	if (ret.approved_at) steps.push({ label: "Approved", at: day(ret.approved_at) });
	if (ret.received_at) steps.push({ label: "Parcel received", at: day(ret.received_at) });
	if (ret.status === "refunded") {
		steps.push(
			ret.refund && ret.refunded_at
				? { label: `Refunded ${money(ret.refund.amount.amount, ret.refund.amount.currency)}`, at: day(ret.refunded_at) }
				: { label: "Refund under way", at: undefined },
		);
	}
	if (ret.status === "rejected") steps.push({ label: "Rejected", at: day(ret.closed_at) });
	if (ret.status === "cancelled") steps.push({ label: "Cancelled", at: day(ret.closed_at) });
	return steps;
}

const ReturnCard: FC<{ orderId: string; ret: ReturnView; formKey: string }> = ({ orderId, ret, formKey }) => (
	<article class="card stack" data-return={ret.id} aria-labelledby={`return-${ret.id}`}>
		<div class="order-head">
			<h3 id={`return-${ret.id}`}>Return of {day(ret.created_at)}</h3>
			<span class="badge" data-return-status={ret.status}>
				{RETURN_STATUS_TEXT[ret.status]}
			</span>
		</div>
		<ul>
			{ret.lines.map((line) => (
				<li>
					{line.quantity} × {line.title} <span class="muted small">{line.sku}</span>
				</li>
			))}
		</ul>
		{ret.reason ? <p class="muted small">Your reason: {ret.reason}</p> : null}
		<ol class="return-steps">
			{stepsOf(ret).map((step) => (
				<li>
					{step.label}
					{step.at ? <span class="muted"> · {step.at}</span> : null}
				</li>
			))}
		</ol>
		{ret.note ? (
			<div>
				<p>
					<strong>{ret.status === "rejected" ? "Why we could not accept it" : "How to send the items back"}</strong>
				</p>
				{ret.note.split(/\r?\n/).map((line) => (line.trim() ? <p>{line}</p> : null))}
			</div>
		) : null}
		{ret.status === "requested" ? (
			<form method="post" action={`/orders/${orderId}/returns/${ret.id}/cancel`}>
				<input type="hidden" name="idempotency_key" value={formKey} />
				<button type="submit" class="secondary" data-submit-once>
					Cancel this return
				</button>
			</form>
		) : null}
	</article>
);

/**
 * The order page's returns: a "Return items" form while the order may still
 * have something returned (lines with the units left, and a reason), and
 * every return of the order with each step's date and, once refunded, the
 * amount. Forms post back and 303 to the order page.
 */
export const ReturnsPanel: FC<{
	orderId: string;
	returns: ReturnView[];
	offer: ReturnOffer | null;
	notice?: string | undefined;
	error?: string | undefined;
	/** A fresh key per render (each form's own double-submit guard). */
	formKey: () => string;
}> = ({ orderId, returns, offer, notice, error, formKey }) => {
	if (!offer && returns.length === 0 && !notice && !error) return null;
	const noticeText = notice ? RETURN_NOTICES[notice] : undefined;
	const errorText = error ? (RETURN_ERRORS[error] ?? "Your return could not be sent. Please try again.") : undefined;
	return (
		<section class="card stack" id="returns" aria-labelledby="returns-heading">
			<h2 id="returns-heading">Returns</h2>
			{noticeText ? <Alert kind="ok">{noticeText}</Alert> : null}
			{errorText ? <Alert kind="error">{errorText}</Alert> : null}
			{offer ? (
				<form method="post" action={`/orders/${orderId}/returns`} class="stack" aria-labelledby="return-form-heading">
					<h3 id="return-form-heading">Return items</h3>
					<p class="hint">
						Choose the items to send back. You can ask until {day(offer.closes_at)}; we refund them once the parcel reaches us.
					</p>
					<input type="hidden" name="idempotency_key" value={formKey()} />
					<div class="table-wrap">
						<table>
							<caption class="visually-hidden">Items you can return</caption>
							<thead>
								<tr>
									<th scope="col">Item</th>
									<th scope="col" class="num">
										Units to return
									</th>
								</tr>
							</thead>
							<tbody>
								{offer.lines.map((line) => (
									<tr>
										<td>
											<label for={`return-${line.sku}`}>{line.title}</label>
											<div class="muted small">
												{line.sku} · up to {line.quantity}
											</div>
										</td>
										<td class="num">
											<input
												id={`return-${line.sku}`}
												name={returnQuantityField(line.sku)}
												type="number"
												inputmode="numeric"
												min="0"
												max={String(line.quantity)}
												step="1"
												value="0"
												class="quantity"
											/>
										</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
					<div class="field">
						<label for="return-reason">Reason</label>
						<textarea id="return-reason" name="reason" maxlength={500} rows={3} aria-describedby="return-reason-hint" />
						<p class="hint" id="return-reason-hint">
							Optional: what is wrong with the items, or why you are sending them back.
						</p>
					</div>
					<button type="submit" data-submit-once>
						Return items
					</button>
				</form>
			) : null}
			{returns.map((ret) => (
				<ReturnCard orderId={orderId} ret={ret} formKey={formKey()} />
			))}
		</section>
	);
};
