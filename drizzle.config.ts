import { defineConfig } from "drizzle-kit";

export default defineConfig({
	dialect: "postgresql",
	schema: "./workers/db/schema.ts",
	out: "./migrations",
	strict: true,
	verbose: true,
});
