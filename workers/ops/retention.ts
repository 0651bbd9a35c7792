import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { accountTokens, deadLetters, notifications, outbox, processedEvents, refreshTokens } from "../db/schema.ts";

/**
 * Retention: what the platform stops keeping, and after how long (days, in
 * RETENTION_DAYS), run by the scheduled handler in bounded batches so no run
 * holds a table for long. Each period counts from the moment a row stopped
 * mattering:
 *
 * - `refresh_tokens`: sessions, after their token expired (a revoked or
 *   rotated token stays until then: presenting it must still revoke its family);
 * - `account_tokens`: e-mail verification and password-reset links, after they expired;
 * - `processed_events`: the de-duplication record of provider webhooks and
 *   queue messages, after they were applied (longer than any provider retries:
 *   Stripe retries for three days, its Events API keeps thirty);
 * - `notification_bodies`: the rendered text and HTML of e-mails, after they
 *   were created (the row, its recipient, subject and status stay for the record);
 * - `dead_letters`: after they were replayed (unreplayed ones stay until someone looks);
 * - `outbox`: messages, after they were published.
 *
 * Idempotency keys are purged on their own, past their 24-hour replay
 * window (idempotency/store.ts).
 */

const Days = z.number().int().min(1).max(3650);
const RetentionSchema = z
	.object({
		refresh_tokens: Days,
		account_tokens: Days,
		processed_events: Days,
		notification_bodies: Days,
		dead_letters: Days,
		outbox: Days,
	})
	.strict();

export type Retention = z.infer<typeof RetentionSchema>;
export type RetentionTarget = keyof Retention;

/** RETENTION_DAYS when it is not set. */
export const DEFAULT_RETENTION: Retention = {
	refresh_tokens: 30,
	account_tokens: 7,
	processed_events: 35,
	notification_bodies: 90,
	dead_letters: 30,
	outbox: 7,
};

/** Rows one run touches per target at most; a backlog is worked off over the next runs. */
export const RETENTION_BATCH = 2000;

/** The configured periods; a malformed RETENTION_DAYS is a deployment error and throws (the job fails, loudly). */
export function retentionOf(env: { RETENTION_DAYS?: string }): Retention {
	if (!env.RETENTION_DAYS) return DEFAULT_RETENTION;
	return RetentionSchema.parse({ ...DEFAULT_RETENTION, ...JSON.parse(env.RETENTION_DAYS) });
}

const before = (days: number) => sql`now() - make_interval(days => ${days})`;

/** Deletes up to `limit` rows of `table` matching `where`, by ctid, so one statement stays short. */
async function deleteBatch(db: Db, table: SQL, where: SQL, limit: number): Promise<number> {
	const result = await db.execute(sql`DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${where} LIMIT ${limit})`);
	return result.rowCount ?? 0;
}

/**
 * One retention pass: what each target purged (rows deleted, or notification
 * bodies emptied). Targets run one after another; a failing one is reported
 * by the scheduled handler and retried by the next run.
 */
export async function applyRetention(db: Db, retention: Retention, limit = RETENTION_BATCH): Promise<Record<RetentionTarget, number>> {
	const refresh = await deleteBatch(
		db,
		sql`${refreshTokens}`,
		sql`${refreshTokens.expiresAt} < ${before(retention.refresh_tokens)}`,
		limit,
	);
	const account = await deleteBatch(
		db,
		sql`${accountTokens}`,
		sql`${accountTokens.expiresAt} < ${before(retention.account_tokens)}`,
		limit,
	);
	const processed = await deleteBatch(
		db,
		sql`${processedEvents}`,
		sql`${processedEvents.processedAt} < ${before(retention.processed_events)}`,
		limit,
	);
	const bodies = await db.execute(sql`
		UPDATE ${notifications} SET html = '', text = ''
		WHERE ctid IN (
			SELECT ctid FROM ${notifications}
			WHERE ${notifications.createdAt} < ${before(retention.notification_bodies)} AND (html <> '' OR text <> '')
			LIMIT ${limit}
		)`);
	const letters = await deleteBatch(
		db,
		sql`${deadLetters}`,
		sql`${deadLetters.replayedAt} IS NOT NULL AND ${deadLetters.replayedAt} < ${before(retention.dead_letters)}`,
		limit,
	);
	const published = await deleteBatch(
		db,
		sql`${outbox}`,
		sql`${outbox.publishedAt} IS NOT NULL AND ${outbox.publishedAt} < ${before(retention.outbox)}`,
		limit,
	);
	return {
		refresh_tokens: refresh,
		account_tokens: account,
		processed_events: processed,
		notification_bodies: bodies.rowCount ?? 0,
		dead_letters: letters,
		outbox: published,
	};
}
