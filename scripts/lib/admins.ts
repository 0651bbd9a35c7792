import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import { normalizeEmail } from "../../workers/auth/email.ts";
import { users } from "../../workers/db/schema.ts";
import { newId } from "../../workers/domain/ids.ts";
import { dataDir } from "./local-db.ts";
import { hashPassword } from "./password.ts";

export interface AdminResult {
	email: string;
	created: boolean;
	/** Set when this call chose or changed the password. */
	password?: string;
}

/** A random password that is easy to copy: 24 base64url characters, 144 bits. */
export function generatePassword(): string {
	return randomBytes(18).toString("base64url");
}

/**
 * Makes the account with this e-mail an admin: creates it (with the given or
 * a generated password) when missing, promotes it when present. An existing
 * account's password changes only when `resetPassword` is set.
 */
export async function upsertAdmin(
	databaseUrl: string,
	options: { email: string; name?: string; password?: string; resetPassword?: boolean },
): Promise<AdminResult> {
	const email = normalizeEmail(options.email);
	const client = new pg.Client({ connectionString: databaseUrl });
	await client.connect();
	try {
		const db = drizzle({ client });
		const [existing] = await db.select({ id: users.id }).from(users).where(eq(users.email, email));
		if (existing) {
			const password = options.resetPassword ? (options.password ?? generatePassword()) : undefined;
			await db
				.update(users)
				.set({ role: "admin", updatedAt: new Date(), ...(password ? { passwordHash: await hashPassword(password) } : {}) })
				.where(eq(users.id, existing.id));
			return { email, created: false, ...(password ? { password } : {}) };
		}
		const password = options.password ?? generatePassword();
		await db.insert(users).values({
			id: newId("usr"),
			email,
			name: options.name ?? "Administrator",
			role: "admin",
			passwordHash: await hashPassword(password),
			emailVerifiedAt: new Date(),
		});
		return { email, created: true, password };
	} finally {
		await client.end();
	}
}

const devAdminFile = path.join(dataDir, "dev-admin.json");
const DEV_ADMIN_EMAIL = "admin@edge-commerce.test";

/**
 * The development admin `npm run dev` prints: created on first run with a
 * generated password kept in .data/ (git-ignored), so the same credentials
 * work after restarts. Recreated if the database was reset.
 */
export async function ensureDevAdmin(databaseUrl: string): Promise<{ email: string; password: string }> {
	let credentials: { email: string; password: string } | undefined;
	if (existsSync(devAdminFile)) credentials = JSON.parse(readFileSync(devAdminFile, "utf8")) as { email: string; password: string };
	credentials ??= { email: DEV_ADMIN_EMAIL, password: generatePassword() };
	mkdirSync(dataDir, { recursive: true });
	writeFileSync(devAdminFile, JSON.stringify(credentials), { mode: 0o600 });
	await upsertAdmin(databaseUrl, { email: credentials.email, name: "Development admin", password: credentials.password });
	return credentials;
}
