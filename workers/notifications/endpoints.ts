import { and, count, desc, eq, gte, lt, or, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { type AuditActor, recordAudit } from "../catalog/audit.ts";
import type { Db, Tx } from "../db/client.ts";
import { notifications, webhookDeliveries, webhookEndpoints } from "../db/schema.ts";
import { decodeCursor, encodeCursor, invalidCursor } from "../domain/cursor.ts";
import { DomainError, notFound } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";
import { allowHttpEndpoints, type WebhookEventType } from "./outbound-webhooks.ts";
import { checkWebhookUrl } from "./ssrf.ts";
import { generateWebhookSecret } from "./webhook-signing.ts";

/**
 * What admins see and manage of outgoing messages: the notification log and
 * the merchants' webhook endpoints with their delivery logs. Shared by the
 * `/v1/admin/notifications` and `/v1/admin/webhooks` API and the admin console.
 */

/** How long a rotated-out secret keeps signing next to the new one. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A keyset cursor over (created_at, id), newest first. */
function afterCursor(cursor: string | undefined, createdAt: AnyPgColumn, id: AnyPgColumn): SQL | undefined {
	if (!cursor) return undefined;
	const value = decodeCursor(cursor);
	if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== "string" || typeof value[1] !== "string") throw invalidCursor();
	const at = new Date(value[0]);
	if (Number.isNaN(at.getTime())) throw invalidCursor();
	return or(lt(createdAt, at), and(eq(createdAt, at), lt(id, value[1])));
}

function nextCursor<T extends { createdAt: Date; id: string }>(rows: T[], limit: number): string | null {
	const last = rows[limit - 1];
	return rows.length > limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null;
}

export type NotificationStatus = (typeof notifications.$inferSelect)["status"];

export interface NotificationView {
	id: string;
	kind: string;
	event_id: string;
	recipient: string;
	subject: string;
	text: string;
	html: string;
	status: NotificationStatus;
	provider: string;
	attempts: number;
	last_error: string | null;
	created_at: string;
	sent_at: string | null;
}

function notificationView(row: typeof notifications.$inferSelect): NotificationView {
	return {
		id: row.id,
		kind: row.kind,
		event_id: row.eventId,
		recipient: row.recipient,
		subject: row.subject,
		text: row.text,
		html: row.html,
		status: row.status,
		provider: row.provider,
		attempts: row.attempts,
		last_error: row.lastError,
		created_at: row.createdAt.toISOString(),
		sent_at: iso(row.sentAt),
	};
}

export interface NotificationQuery {
	recipient?: string | undefined;
	kind?: string | undefined;
	status?: NotificationStatus | undefined;
	limit: number;
	cursor?: string | undefined;
}

/** E-mails sent, failed, skipped or (development adapter) that would have been sent, newest first. */
export async function listNotifications(
	db: Db,
	query: NotificationQuery,
): Promise<{ data: NotificationView[]; next_cursor: string | null }> {
	const filters: (SQL | undefined)[] = [
		query.recipient ? eq(notifications.recipient, query.recipient) : undefined,
		query.kind ? eq(notifications.kind, query.kind) : undefined,
		query.status ? eq(notifications.status, query.status) : undefined,
		afterCursor(query.cursor, notifications.createdAt, notifications.id),
	];
	const rows = await db
		.select()
		.from(notifications)
		.where(and(...filters.filter((f): f is SQL => f !== undefined)))
		.orderBy(desc(notifications.createdAt), desc(notifications.id))
		.limit(query.limit + 1);
	return { data: rows.slice(0, query.limit).map(notificationView), next_cursor: nextCursor(rows, query.limit) };
}

/** One notification, or undefined. */
export async function getNotification(db: Db, id: string): Promise<NotificationView | undefined> {
	const [row] = await db.select().from(notifications).where(eq(notifications.id, id));
	return row ? notificationView(row) : undefined;
}

/** Failed e-mails and failed webhook deliveries since `since`: what an operator should look at. */
export async function recentFailures(db: Db, since: Date): Promise<{ emails: number; deliveries: number }> {
	const [[emails], [deliveries]] = await Promise.all([
		db
			.select({ n: count() })
			.from(notifications)
			.where(and(eq(notifications.status, "failed"), gte(notifications.createdAt, since))),
		db
			.select({ n: count() })
			.from(webhookDeliveries)
			.where(and(eq(webhookDeliveries.status, "failed"), gte(webhookDeliveries.createdAt, since))),
	]);
	return { emails: emails?.n ?? 0, deliveries: deliveries?.n ?? 0 };
}

type EndpointRow = typeof webhookEndpoints.$inferSelect;

export interface EndpointView {
	id: string;
	url: string;
	description: string;
	event_types: WebhookEventType[];
	active: boolean;
	rotating_until: string | null;
	created_at: string;
}

function endpointView(row: EndpointRow): EndpointView {
	const rotating = row.previousSecret && row.previousSecretExpiresAt && row.previousSecretExpiresAt > new Date();
	return {
		id: row.id,
		url: row.url,
		description: row.description,
		event_types: row.eventTypes as WebhookEventType[],
		active: row.active,
		rotating_until: rotating ? iso(row.previousSecretExpiresAt) : null,
		created_at: row.createdAt.toISOString(),
	};
}

export const endpointNotFound = () => notFound("No such webhook endpoint.");

/** Every registered endpoint, newest first. */
export async function listEndpoints(db: Db): Promise<EndpointView[]> {
	const rows = await db.select().from(webhookEndpoints).orderBy(desc(webhookEndpoints.createdAt));
	return rows.map(endpointView);
}

/** One endpoint, or undefined. */
export async function getEndpoint(db: Db, id: string): Promise<EndpointView | undefined> {
	const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
	return row ? endpointView(row) : undefined;
}

/**
 * Registers an endpoint: public https URLs only (private, loopback and
 * link-local addresses are refused with 422 `url_refused`, see ssrf.ts). The
 * secret is returned here and never again. Audited with the endpoint's view,
 * which never carries a secret.
 */
export async function createEndpoint(
	env: Env,
	db: Db,
	input: { url: string; event_types: readonly WebhookEventType[]; description?: string | undefined },
	actor: AuditActor,
): Promise<EndpointView & { secret: string }> {
	const checked = checkWebhookUrl(input.url, { allowHttp: allowHttpEndpoints(env) });
	if (!checked.ok) {
		throw new DomainError("url_refused", {
			detail: `Webhook endpoints must be public https URLs: ${checked.reason}.`,
			extensions: { errors: [{ path: "body.url", message: checked.reason }] },
		});
	}
	const secret = generateWebhookSecret();
	const row = await db.transaction(async (tx) => {
		const [inserted] = await tx
			.insert(webhookEndpoints)
			.values({
				id: newId("whe"),
				url: checked.url.href,
				description: input.description ?? "",
				eventTypes: [...new Set(input.event_types)],
				secret,
			})
			.returning();
		if (!inserted) throw new Error("insert returned no row");
		await auditEndpoint(tx, actor, "create", null, inserted);
		return inserted;
	});
	return { ...endpointView(row), secret };
}

/** An endpoint change's audit entry: its views before and after, never a secret (I10). */
function auditEndpoint(tx: Tx, actor: AuditActor, action: string, before: EndpointRow | null, after: EndpointRow): Promise<void> {
	return recordAudit(tx, {
		actorId: actor.userId,
		action: `webhook_endpoint.${action}`,
		entityType: "webhook_endpoint",
		entityId: after.id,
		before: before ? endpointView(before) : null,
		after: endpointView(after),
		requestId: actor.requestId,
	});
}

/** Stops deliveries to an endpoint; its log stays. Deactivating twice changes nothing (and is audited once). */
export async function deactivateEndpoint(db: Db, id: string, actor: AuditActor): Promise<void> {
	await db.transaction(async (tx) => {
		const [before] = await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).for("update");
		if (!before) throw endpointNotFound();
		if (!before.active) return;
		const [after] = await tx
			.update(webhookEndpoints)
			.set({ active: false, updatedAt: sql`now()` })
			.where(eq(webhookEndpoints.id, id))
			.returning();
		if (!after) throw endpointNotFound();
		await auditEndpoint(tx, actor, "deactivate", before, after);
	});
}

/** A new secret, returned once; the previous one keeps signing alongside it for 24 hours. Audited without either secret. */
export async function rotateEndpointSecret(db: Db, id: string, actor: AuditActor): Promise<EndpointView & { secret: string }> {
	const secret = generateWebhookSecret();
	const row = await db.transaction(async (tx) => {
		const [before] = await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).for("update");
		if (!before) throw endpointNotFound();
		const [after] = await tx
			.update(webhookEndpoints)
			.set({
				previousSecret: sql`${webhookEndpoints.secret}`,
				previousSecretExpiresAt: new Date(Date.now() + ROTATION_OVERLAP_MS),
				secret,
				updatedAt: sql`now()`,
			})
			.where(eq(webhookEndpoints.id, id))
			.returning();
		if (!after) throw endpointNotFound();
		await auditEndpoint(tx, actor, "rotate_secret", before, after);
		return after;
	});
	return { ...endpointView(row), secret };
}

export interface DeliveryView {
	id: string;
	event_id: string;
	event_type: string;
	status: (typeof webhookDeliveries.$inferSelect)["status"];
	attempts: number;
	last_status_code: number | null;
	last_error: string | null;
	created_at: string;
	last_attempt_at: string | null;
	delivered_at: string | null;
}

/** An endpoint's delivery log, newest first; 404 when there is no such endpoint. */
export async function listDeliveries(
	db: Db,
	endpointId: string,
	query: { limit: number; cursor?: string | undefined },
): Promise<{ data: DeliveryView[]; next_cursor: string | null }> {
	const [endpoint] = await db.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(eq(webhookEndpoints.id, endpointId));
	if (!endpoint) throw endpointNotFound();
	const cursor = afterCursor(query.cursor, webhookDeliveries.createdAt, webhookDeliveries.id);
	const rows = await db
		.select()
		.from(webhookDeliveries)
		.where(and(eq(webhookDeliveries.endpointId, endpointId), ...(cursor ? [cursor] : [])))
		.orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
		.limit(query.limit + 1);
	return {
		data: rows.slice(0, query.limit).map((row) => ({
			id: row.id,
			event_id: row.eventId,
			event_type: row.eventType,
			status: row.status,
			attempts: row.attempts,
			last_status_code: row.lastStatusCode,
			last_error: row.lastError,
			created_at: row.createdAt.toISOString(),
			last_attempt_at: iso(row.lastAttemptAt),
			delivered_at: iso(row.deliveredAt),
		})),
		next_cursor: nextCursor(rows, query.limit),
	};
}
