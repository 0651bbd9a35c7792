import type { TestProject } from "vitest/node";
import { startDatabaseStack } from "../scripts/lib/stack.ts";

declare module "vitest" {
	interface ProvidedContext {
		databaseUrl: string;
		databaseWsProxy: string;
	}
}

/**
 * Starts Postgres for the suite: the embedded one (in memory, on a free port)
 * unless TEST_DATABASE_URL names a server, then the WebSocket proxy and the
 * migrations. Tests create their own uniquely named rows, so a long-lived
 * server with earlier runs' data is fine.
 */
export default async function setup(project: TestProject) {
	const stack = await startDatabaseStack({
		databaseUrl: process.env.TEST_DATABASE_URL || undefined,
		dbPort: 0,
		proxyPort: 0,
		log: (line) => console.log(`[test db] ${line}`),
	});
	project.provide("databaseUrl", stack.databaseUrl);
	project.provide("databaseWsProxy", stack.wsProxy);
	return async () => {
		await stack.stop();
	};
}
