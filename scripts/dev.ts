/**
 * `npm run dev`: the whole platform locally in one command. Starts the
 * embedded Postgres (unless DATABASE_URL names one), the WebSocket proxy the
 * Neon driver needs to reach it, applies migrations, seeds the demo catalog
 * into an empty database, then runs `wrangler dev`. Ctrl-C stops everything.
 */
import path from "node:path";
import { ensureDevAdmin } from "./lib/admins.ts";
import { announceDevStack, dataDir, devJwtKeys, forgetDevStack, pgliteDir } from "./lib/local-db.ts";
import { assertPortFree } from "./lib/ports.ts";
import { seedDemoCatalog } from "./lib/seed.ts";
import { login, seedDemoMedia } from "./lib/seed-media.ts";
import { seedDemoStock } from "./lib/seed-stock.ts";
import { type DatabaseStack, startDatabaseStack } from "./lib/stack.ts";
import { startWranglerDev, type WranglerDev } from "./lib/wrangler-dev.ts";

const say = (line: string) => console.log(`\x1b[36m[dev]\x1b[0m ${line}`);
const warn = (line: string) => console.warn(`\x1b[33m[dev] ${line}\x1b[0m`);

function portFromEnv(name: string, fallback: number): number {
	const raw = process.env[name];
	if (!raw) return fallback;
	const port = Number(raw);
	if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name} must be a TCP port, got "${raw}".`);
	return port;
}

let stack: DatabaseStack | undefined;
let worker: WranglerDev | undefined;
let stopping = false;

async function shutdown(code: number): Promise<never> {
	if (!stopping) {
		stopping = true;
		say("stopping…");
		await worker?.stop().catch(() => {});
		await stack?.stop().catch(() => {});
		forgetDevStack();
	}
	process.exit(code);
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

try {
	const port = portFromEnv("PORT", 8787);
	await assertPortFree(port, "the Worker (wrangler dev)");
	const databaseUrl = process.env.DATABASE_URL || undefined;
	say(databaseUrl ? "using the Postgres named by DATABASE_URL" : "starting the embedded Postgres (PGlite)…");
	stack = await startDatabaseStack({
		databaseUrl,
		dataDir: pgliteDir,
		dbPort: portFromEnv("PGLITE_PORT", 54329),
		proxyPort: portFromEnv("DB_PROXY_PORT", 54330),
		log: say,
	});
	announceDevStack(stack.databaseUrl);

	const seed = await seedDemoCatalog(stack.databaseUrl, { mode: "if-empty" });
	say(
		seed.seeded ? `seeded the demo catalog: ${seed.products} products, ${seed.variants} variants` : "catalog already present; not seeding",
	);
	const admin = await ensureDevAdmin(stack.databaseUrl);

	say("starting wrangler dev…");
	worker = await startWranglerDev({
		port,
		vars: {
			DATABASE_URL: stack.databaseUrl,
			DATABASE_WS_PROXY: stack.wsProxy,
			JWT_KEYS: await devJwtKeys(),
			TEST_PAYMENT_WEBHOOK_SECRET: `whsec_${crypto.randomUUID().replaceAll("-", "")}`,
			// Known, so a local tool can sign test carrier events (.dev.vars.example has the same); never used outside development.
			CARRIER_WEBHOOK_SECRET: "carrier_development_only",
		},
		persistTo: path.join(dataDir, "wrangler"),
		inheritOutput: true,
		readyTimeoutMs: 120_000,
	});
	worker.child.once("exit", (code) => {
		if (!stopping) {
			say(`wrangler dev exited (${code ?? "signal"})`);
			void shutdown(code ?? 1);
		}
	});
	// Images go through the real upload route, so they need the running Worker and the admin. A failure only warns.
	try {
		const images = await seedDemoMedia(worker.url, admin.email, admin.password, stack.databaseUrl);
		if (images.candidates === 0) say("every active product has an image; not seeding media");
		else say(`seeded ${images.uploaded} product image${images.uploaded === 1 ? "" : "s"} into R2`);
		if (images.failures.length > 0) {
			warn(`${images.failures.length} product image(s) could not be uploaded, e.g. ${images.failures[0]}`);
		}
	} catch (err) {
		warn(`product images not seeded: ${err instanceof Error ? err.message : String(err)}`);
	}
	try {
		const stock = await seedDemoStock(worker.url, await login(worker.url, admin.email, admin.password));
		say(`opening stock set for ${stock.adjusted} SKUs (idempotent; repeated runs change nothing)`);
		if (stock.failures.length > 0) warn(`${stock.failures.length} SKU(s) not stocked, e.g. ${stock.failures[0]}`);
	} catch (err) {
		warn(`opening stock not set: ${err instanceof Error ? err.message : String(err)}`);
	}
	say(`ready: storefront ${worker.url}/  ·  admin ${worker.url}/admin  ·  API ${worker.url}/v1  ·  docs ${worker.url}/docs`);
	say(`development admin: ${admin.email} / ${admin.password}  (sign in at ${worker.url}/signin, or POST /v1/auth/login)`);
	say("press Ctrl-C to stop");
} catch (err) {
	console.error(`\x1b[31m[dev] ${err instanceof Error ? err.message : String(err)}\x1b[0m`);
	await shutdown(1);
}
