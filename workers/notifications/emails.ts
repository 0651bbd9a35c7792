import { eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { notifications } from "../db/schema.ts";
import { type EmailProvider, EmailProviderError } from "./email-provider.ts";
import type { EmailMessage } from "./email-schemas.ts";
import { outbound } from "./outbound.ts";
import { createResendProvider } from "./resend.ts";
import { renderEmail } from "./templates.ts";

/**
 * The development adapter: nothing leaves the machine. The message is already
 * stored in `notifications` with its rendered content, so "sending" is
 * recording that it would have gone; `GET /v1/admin/notifications` shows it.
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

export type EmailOutcome = "sent" | "failed" | "skipped" | "duplicate";

/** The deterministic id of one e-mail: the event, the recipient and the kind. */
export function notificationId(eventId: string, recipient: string, kind: string): string {
	return `${eventId}|${recipient}|${kind}`;
}

/**
 * Sends one e-mail at most once (invariant I3). The row, keyed by event +
 * recipient + kind, is written before the provider is called; a redelivered
 * event finds it finished and sends nothing. A provider 5xx or timeout throws
 * (the queue retries with backoff, under the same provider idempotency key);
 * a 4xx is recorded as failed and not retried. `skip` records an e-mail that
 * is not sent on purpose (an opted-out shopper).
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
	const rendered = renderEmail(message, { baseUrl: env.PUBLIC_BASE_URL, shopName: env.SHOP_NAME });
	await db
		.insert(notifications)
		.values({
			id,
			kind: message.kind,
			eventId,
			recipient: to,
			subject: rendered.subject,
			html: rendered.html,
			text: rendered.text,
			provider: provider.name,
			status: skip ? "skipped" : "sending",
		})
		.onConflictDoNothing();
	const [row] = await db.select({ status: notifications.status }).from(notifications).where(eq(notifications.id, id));
	if (row?.status !== "sending") return row?.status === "skipped" && skip ? "skipped" : "duplicate";
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
				lastError: err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 500) : "unknown error",
				...(permanent ? { status: "failed" as const } : {}),
			})
			.where(eq(notifications.id, id));
		if (permanent) return "failed";
		throw err;
	}
}
