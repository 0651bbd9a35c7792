import { PaymentConfigurationError, type PaymentProvider } from "./provider.ts";
import { createStripeProvider } from "./stripe.ts";
import { createTestProvider, type TestPaymentProvider } from "./test-provider.ts";

export interface PaymentConfig {
	/** PAYMENT_PROVIDER: "stripe" or "test". */
	provider: string;
	/** STRIPE_SECRET_KEY */
	stripeSecretKey?: string;
	/** STRIPE_WEBHOOK_SECRET */
	stripeWebhookSecret?: string;
	/** TEST_PAYMENT_WEBHOOK_SECRET */
	testWebhookSecret?: string;
	/**
	 * APP_ENV. In "production" the test provider is refused: it lets anyone
	 * holding a confirm link mark an order paid without paying.
	 */
	appEnv?: string;
	/**
	 * STRIPE_API_BASE: where the Stripe adapter sends its calls (Stripe itself
	 * by default; a local stand-in in the tests). Refused in production, since
	 * the secret key goes wherever this points.
	 */
	stripeApiBase?: string;
}

/** Stripe's API, where the adapter's calls go unless STRIPE_API_BASE says otherwise. */
export const STRIPE_API = "https://api.stripe.com";

/**
 * The provider named by the configuration. Throws PaymentConfigurationError,
 * naming the setting to fix, when the name is unknown or a secret it needs is
 * missing (unset secrets arrive as empty strings, which count as missing).
 */
export function paymentProvider(config: PaymentConfig): PaymentProvider {
	switch (config.provider) {
		case "stripe": {
			const apiBase = config.stripeApiBase || STRIPE_API;
			if (apiBase !== STRIPE_API && config.appEnv === "production") {
				throw new PaymentConfigurationError(`STRIPE_API_BASE must be ${STRIPE_API} in production`);
			}
			return createStripeProvider({
				secretKey: required(config.stripeSecretKey, "STRIPE_SECRET_KEY"),
				webhookSecret: required(config.stripeWebhookSecret, "STRIPE_WEBHOOK_SECRET"),
				apiBase,
			});
		}
		case "test":
			if (config.appEnv === "production") throw new PaymentConfigurationError('PAYMENT_PROVIDER "test" is not allowed in production');
			return createTestProvider({ webhookSecret: required(config.testWebhookSecret, "TEST_PAYMENT_WEBHOOK_SECRET") });
		default:
			throw new PaymentConfigurationError(`PAYMENT_PROVIDER must be "stripe" or "test", not ${JSON.stringify(config.provider)}`);
	}
}

/** Narrows to the test provider, whose `buildWebhook` the confirm route needs. */
export function isTestProvider(provider: PaymentProvider): provider is TestPaymentProvider {
	return provider.name === "test" && "buildWebhook" in provider;
}

function required(value: string | undefined, name: string): string {
	if (!value) throw new PaymentConfigurationError(`${name} is not set (PAYMENT_PROVIDER needs it)`);
	return value;
}
