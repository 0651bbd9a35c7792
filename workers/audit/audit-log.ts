import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { auditLog, users } from "../db/schema.ts";
import { CURSOR_TIMESTAMP, decodeCursor, encodeCursor, invalidCursor } from "../domain/cursor.ts";

/**
 * Reads the audit log: who changed what and when, with the state before and
 * after, for the `/v1/admin/audit-log` API and the console's audit page.
 * Rows are written by `recordAudit` (catalog/audit.ts) inside each admin
 * write's own transaction; nothing here writes.
 */

export interface AuditEntryView {
	id: number;
	actor_id: string;
	/** The actor's current e-mail address; null when the account is gone. */
	actor_email: string | null;
	action: string;
	entity_type: string;
	entity_id: string;
	before: unknown;
	after: unknown;
	request_id: string | null;
	created_at: string;
}

export interface AuditQuery {
	entityType?: string | undefined;
	entityId?: string | undefined;
	actorId?: string | undefined;
	action?: string | undefined;
	/** Entries at or after this instant (ISO 8601). */
	since?: string | undefined;
	/** Entries at or before this instant (ISO 8601). */
	until?: string | undefined;
	limit: number;
	cursor?: string | undefined;
}

/** Timestamps as text with microseconds: a Date would round them to milliseconds and break the keyset. */
const CREATED_AT = sql<string>`to_char(${auditLog.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

function decodeAuditCursor(text: string): { createdAt: string; id: number } {
	const value = decodeCursor(text);
	// Checked before it reaches SQL: a malformed timestamp would fail the cast and answer 500.
	if (!Array.isArray(value) || value.length !== 2) throw invalidCursor();
	const [createdAt, id] = value as unknown[];
	if (typeof createdAt !== "string" || !CURSOR_TIMESTAMP.test(createdAt) || !Number.isSafeInteger(id) || (id as number) < 1) {
		throw invalidCursor();
	}
	return { createdAt, id: id as number };
}

/**
 * A page of audit entries, newest first (by the time of the write's
 * transaction, then by id), filtered by any of entity, actor, action and a
 * time window. Each filter is an exact match; `entity_id` applies within
 * `entity_type` when both are given (ids of different kinds never collide
 * anyway: they carry their kind's prefix).
 */
export async function listAuditLog(db: Db, query: AuditQuery): Promise<{ data: AuditEntryView[]; next_cursor: string | null }> {
	const after = query.cursor ? decodeAuditCursor(query.cursor) : undefined;
	const conditions: (SQL | undefined)[] = [
		query.entityType ? eq(auditLog.entityType, query.entityType) : undefined,
		query.entityId ? eq(auditLog.entityId, query.entityId) : undefined,
		query.actorId ? eq(auditLog.actorId, query.actorId) : undefined,
		query.action ? eq(auditLog.action, query.action) : undefined,
		// Cast by Postgres, not through a Date: a Date keeps milliseconds, and an entry's own microsecond time must match itself.
		query.since ? sql`${auditLog.createdAt} >= ${query.since}::timestamptz` : undefined,
		query.until ? sql`${auditLog.createdAt} <= ${query.until}::timestamptz` : undefined,
		after ? sql`(${auditLog.createdAt}, ${auditLog.id}) < (${after.createdAt}::timestamptz, ${after.id})` : undefined,
	];
	const rows = await db
		.select({
			id: auditLog.id,
			actorId: auditLog.actorId,
			actorEmail: users.email,
			action: auditLog.action,
			entityType: auditLog.entityType,
			entityId: auditLog.entityId,
			before: auditLog.before,
			after: auditLog.after,
			requestId: auditLog.requestId,
			createdAt: CREATED_AT,
		})
		.from(auditLog)
		.leftJoin(users, eq(users.id, auditLog.actorId))
		.where(and(...conditions))
		.orderBy(desc(auditLog.createdAt), desc(auditLog.id))
		.limit(query.limit + 1);
	const page = rows.slice(0, query.limit);
	const last = page.at(-1);
	return {
		data: page.map((row) => ({
			id: row.id,
			actor_id: row.actorId,
			actor_email: row.actorEmail,
			action: row.action,
			entity_type: row.entityType,
			entity_id: row.entityId,
			before: row.before ?? null,
			after: row.after ?? null,
			request_id: row.requestId,
			created_at: row.createdAt,
		})),
		next_cursor: rows.length > query.limit && last ? encodeCursor([last.createdAt, last.id]) : null,
	};
}
