import pg from "pg";
import type { TestProject } from "vitest/node";
import { startFakeStripe } from "../scripts/lib/fake-stripe.ts";
import { generateKeySet } from "../scripts/lib/jwt-keys.ts";
import { seedDemoCatalog } from "../scripts/lib/seed.ts";
import { startDatabaseStack } from "../scripts/lib/stack.ts";

declare module "vitest" {
	interface ProvidedContext {
		databaseUrl: string;
		databaseWsProxy: string;
		jwtKeys: string;
		stripeApiBase: string;
		stripeSecretKey: string;
	}
}

/**
 * On a real server the suite gets a database of its own, created here and
 * dropped afterwards, so runs never see each other's rows or schema.
 */
async function createScratchDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
	const name = `edge_commerce_test_${process.pid}_${Date.now().toString(36)}`;
	const admin = new pg.Client({ connectionString: serverUrl });
	await admin.connect();
	try {
		await admin.query(`CREATE DATABASE "${name}"`);
	} finally {
		await admin.end();
	}
	const url = new URL(serverUrl);
	url.pathname = `/${name}`;
	return {
		url: url.toString(),
		drop: async () => {
			const client = new pg.Client({ connectionString: serverUrl });
			await client.connect();
			try {
				await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
			} finally {
				await client.end();
			}
		},
	};
}

/**
 * Starts Postgres for the suite: the embedded one (in memory, on a free port)
 * unless TEST_DATABASE_URL names a server, then the WebSocket proxy and the
 * migrations, and the stand-in for Stripe's API (scripts/lib/fake-stripe.ts),
 * and hands their addresses to the Worker's bindings.
 */
export default async function setup(project: TestProject) {
	const serverUrl = process.env.TEST_DATABASE_URL || undefined;
	const scratch = serverUrl ? await createScratchDatabase(serverUrl) : undefined;
	const stack = await startDatabaseStack({
		databaseUrl: scratch?.url,
		dbPort: 0,
		proxyPort: 0,
		log: (line) => console.log(`[test db] ${line}`),
	});
	// The demo catalog gives catalog tests a realistic crowd to search through.
	await seedDemoCatalog(stack.databaseUrl, { mode: "upsert-missing" });
	project.provide("databaseUrl", stack.databaseUrl);
	project.provide("databaseWsProxy", stack.wsProxy);
	project.provide("jwtKeys", await generateKeySet(1));
	// Stripe's API cannot be reached from here: the Worker's Stripe calls go to a local stand-in instead.
	const stripe = await startFakeStripe({ secretKey: `sk_test_suite_${crypto.randomUUID().replaceAll("-", "")}` });
	project.provide("stripeApiBase", stripe.url);
	project.provide("stripeSecretKey", stripe.secretKey);
	return async () => {
		await stripe.stop();
		await stack.stop();
		await scratch?.drop();
	};
}
