import type { Executor } from "../db/client.ts";
import { auditLog } from "../db/schema.ts";

export interface AuditEntry {
	actorId: string;
	action: string;
	entityType: string;
	entityId: string;
	before: unknown;
	after: unknown;
	requestId?: string;
}

/** Records one admin write; call it inside the write's transaction so both commit or neither. */
export async function recordAudit(db: Executor, entry: AuditEntry): Promise<void> {
	await db.insert(auditLog).values({
		actorId: entry.actorId,
		action: entry.action,
		entityType: entry.entityType,
		entityId: entry.entityId,
		before: entry.before ?? null,
		after: entry.after ?? null,
		requestId: entry.requestId ?? null,
	});
}
