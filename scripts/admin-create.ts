/**
 * `npm run admin:create -- --email ops@shop.example [--name "Ops"] [--reset-password]`
 *
 * Creates the first (or another) admin in DATABASE_URL, or in the embedded
 * development database when DATABASE_URL is unset. An existing account is
 * promoted and keeps its password unless --reset-password is given. The
 * password comes from ADMIN_PASSWORD or is generated and printed once.
 */
import { parseArgs } from "node:util";
import { upsertAdmin } from "./lib/admins.ts";
import { openDatabaseForScript } from "./lib/local-db.ts";
import { applyMigrations } from "./lib/migrate.ts";

const { values } = parseArgs({
	options: {
		email: { type: "string" },
		name: { type: "string" },
		"reset-password": { type: "boolean", default: false },
	},
});
if (!values.email || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(values.email)) {
	console.error("usage: npm run admin:create -- --email <address> [--name <name>] [--reset-password]");
	process.exit(2);
}
const password = process.env.ADMIN_PASSWORD;
if (password !== undefined && (password.length < 8 || password.length > 128)) {
	console.error("ADMIN_PASSWORD must be 8 to 128 characters.");
	process.exit(2);
}

const stack = await openDatabaseForScript((line) => console.log(`admin:create  ${line}`));
try {
	await applyMigrations(stack.databaseUrl);
	const result = await upsertAdmin(stack.databaseUrl, {
		email: values.email,
		...(values.name ? { name: values.name } : {}),
		...(password ? { password } : {}),
		resetPassword: values["reset-password"],
	});
	console.log(`admin:create  ${result.email}: ${result.created ? "created as admin" : "promoted to admin"}`);
	if (result.password && !password) console.log(`admin:create  generated password (shown once): ${result.password}`);
} finally {
	await stack.stop();
}
