import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * Tests run inside workerd with the bindings from wrangler.toml. The global
 * setup (Node) starts the embedded Postgres and the WebSocket proxy, or uses
 * TEST_DATABASE_URL, and the stand-in for Stripe's API, and hands their
 * addresses to the Worker's bindings.
 */
export default defineConfig({
	plugins: [
		cloudflareTest(({ inject }) => ({
			wrangler: { configPath: "./wrangler.toml" },
			miniflare: {
				bindings: {
					DATABASE_URL: inject<string>("databaseUrl"),
					DATABASE_WS_PROXY: inject<string>("databaseWsProxy"),
					JWT_KEYS: inject<string>("jwtKeys"),
					CORS_ORIGINS: "http://localhost:8787,https://shop.test",
					TEST_PAYMENT_WEBHOOK_SECRET: "whsec_test_suite_only",
					CARRIER_WEBHOOK_SECRET: "carrier_test_suite_only",
					// Low enough that abuse.test.ts can open one socket past it.
					MAX_LIVE_SOCKETS_PER_SKU: "20",
					// Used only where a test sets PAYMENT_PROVIDER to "stripe": the local stand-in for Stripe's API and the key it accepts.
					STRIPE_API_BASE: inject<string>("stripeApiBase"),
					STRIPE_SECRET_KEY: inject<string>("stripeSecretKey"),
				},
			},
		})),
	],
	test: {
		globalSetup: ["./test/global-setup.ts"],
		include: ["test/**/*.test.ts", "workers/**/*.test.ts", "durable-objects/**/*.test.ts"],
		silent: "passed-only",
		testTimeout: 30_000,
		hookTimeout: 60_000,
	},
});
