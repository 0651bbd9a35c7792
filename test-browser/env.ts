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
} as const;
