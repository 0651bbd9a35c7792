/**
 * A stand-in for the `wrangler` CLI, for scripts/test/deploy.test.ts. The test
 * puts a `wrangler` shim that runs this file first on PATH.
 *
 * It appends every call (its arguments, and whether DATABASE_URL reached it)
 * to FAKE_WRANGLER_LOG as one JSON line, keeps the account's queues, buckets
 * and KV namespaces in FAKE_WRANGLER_STATE (a JSON file), and answers as
 * wrangler 4 does: `kv namespace list` prints a JSON array, `r2 bucket list`
 * labelled `name:` lines, `queues info` of a missing queue fails with
 * `Queue "…" does not exist.` A call whose arguments start with
 * FAKE_WRANGLER_FAIL (e.g. "queues create") fails with exit code 1.
 */
import { randomBytes } from "node:crypto";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";

export interface FakeAccount {
	queues: { name: string; retentionSeconds?: number }[];
	buckets: string[];
	kv: { id: string; title: string }[];
	deployed: string[];
}

const args = process.argv.slice(2);
const statePath = process.env.FAKE_WRANGLER_STATE ?? "";
const logPath = process.env.FAKE_WRANGLER_LOG ?? "";
appendFileSync(logPath, `${JSON.stringify({ args, databaseUrl: process.env.DATABASE_URL !== undefined })}\n`);

const account = JSON.parse(readFileSync(statePath, "utf8")) as FakeAccount;
const save = () => writeFileSync(statePath, JSON.stringify(account, null, "\t"));
function fail(message: string): never {
	process.stderr.write(`\n✘ [ERROR] ${message}\n\n`);
	process.exit(1);
}
const banner = () => process.stdout.write("\n ⛅️ wrangler 4.164.0 (fake)\n───────────────────\n");

const failing = process.env.FAKE_WRANGLER_FAIL;
if (failing && args.join(" ").startsWith(failing)) fail(`A request to the Cloudflare API failed (fake failure of "${failing}").`);

const [group, command, name] = args;
const call = `${group} ${command}`;
const option = (flag: string) => {
	const at = args.indexOf(flag);
	return at === -1 ? undefined : args[at + 1];
};

if (group === "queues" && command === "info" && name) {
	banner();
	const queue = account.queues.find((entry) => entry.name === name);
	if (!queue) fail(`Queue "${name}" does not exist. To create it, run: wrangler queues create ${name}`);
	console.log(`Queue Name: ${name}\nQueue ID: ${randomBytes(16).toString("hex")}\nNumber of Producers: 0\nNumber of Consumers: 0`);
} else if (group === "queues" && command === "create" && name) {
	banner();
	if (account.queues.some((entry) => entry.name === name)) fail(`A queue with name "${name}" already exists.`);
	account.queues.push({ name });
	save();
	console.log(`🌀 Creating queue '${name}'\n✅ Created queue '${name}'`);
} else if (group === "queues" && command === "update" && name) {
	banner();
	const queue = account.queues.find((entry) => entry.name === name);
	if (!queue) fail(`Queue "${name}" does not exist. To create it, run: wrangler queues create ${name}`);
	const seconds = Number(option("--message-retention-period-secs"));
	if (!Number.isInteger(seconds) || seconds < 60 || seconds > 1209600) fail("message-retention-period-secs must be between 60 and 1209600");
	queue.retentionSeconds = seconds;
	save();
	console.log(`Updating queue ${name}.\nUpdated queue ${name}.`);
} else if (call === "r2 bucket" && args[2] === "list") {
	banner();
	console.log("Listing buckets...");
	console.log(account.buckets.map((bucket) => `name:           ${bucket}\ncreation_date:  2026-11-20T10:00:00.000Z`).join("\n\n"));
} else if (call === "r2 bucket" && args[2] === "create" && args[3]) {
	banner();
	const bucket = args[3];
	if (account.buckets.includes(bucket)) fail(`The bucket you tried to create already exists, and you own it. [code: 10004]`);
	account.buckets.push(bucket);
	save();
	console.log(`Creating bucket '${bucket}'...\n✅ Created bucket '${bucket}' with default storage class of Standard.`);
} else if (call === "kv namespace" && args[2] === "list") {
	// Like wrangler: no banner, only the JSON on stdout; warnings (with brackets) go to stderr.
	process.stderr.write("▲ [WARNING] Processing wrangler.toml configuration: [fake] a warning on stderr\n");
	console.log(
		JSON.stringify(
			account.kv.map((entry) => ({ ...entry, supports_url_encoding: true })),
			null,
			"  ",
		),
	);
} else if (call === "kv namespace" && args[2] === "create" && args[3]) {
	banner();
	const title = args[3];
	if (account.kv.some((entry) => entry.title === title)) fail(`A KV namespace with the title "${title}" already exists.`);
	const id = randomBytes(16).toString("hex");
	account.kv.push({ id, title });
	save();
	console.log(
		`Resource location: remote\n🌀 Creating namespace with title "${title}"\n✨ Success!\nTo access your new KV Namespace in your Worker, add the following snippet to your configuration file:\n[[kv_namespaces]]\nbinding = "${title.toUpperCase().replaceAll("-", "_")}"\nid = "${id}"`,
	);
} else if (group === "deploy") {
	banner();
	const env = option("--env");
	account.deployed.push(env ?? "");
	save();
	console.log(
		`Total Upload: 1234.56 KiB / gzip: 345.67 KiB\nUploaded edge-commerce-${env} (3.21 sec)\nDeployed edge-commerce-${env} triggers (1.02 sec)\nCurrent Version ID: 00000000-0000-0000-0000-000000000000`,
	);
} else {
	fail(`the fake wrangler does not know "${args.join(" ")}"`);
}
