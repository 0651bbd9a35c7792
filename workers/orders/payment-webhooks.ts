import { DomainError, notFound } from "../domain/errors.ts";
import { WebhookPayloadError, WebhookSignatureError } from "../payments/provider.ts";
import { createTestProvider } from "../payments/test-provider.ts";
import { envelope } from "../queues/envelope.ts";
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
		await env.ORDERS_QUEUE.send(envelope(`payment:${event.provider}:${event.id}`, "payment.event", { ...event }), { contentType: "json" });
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
 * The caller has found the payment row (provider `test`) it settles.
 */
export async function sendTestPaymentEvent(
	env: Env,
	payment: Pick<PaymentRow, "orderId" | "amountMinor" | "currency">,
	providerPaymentId: string,
	outcome: "succeeded" | "failed",
): Promise<{ received: true; queued: boolean }> {
	const webhook = await createTestProvider({ webhookSecret: env.TEST_PAYMENT_WEBHOOK_SECRET }).buildWebhook({
		type: outcome === "succeeded" ? "payment.succeeded" : "payment.failed",
		providerPaymentId,
		orderId: payment.orderId,
		amount: payment.amountMinor,
		currency: payment.currency,
	});
	return acceptWebhook(env, "test", webhook.body, new Headers(webhook.headers));
}
