import { Database } from "../db/client.ts";
import { DomainError, notFound } from "../domain/errors.ts";
import { WebhookPayloadError, WebhookSignatureError } from "../payments/provider.ts";
import { postgresTestLedger } from "../payments/test-ledger.ts";
import { createTestProvider, type TestWebhook } from "../payments/test-provider.ts";
import { paymentEnvelope } from "./events.ts";
import type { PaymentRow } from "./orders.ts";
import { paymentsFor } from "./payments.ts";

/**
 * Verifies and queues a provider event. Nothing here needs the database, so
 * webhooks are accepted while Postgres is down and applied when it is back.
 * Shared by the webhook route, the test provider's confirm route and the
 * storefront's "Pay now" form, so a simulated payment takes the real path.
 */
export async function acceptWebhook(
	env: Env,
	provider: string,
	rawBody: string,
	headers: Headers,
): Promise<{ received: true; queued: boolean }> {
	if (provider !== env.PAYMENT_PROVIDER) throw notFound("No such payment provider.");
	let event: Awaited<ReturnType<ReturnType<typeof paymentsFor>["parseWebhook"]>>;
	try {
		event = await paymentsFor(env).parseWebhook(rawBody, headers);
	} catch (err) {
		if (err instanceof WebhookSignatureError) {
			throw new DomainError("invalid_signature", { detail: "The webhook signature is missing, wrong or too old." });
		}
		if (err instanceof WebhookPayloadError) {
			throw new DomainError("malformed_event", { detail: "The signed body is not an event this endpoint can read." });
		}
		throw err;
	}
	if (!event) return { received: true, queued: false };
	try {
		await env.ORDERS_QUEUE.send(paymentEnvelope(event), { contentType: "json" });
	} catch (cause) {
		throw new DomainError("queue_unavailable", {
			detail: "The event could not be queued. The provider will deliver it again.",
			retryAfterSeconds: 5,
			cause,
		});
	}
	return { received: true, queued: true };
}

/**
 * The test provider's "pay" step: a correctly signed webhook for the outcome,
 * sent through `acceptWebhook` exactly as a delivery from outside would be.
 * A success is kept in the provider's ledger first, as Stripe has the money
 * before it calls us, so reconciliation finds it if the webhook is lost.
 * The caller has found the payment row (provider `test`) it settles;
 * `overrides` simulate a payment of another amount or currency.
 */
export async function sendTestPaymentEvent(
	env: Env,
	payment: Pick<PaymentRow, "orderId" | "amountMinor" | "currency">,
	providerPaymentId: string,
	outcome: "succeeded" | "failed",
	overrides: { amount?: number | undefined; currency?: string | undefined } = {},
): Promise<{ received: true; queued: boolean }> {
	// The ledger stands for the provider's own database: its own handle, closed before the webhook goes out.
	const ledgerDb = new Database(env);
	let webhook: TestWebhook;
	try {
		const provider = createTestProvider({ webhookSecret: env.TEST_PAYMENT_WEBHOOK_SECRET, ledger: postgresTestLedger(ledgerDb.primary) });
		webhook = await provider.settle({
			type: outcome === "succeeded" ? "payment.succeeded" : "payment.failed",
			providerPaymentId,
			orderId: payment.orderId,
			amount: overrides.amount ?? payment.amountMinor,
			currency: overrides.currency ?? payment.currency,
		});
	} finally {
		await ledgerDb.close();
	}
	return acceptWebhook(env, "test", webhook.body, new Headers(webhook.headers));
}
