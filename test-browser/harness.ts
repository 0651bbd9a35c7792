/**
 * What the browser tests share: the stack `npm run test:browser` started
 * (named by environment variables it sets for the `node --test` process that
 * runs these files), one Chromium per test file, one browser context per
 * shopper or admin, and the screenshot every test leaves behind.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { HARNESS_ENV } from "./env.ts";

export interface BrowserHarness {
	/** The Worker under `wrangler dev`, e.g. http://127.0.0.1:41234. */
	readonly baseUrl: string;
	/** An admin account made for this run. */
	readonly admin: { readonly email: string; readonly password: string };
	/** test-results/browser: screenshots and page-weight.json. */
	readonly resultsDir: string;
	/** The Chromium binary. */
	readonly chromiumPath: string;
	/**
	 * The Stripe shop's settings, in the files that run against it
	 * (test-browser/env.ts `paysWithStripe`): the local stand-in for Stripe's
	 * API the Worker calls, its keys, and the secret Stripe's webhooks are signed with.
	 */
	readonly stripe:
		| { readonly apiBase: string; readonly secretKey: string; readonly publishableKey: string; readonly webhookSecret: string }
		| undefined;
}

export function harness(): BrowserHarness {
	const read = (name: string) => {
		const value = process.env[name];
		if (!value) {
			throw new Error(`${name} is not set: the browser tests run through \`npm run test:browser\`, which starts the stack first.`);
		}
		return value;
	};
	return {
		baseUrl: read(HARNESS_ENV.baseUrl),
		admin: { email: read(HARNESS_ENV.adminEmail), password: read(HARNESS_ENV.adminPassword) },
		resultsDir: read(HARNESS_ENV.resultsDir),
		chromiumPath: process.env[HARNESS_ENV.chromiumPath] || "/usr/bin/chromium",
		stripe: process.env[HARNESS_ENV.stripeApiBase]
			? {
					apiBase: read(HARNESS_ENV.stripeApiBase),
					secretKey: read(HARNESS_ENV.stripeSecretKey),
					publishableKey: read(HARNESS_ENV.stripePublishableKey),
					webhookSecret: read(HARNESS_ENV.stripeWebhookSecret),
				}
			: undefined,
	};
}

let launched: Promise<Browser> | undefined;

/** This test file's Chromium: launched on first use, closed after the file's tests. */
function browser(): Promise<Browser> {
	launched ??= chromium.launch({
		executablePath: harness().chromiumPath,
		headless: true,
		args: ["--no-sandbox", "--disable-background-networking"],
	});
	return launched;
}

after(async () => {
	if (launched) await (await launched).close();
});

/** Playwright waits for elements this long; the queue-driven waits pass their own, longer timeouts. */
const ACTION_TIMEOUT_MS = 20_000;
/** wrangler dev compiles on the first request and shares 2 CPUs with Postgres and Chromium in CI. */
const NAVIGATION_TIMEOUT_MS = 45_000;

/**
 * The browser contexts of one test (one per person: a guest shopper, a
 * second shopper, an admin), closed when the test ends. The page last
 * handed out or shown is the one the test ends on and is screenshotted.
 */
export class Session {
	readonly #contexts: BrowserContext[] = [];
	#last: Page | undefined;
	readonly pageErrors: string[] = [];

	/** A new person with an empty cookie jar and one open tab. */
	async person(): Promise<Page> {
		const { baseUrl } = harness();
		const context = await (await browser()).newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 }, locale: "en-GB" });
		this.#contexts.push(context);
		context.setDefaultTimeout(ACTION_TIMEOUT_MS);
		context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT_MS);
		const page = await context.newPage();
		page.on("pageerror", (err) => this.pageErrors.push(`${page.url()}: ${err.message}`));
		return this.show(page);
	}

	/** Marks the page the test is now looking at (the one its screenshot shows). */
	show(page: Page): Page {
		this.#last = page;
		return page;
	}

	/** Saves a full-page screenshot of `page` (default: the current one) as test-results/browser/{name}.png. */
	async screenshot(name: string, page: Page | undefined = this.#last): Promise<void> {
		if (!page || page.isClosed()) return;
		const { resultsDir } = harness();
		mkdirSync(resultsDir, { recursive: true });
		await page.screenshot({ path: path.join(resultsDir, `${name}.png`), fullPage: true, timeout: ACTION_TIMEOUT_MS });
	}

	async close(screenshotName: string): Promise<void> {
		try {
			await this.screenshot(screenshotName);
		} catch (err) {
			console.error(`[test-browser] no screenshot for ${screenshotName}: ${err instanceof Error ? err.message : String(err)}`);
		}
		await Promise.all(this.#contexts.map((context) => context.close().catch(() => {})));
	}
}

/** A test name as a file name: "a guest's cart survives sign-in" → "a-guest-s-cart-survives-sign-in". */
export function fileNameOf(name: string): string {
	return (
		name
			.toLowerCase()
			.replace(/[^a-z0-9]+/g, "-")
			.replace(/^-|-$/g, "")
			.slice(0, 100) || "test"
	);
}

/**
 * A node:test test with a fresh Session: whatever happens, its last page is
 * saved as test-results/browser/{test name}.png and its contexts are closed.
 * Uncaught errors in the pages (a broken app.js, a CSP refusal that throws)
 * fail the test.
 */
export function browserTest(name: string, body: (session: Session) => Promise<void>, options: { timeout?: number } = {}): void {
	test(name, { timeout: options.timeout ?? 180_000 }, async () => {
		const session = new Session();
		try {
			await body(session);
			if (session.pageErrors.length > 0) throw new Error(`errors thrown in the page:\n${session.pageErrors.join("\n")}`);
		} finally {
			await session.close(fileNameOf(name));
		}
	});
}
