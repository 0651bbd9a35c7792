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

/** Who made an admin write: the admin's user id, and the id of the request that carried it when there is one. */
export interface AuditActor {
	userId: string;
	requestId?: string | undefined;
}

/**
 * Fields that hold secrets wherever they appear (webhook signing secrets,
 * token hashes, password hashes). Writers pass views that leave them out;
 * this is the backstop, so a view that grows one later still never writes
 * it to a log every admin can read (I10).
 */
const SECRET_FIELDS = new Set([
	"secret",
	"previous_secret",
	"previousSecret",
	"password",
	"password_hash",
	"passwordHash",
	"token",
	"token_hash",
	"tokenHash",
	"access_token_hash",
	"accessTokenHash",
	"refresh_token",
]);

/** A copy of `value` with its secret fields' values replaced by "[redacted]", at any depth. */
function withoutSecrets(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(withoutSecrets);
	if (!value || typeof value !== "object" || value instanceof Date) return value;
	return Object.fromEntries(
		Object.entries(value).map(([key, child]) => [key, SECRET_FIELDS.has(key) ? "[redacted]" : withoutSecrets(child)]),
	);
}

/** Records one admin write; call it inside the write's transaction so both commit or neither. */
export async function recordAudit(db: Executor, entry: AuditEntry): Promise<void> {
	await db.insert(auditLog).values({
		actorId: entry.actorId,
		action: entry.action,
		entityType: entry.entityType,
		entityId: entry.entityId,
		before: withoutSecrets(entry.before ?? null),
		after: withoutSecrets(entry.after ?? null),
		requestId: entry.requestId ?? null,
	});
}
