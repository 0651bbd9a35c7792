import type { Context } from "hono";
import { deleteCookie, generateCookie, getCookie } from "hono/cookie";
import { statusOf } from "../../../api/lib/problem.ts";
import { CreateEndpointBody } from "../../../api/notifications/notifications.routes.ts";
import type { AppEnv } from "../../../api/types.ts";
import type { AuditActor } from "../../../catalog/audit.ts";
import { DomainError, notFound } from "../../../domain/errors.ts";
import {
	createEndpoint,
	deactivateEndpoint,
	type EndpointView,
	getEndpoint,
	listDeliveries,
	listEndpoints,
	rotateEndpointSecret,
} from "../../../notifications/endpoints.ts";
import { WEBHOOK_EVENT_TYPES } from "../../../notifications/outbound-webhooks.ts";
import { action, readForm, seeOther, withOutcome } from "../actions.ts";
import { invalidForm, issuesOf, messagesForError } from "../forms.tsx";
import { AdminLayout, listUrl, NextPage, Time } from "../layout.tsx";
import { type Messages, messagesOf } from "../messages.ts";

const ENDPOINT_ID = /^whe_[0-9a-z]{20}$/;
const PAGE_SIZE = 25;

const actorOf = (c: Context<AppEnv>): AuditActor => ({ userId: c.get("auth").userId, requestId: c.get("requestId") });

/**
 * A new signing secret travels to the page that shows it in a cookie that only
 * that page reads, once, and deletes: the 303 keeps reloads harmless, and the
 * secret never appears in a URL, a log line or the browser history.
 */
const SECRET_COOKIE = "ec_admin_secret";
const SECRET_PATH = "/admin/webhooks";

const EVENT_TEXT: Record<(typeof WEBHOOK_EVENT_TYPES)[number], string> = {
	"order.paid": "Order paid",
	"order.shipped": "Order shipped",
	"order.cancelled": "Order cancelled",
	"order.refunded": "Order refunded",
	"inventory.low_stock": "Low stock",
};

function secureCookies(c: Context<AppEnv>): boolean {
	const url = new URL(c.req.url);
	return url.protocol === "https:" || !["localhost", "127.0.0.1"].includes(url.hostname);
}

/** `response` (a 303 to the webhooks page) carrying the endpoint's new secret for that page. */
function withSecret(c: Context<AppEnv>, response: Response, endpoint: EndpointView & { secret: string }): Response {
	response.headers.append(
		"set-cookie",
		generateCookie(SECRET_COOKIE, `${endpoint.id}.${endpoint.secret}`, {
			path: SECRET_PATH,
			httpOnly: true,
			secure: secureCookies(c),
			sameSite: "Strict",
			maxAge: 300,
		}),
	);
	return response;
}

function takeSecret(c: Context<AppEnv>): { endpointId: string; secret: string } | undefined {
	const value = getCookie(c, SECRET_COOKIE);
	if (value === undefined) return undefined;
	deleteCookie(c, SECRET_COOKIE, { path: SECRET_PATH, secure: secureCookies(c) });
	const dot = value.indexOf(".");
	const endpointId = value.slice(0, dot);
	return dot > 0 && ENDPOINT_ID.test(endpointId) ? { endpointId, secret: value.slice(dot + 1) } : undefined;
}

interface EndpointValues {
	url: string;
	description: string;
	eventTypes: string[];
}

/** `GET /admin/webhooks`: the endpoints, their actions, and the form for a new one. */
export async function webhooksPage(
	c: Context<AppEnv>,
	state: { status?: 200 | 400 | 422; messages?: Messages; values?: EndpointValues } = {},
): Promise<Response> {
	const endpoints = await listEndpoints(c.get("database").primary);
	const revealed = c.req.method === "GET" ? takeSecret(c) : undefined;
	const revealedFor = revealed ? endpoints.find((endpoint) => endpoint.id === revealed.endpointId) : undefined;
	const values = state.values ?? { url: "", description: "", eventTypes: [] };
	return c.html(
		<AdminLayout
			title="Webhooks"
			current="webhooks"
			messages={state.messages ?? messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") })}
		>
			<h1>Webhooks</h1>
			{revealed && revealedFor ? (
				<div class="alert info" role="status">
					<p>
						Signing secret for <strong>{revealedFor.url}</strong>:
					</p>
					<code class="secret">{revealed.secret}</code>
					<p>Copy it now and keep it with the receiver: it is shown only this once. Receivers verify each delivery with it.</p>
				</div>
			) : null}
			{endpoints.length === 0 ? (
				<p class="panel">No endpoints yet. Register one below to have events POSTed to it, signed.</p>
			) : (
				<div class="table-wrap">
					<table class="cards">
						<caption class="visually-hidden">Webhook endpoints</caption>
						<thead>
							<tr>
								<th scope="col">Endpoint</th>
								<th scope="col">Events</th>
								<th scope="col">State</th>
								<th scope="col">Actions</th>
							</tr>
						</thead>
						<tbody>
							{endpoints.map((endpoint) => (
								<tr>
									<td>
										<code>{endpoint.url}</code>
										{endpoint.description ? <div class="hint">{endpoint.description}</div> : null}
										<div class="hint">
											<a href={`/admin/webhooks/${endpoint.id}/deliveries`}>Deliveries</a> · created <Time at={endpoint.created_at} />
										</div>
									</td>
									<td data-label="Events">{endpoint.event_types.map((type) => EVENT_TEXT[type] ?? type).join(", ")}</td>
									<td data-label="State">
										{endpoint.active ? <span class="badge ok">Active</span> : <span class="badge">Inactive</span>}
										{endpoint.rotating_until ? (
											<div class="hint">
												Previous secret valid until <Time at={endpoint.rotating_until} />
											</div>
										) : null}
									</td>
									<td>
										{endpoint.active ? (
											<div class="row">
												<form method="post" action={`/admin/webhooks/${endpoint.id}/rotate`}>
													<button type="submit" class="secondary">
														Rotate secret<span class="visually-hidden"> of {endpoint.url}</span>
													</button>
												</form>
												<form method="post" action={`/admin/webhooks/${endpoint.id}/deactivate`}>
													<button type="submit" class="secondary">
														Deactivate<span class="visually-hidden"> {endpoint.url}</span>
													</button>
												</form>
											</div>
										) : (
											<span class="muted">No further deliveries</span>
										)}
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
			<section class="panel" aria-labelledby="new-endpoint-heading">
				<h2 id="new-endpoint-heading">New endpoint</h2>
				<form method="post" action="/admin/webhooks">
					<div class="field">
						<label for="endpoint-url">URL</label>
						<input
							id="endpoint-url"
							type="url"
							name="url"
							required
							maxlength={2048}
							value={values.url}
							placeholder="https://example.com/webhooks/shop"
							aria-describedby="endpoint-url-hint"
						/>
						<p class="hint" id="endpoint-url-hint">
							A public https address. Private, loopback and link-local addresses are refused.
						</p>
					</div>
					<div class="field">
						<label for="endpoint-description">Description</label>
						<input id="endpoint-description" name="description" maxlength={200} value={values.description} placeholder="Optional" />
					</div>
					<fieldset>
						<legend>Events</legend>
						<div class="checkboxes">
							{WEBHOOK_EVENT_TYPES.map((type) => (
								<label>
									<input type="checkbox" name="event_types" value={type} checked={values.eventTypes.includes(type)} />
									<span>
										{EVENT_TEXT[type]} <code class="muted">{type}</code>
									</span>
								</label>
							))}
						</div>
					</fieldset>
					<button type="submit">Create endpoint</button>
				</form>
			</section>
		</AdminLayout>,
		state.status ?? 200,
	);
}

/** `POST /admin/webhooks`: registers the endpoint and shows its secret once; a refused URL comes back with the reason. */
export async function createEndpointAction(c: Context<AppEnv>): Promise<Response> {
	const { fields } = await readForm(c);
	const values: EndpointValues = {
		url: fields.get("url")?.trim() ?? "",
		description: fields.get("description") ?? "",
		eventTypes: fields.getAll("event_types"),
	};
	try {
		const parsed = CreateEndpointBody.safeParse({
			url: values.url,
			event_types: values.eventTypes,
			...(values.description.trim() ? { description: values.description } : {}),
		});
		if (!parsed.success) {
			throw invalidForm(
				values.eventTypes.length === 0
					? ["Events: choose at least one."]
					: issuesOf(parsed.error, { url: "URL", event_types: "Events", description: "Description" }),
			);
		}
		const created = await createEndpoint(c.env, c.get("database").primary, parsed.data, actorOf(c));
		return withSecret(c, seeOther(c, withOutcome("/admin/webhooks", { notice: "endpoint_created" })), created);
	} catch (err) {
		if (err instanceof DomainError && statusOf(err) < 500) {
			return webhooksPage(c, { status: statusOf(err) === 422 ? 422 : 400, messages: refusal(err), values });
		}
		throw err;
	}
}

/** The reason a URL was refused, in the form's words; other refusals as any form shows them. */
function refusal(err: DomainError): Messages {
	const reason = (err.extensions.errors as { message?: string }[] | undefined)?.[0]?.message;
	if (err.code !== "url_refused" || !reason) return messagesForError(err);
	return { error: `This URL cannot receive webhooks: ${reason} Use a public https address.` };
}

function endpointIdOf(c: Context<AppEnv>): string {
	const id = c.req.param("id") ?? "";
	if (!ENDPOINT_ID.test(id)) throw notFound("No such webhook endpoint.");
	return id;
}

/** `POST /admin/webhooks/{id}/rotate`: a new secret, shown once; the old one keeps signing for 24 hours. */
export async function rotateSecretAction(c: Context<AppEnv>): Promise<Response> {
	const id = endpointIdOf(c);
	let rotated: (EndpointView & { secret: string }) | undefined;
	const response = await action(c, "/admin/webhooks", async () => {
		rotated = await rotateEndpointSecret(c.get("database").primary, id, actorOf(c));
		return "secret_rotated";
	});
	return rotated ? withSecret(c, response, rotated) : response;
}

/** `POST /admin/webhooks/{id}/deactivate`: no further deliveries; the log stays. */
export async function deactivateEndpointAction(c: Context<AppEnv>): Promise<Response> {
	const id = endpointIdOf(c);
	return action(c, "/admin/webhooks", async () => {
		await deactivateEndpoint(c.get("database").primary, id, actorOf(c));
		return "endpoint_deactivated";
	});
}

const DELIVERY_TONE = { pending: "warn", succeeded: "ok", failed: "danger" } as const;

/** `GET /admin/webhooks/{id}/deliveries`: one endpoint's delivery log, newest first. */
export async function deliveriesPage(c: Context<AppEnv>): Promise<Response> {
	const id = endpointIdOf(c);
	const db = c.get("database").primary;
	const endpoint = await getEndpoint(db, id);
	if (!endpoint) throw notFound("No such webhook endpoint.");
	const cursor = c.req.query("cursor") || undefined;
	let messages: Messages = {};
	let page: Awaited<ReturnType<typeof listDeliveries>>;
	try {
		page = await listDeliveries(db, id, { limit: PAGE_SIZE, cursor });
	} catch (err) {
		if (!(err instanceof DomainError) || err.code !== "invalid_cursor") throw err;
		messages = { error: "That page link is no longer valid; showing the newest deliveries." };
		page = await listDeliveries(db, id, { limit: PAGE_SIZE });
	}
	return c.html(
		<AdminLayout title="Deliveries" current="webhooks" messages={messages}>
			<p>
				<a href="/admin/webhooks">← All endpoints</a>
			</p>
			<h1>Deliveries</h1>
			<p>
				To <code>{endpoint.url}</code> {endpoint.active ? <span class="badge ok">Active</span> : <span class="badge">Inactive</span>}
			</p>
			{page.data.length === 0 ? (
				<p class="panel">No deliveries yet.</p>
			) : (
				<div class="table-wrap">
					<table class="cards">
						<caption class="visually-hidden">Deliveries, newest first</caption>
						<thead>
							<tr>
								<th scope="col">Event</th>
								<th scope="col">Status</th>
								<th scope="col" class="num">
									Attempts
								</th>
								<th scope="col">Last answer</th>
								<th scope="col">Created</th>
								<th scope="col">Delivered</th>
							</tr>
						</thead>
						<tbody>
							{page.data.map((delivery) => (
								<tr>
									<td>
										{delivery.event_type}
										<div class="hint">
											<code>{delivery.event_id}</code>
										</div>
									</td>
									<td data-label="Status">
										<span class={`badge ${DELIVERY_TONE[delivery.status]}`}>{delivery.status}</span>
									</td>
									<td class="num" data-label="Attempts">
										{delivery.attempts}
									</td>
									<td data-label="Last answer">
										{delivery.last_status_code ?? ""} {delivery.last_error ? <span class="hint">{delivery.last_error}</span> : null}
										{delivery.last_attempt_at ? (
											<div class="hint">
												<Time at={delivery.last_attempt_at} />
											</div>
										) : null}
									</td>
									<td class="nowrap" data-label="Created">
										<Time at={delivery.created_at} />
									</td>
									<td class="nowrap" data-label="Delivered">
										<Time at={delivery.delivered_at} />
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
			<NextPage href={page.next_cursor ? listUrl(`/admin/webhooks/${id}/deliveries`, { cursor: page.next_cursor }) : null} />
		</AdminLayout>,
	);
}
