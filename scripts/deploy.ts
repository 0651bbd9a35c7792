/**
 * `npm run deploy -- --env <staging|production> [--dry-run]`: one command from
 * a wrangler login to a running Worker.
 *
 * 1. Plan: reads the environment's bindings from wrangler.toml (queues and the
 *    dead-letter queues their consumers name, R2 buckets, KV namespaces) and
 *    asks wrangler which exist (`queues info`, `r2 bucket list`,
 *    `kv namespace list`).
 * 2. Creates what is missing. A KV namespace is created under the title
 *    wrangler's automatic provisioning would give it (`<worker>-<binding>`),
 *    and its id is written into wrangler.toml under that binding: one line
 *    inserted, nothing else in the file touched. A namespace that exists
 *    under that title but is not pinned yet is pinned, not created again.
 * 3. Keeps dead letters 14 days (the maximum): `queues update <dlq>
 *    --message-retention-period-secs 1209600` for every dead-letter queue.
 * 4. Applies pending migrations to the environment's database, DATABASE_URL
 *    (given to this script, never printed: every line it prints is redacted,
 *    and wrangler is run without it).
 * 5. `wrangler deploy --env <env>` (which also applies the Durable Object
 *    class migrations).
 *
 * Each step runs only if the one before succeeded; a failure stops the script
 * with exit code 1 and says what was done. Everything is idempotent: a rerun
 * skips what exists. `--dry-run` prints every step with its exact commands
 * and runs only the read-only checks of step 1: no wrangler command that
 * changes anything, no write to wrangler.toml, no database connection.
 *
 * wrangler is the first `wrangler` on PATH (npm puts the project's own first;
 * the tests put a fake there), else node_modules/.bin/wrangler.
 * `--config <file>` reads and edits another copy of wrangler.toml.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";
import {
	DEAD_LETTER_RETENTION_SECONDS,
	type DeployPlan,
	environmentNames,
	type PlannedKvNamespace,
	parseConfig,
	planFor,
	withKvNamespaceId,
} from "./lib/deploy-plan.ts";
import { applyMigrations, migrationsFolder } from "./lib/migrate.ts";
import { projectRoot } from "./lib/wrangler-dev.ts";

const USAGE = `usage: npm run deploy -- --env <environment> [--dry-run] [--config <wrangler.toml>]

Creates the environment's missing queues, dead-letter queues, R2 buckets and KV
namespaces (pinning new KV ids in wrangler.toml), keeps dead letters 14 days,
applies pending migrations to DATABASE_URL, then runs wrangler deploy.
--dry-run prints every step and its commands and changes nothing.`;

/** A stop with a message for the operator (exit 1), or a usage error (exit 2). */
class Stop extends Error {
	readonly exitCode: number;
	constructor(message: string, exitCode = 1) {
		super(message);
		this.exitCode = exitCode;
	}
}

// ---------------------------------------------------------------------------
// Never print DATABASE_URL: everything this script prints goes through redact().

const databaseUrl = process.env.DATABASE_URL?.trim() || undefined;

function secretsIn(url: string | undefined): string[] {
	if (!url) return [];
	const found = [url];
	try {
		const parsed = new URL(url);
		if (parsed.password) found.push(parsed.password, decodeURIComponent(parsed.password));
	} catch {
		// Not a URL: the whole string is the secret.
	}
	return [...new Set(found)].filter((secret) => secret.length >= 3).sort((a, b) => b.length - a.length);
}
const secrets = secretsIn(databaseUrl);

function redact(text: string): string {
	let out = text;
	for (const secret of secrets) out = out.split(secret).join("[redacted]");
	// Any other connection string's credentials, e.g. quoted back by a driver.
	return out.replace(/(postgres(?:ql)?:\/\/)[^\s@/]+@/gi, "$1[redacted]@");
}

const say = (line = "") => console.log(redact(line));

// ---------------------------------------------------------------------------
// Arguments

interface Options {
	env: string;
	dryRun: boolean;
	configPath: string;
	/** Whether --config was given (then wrangler deploy is told too). */
	customConfig: boolean;
}

function parseArgs(argv: string[]): Options {
	let env: string | undefined;
	let dryRun = false;
	let config: string | undefined;
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i] ?? "";
		const [flag, inline] =
			arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg];
		const value = () => {
			const next = inline ?? argv[++i];
			if (next === undefined || next === "") throw new Stop(`${flag} needs a value\n\n${USAGE}`, 2);
			return next;
		};
		if (flag === "--env" || flag === "-e") env = value();
		else if (flag === "--config" || flag === "-c") config = value();
		else if (flag === "--dry-run") dryRun = true;
		else if (flag === "--help" || flag === "-h") {
			console.log(USAGE);
			process.exit(0);
		} else throw new Stop(`unknown argument ${arg}\n\n${USAGE}`, 2);
	}
	if (!env) throw new Stop(`--env is required\n\n${USAGE}`, 2);
	return { env, dryRun, configPath: path.resolve(config ?? path.join(projectRoot, "wrangler.toml")), customConfig: config !== undefined };
}

// ---------------------------------------------------------------------------
// wrangler

/** wrangler's environment: ours without DATABASE_URL, with the project's wrangler as the last resort. */
const wranglerEnv: NodeJS.ProcessEnv = {
	...process.env,
	PATH: [process.env.PATH, path.join(projectRoot, "node_modules", ".bin")].filter(Boolean).join(path.delimiter),
};
delete wranglerEnv.DATABASE_URL;

interface Run {
	status: number;
	/** stdout alone (where wrangler prints JSON), colours stripped. */
	stdout: string;
	/** stdout, then stderr (warnings and errors), colours stripped. */
	output: string;
}

const shown = (args: string[]) => `wrangler ${args.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(" ")}`;

/** Runs wrangler and returns its exit code and output (stdout, then stderr), colours stripped. */
function wrangler(args: string[], options: { stream?: boolean } = {}): Run {
	const run = spawnSync("wrangler", args, {
		cwd: projectRoot,
		env: wranglerEnv,
		encoding: "utf8",
		stdio: options.stream ? "inherit" : ["ignore", "pipe", "pipe"],
		maxBuffer: 64 * 1024 * 1024,
	});
	if (run.error) {
		const missing = (run.error as NodeJS.ErrnoException).code === "ENOENT";
		throw new Stop(
			missing ? "wrangler was not found on PATH nor in node_modules/.bin (npm install?)" : `wrangler did not run: ${run.error.message}`,
		);
	}
	const stdout = stripVTControlCharacters(run.stdout ?? "");
	return { status: run.status ?? 1, stdout, output: `${stdout}${stripVTControlCharacters(run.stderr ?? "")}` };
}

/** The last lines of a failed command's output, indented. */
function tail(output: string, lines = 15): string {
	const kept = output.trim().split("\n").slice(-lines);
	return kept.map((line) => `      ${line}`).join("\n");
}

/** The line of a failed command's output that says why: wrangler's `✘ [ERROR]` line, else the last one. */
function reason(output: string): string {
	const lines = output
		.split("\n")
		.map((line) => line.trim())
		.filter(Boolean);
	const error = lines.find((line) => line.includes("[ERROR]"));
	return (error ?? lines.at(-1) ?? "no output").replace(/^✘\s*\[ERROR\]\s*/, "");
}

/** Runs a command that must succeed; a failure stops the deploy. */
function must(args: string[], what: string): string {
	say(`   $ ${shown(args)}`);
	const run = wrangler(args);
	if (run.status !== 0) throw new Stop(`${what} failed (${shown(args)}, exit ${run.status}):\n${tail(run.output)}`);
	return run.output;
}

// ---------------------------------------------------------------------------
// Step 1: what exists

type Presence = "exists" | "missing" | "unknown";

interface Survey {
	queues: Map<string, Presence>;
	buckets: Map<string, Presence>;
	/** Per binding: the namespace's id in the account when found (by pinned id or by title). */
	kv: Map<string, { presence: Presence; id?: string }>;
	/** Checks that failed (a dry run goes on, marking the resource "unknown"). */
	failures: string[];
}

interface KvListing {
	id: string;
	title: string;
}

function parseKvList(output: string): KvListing[] {
	const start = output.indexOf("[");
	const end = output.lastIndexOf("]");
	if (start === -1 || end < start) throw new Error("no JSON array in its output");
	const list = JSON.parse(output.slice(start, end + 1)) as unknown;
	if (!Array.isArray(list)) throw new Error("its output is not a JSON array");
	return list.filter(
		(entry): entry is KvListing =>
			typeof entry === "object" && entry !== null && typeof entry.id === "string" && typeof entry.title === "string",
	);
}

function listKv(): KvListing[] {
	const args = ["kv", "namespace", "list"];
	const run = wrangler(args);
	if (run.status !== 0) throw new Error(run.output);
	try {
		return parseKvList(run.stdout);
	} catch (err) {
		throw new Error(`${shown(args)} answered something else than a JSON list: ${(err as Error).message}\n${run.output}`);
	}
}

function survey(plan: DeployPlan, dryRun: boolean): Survey {
	const result: Survey = { queues: new Map(), buckets: new Map(), kv: new Map(), failures: [] };
	const failed = (check: string, output: string) => {
		if (!dryRun) throw new Stop(`checking ${check} failed:\n${tail(output)}`);
		result.failures.push(check);
		say(`     could not check ${check}: ${reason(output)}; listed below as if missing`);
	};

	for (const queue of plan.queues) {
		const args = ["queues", "info", queue.name];
		const run = wrangler(args);
		if (run.status === 0) result.queues.set(queue.name, "exists");
		else if (/does not exist/i.test(run.output)) result.queues.set(queue.name, "missing");
		else result.queues.set(queue.name, "unknown");
		say(`   $ ${shown(args)}  → ${result.queues.get(queue.name)}${queue.deadLetter ? " (dead-letter queue)" : ""}`);
		if (result.queues.get(queue.name) === "unknown") failed(`queue ${queue.name}`, run.output);
	}

	if (plan.buckets.length > 0) {
		const args = ["r2", "bucket", "list"];
		const run = wrangler(args);
		const names = new Set([...run.stdout.matchAll(/^\s*name:\s+(\S+)\s*$/gm)].map((match) => match[1]));
		for (const bucket of plan.buckets) result.buckets.set(bucket, run.status !== 0 ? "unknown" : names.has(bucket) ? "exists" : "missing");
		say(`   $ ${shown(args)}  → ${plan.buckets.map((bucket) => `${bucket}: ${result.buckets.get(bucket)}`).join(", ")}`);
		if (run.status !== 0) failed("the R2 buckets", run.output);
	}

	if (plan.kvNamespaces.length > 0) {
		say(`   $ ${shown(["kv", "namespace", "list"])}`);
		let listing: KvListing[] | undefined;
		try {
			listing = listKv();
		} catch (err) {
			for (const namespace of plan.kvNamespaces) result.kv.set(namespace.binding, { presence: "unknown" });
			failed("the KV namespaces", (err as Error).message);
		}
		if (listing) {
			for (const namespace of plan.kvNamespaces) {
				if (namespace.id) {
					if (!listing.some((entry) => entry.id === namespace.id)) {
						const message = `KV binding ${namespace.binding} is pinned to id ${namespace.id} in wrangler.toml, and this account has no namespace with that id (another account, or deleted?)`;
						if (!dryRun) throw new Stop(message);
						result.failures.push(message);
					}
					result.kv.set(namespace.binding, { presence: "exists", id: namespace.id });
					say(`     ${namespace.binding}: pinned to ${namespace.id}`);
					continue;
				}
				const found = listing.find((entry) => entry.title === namespace.title);
				result.kv.set(namespace.binding, found ? { presence: "exists", id: found.id } : { presence: "missing" });
				say(`     ${namespace.binding} (${namespace.title}): ${found ? `exists, ${found.id}, not pinned yet` : "missing"}`);
			}
		}
	}
	return result;
}

// ---------------------------------------------------------------------------
// Step 2: create what is missing, pin KV ids

function pinKvId(options: Options, namespace: PlannedKvNamespace, id: string): void {
	const where = `[[env.${options.env}.kv_namespaces]] binding = "${namespace.binding}"`;
	if (options.dryRun) {
		say(`   (dry run) would write id = "${id}" under ${where} in ${path.basename(options.configPath)}`);
		return;
	}
	// Read again just before the edit: others edit this file too.
	const source = readFileSync(options.configPath, "utf8");
	let edited: string;
	try {
		edited = withKvNamespaceId(source, options.env, namespace.binding, id);
	} catch (err) {
		throw new Stop(
			`pinning KV namespace ${namespace.title} (id ${id}) in ${path.basename(options.configPath)} failed: ${(err as Error).message}`,
		);
	}
	const temporary = `${options.configPath}.deploy-${process.pid}.tmp`;
	writeFileSync(temporary, edited);
	renameSync(temporary, options.configPath);
	say(`   wrote id = "${id}" under ${where} in ${path.basename(options.configPath)}`);
}

function create(plan: DeployPlan, found: Survey, options: Options): void {
	const mutate = (args: string[], what: string) => {
		if (options.dryRun) say(`   (dry run) would run: ${shown(args)}`);
		else must(args, what);
	};
	let nothing = true;
	for (const queue of plan.queues) {
		if (found.queues.get(queue.name) === "exists") continue;
		nothing = false;
		mutate(["queues", "create", queue.name], `creating queue ${queue.name}`);
	}
	for (const bucket of plan.buckets) {
		if (found.buckets.get(bucket) === "exists") continue;
		nothing = false;
		mutate(["r2", "bucket", "create", bucket], `creating R2 bucket ${bucket}`);
	}
	for (const namespace of plan.kvNamespaces) {
		const known = found.kv.get(namespace.binding);
		if (namespace.id) continue;
		nothing = false;
		if (known?.presence === "exists" && known.id) {
			pinKvId(options, namespace, known.id);
			continue;
		}
		const args = ["kv", "namespace", "create", namespace.title];
		if (options.dryRun) {
			say(`   (dry run) would run: ${shown(args)}`);
			say(`   (dry run) would run: ${shown(["kv", "namespace", "list"])} to read its id`);
			say(
				`   (dry run) would write id = "<new id>" under [[env.${options.env}.kv_namespaces]] binding = "${namespace.binding}" in ${path.basename(options.configPath)}`,
			);
			continue;
		}
		must(args, `creating KV namespace ${namespace.title}`);
		say(`   $ ${shown(["kv", "namespace", "list"])}`);
		let id: string | undefined;
		try {
			id = listKv().find((entry) => entry.title === namespace.title)?.id;
		} catch (err) {
			throw new Stop(`reading the id of the new KV namespace ${namespace.title} failed:\n${tail((err as Error).message)}`);
		}
		if (!id)
			throw new Stop(`KV namespace ${namespace.title} was created, but wrangler kv namespace list does not show it; pin its id by hand`);
		pinKvId(options, namespace, id);
	}
	if (nothing) say("   nothing to create");
}

// ---------------------------------------------------------------------------
// Step 3: dead letters are kept 14 days

function retention(plan: DeployPlan, options: Options): void {
	const deadLetters = plan.queues.filter((queue) => queue.deadLetter);
	if (deadLetters.length === 0) say("   no dead-letter queues");
	for (const queue of deadLetters) {
		const args = ["queues", "update", queue.name, "--message-retention-period-secs", String(DEAD_LETTER_RETENTION_SECONDS)];
		if (options.dryRun) say(`   (dry run) would run: ${shown(args)}`);
		else must(args, `setting the retention of ${queue.name}`);
	}
}

// ---------------------------------------------------------------------------
// Step 4: migrations

function migrationCount(): { count: number; latest: string | undefined } {
	try {
		const journal = JSON.parse(readFileSync(path.join(migrationsFolder, "meta", "_journal.json"), "utf8")) as {
			entries: { tag: string }[];
		};
		return { count: journal.entries.length, latest: journal.entries.at(-1)?.tag };
	} catch {
		return { count: 0, latest: undefined };
	}
}

function describeError(err: unknown): string {
	const parts: string[] = [];
	for (let cause: unknown = err, depth = 0; cause && depth < 4; cause = (cause as { cause?: unknown }).cause, depth++) {
		const message = cause instanceof Error ? cause.message : String(cause);
		// drizzle quotes the whole failed statement; its first lines say enough.
		parts.push(message.length > 600 ? `${message.slice(0, 600)}…` : message);
	}
	return [...new Set(parts)].join("\n      caused by: ");
}

async function migrate(options: Options): Promise<void> {
	const { count, latest } = migrationCount();
	const what = `${count} migrations (${path.relative(projectRoot, migrationsFolder)}/${latest ? `, the latest ${latest}` : ""})`;
	if (options.dryRun) {
		say(
			`   (dry run) would apply the pending ones of ${what} to DATABASE_URL (${databaseUrl ? "set, not shown" : "NOT SET: a real run stops before step 1"})`,
		);
		return;
	}
	say(`   applying the pending ones of ${what} to DATABASE_URL (not shown)`);
	try {
		await applyMigrations(databaseUrl as string);
	} catch (err) {
		throw new Stop(
			`migrations failed, so nothing was deployed:\n      ${describeError(err)}\n   The resources created above stay (a rerun skips them); the running Worker is unchanged.`,
		);
	}
	say("   migrations applied");
}

// ---------------------------------------------------------------------------
// Step 5: deploy

function deploy(options: Options): void {
	const args = ["deploy", "--env", options.env, ...(options.customConfig ? ["--config", options.configPath] : [])];
	if (options.dryRun) {
		say(`   (dry run) would run: ${shown(args)}`);
		return;
	}
	say(`   $ ${shown(args)}`);
	const run = wrangler(args, { stream: true });
	if (run.status !== 0) {
		throw new Stop(
			`wrangler deploy failed (exit ${run.status}): the database is migrated, the previous version of the Worker still runs. Fix and rerun.`,
		);
	}
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
	const options = parseArgs(process.argv.slice(2));
	let source: string;
	try {
		source = readFileSync(options.configPath, "utf8");
	} catch (err) {
		throw new Stop(`cannot read ${options.configPath}: ${(err as Error).message}`);
	}
	let plan: DeployPlan;
	try {
		const config = parseConfig(source);
		if (!environmentNames(config).includes(options.env)) {
			throw new Stop(
				`wrangler.toml has no [env.${options.env}]; deployable environments: ${environmentNames(config).join(", ") || "none"}. The top-level configuration is local development (npm run dev).`,
				2,
			);
		}
		plan = planFor(config, options.env);
	} catch (err) {
		if (err instanceof Stop) throw err;
		throw new Stop(`${path.basename(options.configPath)}: ${(err as Error).message}`);
	}
	if (!options.dryRun) {
		if (!databaseUrl)
			throw new Stop(
				`DATABASE_URL is not set: give this environment's database (e.g. Neon's connection string) to the script; nothing was done`,
			);
		if (!/^postgres(ql)?:\/\//i.test(databaseUrl)) throw new Stop("DATABASE_URL is not a postgres:// connection string; nothing was done");
	}

	say(
		`deploy: environment ${plan.env}, Worker ${plan.workerName}, ${path.relative(process.cwd(), options.configPath) || options.configPath}${options.dryRun ? " (dry run: changes nothing)" : ""}`,
	);
	say(
		`   queues: ${plan.queues.map((queue) => queue.name).join(", ") || "none"}; R2: ${plan.buckets.join(", ") || "none"}; KV: ${plan.kvNamespaces.map((namespace) => namespace.binding).join(", ") || "none"}`,
	);
	say("1. check what exists");
	const found = survey(plan, options.dryRun);
	say("2. create what is missing");
	create(plan, found, options);
	say(`3. keep dead letters ${DEAD_LETTER_RETENTION_SECONDS / 86400} days`);
	retention(plan, options);
	say("4. apply pending migrations");
	await migrate(options);
	say("5. deploy");
	deploy(options);
	if (options.dryRun) {
		say(
			found.failures.length > 0
				? `dry run done; ${found.failures.length} check(s) failed (${found.failures.join("; ")}): a real run stops at step 1 until they pass`
				: "dry run done: nothing was changed",
		);
	} else say(`deployed ${plan.workerName}`);
}

try {
	await main();
} catch (err) {
	if (err instanceof Stop) {
		console.error(redact(`deploy: ${err.message}`));
		process.exit(err.exitCode);
	}
	console.error(redact(`deploy: unexpected error: ${describeError(err)}`));
	process.exit(1);
}
