import type { Context } from "hono";
import type { FC } from "hono/jsx";
import type { AppEnv } from "../../../api/types.ts";
import { DomainError, notFound } from "../../../domain/errors.ts";
import { getNotification, listNotifications, type NotificationStatus } from "../../../notifications/endpoints.ts";
import { AdminLayout, listUrl, NextPage, Time } from "../layout.tsx";
import type { Messages } from "../messages.ts";

const STATUSES: NotificationStatus[] = ["sending", "sent", "failed", "skipped", "limited"];
const STATUS_LABEL: Record<NotificationStatus, string> = {
	sending: "Sending",
	sent: "Sent",
	failed: "Failed",
	skipped: "Skipped",
	limited: "Limited",
};
const STATUS_TONE: Record<NotificationStatus, string> = { sending: "warn", sent: "ok", failed: "danger", skipped: "", limited: "warn" };
const PAGE_SIZE = 25;

const NotificationBadge: FC<{ status: NotificationStatus }> = ({ status }) => (
	<span class={`badge ${STATUS_TONE[status]}`.trim()}>{STATUS_LABEL[status]}</span>
);

/** `GET /admin/notifications?recipient=&status=&cursor=`: the e-mail log, newest first. */
export async function notificationsPage(c: Context<AppEnv>): Promise<Response> {
	const recipient = c.req.query("recipient")?.trim().toLowerCase().slice(0, 254) || undefined;
	const statusParam = c.req.query("status");
	const status = STATUSES.find((value) => value === statusParam);
	const cursor = c.req.query("cursor") || undefined;
	let messages: Messages = {};
	let page: Awaited<ReturnType<typeof listNotifications>>;
	try {
		page = await listNotifications(c.get("database").primary, { recipient, status, limit: PAGE_SIZE, cursor });
	} catch (err) {
		if (!(err instanceof DomainError) || err.code !== "invalid_cursor") throw err;
		messages = { error: "That page link is no longer valid; showing the newest e-mails." };
		page = await listNotifications(c.get("database").primary, { recipient, status, limit: PAGE_SIZE });
	}
	return c.html(
		<AdminLayout title="Notifications" current="notifications" messages={messages}>
			<h1>Notifications</h1>
			<p class="hint">
				Every e-mail the shop sent, failed to send, skipped or held back (limited: the recipient had their share of that kind for now). With
				the development adapter (outbox) nothing leaves: this log is the mailbox. Link tokens are kept as [redacted]: only the recipient
				gets the working link.
			</p>
			<form class="filters panel" method="get" action="/admin/notifications" aria-label="Filter notifications">
				<div class="field grow">
					<label for="n-recipient">Recipient</label>
					<input id="n-recipient" type="email" name="recipient" value={recipient ?? ""} placeholder="customer@example.com" />
				</div>
				<div class="field">
					<label for="n-status">Status</label>
					<select id="n-status" name="status">
						<option value="">Any status</option>
						{STATUSES.map((value) => (
							<option value={value} selected={value === status}>
								{STATUS_LABEL[value]}
							</option>
						))}
					</select>
				</div>
				<button type="submit">Filter</button>
			</form>
			{page.data.length === 0 ? (
				<p class="panel">No e-mails{recipient || status ? " match" : " yet"}.</p>
			) : (
				<div class="table-wrap">
					<table class="cards">
						<caption class="visually-hidden">E-mails, newest first</caption>
						<thead>
							<tr>
								<th scope="col">Subject</th>
								<th scope="col">Recipient</th>
								<th scope="col">Kind</th>
								<th scope="col">Status</th>
								<th scope="col">Created</th>
							</tr>
						</thead>
						<tbody>
							{page.data.map((notification) => (
								<tr>
									<td>
										<a href={`/admin/notifications/${encodeURIComponent(notification.id)}`}>{notification.subject || "(no subject)"}</a>
									</td>
									<td data-label="Recipient">{notification.recipient}</td>
									<td data-label="Kind">{notification.kind}</td>
									<td data-label="Status">
										<NotificationBadge status={notification.status} />
									</td>
									<td class="nowrap" data-label="Created">
										<Time at={notification.created_at} />
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
			<NextPage href={page.next_cursor ? listUrl("/admin/notifications", { recipient, status, cursor: page.next_cursor }) : null} />
		</AdminLayout>,
	);
}

/**
 * `GET /admin/notifications/{id}`: one e-mail with its text body. The HTML
 * body is shown as source, never rendered: it holds customer input and would
 * run in the console's origin.
 */
export async function notificationPage(c: Context<AppEnv>): Promise<Response> {
	const id = c.req.param("id") ?? "";
	const notification = id.length <= 200 ? await getNotification(c.get("database").primary, id) : undefined;
	if (!notification) throw notFound("No such notification.");
	return c.html(
		<AdminLayout title={notification.subject || "Notification"} current="notifications">
			<p>
				<a href="/admin/notifications">← All notifications</a>
			</p>
			<div class="page-head">
				<h1>{notification.subject || "(no subject)"}</h1>
				<NotificationBadge status={notification.status} />
			</div>
			<section class="panel" aria-labelledby="meta-heading">
				<h2 id="meta-heading" class="visually-hidden">
					Details
				</h2>
				<dl class="facts">
					<dt>Recipient</dt>
					<dd>
						<a href={listUrl("/admin/notifications", { recipient: notification.recipient })}>{notification.recipient}</a>
					</dd>
					<dt>Kind</dt>
					<dd>{notification.kind}</dd>
					<dt>Event</dt>
					<dd>
						<code>{notification.event_id}</code>
					</dd>
					<dt>Provider</dt>
					<dd>
						{notification.provider}, {notification.attempts} attempt{notification.attempts === 1 ? "" : "s"}
					</dd>
					<dt>Created</dt>
					<dd>
						<Time at={notification.created_at} />
					</dd>
					<dt>Sent</dt>
					<dd>
						<Time at={notification.sent_at} />
					</dd>
					{notification.last_error ? (
						<>
							<dt>Last error</dt>
							<dd>{notification.last_error}</dd>
						</>
					) : null}
				</dl>
			</section>
			<section class="panel" aria-labelledby="text-heading">
				<h2 id="text-heading">Text body</h2>
				<pre class="mail-text">{notification.text}</pre>
				<details>
					<summary>HTML source</summary>
					<pre>{notification.html}</pre>
				</details>
			</section>
		</AdminLayout>,
	);
}
