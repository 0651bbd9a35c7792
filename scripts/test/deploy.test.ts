/**
 * `npm run deploy` (scripts/deploy.ts) against a fake wrangler
 * (fake-wrangler.ts, first on PATH) and a real embedded Postgres (PGlite):
 * the order of its calls, what it creates, the KV id it pins in a copy of
 * wrangler.toml, the migrations, the dry run, and where a failure stops it.
 * Run by `npm run test:scripts` (node --test), which CI runs.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { withKvNamespaceId } from "../lib/deploy-plan.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../lib/embedded-postgres.ts";
import { projectRoot } from "../lib/wrangler-dev.ts";
import type { FakeAccount } from "./fake-wrangler.ts";

const PASSWORD = "s3cret-pa55word-never-printed";
const journal = JSON.parse(readFileSync(path.join(projectRoot, "migrations/meta/_journal.json"), "utf8")) as { entries: unknown[] };

interface Sandbox {
	dir: string;
	config: string;
	state: string;
	log: string;
	bin: string;
}

function unpinned(source: string): string {
	return source.replace(/(\[\[env\.\w+\.kv_namespaces\]\]\r?\nbinding = "\w+"\r?\n)id = "[0-9a-f]{32}"\r?\n/g, "$1");
}

function sandbox(account: Partial<FakeAccount> = {}): Sandbox {
	const dir = mkdtempSync(path.join(tmpdir(), "deploy-test-"));
	const bin = path.join(dir, "bin");
	const fake = path.join(projectRoot, "scripts/test/fake-wrangler.ts");
	mkdirSync(bin);
	const shim = path.join(bin, "wrangler");
	writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${fake}" "$@"\n`);
	chmodSync(shim, 0o755);
	const config = path.join(dir, "wrangler.toml");
	// The real file, as a first deploy finds it: ids an earlier real deploy pinned are taken out again.
	writeFileSync(config, unpinned(readFileSync(path.join(projectRoot, "wrangler.toml"), "utf8")));
	const state = path.join(dir, "account.json");
	writeFileSync(state, JSON.stringify({ queues: [], buckets: [], kv: [], deployed: [], ...account }));
	const log = path.join(dir, "calls.jsonl");
	writeFileSync(log, "");
	return { dir, config, state, log, bin };
}

interface Result {
	code: number;
	output: string;
	calls: { args: string[]; databaseUrl: boolean }[];
	account: FakeAccount;
}

function deploy(box: Sandbox, args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
	const childEnv: NodeJS.ProcessEnv = {
		...process.env,
		PATH: `${box.bin}${path.delimiter}${process.env.PATH ?? ""}`,
		FAKE_WRANGLER_STATE: box.state,
		FAKE_WRANGLER_LOG: box.log,
		FAKE_WRANGLER_FAIL: undefined,
		DATABASE_URL: undefined,
		...env,
	};
	for (const [key, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[key];
	return new Promise((resolve) => {
		execFile(
			process.execPath,
			[path.join(projectRoot, "scripts/deploy.ts"), "--config", box.config, ...args],
			{ cwd: projectRoot, env: childEnv, encoding: "utf8" },
			(error, stdout, stderr) => {
				const code = error ? ((error as { code?: number }).code ?? 1) : 0;
				const calls = readFileSync(box.log, "utf8")
					.split("\n")
					.filter(Boolean)
					.map((line) => JSON.parse(line) as { args: string[]; databaseUrl: boolean });
				resolve({
					code: typeof code === "number" ? code : 1,
					output: `${stdout}${stderr}`,
					calls,
					account: JSON.parse(readFileSync(box.state, "utf8")),
				});
			},
		);
	});
}

const names = (result: Result) => result.calls.map((call) => call.args.join(" "));
const MUTATING = /^(queues (create|update|delete)|r2 bucket (create|delete)|kv namespace (create|delete)|deploy|secret)/;

const STAGING_QUEUES = ["staging-orders", "staging-notifications", "staging-orders-dlq", "staging-notifications-dlq"];

async function migrationsIn(url: string): Promise<number> {
	const client = new pg.Client({ connectionString: url });
	await client.connect();
	try {
		const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM drizzle.__drizzle_migrations");
		return Number(rows[0]?.n);
	} finally {
		await client.end();
	}
}

/** The embedded database's URL with a password in it (PGlite ignores it), to catch it in any output. */
const withPassword = (database: EmbeddedPostgres) => database.url.replace("postgres@", `postgres:${PASSWORD}@`);

describe("npm run deploy", () => {
	let database: EmbeddedPostgres;
	const boxes: Sandbox[] = [];
	const box = (account?: Partial<FakeAccount>) => {
		const made = sandbox(account);
		boxes.push(made);
		return made;
	};

	before(async () => {
		database = await startEmbeddedPostgres({ port: 0 });
	});
	after(async () => {
		await database?.stop();
		for (const made of boxes) rmSync(made.dir, { recursive: true, force: true });
	});

	it("--dry-run prints every step with its commands and runs only read-only checks", async () => {
		const sb = box({ queues: [{ name: "staging-orders" }], kv: [{ id: "a".repeat(32), title: "edge-commerce-staging-revocations" }] });
		const before = readFileSync(sb.config, "utf8");
		// A database that answers nothing: a dry run must not try it.
		const result = await deploy(sb, ["--env", "staging", "--dry-run"], { DATABASE_URL: `postgres://app:${PASSWORD}@127.0.0.1:9/none` });
		assert.equal(result.code, 0, result.output);
		for (const step of [
			"1. check what exists",
			"2. create what is missing",
			"3. keep dead letters 14 days",
			"4. apply pending migrations",
			"5. deploy",
		]) {
			assert.match(result.output, new RegExp(step.replace(".", "\\.")), `step "${step}" printed`);
		}
		for (const command of [
			"would run: wrangler queues create staging-notifications",
			"would run: wrangler queues create staging-orders-dlq",
			"would run: wrangler queues create staging-notifications-dlq",
			"would run: wrangler r2 bucket create edge-commerce-media-staging",
			"would run: wrangler kv namespace create edge-commerce-staging-catalog",
			`would write id = "${"a".repeat(32)}" under [[env.staging.kv_namespaces]] binding = "REVOCATIONS"`,
			"would run: wrangler queues update staging-orders-dlq --message-retention-period-secs 1209600",
			"would run: wrangler queues update staging-notifications-dlq --message-retention-period-secs 1209600",
			`would apply the pending ones of ${journal.entries.length} migrations`,
			"would run: wrangler deploy --env staging",
		]) {
			assert.ok(result.output.includes(command), `dry run prints "${command}"\n${result.output}`);
		}
		assert.ok(!result.output.includes("would run: wrangler queues create staging-orders\n"), "an existing queue is not created");
		assert.deepEqual(
			names(result).filter((call) => MUTATING.test(call)),
			[],
			"no mutating wrangler command",
		);
		assert.deepEqual(names(result), [...STAGING_QUEUES.map((queue) => `queues info ${queue}`), "r2 bucket list", "kv namespace list"]);
		assert.equal(readFileSync(sb.config, "utf8"), before, "wrangler.toml untouched");
		assert.ok(!result.output.includes(PASSWORD), "DATABASE_URL's password never printed");
		assert.match(result.output, /dry run done: nothing was changed/);
	});

	it("creates what is missing, pins the KV ids, keeps dead letters 14 days, migrates, then deploys", async () => {
		const sb = box();
		const original = readFileSync(sb.config, "utf8");
		const url = withPassword(database);
		const result = await deploy(sb, ["--env", "staging"], { DATABASE_URL: url });
		assert.equal(result.code, 0, result.output);

		const calls = names(result);
		const catalogId = result.account.kv.find((entry) => entry.title === "edge-commerce-staging-catalog")?.id;
		const revocationsId = result.account.kv.find((entry) => entry.title === "edge-commerce-staging-revocations")?.id;
		assert.ok(catalogId && revocationsId, "both KV namespaces created under wrangler's provisioning titles");
		assert.deepEqual(calls, [
			...STAGING_QUEUES.map((queue) => `queues info ${queue}`),
			"r2 bucket list",
			"kv namespace list",
			...STAGING_QUEUES.map((queue) => `queues create ${queue}`),
			"r2 bucket create edge-commerce-media-staging",
			"kv namespace create edge-commerce-staging-catalog",
			"kv namespace list",
			"kv namespace create edge-commerce-staging-revocations",
			"kv namespace list",
			"queues update staging-orders-dlq --message-retention-period-secs 1209600",
			"queues update staging-notifications-dlq --message-retention-period-secs 1209600",
			`deploy --env staging --config ${sb.config}`,
		]);
		assert.ok(
			result.calls.every((call) => !call.databaseUrl),
			"wrangler never sees DATABASE_URL",
		);
		assert.deepEqual(
			result.account.queues.map((queue) => [queue.name, queue.retentionSeconds]),
			[
				["staging-orders", undefined],
				["staging-notifications", undefined],
				["staging-orders-dlq", 1209600],
				["staging-notifications-dlq", 1209600],
			],
		);
		assert.deepEqual(result.account.buckets, ["edge-commerce-media-staging"]);
		assert.deepEqual(result.account.deployed, ["staging"]);

		// Migrations ran before the deploy (the deploy is the last call) and all of them were applied.
		assert.equal(await migrationsIn(database.url), journal.entries.length);
		assert.ok(result.output.indexOf("migrations applied") < result.output.indexOf("Uploaded edge-commerce-staging"));

		// wrangler.toml: exactly two lines more, each right under its binding in [env.staging], the rest byte for byte.
		const edited = readFileSync(sb.config, "utf8");
		assert.ok(edited.includes(`[[env.staging.kv_namespaces]]\nbinding = "CATALOG"\nid = "${catalogId}"\n`));
		assert.ok(edited.includes(`[[env.staging.kv_namespaces]]\nbinding = "REVOCATIONS"\nid = "${revocationsId}"\n`));
		assert.equal(edited.replace(`id = "${catalogId}"\n`, "").replace(`id = "${revocationsId}"\n`, ""), original);
		assert.ok(!result.output.includes(PASSWORD) && !result.output.includes(url), "DATABASE_URL never printed");

		// A second run finds everything: it creates nothing, edits nothing, still sets retention and deploys.
		writeFileSync(sb.log, "");
		const again = await deploy(sb, ["--env", "staging"], { DATABASE_URL: url });
		assert.equal(again.code, 0, again.output);
		assert.deepEqual(
			names(again).filter((call) => MUTATING.test(call)),
			[
				"queues update staging-orders-dlq --message-retention-period-secs 1209600",
				"queues update staging-notifications-dlq --message-retention-period-secs 1209600",
				`deploy --env staging --config ${sb.config}`,
			],
		);
		assert.match(again.output, /nothing to create/);
		assert.equal(readFileSync(sb.config, "utf8"), edited);
	});

	it("pins a KV namespace that exists but is not pinned, instead of creating another", async () => {
		const id = "0123456789abcdef0123456789abcdef";
		const sb = box({
			queues: ["production-orders", "production-notifications", "production-orders-dlq", "production-notifications-dlq"].map((name) => ({
				name,
			})),
			buckets: ["edge-commerce-media-production"],
			kv: [{ id, title: "edge-commerce-production-catalog" }],
		});
		const result = await deploy(sb, ["--env", "production"], { DATABASE_URL: withPassword(database) });
		assert.equal(result.code, 0, result.output);
		assert.deepEqual(
			names(result).filter((call) => /create/.test(call)),
			["kv namespace create edge-commerce-production-revocations"],
		);
		assert.ok(readFileSync(sb.config, "utf8").includes(`[[env.production.kv_namespaces]]\nbinding = "CATALOG"\nid = "${id}"\n`));
		assert.ok(
			!readFileSync(sb.config, "utf8").includes(`[[env.staging.kv_namespaces]]\nbinding = "CATALOG"\nid`),
			"other environments untouched",
		);
	});

	it("stops before wrangler deploy when a migration fails, and prints no DATABASE_URL", async () => {
		const broken = await startEmbeddedPostgres({ port: 0 });
		try {
			// The first migration creates this type: now it fails there.
			const client = new pg.Client({ connectionString: broken.url });
			await client.connect();
			await client.query(`CREATE TYPE "public"."product_status" AS ENUM('x')`);
			await client.end();
			const sb = box();
			const url = withPassword(broken);
			const result = await deploy(sb, ["--env", "staging"], { DATABASE_URL: url });
			assert.equal(result.code, 1, result.output);
			assert.match(result.output, /migrations failed, so nothing was deployed/);
			assert.match(result.output, /product_status/);
			assert.ok(!names(result).some((call) => call.startsWith("deploy")), "wrangler deploy never called");
			assert.deepEqual(result.account.deployed, []);
			assert.ok(!result.output.includes(PASSWORD) && !result.output.includes(url), "DATABASE_URL never printed");
		} finally {
			await broken.stop();
		}
	});

	it("stops before wrangler deploy when the database cannot be reached", async () => {
		const sb = box();
		const url = `postgres://app:${PASSWORD}@127.0.0.1:9/shop?sslmode=disable`;
		const result = await deploy(sb, ["--env", "staging"], { DATABASE_URL: url });
		assert.equal(result.code, 1, result.output);
		assert.match(result.output, /migrations failed/);
		assert.ok(!names(result).some((call) => call.startsWith("deploy")));
		assert.ok(!result.output.includes(PASSWORD) && !result.output.includes("app:"), result.output);
	});

	it("stops at the first failing wrangler command", async () => {
		const sb = box();
		const result = await deploy(sb, ["--env", "staging"], { DATABASE_URL: withPassword(database), FAKE_WRANGLER_FAIL: "r2 bucket create" });
		assert.equal(result.code, 1, result.output);
		assert.match(result.output, /creating R2 bucket edge-commerce-media-staging failed/);
		const calls = names(result);
		assert.equal(calls.at(-1), "r2 bucket create edge-commerce-media-staging");
		assert.ok(!calls.some((call) => call.startsWith("kv namespace create") || call.startsWith("deploy")));
	});

	it("refuses to start without --env, with an unknown environment, or without DATABASE_URL", async () => {
		const sb = box();
		const none = await deploy(sb, []);
		assert.equal(none.code, 2);
		assert.match(none.output, /--env is required/);
		const unknown = await deploy(sb, ["--env", "prod"]);
		assert.equal(unknown.code, 2);
		assert.match(unknown.output, /no \[env\.prod\]; deployable environments: staging, production/);
		const noDatabase = await deploy(sb, ["--env", "staging"]);
		assert.equal(noDatabase.code, 1);
		assert.match(noDatabase.output, /DATABASE_URL is not set/);
		assert.deepEqual(names(noDatabase), [], "nothing was asked of wrangler");
	});
});

describe("pinning a KV id in wrangler.toml", () => {
	const source = [
		"# top",
		"[[kv_namespaces]]",
		'binding = "CATALOG"',
		"",
		"[env.staging]",
		'name = "x-staging"',
		"",
		"[[env.staging.kv_namespaces]]",
		'binding = "CATALOG"   # the cache',
		'preview_id = "ffffffffffffffffffffffffffffffff"',
		"",
		"[[env.staging.kv_namespaces]]",
		"  binding = 'REVOCATIONS'",
		"",
	].join("\r\n");
	const id = "0123456789abcdef0123456789abcdef";

	it("inserts one line under the binding, keeping comments, indentation and line endings", () => {
		const edited = withKvNamespaceId(source, "staging", "REVOCATIONS", id);
		assert.equal(edited, source.replace("  binding = 'REVOCATIONS'\r\n", `  binding = 'REVOCATIONS'\r\n  id = "${id}"\r\n`));
		const other = withKvNamespaceId(source, "staging", "CATALOG", id);
		assert.equal(other, source.replace("# the cache\r\n", `# the cache\r\nid = "${id}"\r\n`));
	});

	it("refuses what it cannot do exactly", () => {
		assert.throws(() => withKvNamespaceId(source, "production", "CATALOG", id), /no \[\[env\.production\.kv_namespaces\]\] table/);
		assert.throws(
			() => withKvNamespaceId(source, "staging", "MISSING", id),
			/no \[\[env\.staging\.kv_namespaces\]\] table with binding = "MISSING"/,
		);
		assert.throws(() => withKvNamespaceId(source, "staging", "CATALOG", "not-an-id"), /not a KV namespace id/);
		const pinned = withKvNamespaceId(source, "staging", "CATALOG", id);
		assert.throws(() => withKvNamespaceId(pinned, "staging", "CATALOG", id), /already has an id/);
	});
});
