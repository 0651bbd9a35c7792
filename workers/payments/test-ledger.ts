/**
 * The test provider's ledger in Postgres (`test_provider_payments`): the
 * payments it confirmed, one row per `payment.succeeded` event, listed the
 * way Stripe lists events (newest first, a page at a time, the next page
 * after the last event id). Development and tests only: with Stripe the
 * provider's record is Stripe's own.
 */
import { and, desc, gte, lte, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { testProviderPayments } from "../db/schema.ts";
import type { PaymentEvent, SucceededPaymentsQuery } from "./provider.ts";
import type { TestPaymentLedger } from "./test-provider.ts";

/** A ledger kept in `db`. */
export function postgresTestLedger(db: Db): TestPaymentLedger {
	return {
		async record(event: PaymentEvent): Promise<void> {
			await db
				.insert(testProviderPayments)
				.values({
					eventId: event.id,
					providerPaymentId: event.providerPaymentId,
					orderId: event.orderId,
					amountMinor: event.amount,
					currency: event.currency,
					succeededAt: new Date(event.occurredAt),
				})
				.onConflictDoNothing();
		},

		async list({ since, until, cursor, limit = 100 }: SucceededPaymentsQuery) {
			const t = testProviderPayments;
			const rows = await db
				.select()
				.from(t)
				.where(
					and(
						gte(t.succeededAt, new Date(since)),
						lte(t.succeededAt, new Date(until)),
						// Keyset after the cursor's row, in the listing's order; an unknown cursor lists nothing.
						cursor
							? sql`(${t.succeededAt}, ${t.eventId}) < (SELECT c.succeeded_at, c.event_id FROM ${t} c WHERE c.event_id = ${cursor})`
							: undefined,
					),
				)
				.orderBy(desc(t.succeededAt), desc(t.eventId))
				.limit(limit + 1);
			const page = rows.slice(0, limit);
			const entries = page.map((row) => ({
				id: row.eventId,
				type: "payment.succeeded",
				provider: "test",
				providerPaymentId: row.providerPaymentId,
				orderId: row.orderId,
				amount: row.amountMinor,
				currency: row.currency,
				occurredAt: row.succeededAt.getTime(),
			}));
			return { entries, nextCursor: rows.length > limit ? (page.at(-1)?.eventId ?? null) : null };
		},
	};
}
