/**
 * `npm run db:migrate`: applies pending migrations to DATABASE_URL, or to the
 * embedded development database when DATABASE_URL is unset.
 */
import { openDatabaseForScript } from "./lib/local-db.ts";
import { applyMigrations } from "./lib/migrate.ts";

const stack = await openDatabaseForScript((line) => console.log(`db:migrate  ${line}`));
try {
	await applyMigrations(stack.databaseUrl);
	console.log("db:migrate  migrations applied");
} finally {
	await stack.stop();
}
