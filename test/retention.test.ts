import { inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { accountTokens, deadLetters, notifications, outbox, processedEvents, refreshTokens } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { applyRetention, DEFAULT_RETENTION, type Retention, retentionOf } from "../workers/ops/retention.ts";
import { registerShopper } from "./accounts-helpers.ts";
import { withDb } from "./helpers.ts";

/**
 * Retention boundaries, with rows a day either side of each period. The
 * periods here are long (400 days), so no other test file's rows, all recent,
 * are ever near them while this file runs beside them.
 */
const PERIOD = 400;
const RETENTION: Retention = {
	refresh_tokens: PERIOD,
	account_tokens: PERIOD,
	processed_events: PERIOD,
	notification_bodies: PERIOD,
	dead_letters: PERIOD,
	outbox: PERIOD,
};
const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);
const OLD = daysAgo(PERIOD + 1);
const YOUNG = daysAgo(PERIOD - 1);

describe("retention (RETENTION_DAYS)", () => {
	it("purges each kind of record a day past its period and keeps it a day before, and what never ended", async () => {
		const { user } = await registerShopper();
		const tag = crypto.randomUUID().slice(0, 8);
		const ids = {
			refresh: [newId("rt"), newId("rt")],
			account: [newId("at"), newId("at")],
			events: [`old-${tag}`, `young-${tag}`],
			notifications: [`ntf_old_${tag}`, `ntf_young_${tag}`],
			letters: [`old-${tag}`, `young-${tag}`, `unreplayed-${tag}`],
		};
		const outboxIds = await withDb(async (db) => {
			const tx = db.primary;
			await tx.insert(refreshTokens).values([
				{ id: ids.refresh[0] as string, userId: user.id, familyId: tag, tokenHash: `old-${tag}`, expiresAt: OLD },
				{ id: ids.refresh[1] as string, userId: user.id, familyId: tag, tokenHash: `young-${tag}`, expiresAt: YOUNG },
			]);
			await tx.insert(accountTokens).values([
				{ id: ids.account[0] as string, userId: user.id, kind: "password_reset", tokenHash: `aold-${tag}`, expiresAt: OLD },
				{ id: ids.account[1] as string, userId: user.id, kind: "verify_email", tokenHash: `ayoung-${tag}`, expiresAt: YOUNG },
			]);
			await tx.insert(processedEvents).values([
				{ source: "retention-test", eventId: ids.events[0] as string, processedAt: OLD },
				{ source: "retention-test", eventId: ids.events[1] as string, processedAt: YOUNG },
			]);
			const mail = (id: string, createdAt: Date) => ({
				id,
				kind: "order_confirmation",
				eventId: id,
				recipient: "keep@example.com",
				subject: "Your order",
				html: "<p>body</p>",
				text: "body",
				status: "sent" as const,
				provider: "outbox",
				createdAt,
			});
			await tx.insert(notifications).values([mail(ids.notifications[0] as string, OLD), mail(ids.notifications[1] as string, YOUNG)]);
			await tx.insert(deadLetters).values([
				{ queue: "orders", messageId: ids.letters[0] as string, body: {}, attempts: 5, replayedAt: OLD },
				{ queue: "orders", messageId: ids.letters[1] as string, body: {}, attempts: 5, replayedAt: YOUNG },
				{ queue: "orders", messageId: ids.letters[2] as string, body: {}, attempts: 5, receivedAt: OLD },
			]);
			const rows = await tx
				.insert(outbox)
				.values([
					{ queue: "orders", body: { retention: tag }, publishedAt: OLD, createdAt: OLD },
					{ queue: "orders", body: { retention: tag }, publishedAt: YOUNG, createdAt: YOUNG },
				])
				.returning({ id: outbox.id });
			return rows.map((row) => row.id);
		});

		const purged = await withDb((db) => applyRetention(db.primary, RETENTION));
		// At least this test's old row of each kind (other files' rows are all younger than the period).
		for (const count of Object.values(purged)) expect(count).toBeGreaterThanOrEqual(1);

		const left = await withDb(async (db) => ({
			refresh: (await db.primary.select({ id: refreshTokens.id }).from(refreshTokens).where(inArray(refreshTokens.id, ids.refresh))).map(
				(r) => r.id,
			),
			account: (await db.primary.select({ id: accountTokens.id }).from(accountTokens).where(inArray(accountTokens.id, ids.account))).map(
				(r) => r.id,
			),
			events: (
				await db.primary.select({ id: processedEvents.eventId }).from(processedEvents).where(inArray(processedEvents.eventId, ids.events))
			).map((r) => r.id),
			notifications: await db.primary
				.select({ id: notifications.id, html: notifications.html, text: notifications.text, subject: notifications.subject })
				.from(notifications)
				.where(inArray(notifications.id, ids.notifications))
				.orderBy(notifications.id),
			letters: (
				await db.primary.select({ id: deadLetters.messageId }).from(deadLetters).where(inArray(deadLetters.messageId, ids.letters))
			).map((r) => r.id),
			outbox: (await db.primary.select({ id: outbox.id }).from(outbox).where(inArray(outbox.id, outboxIds))).map((r) => r.id),
		}));
		expect(left.refresh).toEqual([ids.refresh[1]]);
		expect(left.account).toEqual([ids.account[1]]);
		expect(left.events).toEqual([ids.events[1]]);
		// Old e-mails keep their row and subject; only the body goes.
		expect(left.notifications).toEqual([
			{ id: ids.notifications[0], html: "", text: "", subject: "Your order" },
			{ id: ids.notifications[1], html: "<p>body</p>", text: "body", subject: "Your order" },
		]);
		// A dead letter nobody replayed stays, however old.
		expect(left.letters.sort()).toEqual([ids.letters[1], ids.letters[2]].sort());
		expect(left.outbox).toEqual([outboxIds[1]]);

		// A second pass finds nothing more of this test's rows to purge.
		await withDb((db) => applyRetention(db.primary, RETENTION));
		const again = await withDb((db) => db.primary.select({ id: outbox.id }).from(outbox).where(inArray(outbox.id, outboxIds)));
		expect(again.map((r) => r.id)).toEqual([outboxIds[1]]);
	});

	it("reads its periods from RETENTION_DAYS, defaults for what it leaves out, and refuses a malformed one", () => {
		expect(retentionOf({})).toEqual(DEFAULT_RETENTION);
		expect(retentionOf({ RETENTION_DAYS: '{"outbox":2}' })).toEqual({ ...DEFAULT_RETENTION, outbox: 2 });
		expect(() => retentionOf({ RETENTION_DAYS: '{"outbox":0}' })).toThrow();
		expect(() => retentionOf({ RETENTION_DAYS: '{"sessions":5}' })).toThrow();
		expect(() => retentionOf({ RETENTION_DAYS: "nope" })).toThrow();
	});
});
