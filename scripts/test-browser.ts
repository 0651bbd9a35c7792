/**
 * `npm run test:browser`: the storefront and admin console in a real browser.
 * Starts the local stack as `npm run dev` does, but all of it fresh and
 * private to this run (an in-memory embedded Postgres, `wrangler dev` with
 * its state in a new temporary folder, free ports), seeds the demo catalog,
 * its opening stock and images, and an admin; then runs test-browser/*.test.ts
 * one file after another with `node --test`, each file driving its own
 * Chromium through playwright-core. Everything it started is stopped
 * afterwards, whatever happened.
 *
 * The files about Stripe (test-browser/env.ts `paysWithStripe`) run last,
 * against the same database and Miniflare state but a Worker restarted with
 * PAYMENT_PROVIDER = "stripe". Stripe's API cannot be reached from here, so
 * that Worker's STRIPE_API_BASE points at a local stand-in started by this
 * script (scripts/lib/fake-stripe.ts); Stripe.js is stood in for inside the
 * page by those files themselves.
 *
 * Screenshots (one per test, plus product-page.png and admin-orders.png),
 * page-weight.json and the Worker's log go to test-results/browser/.
 * Arguments filter the test files: `npm run test:browser -- admin` runs
 * test-browser/2-admin.test.ts only. CHROMIUM_PATH names another Chromium.
 */
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PageWeight } from "../test-browser/4-page-weight.test.ts";
import { HARNESS_ENV, paysWithStripe } from "../test-browser/env.ts";
import { generatePassword, upsertAdmin } from "./lib/admins.ts";
import { type FakeStripe, startFakeStripe } from "./lib/fake-stripe.ts";
import { generateKeySet } from "./lib/jwt-keys.ts";
import { freePort } from "./lib/ports.ts";
import { seedDemoCatalog } from "./lib/seed.ts";
import { login, seedDemoMedia } from "./lib/seed-media.ts";
import { seedDemoStock } from "./lib/seed-stock.ts";
import { type DatabaseStack, startDatabaseStack } from "./lib/stack.ts";
import { projectRoot, startWranglerDev, type WranglerDev } from "./lib/wrangler-dev.ts";

const log = (line: string) => console.log(`[test-browser] ${line}`);
const started = performance.now();
const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;

const testDir = path.join(projectRoot, "test-browser");
const resultsDir = path.join(projectRoot, "test-results", "browser");
/**
 * The test files, in the order of their numbered names: the shopper flows
 * first, so the admin's order list has orders in its screenshot.
 */
function testFiles(filters: string[]): string[] {
	return readdirSync(testDir)
		.filter((file) => file.endsWith(".test.ts"))
		.filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
		.sort()
		.map((file) => path.join(testDir, file));
}

/**
 * wrangler dev restarts the Worker when a source file changes (it cannot be
 * told not to watch), cutting off requests in flight: counted, so a failure
 * it caused says so.
 */
let workerReloads = 0;

let stack: DatabaseStack | undefined;
let worker: WranglerDev | undefined;
let stripeApi: FakeStripe | undefined;
let persistTo: string | undefined;
let stopping: Promise<void> | undefined;

function stopAll(): Promise<void> {
	stopping ??= (async () => {
		await worker?.stop().catch(() => {});
		await stripeApi?.stop().catch(() => {});
		await stack?.stop().catch(() => {});
		if (persistTo) rmSync(persistTo, { recursive: true, force: true });
	})();
	return stopping;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.once(signal, () => {
		log(`${signal}: stopping the stack and the browser…`);
		void stopAll().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
	});
}

function printPageWeight(pages: PageWeight[]): void {
	const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
	const header = ["page", "JS files", "JS compressed", "JS raw", "CSS files", "CSS compressed", "CSS raw"];
	const rows = pages.map((p) => [
		`${p.page} (${p.path})`,
		String(p.js.files),
		kb(p.js.compressed_bytes),
		kb(p.js.raw_bytes),
		String(p.css.files),
		kb(p.css.compressed_bytes),
		kb(p.css.raw_bytes),
	]);
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
	const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
	console.log(`\npage weight (budget 50 KB of JS and 50 KB of CSS per page, compressed)\n${line(header)}`);
	console.log(widths.map((w) => "-".repeat(w)).join("  "));
	for (const row of rows) console.log(line(row));
}

/** Runs test files in one `node --test` process, `env` telling them where the stack is (HARNESS_ENV); resolves with its exit code. */
function runTests(files: string[], env: Record<string, string>): Promise<number> {
	return new Promise<number>((resolve, reject) => {
		const child = spawn(process.execPath, ["--test", "--test-concurrency=1", "--test-reporter=spec", "--test-timeout=300000", ...files], {
			stdio: "inherit",
			env: { ...process.env, ...env },
		});
		child.once("error", reject);
		child.once("exit", (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
	});
}

let failures = 0;
try {
	const files = testFiles(process.argv.slice(2));
	if (files.length === 0) throw new Error(`no test file in test-browser/ matches ${process.argv.slice(2).join(", ")}`);
	rmSync(resultsDir, { recursive: true, force: true });
	mkdirSync(resultsDir, { recursive: true });

	// Always a fresh in-memory database (DATABASE_URL is not used): the opening stock goes in through
	// idempotent adjustments whose keys live in Postgres, so an old database would leave new Durable Objects empty.
	stack = await startDatabaseStack({ dbPort: 0, proxyPort: 0, log });
	await seedDemoCatalog(stack.databaseUrl, { mode: "if-empty" });
	// Two admins: the opening stock and images are put in by one, the tests sign in as the other.
	// Sign-ins are limited per address (LIMIT_AUTH_EMAIL, 5 a minute) and the tests sign their
	// admin in four times within a minute (2-admin, 4-page-weight, 6-markets-returns twice), so the
	// seeding's own two or three sign-ins under the same address would push the last one over.
	const admin = { email: "browser-admin@example.test", password: generatePassword() };
	await upsertAdmin(stack.databaseUrl, { ...admin, name: "Browser test admin" });
	const seeder = { email: "browser-seeder@example.test", password: generatePassword() };
	await upsertAdmin(stack.databaseUrl, { ...seeder, name: "Browser test seeding" });

	const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
	if (!existsSync(chromiumPath)) {
		throw new Error(`no Chromium at ${chromiumPath}: install Debian's (apt-get install chromium) or set CHROMIUM_PATH`);
	}

	const shared = {
		DATABASE_URL: stack.databaseUrl,
		DATABASE_WS_PROXY: stack.wsProxy,
		JWT_KEYS: await generateKeySet(1),
		TEST_PAYMENT_WEBHOOK_SECRET: `whsec_${crypto.randomUUID().replaceAll("-", "")}`,
	};
	const groups: { provider: "test" | "stripe"; files: string[] }[] = [
		{ provider: "test" as const, files: files.filter((file) => !paysWithStripe(file)) },
		{ provider: "stripe" as const, files: files.filter(paysWithStripe) },
	].filter((group) => group.files.length > 0);
	let stripeVars: Record<string, string> = {};
	let stripeHarness: Record<string, string> = {};
	if (groups.some((group) => group.provider === "stripe")) {
		stripeApi = await startFakeStripe({ secretKey: `sk_test_browser_${crypto.randomUUID().replaceAll("-", "")}` });
		const publishableKey = `pk_test_browser_${crypto.randomUUID().replaceAll("-", "")}`;
		const webhookSecret = `whsec_${crypto.randomUUID().replaceAll("-", "")}`;
		stripeVars = {
			PAYMENT_PROVIDER: "stripe",
			STRIPE_SECRET_KEY: stripeApi.secretKey,
			STRIPE_WEBHOOK_SECRET: webhookSecret,
			STRIPE_PUBLISHABLE_KEY: publishableKey,
			STRIPE_API_BASE: stripeApi.url,
		};
		stripeHarness = {
			[HARNESS_ENV.stripeApiBase]: stripeApi.url,
			[HARNESS_ENV.stripeSecretKey]: stripeApi.secretKey,
			[HARNESS_ENV.stripePublishableKey]: publishableKey,
			[HARNESS_ENV.stripeWebhookSecret]: webhookSecret,
		};
		log(`stand-in for Stripe's API at ${stripeApi.url}`);
	}

	persistTo = mkdtempSync(path.join(tmpdir(), "edge-commerce-browser-"));
	const workerLog = createWriteStream(path.join(resultsDir, "wrangler.log"));
	let seeded = false;
	for (const group of groups) {
		const port = await freePort();
		log(`starting wrangler dev (PAYMENT_PROVIDER=${group.provider}) on port ${port}, state in ${persistTo}…`);
		// One Worker at a time on the same state folder: the Durable Objects (stock) carry over from one to the next.
		worker = await startWranglerDev({
			port,
			vars: group.provider === "stripe" ? { ...shared, ...stripeVars } : shared,
			persistTo,
			readyTimeoutMs: 120_000,
		});
		for (const stream of [worker.child.stdout, worker.child.stderr]) {
			stream?.on("data", (chunk: Buffer) => {
				workerLog.write(chunk);
				workerReloads += chunk.toString().split("Reloading local server").length - 1;
			});
		}
		log(`Worker up at ${worker.url} (${seconds()})`);

		if (!seeded) {
			const stock = await seedDemoStock(worker.url, await login(worker.url, seeder.email, seeder.password));
			if (stock.failures.length > 0)
				throw new Error(`opening stock refused for ${stock.failures.length} SKU(s), e.g. ${stock.failures[0]}`);
			const images = await seedDemoMedia(worker.url, seeder.email, seeder.password, stack.databaseUrl);
			log(`seeded stock for ${stock.adjusted} SKUs and ${images.uploaded} product images (${seconds()})`);
			if (images.failures.length > 0) log(`${images.failures.length} image(s) not uploaded, e.g. ${images.failures[0]}`);
			seeded = true;
		}

		log(`running ${group.files.map((file) => path.basename(file)).join(", ")} in ${chromiumPath}`);
		const code = await runTests(group.files, {
			[HARNESS_ENV.baseUrl]: worker.url,
			[HARNESS_ENV.adminEmail]: admin.email,
			[HARNESS_ENV.adminPassword]: admin.password,
			[HARNESS_ENV.resultsDir]: resultsDir,
			[HARNESS_ENV.chromiumPath]: chromiumPath,
			...(group.provider === "stripe" ? stripeHarness : {}),
		});
		if (code !== 0) failures++;
		await worker.stop();
		worker = undefined;
	}

	const weightFile = path.join(resultsDir, "page-weight.json");
	if (existsSync(weightFile)) printPageWeight((JSON.parse(readFileSync(weightFile, "utf8")) as { pages: PageWeight[] }).pages);
	if (workerReloads > 0) log(`wrangler dev restarted the Worker ${workerReloads}× (a source file changed); requests in flight then fail.`);
} catch (err) {
	failures++;
	console.error(`[test-browser] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
	await stopAll();
}
log(`${failures === 0 ? "passed" : `${failures} failure(s)`} in ${seconds()}; screenshots in test-results/browser/`);
process.exit(failures === 0 ? 0 : 1);
