import { DomainError } from "../domain/errors.ts";
import { paymentProvider } from "../payments/index.ts";
import type { PaymentProvider } from "../payments/provider.ts";

let cached: { key: string; provider: PaymentProvider } | undefined;

/** The configured payment provider (PAYMENT_PROVIDER), built once per isolate. */
export function paymentsFor(env: Env): PaymentProvider {
	const key = `${env.APP_ENV}\n${env.PAYMENT_PROVIDER}\n${env.STRIPE_SECRET_KEY}\n${env.STRIPE_WEBHOOK_SECRET}\n${env.TEST_PAYMENT_WEBHOOK_SECRET}\n${env.STRIPE_API_BASE}`;
	if (cached?.key !== key) {
		cached = {
			key,
			provider: paymentProvider({
				provider: env.PAYMENT_PROVIDER,
				stripeSecretKey: env.STRIPE_SECRET_KEY,
				stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET,
				testWebhookSecret: env.TEST_PAYMENT_WEBHOOK_SECRET,
				appEnv: env.APP_ENV,
				stripeApiBase: env.STRIPE_API_BASE,
			}),
		};
	}
	return cached.provider;
}

/** A refund the provider could not make (502, retry later): nothing was changed on our side. */
export function providerFailed(err: unknown): DomainError {
	return new DomainError("payment_provider_unavailable", {
		detail: "The refund could not be made; nothing changed. Retry shortly.",
		retryAfterSeconds: 5,
		cause: err,
	});
}
