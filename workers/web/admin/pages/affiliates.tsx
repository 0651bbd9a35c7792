import type { Context } from "hono";
import type { FC } from "hono/jsx";
import {
	type AffiliateActor,
	type AffiliateView,
	createAffiliate,
	getAffiliate,
	listAffiliates,
	updateAffiliate,
} from "../../../affiliates/affiliates.ts";
import { affiliateOrders, affiliateReport } from "../../../affiliates/report.ts";
import { AffiliateReportQuery, CreateAffiliateBody, PatchAffiliateBody } from "../../../api/admin/affiliates.schemas.ts";
import { statusOf } from "../../../api/lib/problem.ts";
import type { AppEnv } from "../../../api/types.ts";
import { DomainError, notFound } from "../../../domain/errors.ts";
import { money } from "../../layout.tsx";
import { readForm, seeOther, withOutcome } from "../actions.ts";
import { invalidForm, issuesOf, messagesForError } from "../forms.tsx";
import { AdminLayout, listUrl, NextPage, StatusBadge, Time } from "../layout.tsx";
import { type Messages, messagesOf } from "../messages.ts";

const AFFILIATE_ID = /^aff_[0-9a-z]{20}$/;
const PAGE_SIZE = 50;
const ORDERS_PAGE_SIZE = 25;

/** How the forms name each field of the API's affiliate bodies, for error messages. */
const LABELS: Record<string, string> = {
	code: "Code",
	name: "Name",
	email: "E-mail",
	commission_bp: "Commission",
	active: "Active",
};

const actorOf = (c: Context<AppEnv>): AffiliateActor => ({ userId: c.get("auth").userId, requestId: c.get("requestId") });

/** Basis points as the rate field shows them: 1250 → "12.5". */
export function percentInput(bp: number): string {
	const whole = Math.floor(bp / 100);
	const rest = bp % 100;
	return rest === 0 ? String(whole) : `${whole}.${String(rest).padStart(2, "0").replace(/0$/, "")}`;
}

/** "12.5", "12,5" or "12" per cent to basis points; undefined when it is not a rate. */
export function parsePercent(text: string | undefined): number | undefined {
	const value = (text ?? "").trim().replace(/\s*%$/, "");
	if (!/^\d{1,3}(?:[.,]\d{1,2})?$/.test(value)) return undefined;
	const [whole = "0", fraction = ""] = value.split(/[.,]/);
	return Number(whole) * 100 + Number(fraction.padEnd(2, "0") || "0");
}

const ActiveBadge: FC<{ active: boolean }> = ({ active }) =>
	active ? <span class="badge ok">Active</span> : <span class="badge">Inactive</span>;

/** The link to hand the affiliate, in a field the operator can select and copy. */
const ReferralLink: FC<{ affiliate: AffiliateView; id: string }> = ({ affiliate, id }) => (
	<div class="field">
		<label for={id}>
			Referral link<span class="visually-hidden"> of {affiliate.code}</span>
		</label>
		<input id={id} type="url" readonly value={affiliate.referral_url} aria-describedby={`${id}-hint`} />
		<p class="hint" id={`${id}-hint`}>
			Copy it to the affiliate. Shoppers who follow it are attributed for the cookie's lifetime; a later link of another affiliate takes
			over.
		</p>
	</div>
);

/** Today and the first of this month, UTC, as date fields write them. */
function defaultRange(): { from: string; to: string } {
	const today = new Date().toISOString().slice(0, 10);
	return { from: `${today.slice(0, 8)}01`, to: today };
}

interface NewAffiliateValues {
	code: string;
	name: string;
	email: string;
	rate: string;
}

const EMPTY_AFFILIATE: NewAffiliateValues = { code: "", name: "", email: "", rate: "" };

/** `GET /admin/affiliates?from=&to=&cursor=`: the commission report over a date range, every affiliate, and the new-affiliate form. */
export async function affiliatesPage(
	c: Context<AppEnv>,
	state: { status?: 200 | 400 | 409 | 422; messages?: Messages; values?: NewAffiliateValues } = {},
): Promise<Response> {
	const db = c.get("database").primary;
	let messages = state.messages ?? messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") });
	const asked = { from: c.req.query("from") || defaultRange().from, to: c.req.query("to") || defaultRange().to };
	const range = AffiliateReportQuery.safeParse(asked);
	if (!range.success) messages = { ...messages, error: "Choose a first day on or before the last day; showing this month." };
	const { from, to } = range.success ? asked : defaultRange();
	const cursor = c.req.method === "GET" ? c.req.query("cursor") || undefined : undefined;
	let page: Awaited<ReturnType<typeof listAffiliates>>;
	try {
		page = await listAffiliates(c.env, db, { limit: PAGE_SIZE, cursor });
	} catch (err) {
		if (!(err instanceof DomainError) || err.code !== "invalid_cursor") throw err;
		messages = { error: "That page link is no longer valid; showing the first affiliates." };
		page = await listAffiliates(c.env, db, { limit: PAGE_SIZE });
	}
	const report = await affiliateReport(db, { from, to });
	const values = state.values ?? EMPTY_AFFILIATE;
	return c.html(
		<AdminLayout title="Affiliates" current="affiliates" messages={messages}>
			<div class="page-head">
				<h1>Affiliates</h1>
				<a class="button secondary" href="#new-affiliate">
					New affiliate
				</a>
			</div>

			<section class="panel" aria-labelledby="report-heading">
				<h2 id="report-heading">Commission report</h2>
				<form class="filters" method="get" action="/admin/affiliates" aria-label="Report period">
					<div class="field">
						<label for="report-from">From</label>
						<input id="report-from" type="date" name="from" value={from} required />
					</div>
					<div class="field">
						<label for="report-to">To</label>
						<input id="report-to" type="date" name="to" value={to} required />
					</div>
					<button type="submit">Show</button>
				</form>
				<p class="hint">
					Orders paid from {from} to {to} (UTC, both days included). Unpaid and cancelled orders are left out; refunds show as reversed
					commission. Tax and shipping never earn commission.
				</p>
				{report.data.length === 0 ? (
					<p>No attributed orders were paid in this period.</p>
				) : (
					<div class="table-wrap">
						<table class="cards" id="affiliate-report">
							<caption class="visually-hidden">
								Commission per affiliate and currency, {from} to {to}
							</caption>
							<thead>
								<tr>
									<th scope="col">Affiliate</th>
									<th scope="col" class="num">
										Orders
									</th>
									<th scope="col" class="num">
										Sold
									</th>
									<th scope="col" class="num">
										Commission
									</th>
									<th scope="col" class="num">
										Reversed
									</th>
									<th scope="col" class="num">
										Net
									</th>
								</tr>
							</thead>
							<tbody>
								{report.data.map((row) => (
									<tr data-affiliate={row.code} data-currency={row.currency}>
										<td>
											<a href={`/admin/affiliates/${row.affiliate_id}`}>{row.name}</a>
											<div class="hint">
												<code>{row.code}</code> · {row.currency}
											</div>
										</td>
										<td class="num" data-label="Orders">
											{row.orders}
										</td>
										<td class="num nowrap" data-label="Sold">
											{money(row.sold.amount, row.currency)}
										</td>
										<td class="num nowrap" data-label="Commission">
											{money(row.commission.amount, row.currency)}
										</td>
										<td class="num nowrap" data-label="Reversed">
											{money(row.reversed.amount, row.currency)}
										</td>
										<td class="num nowrap" data-label="Net">
											<strong>{money(row.net.amount, row.currency)}</strong>
										</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
			</section>

			{page.data.length === 0 ? (
				<p class="panel">No affiliates yet. Create one below to get a referral link.</p>
			) : (
				<div class="table-wrap">
					<table class="cards">
						<caption class="visually-hidden">Affiliates, by code</caption>
						<thead>
							<tr>
								<th scope="col">Affiliate</th>
								<th scope="col" class="num">
									Commission
								</th>
								<th scope="col">State</th>
								<th scope="col">Referral link</th>
							</tr>
						</thead>
						<tbody>
							{page.data.map((affiliate) => (
								<tr>
									<td>
										<a href={`/admin/affiliates/${affiliate.id}`}>{affiliate.name}</a>
										<div class="hint">
											<code>{affiliate.code}</code>
											{affiliate.email ? ` · ${affiliate.email}` : null}
										</div>
									</td>
									<td class="num nowrap" data-label="Commission">
										{percentInput(affiliate.commission_bp)} %
									</td>
									<td data-label="State">
										<ActiveBadge active={affiliate.active} />
									</td>
									<td data-label="Referral link">
										<code>{affiliate.referral_url}</code>
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
			<NextPage href={page.next_cursor ? listUrl("/admin/affiliates", { from, to, cursor: page.next_cursor }) : null} />

			<section class="panel" id="new-affiliate" aria-labelledby="new-affiliate-heading">
				<h2 id="new-affiliate-heading">New affiliate</h2>
				<form method="post" action="/admin/affiliates">
					<div class="field-row">
						<div class="field">
							<label for="new-code">Code</label>
							<input
								id="new-code"
								name="code"
								required
								maxlength={32}
								value={values.code}
								autocomplete="off"
								pattern="[A-Za-z0-9][A-Za-z0-9_\-]{1,31}"
								aria-describedby="new-code-hint"
							/>
							<p class="hint" id="new-code-hint">
								What the link carries: 2 to 32 letters, digits, dashes or underscores, e.g. ANA-BLOG. It cannot change later.
							</p>
						</div>
						<div class="field">
							<label for="new-name">Name</label>
							<input id="new-name" name="name" required maxlength={200} value={values.name} />
						</div>
					</div>
					<div class="field-row">
						<div class="field">
							<label for="new-email">E-mail</label>
							<input id="new-email" type="email" name="email" maxlength={254} value={values.email} placeholder="Optional" />
						</div>
						<div class="field">
							<label for="new-rate">Commission (%)</label>
							<input
								id="new-rate"
								name="rate"
								required
								inputmode="decimal"
								value={values.rate}
								placeholder="10"
								aria-describedby="new-rate-hint"
							/>
							<p class="hint" id="new-rate-hint">
								Of what an order sold, after discounts, without tax and shipping. Up to two decimals.
							</p>
						</div>
					</div>
					<button type="submit">Create affiliate</button>
				</form>
			</section>
		</AdminLayout>,
		state.status ?? 200,
	);
}

function formStatus(err: DomainError): 400 | 409 | 422 {
	return statusOf(err) === 409 ? 409 : statusOf(err) === 422 ? 422 : 400;
}

/** `POST /admin/affiliates`: creates the affiliate, then opens it with its referral link. */
export async function createAffiliateAction(c: Context<AppEnv>): Promise<Response> {
	const { fields } = await readForm(c);
	const values: NewAffiliateValues = {
		code: fields.get("code") ?? "",
		name: fields.get("name") ?? "",
		email: fields.get("email") ?? "",
		rate: fields.get("rate") ?? "",
	};
	try {
		const rate = parsePercent(values.rate);
		if (rate === undefined) throw invalidForm(["Commission: write a percentage such as 10 or 7.5."]);
		const parsed = CreateAffiliateBody.safeParse({
			code: values.code.trim().toUpperCase(),
			name: values.name,
			email: values.email.trim() || null,
			commission_bp: rate,
		});
		if (!parsed.success) throw invalidForm(issuesOf(parsed.error, LABELS));
		const affiliate = await createAffiliate(c.env, c.get("database").primary, parsed.data, actorOf(c));
		return seeOther(c, withOutcome(`/admin/affiliates/${affiliate.id}`, { notice: "affiliate_created" }));
	} catch (err) {
		if (err instanceof DomainError && statusOf(err) < 500) {
			return affiliatesPage(c, { status: formStatus(err), messages: messagesForError(err), values });
		}
		throw err;
	}
}

function affiliateIdOf(c: Context<AppEnv>): string {
	const id = c.req.param("id") ?? "";
	if (!AFFILIATE_ID.test(id)) throw notFound("No affiliate with this id.");
	return id;
}

interface AffiliateValues {
	name: string;
	email: string;
	rate: string;
	active: boolean;
}

/** `GET /admin/affiliates/{id}?cursor=`: the affiliate's details to edit, its link, and the orders that earned it commission. */
export async function affiliatePage(
	c: Context<AppEnv>,
	state: { status?: 200 | 400 | 409 | 422; messages?: Messages; values?: AffiliateValues } = {},
): Promise<Response> {
	const id = affiliateIdOf(c);
	const db = c.get("database").primary;
	const affiliate = await getAffiliate(c.env, db, id);
	let messages = state.messages ?? messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") });
	const cursor = c.req.method === "GET" ? c.req.query("cursor") || undefined : undefined;
	let orders: Awaited<ReturnType<typeof affiliateOrders>>;
	try {
		orders = await affiliateOrders(db, id, { limit: ORDERS_PAGE_SIZE, cursor });
	} catch (err) {
		if (!(err instanceof DomainError) || err.code !== "invalid_cursor") throw err;
		messages = { error: "That page link is no longer valid; showing the newest orders." };
		orders = await affiliateOrders(db, id, { limit: ORDERS_PAGE_SIZE });
	}
	const values = state.values ?? {
		name: affiliate.name,
		email: affiliate.email ?? "",
		rate: percentInput(affiliate.commission_bp),
		active: affiliate.active,
	};
	const base = `/admin/affiliates/${affiliate.id}`;
	return c.html(
		<AdminLayout title={affiliate.name} current="affiliates" messages={messages}>
			<p>
				<a href="/admin/affiliates">← All affiliates</a>
			</p>
			<div class="page-head">
				<h1>{affiliate.name}</h1>
				<p class="row">
					<code>{affiliate.code}</code>
					<ActiveBadge active={affiliate.active} />
				</p>
			</div>
			<div class="two-col">
				<section class="panel" aria-labelledby="details-heading">
					<h2 id="details-heading">Details</h2>
					<form method="post" action={base}>
						<div class="field">
							<label for="name">Name</label>
							<input id="name" name="name" required maxlength={200} value={values.name} />
						</div>
						<div class="field">
							<label for="email">E-mail</label>
							<input id="email" type="email" name="email" maxlength={254} value={values.email} placeholder="Optional" />
						</div>
						<div class="field">
							<label for="rate">Commission (%)</label>
							<input id="rate" name="rate" required inputmode="decimal" value={values.rate} aria-describedby="rate-hint" />
							<p class="hint" id="rate-hint">
								Applies to orders paid from now on; orders already paid keep the rate they earned at.
							</p>
						</div>
						<div class="field">
							<label>
								<input type="checkbox" name="active" value="on" checked={values.active} /> Active: its link attributes new shoppers
							</label>
						</div>
						<p class="hint">
							Created <Time at={affiliate.created_at} />, last changed <Time at={affiliate.updated_at} />.
						</p>
						<button type="submit">Save affiliate</button>
					</form>
				</section>
				<section class="panel" aria-labelledby="link-heading">
					<h2 id="link-heading">Referral link</h2>
					<ReferralLink affiliate={affiliate} id="referral-url" />
				</section>
			</div>
			<section class="panel" aria-labelledby="orders-heading">
				<h2 id="orders-heading">Orders that earned commission</h2>
				{orders.data.length === 0 ? (
					<p>No paid orders came through this affiliate yet.</p>
				) : (
					<div class="table-wrap">
						<table class="cards">
							<caption class="visually-hidden">Paid orders of this affiliate, newest first</caption>
							<thead>
								<tr>
									<th scope="col">Order</th>
									<th scope="col">Status</th>
									<th scope="col">Paid</th>
									<th scope="col" class="num">
										Sold
									</th>
									<th scope="col" class="num">
										Rate
									</th>
									<th scope="col" class="num">
										Commission
									</th>
									<th scope="col" class="num">
										Reversed
									</th>
									<th scope="col" class="num">
										Net
									</th>
								</tr>
							</thead>
							<tbody>
								{orders.data.map((order) => (
									<tr>
										<td>
											<a href={`/admin/orders/${order.order_id}`}>
												<code>{order.order_id}</code>
											</a>
										</td>
										<td data-label="Status">
											<StatusBadge status={order.status} />
										</td>
										<td class="nowrap" data-label="Paid">
											<Time at={order.paid_at} />
										</td>
										<td class="num nowrap" data-label="Sold">
											{money(order.sold.amount, order.sold.currency)}
										</td>
										<td class="num nowrap" data-label="Rate">
											{percentInput(order.rate_bp)} %
										</td>
										<td class="num nowrap" data-label="Commission">
											{money(order.commission.amount, order.commission.currency)}
										</td>
										<td class="num nowrap" data-label="Reversed">
											{money(order.reversed.amount, order.reversed.currency)}
										</td>
										<td class="num nowrap" data-label="Net">
											{money(order.net.amount, order.net.currency)}
										</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
				<NextPage href={orders.next_cursor ? listUrl(base, { cursor: orders.next_cursor }) : null} />
			</section>
		</AdminLayout>,
		state.status ?? 200,
	);
}

/** `POST /admin/affiliates/{id}`: name, e-mail, rate and whether the link still attributes. */
export async function saveAffiliateAction(c: Context<AppEnv>): Promise<Response> {
	const id = affiliateIdOf(c);
	const { fields } = await readForm(c);
	const values: AffiliateValues = {
		name: fields.get("name") ?? "",
		email: fields.get("email") ?? "",
		rate: fields.get("rate") ?? "",
		// An unticked checkbox is not sent at all.
		active: fields.get("active") === "on",
	};
	try {
		const rate = parsePercent(values.rate);
		if (rate === undefined) throw invalidForm(["Commission: write a percentage such as 10 or 7.5."]);
		const parsed = PatchAffiliateBody.safeParse({
			name: values.name,
			email: values.email.trim() || null,
			commission_bp: rate,
			active: values.active,
		});
		if (!parsed.success) throw invalidForm(issuesOf(parsed.error, LABELS));
		await updateAffiliate(c.env, c.get("database").primary, id, parsed.data, actorOf(c));
		return seeOther(c, withOutcome(`/admin/affiliates/${id}`, { notice: "affiliate_saved" }));
	} catch (err) {
		if (err instanceof DomainError && statusOf(err) < 500 && err.code !== "not_found") {
			return affiliatePage(c, { status: formStatus(err), messages: messagesForError(err), values });
		}
		throw err;
	}
}
