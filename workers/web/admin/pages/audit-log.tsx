import type { Context } from "hono";
import type { FC } from "hono/jsx";
import { AuditLogQuery } from "../../../api/admin/audit-log.routes.ts";
import type { AppEnv } from "../../../api/types.ts";
import { type AuditEntryView, listAuditLog } from "../../../audit/audit-log.ts";
import { DomainError } from "../../../domain/errors.ts";
import { AdminLayout, listUrl, NextPage, Time } from "../layout.tsx";
import type { Messages } from "../messages.ts";

const PAGE_SIZE = 25;

/** The entity types admin writes record, offered as suggestions (the field takes any). */
const ENTITY_TYPES = ["product", "media", "category", "order", "sku", "dead_letter", "webhook_endpoint"];

const FILTERS = ["entity_type", "entity_id", "actor_id", "action", "since", "until"] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

/** A `datetime-local` value (no seconds, no zone) read as UTC, as every time in the console is shown; anything else as typed. */
function instantOf(value: string | undefined): string | undefined {
	if (!value) return undefined;
	return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? `${value}:00Z` : value;
}

/** Where the entity of an entry lives in the console, when it has a page. */
function entityHref(entry: AuditEntryView): string | undefined {
	const id = encodeURIComponent(entry.entity_id);
	switch (entry.entity_type) {
		case "product":
			return `/admin/products/${id}`;
		case "category":
			return `/admin/categories#${id}`;
		case "order":
			return `/admin/orders/${id}`;
		case "sku":
			return listUrl("/admin/inventory", { sku: entry.entity_id });
		case "webhook_endpoint":
			return `/admin/webhooks/${id}/deliveries`;
		default:
			return undefined;
	}
}

/** A recorded state as indented JSON. Rendered as text, so whatever it holds is escaped, never markup. */
const StateBlock: FC<{ label: string; value: unknown }> = ({ label, value }) => (
	<div class="audit-state">
		<h3>{label}</h3>
		{value === null || value === undefined ? <p class="muted">—</p> : <pre>{JSON.stringify(value, null, 2)}</pre>}
	</div>
);

/**
 * `GET /admin/audit-log?entity_type=&entity_id=&actor_id=&action=&since=&until=&cursor=`:
 * every admin change, newest first, each with who made it and the state
 * before and after. Filters are exact, as in the API.
 */
export async function auditLogPage(c: Context<AppEnv>): Promise<Response> {
	const typed: Filters = {};
	for (const name of FILTERS) {
		const value = c.req.query(name)?.trim();
		if (value) typed[name] = value;
	}
	const cursor = c.req.query("cursor") || undefined;
	let messages: Messages = {};
	const parsed = AuditLogQuery.safeParse({
		...typed,
		since: instantOf(typed.since),
		until: instantOf(typed.until),
		limit: PAGE_SIZE,
		...(cursor ? { cursor } : {}),
	});
	let page: Awaited<ReturnType<typeof listAuditLog>> = { data: [], next_cursor: null };
	if (!parsed.success) {
		const fields = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? "")))].filter(Boolean);
		messages = { error: "Some filters are not valid; nothing is listed until they are.", details: fields.map((f) => `${f}: not valid`) };
	} else {
		const query = {
			entityType: parsed.data.entity_type,
			entityId: parsed.data.entity_id,
			actorId: parsed.data.actor_id,
			action: parsed.data.action,
			since: parsed.data.since,
			until: parsed.data.until,
			limit: PAGE_SIZE,
		};
		try {
			page = await listAuditLog(c.get("database").primary, { ...query, cursor: parsed.data.cursor });
		} catch (err) {
			if (!(err instanceof DomainError) || err.code !== "invalid_cursor") throw err;
			messages = { error: "That page link is no longer valid; showing the newest entries." };
			page = await listAuditLog(c.get("database").primary, query);
		}
	}
	const filtered = Object.keys(typed).length > 0;
	return c.html(
		<AdminLayout title="Audit log" current="audit-log" messages={messages}>
			<h1>Audit log</h1>
			<p class="hint">
				Every change an admin made, recorded with the change itself: if one is listed, it happened. Secrets (signing secrets, tokens,
				password hashes) are never recorded.
			</p>
			<form class="filters panel" method="get" action="/admin/audit-log" aria-label="Filter the audit log">
				<div class="field">
					<label for="audit-entity-type">Entity type</label>
					<input id="audit-entity-type" name="entity_type" list="audit-entity-types" maxlength={40} value={typed.entity_type ?? ""} />
					<datalist id="audit-entity-types">
						{ENTITY_TYPES.map((type) => (
							<option value={type} />
						))}
					</datalist>
				</div>
				<div class="field">
					<label for="audit-entity-id">Entity id</label>
					<input id="audit-entity-id" name="entity_id" maxlength={200} value={typed.entity_id ?? ""} placeholder="e.g. ord_… or a SKU" />
				</div>
				<div class="field">
					<label for="audit-action">Action</label>
					<input id="audit-action" name="action" maxlength={64} value={typed.action ?? ""} placeholder="e.g. order.ship" />
				</div>
				<div class="field">
					<label for="audit-actor">Admin (user id)</label>
					<input id="audit-actor" name="actor_id" maxlength={64} value={typed.actor_id ?? ""} placeholder="usr_…" />
				</div>
				<div class="field">
					<label for="audit-since">Since (UTC)</label>
					<input id="audit-since" name="since" type="datetime-local" value={typed.since ?? ""} />
				</div>
				<div class="field">
					<label for="audit-until">Until (UTC)</label>
					<input id="audit-until" name="until" type="datetime-local" value={typed.until ?? ""} />
				</div>
				<button type="submit">Filter</button>
			</form>
			{page.data.length === 0 ? (
				<p class="panel">{filtered ? "No entries match." : "No entries yet."}</p>
			) : (
				<ol class="audit-entries">
					{page.data.map((entry) => {
						const href = entityHref(entry);
						return (
							<li class="panel" id={`audit-${entry.id}`} data-action={entry.action}>
								<p class="row">
									<Time at={entry.created_at} /> <code>{entry.action}</code>{" "}
									<span>
										{entry.entity_type}{" "}
										{href ? (
											<a href={href}>
												<code>{entry.entity_id}</code>
											</a>
										) : (
											<code>{entry.entity_id}</code>
										)}
									</span>{" "}
									<span class="hint">
										by <a href={listUrl("/admin/audit-log", { actor_id: entry.actor_id })}>{entry.actor_email ?? entry.actor_id}</a>
										{entry.request_id ? (
											<>
												{" "}
												· request <code>{entry.request_id}</code>
											</>
										) : null}
									</span>
								</p>
								<details>
									<summary>Before and after</summary>
									<div class="two-col">
										<StateBlock label="Before" value={entry.before} />
										<StateBlock label="After" value={entry.after} />
									</div>
								</details>
							</li>
						);
					})}
				</ol>
			)}
			<NextPage href={page.next_cursor ? listUrl("/admin/audit-log", { ...typed, cursor: page.next_cursor }) : null} />
		</AdminLayout>,
	);
}
