/**
 * `npm run db:seed`: loads the demo catalog into DATABASE_URL (or the embedded
 * development database) when it has no products. `-- --missing` adds any
 * missing demo rows to a non-empty database without touching existing ones.
 */
import { openDatabaseForScript } from "./lib/local-db.ts";
import { applyMigrations } from "./lib/migrate.ts";
import { seedDemoCatalog } from "./lib/seed.ts";

const mode = process.argv.includes("--missing") ? "upsert-missing" : "if-empty";
const stack = await openDatabaseForScript((line) => console.log(`db:seed  ${line}`));
try {
	await applyMigrations(stack.databaseUrl);
	const result = await seedDemoCatalog(stack.databaseUrl, { mode });
	console.log(
		result.seeded
			? `db:seed  demo catalog: ${result.categories} categories, ${result.products} products, ${result.variants} variants`
			: "db:seed  the database already has products; nothing seeded (use `npm run db:seed -- --missing` to add missing demo rows)",
	);
} finally {
	await stack.stop();
}
