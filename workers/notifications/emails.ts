import { and, count, eq, gt, inArray, sql } from "drizzle-orm";
import { normalizeEmail } from "../auth/email.ts";
import type { Db, Tx } from "../db/client.ts";
import { notifications } from "../db/schema.ts";
import { type EmailProvider, EmailProviderError } from "./email-provider.ts";
import type { EmailMessage } from "./email-schemas.ts";
import { type EmailLimit, emailLimit } from "./limits.ts";
import { outbound } from "./outbound.ts";
import { hasRedactedSecret, scrub, secretsOf, storedCopy } from "./redaction.ts";
import { createResendProvider } from "./resend.ts";
import { renderEmail } from "./templates.ts";

/**
 * The development adapter: nothing leaves the machine. "Sending" is recording
 * that the message would have gone; `GET /v1/admin/notifications` shows the
 * stored copy, which like every stored copy has its link tokens redacted, so
 * this log is no way into a customer's account. A flow that needs the real
 * link gets it where the customer would: from the message the consumer is
 * handed (the tests capture the notifications queue) or from a provider that
 * delivers it (`resend`).
 */
const outboxProvider: EmailProvider = {
	name: "outbox",
	send: async (message) => ({ providerMessageId: `outbox:${message.idempotencyKey}` }),
};

/** The configured e-mail provider (EMAIL_PROVIDER). */
export function emailProviderFor(env: Env): EmailProvider {
	switch (env.EMAIL_PROVIDER) {
		case "resend":
			return createResendProvider({ apiKey: env.RESEND_API_KEY, fetch: (input, init) => outbound.fetch(input, init) });
		case "outbox":
			return outboxProvider;
		default:
			throw new Error(`EMAIL_PROVIDER must be "outbox" or "resend", not "${env.EMAIL_PROVIDER}"`);
	}
}

export type EmailOutcome = "sent" | "failed" | "skipped" | "limited" | "duplicate";

/** The deterministic id of one e-mail: the event, the recipient and the kind. */
export function notificationId(eventId: string, recipient: string, kind: string): string {
	return `${eventId}|${recipient}|${kind}`;
}

const UNSENDABLE = "Not sent: its link token was redacted when it was dead-lettered. The customer can ask for a new link.";

/**
 * Sends one e-mail at most once (invariant I3). The row, keyed by event +
 * recipient + kind, is written before the provider is called; a redelivered
 * event finds it finished and sends nothing. A provider 5xx or timeout throws
 * (the queue retries with backoff, under the same provider idempotency key);
 * a 4xx is recorded as failed and not retried. `skip` records an e-mail that
 * is not sent on purpose (an opted-out shopper).
 *
 * The row holds the stored copy (redaction.ts); only the provider is handed
 * the real rendering. A new row is admitted under the recipient's limit for
 * its kind (limits.ts): counted and written under a lock per recipient and
 * kind, so concurrent consumers cannot both take the last place; one over is
 * written as `limited` and never sent. A retry of an admitted row is not
 * counted again.
 */
export async function sendEmail(
	env: Env,
	db: Db,
	eventId: string,
	to: string,
	message: EmailMessage,
	{ skip = false }: { skip?: boolean } = {},
): Promise<EmailOutcome> {
	const provider = emailProviderFor(env);
	const id = notificationId(eventId, to, message.kind);
	const recipient = normalizeEmail(to);
	const options = { baseUrl: env.PUBLIC_BASE_URL, shopName: env.SHOP_NAME };
	const unsendable = hasRedactedSecret(message);
	// Rendered first: a message that cannot render fails before anything is recorded.
	const rendered = unsendable ? undefined : renderEmail(message, options);
	const stored = storedCopy(message, options);
	const secrets = secretsOf(message);
	const status = await db.transaction(async (tx) => {
		await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`email:${message.kind}:${recipient}`}, 0))`);
		const [row] = await tx.select({ status: notifications.status }).from(notifications).where(eq(notifications.id, id));
		if (row) return row.status === "sending" ? "sending" : undefined;
		const admitted = await admission(tx, recipient, message.kind, { skip, unsendable, limit: emailLimit(env, message.kind) });
		await tx.insert(notifications).values({
			id,
			kind: message.kind,
			eventId,
			recipient,
			subject: stored.subject,
			html: stored.html,
			text: stored.text,
			provider: provider.name,
			status: admitted.status,
			lastError: admitted.reason,
		});
		return admitted.status;
	});
	if (status === undefined) return "duplicate";
	if (status !== "sending") return status;
	if (!rendered) {
		// An earlier delivery left the row sending; this one's token was redacted on the way through the dead-letter queue.
		await db.update(notifications).set({ status: "failed", lastError: UNSENDABLE }).where(eq(notifications.id, id));
		return "failed";
	}
	try {
		const { providerMessageId } = await provider.send({
			to,
			from: env.EMAIL_FROM,
			subject: rendered.subject,
			html: rendered.html,
			text: rendered.text,
			idempotencyKey: id,
			tags: { kind: message.kind },
		});
		await db
			.update(notifications)
			.set({ status: "sent", providerMessageId, attempts: sql`${notifications.attempts} + 1`, sentAt: sql`now()`, lastError: null })
			.where(eq(notifications.id, id));
		return "sent";
	} catch (err) {
		const permanent = err instanceof EmailProviderError && err.kind === "permanent";
		await db
			.update(notifications)
			.set({
				attempts: sql`${notifications.attempts} + 1`,
				lastError: err instanceof Error ? scrub(`${err.name}: ${err.message}`, secrets).slice(0, 500) : "unknown error",
				...(permanent ? { status: "failed" as const } : {}),
			})
			.where(eq(notifications.id, id));
		if (permanent) return "failed";
		throw err;
	}
}

type NotificationStatus = (typeof notifications.$inferSelect)["status"];

/** Whether a new e-mail goes out (`sending`), and why not when it does not. */
async function admission(
	tx: Tx,
	recipient: string,
	kind: EmailMessage["kind"],
	{ skip, unsendable, limit }: { skip: boolean; unsendable: boolean; limit: EmailLimit },
): Promise<{ status: NotificationStatus; reason: string | null }> {
	if (skip) return { status: "skipped", reason: null };
	if (unsendable) return { status: "failed", reason: UNSENDABLE };
	if ((await sentWithin(tx, recipient, kind, limit.period)) >= limit.limit) {
		return {
			status: "limited",
			reason: `Not sent: ${limit.limit} ${kind} e-mails to this address within ${limit.period} s already (EMAIL_LIMITS).`,
		};
	}
	return { status: "sending", reason: null };
}

/** E-mails of `kind` admitted for `recipient` (sent, or still being sent) in the last `period` seconds. */
async function sentWithin(tx: Tx, recipient: string, kind: string, period: number): Promise<number> {
	const [row] = await tx
		.select({ n: count() })
		.from(notifications)
		.where(
			and(
				eq(notifications.recipient, recipient),
				eq(notifications.kind, kind),
				inArray(notifications.status, ["sending", "sent"]),
				gt(notifications.createdAt, sql`now() - make_interval(secs => ${period})`),
			),
		);
	return row?.n ?? 0;
}
