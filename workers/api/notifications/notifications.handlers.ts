import type { RouteHandler } from "@hono/zod-openapi";
import { and, desc, eq, lt, or, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { notifications, webhookDeliveries, webhookEndpoints } from "../../db/schema.ts";
import { newId } from "../../domain/ids.ts";
import { checkWebhookUrl } from "../../notifications/ssrf.ts";
import { generateWebhookSecret } from "../../notifications/webhook-signing.ts";
import { allowHttpEndpoints, type WebhookEventType } from "../../notifications/webhooks.ts";
import { decodeCursor, encodeCursor, invalidCursor } from "../lib/cursor.ts";
import { AppError } from "../lib/problem.ts";
import type { AppEnv } from "../types.ts";
import type {
	createEndpoint,
	deleteEndpoint,
	listDeliveries,
	listEndpoints,
	listNotifications,
	rotateSecret,
} from "./notifications.routes.ts";

/** How long a rotated-out secret keeps signing next to the new one. */
const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const noStore = { "cache-control": "no-store" };

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

export const listNotificationsHandler: RouteHandler<typeof listNotifications, AppEnv> = async (c) => {
	const query = c.req.valid("query");
	const filters: (SQL | undefined)[] = [
		query.recipient ? eq(notifications.recipient, query.recipient) : undefined,
		query.kind ? eq(notifications.kind, query.kind) : undefined,
		query.status ? eq(notifications.status, query.status) : undefined,
		afterCursor(query.cursor, notifications.createdAt, notifications.id),
	];
	const rows = await c
		.get("database")
		.primary.select()
		.from(notifications)
		.where(and(...filters.filter((f): f is SQL => f !== undefined)))
		.orderBy(desc(notifications.createdAt), desc(notifications.id))
		.limit(query.limit + 1);
	return c.json(
		{
			data: rows.slice(0, query.limit).map((row) => ({
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
			})),
			next_cursor: nextCursor(rows, query.limit),
		},
		200,
		noStore,
	);
};

type EndpointRow = typeof webhookEndpoints.$inferSelect;

function endpointView(row: EndpointRow) {
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

const endpointNotFound = () => new AppError(404, "not_found", "Not found", { detail: "No such webhook endpoint." });

export const listEndpointsHandler: RouteHandler<typeof listEndpoints, AppEnv> = async (c) => {
	const rows = await c.get("database").primary.select().from(webhookEndpoints).orderBy(desc(webhookEndpoints.createdAt));
	return c.json({ data: rows.map(endpointView) }, 200, noStore);
};

export const createEndpointHandler: RouteHandler<typeof createEndpoint, AppEnv> = async (c) => {
	const body = c.req.valid("json");
	const checked = checkWebhookUrl(body.url, { allowHttp: allowHttpEndpoints(c.env) });
	if (!checked.ok) {
		throw new AppError(422, "url_refused", "URL refused", {
			detail: `Webhook endpoints must be public https URLs: ${checked.reason}.`,
			extensions: { errors: [{ path: "body.url", message: checked.reason }] },
		});
	}
	const secret = generateWebhookSecret();
	const [row] = await c
		.get("database")
		.primary.insert(webhookEndpoints)
		.values({
			id: newId("whe"),
			url: checked.url.href,
			description: body.description ?? "",
			eventTypes: [...new Set(body.event_types)],
			secret,
		})
		.returning();
	if (!row) throw new Error("insert returned no row");
	return c.json({ ...endpointView(row), secret }, 201, { ...noStore, location: `/v1/admin/webhooks/${row.id}` });
};

export const deleteEndpointHandler: RouteHandler<typeof deleteEndpoint, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const [row] = await c
		.get("database")
		.primary.update(webhookEndpoints)
		.set({ active: false, updatedAt: sql`now()` })
		.where(eq(webhookEndpoints.id, id))
		.returning({ id: webhookEndpoints.id });
	if (!row) throw endpointNotFound();
	return c.body(null, 204);
};

export const rotateSecretHandler: RouteHandler<typeof rotateSecret, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const secret = generateWebhookSecret();
	const [row] = await c
		.get("database")
		.primary.update(webhookEndpoints)
		.set({
			previousSecret: sql`${webhookEndpoints.secret}`,
			previousSecretExpiresAt: new Date(Date.now() + ROTATION_OVERLAP_MS),
			secret,
			updatedAt: sql`now()`,
		})
		.where(eq(webhookEndpoints.id, id))
		.returning();
	if (!row) throw endpointNotFound();
	return c.json({ ...endpointView(row), secret }, 200, noStore);
};

export const listDeliveriesHandler: RouteHandler<typeof listDeliveries, AppEnv> = async (c) => {
	const { id } = c.req.valid("param");
	const query = c.req.valid("query");
	const db = c.get("database").primary;
	const [endpoint] = await db.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
	if (!endpoint) throw endpointNotFound();
	const cursor = afterCursor(query.cursor, webhookDeliveries.createdAt, webhookDeliveries.id);
	const rows = await db
		.select()
		.from(webhookDeliveries)
		.where(and(eq(webhookDeliveries.endpointId, id), ...(cursor ? [cursor] : [])))
		.orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
		.limit(query.limit + 1);
	return c.json(
		{
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
		},
		200,
		noStore,
	);
};
