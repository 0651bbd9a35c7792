/**
 * The environment variables through which scripts/test-browser.ts tells the
 * `node --test` process running test-browser/*.test.ts where the stack is.
 * A module of its own: the runner must not import node:test.
 */
export const HARNESS_ENV = {
	baseUrl: "BROWSER_TEST_BASE_URL",
	adminEmail: "BROWSER_TEST_ADMIN_EMAIL",
	adminPassword: "BROWSER_TEST_ADMIN_PASSWORD",
	resultsDir: "BROWSER_TEST_RESULTS_DIR",
	chromiumPath: "CHROMIUM_PATH",
	/** The Worker's Stripe settings, for the files that run against a Stripe shop (see `paysWithStripe`). */
	stripeApiBase: "BROWSER_TEST_STRIPE_API_BASE",
	stripeSecretKey: "BROWSER_TEST_STRIPE_SECRET_KEY",
	stripePublishableKey: "BROWSER_TEST_STRIPE_PUBLISHABLE_KEY",
	stripeWebhookSecret: "BROWSER_TEST_STRIPE_WEBHOOK_SECRET",
} as const;

/**
 * Test files named `*stripe*` run against the Worker configured for Stripe
 * (PAYMENT_PROVIDER = "stripe", its API answered by the local stand-in);
 * every other file against the test provider.
 */
export function paysWithStripe(file: string): boolean {
	return /stripe/i.test(file.split(/[\\/]/).pop() ?? file);
}
