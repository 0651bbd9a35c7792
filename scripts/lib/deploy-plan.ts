/**
 * What `npm run deploy` (scripts/deploy.ts) reads from wrangler.toml, and the
 * one edit it makes there. Pure functions over the file's text, so the tests
 * can hold them to the layout of the real file.
 *
 * The file is parsed with smol-toml (a complete TOML 1.0 parser): wrangler's
 * own reader (`experimental_readRawConfig`) answers the same values but is
 * marked experimental, and the edit below needs a parser of its own anyway to
 * check its result. The edit itself is textual (one line inserted into the
 * table it belongs to) so comments, order and spacing stay as they are:
 * wrangler.toml is written by hand and shared.
 */
import { isDeepStrictEqual } from "node:util";
import { parse } from "smol-toml";

/** How long a dead-letter queue keeps a message: 14 days, the platform's maximum. */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600;

export interface PlannedQueue {
	name: string;
	/** Named by some consumer's `dead_letter_queue`: kept 14 days. */
	deadLetter: boolean;
}

export interface PlannedKvNamespace {
	binding: string;
	/** The id pinned in wrangler.toml, if any. */
	id: string | undefined;
	/** The namespace's title in the account: `<worker name>-<binding>`, the name wrangler's automatic provisioning gives it. */
	title: string;
}

export interface DeployPlan {
	env: string;
	/** The Worker's name in this environment. */
	workerName: string;
	queues: PlannedQueue[];
	buckets: string[];
	kvNamespaces: PlannedKvNamespace[];
}

type Table = Record<string, unknown>;

function isTable(value: unknown): value is Table {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

function tables(value: unknown, where: string): Table[] {
	if (value === undefined) return [];
	if (!Array.isArray(value) || !value.every(isTable)) throw new Error(`${where} must be an array of tables`);
	return value;
}

function text(table: Table, key: string, where: string): string {
	const value = table[key];
	if (typeof value !== "string" || value === "") throw new Error(`${where}: \`${key}\` must be a non-empty string`);
	return value;
}

/** Parses wrangler.toml; a syntax error names the line. */
export function parseConfig(source: string): Table {
	return parse(source) as Table;
}

/** The environments wrangler.toml declares (`[env.<name>]`). */
export function environmentNames(config: Table): string[] {
	return isTable(config.env) ? Object.keys(config.env) : [];
}

/** The wrangler name of a KV namespace wrangler would provision for a binding (deployment-bundle/auto-provisioned-name.ts). */
export function kvTitle(workerName: string, binding: string): string {
	return `${workerName}-${binding.toLowerCase().replaceAll("_", "-")}`;
}

/**
 * The resources `wrangler deploy --env <env>` needs to exist beforehand:
 * every queue a producer or consumer names, each consumer's dead-letter
 * queue, the R2 buckets and the KV namespaces. Bindings are not inherited by
 * environments, so only the environment's own tables count.
 */
export function planFor(config: Table, env: string): DeployPlan {
	const environments = isTable(config.env) ? config.env : {};
	const section = environments[env];
	if (!isTable(section)) {
		const known = Object.keys(environments);
		throw new Error(`wrangler.toml has no [env.${env}]${known.length ? ` (it has ${known.join(", ")})` : ""}`);
	}
	const prefix = `env.${env}`;
	const topName = typeof config.name === "string" ? config.name : undefined;
	const workerName = typeof section.name === "string" ? section.name : topName ? `${topName}-${env}` : undefined;
	if (!workerName) throw new Error(`wrangler.toml names no Worker for ${prefix} (\`name\`)`);

	const queues = new Map<string, PlannedQueue>();
	const addQueue = (name: string, deadLetter: boolean) => {
		const known = queues.get(name);
		if (known) known.deadLetter ||= deadLetter;
		else queues.set(name, { name, deadLetter });
	};
	const queueSection = isTable(section.queues) ? section.queues : {};
	for (const [i, producer] of tables(queueSection.producers, `[[${prefix}.queues.producers]]`).entries()) {
		addQueue(text(producer, "queue", `[[${prefix}.queues.producers]] #${i + 1}`), false);
	}
	for (const [i, consumer] of tables(queueSection.consumers, `[[${prefix}.queues.consumers]]`).entries()) {
		const where = `[[${prefix}.queues.consumers]] #${i + 1}`;
		addQueue(text(consumer, "queue", where), false);
		if (consumer.dead_letter_queue !== undefined) addQueue(text(consumer, "dead_letter_queue", where), true);
	}

	const buckets = [
		...new Set(
			tables(section.r2_buckets, `[[${prefix}.r2_buckets]]`).map((bucket, i) =>
				text(bucket, "bucket_name", `[[${prefix}.r2_buckets]] #${i + 1}`),
			),
		),
	];

	const kvNamespaces = tables(section.kv_namespaces, `[[${prefix}.kv_namespaces]]`).map((namespace, i) => {
		const where = `[[${prefix}.kv_namespaces]] #${i + 1}`;
		const binding = text(namespace, "binding", where);
		const id = namespace.id === undefined ? undefined : text(namespace, "id", where);
		return { binding, id, title: kvTitle(workerName, binding) };
	});

	return { env, workerName, queues: [...queues.values()], buckets, kvNamespaces };
}

const HEADER = /^\s*\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]\s*(#.*)?$/;
const ANY_HEADER = /^\s*\[/;

/**
 * wrangler.toml's text with `id = "<id>"` added to the KV namespace table of
 * `binding` in environment `env`, right under its `binding = …` line, and
 * nothing else changed. Refuses (throws) when that table cannot be found as
 * an `[[env.<env>.kv_namespaces]]` block, already has an id, or when the
 * result would not parse to exactly the old configuration plus that id.
 */
export function withKvNamespaceId(source: string, env: string, binding: string, id: string): string {
	if (!/^[0-9a-f]{32}$/i.test(id)) throw new Error(`not a KV namespace id: ${JSON.stringify(id)}`);
	const eol = source.includes("\r\n") ? "\r\n" : "\n";
	const lines = source.split(/\r?\n/);
	const header = `env.${env}.kv_namespaces`;
	const name = binding.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
	const bindingLine = new RegExp(`^(\\s*)binding\\s*=\\s*(?:"${name}"|'${name}')\\s*(#.*)?$`);
	const idLine = /^\s*id\s*=/;
	let insertAt = -1;
	let indent = "";
	for (let i = 0; i < lines.length; i++) {
		if (HEADER.exec(lines[i] ?? "")?.[1] !== header) continue;
		let end = i + 1;
		while (end < lines.length && !ANY_HEADER.test(lines[end] ?? "")) end++;
		const body = lines.slice(i + 1, end);
		const at = body.findIndex((line) => bindingLine.test(line));
		if (at === -1) continue;
		if (insertAt !== -1) throw new Error(`wrangler.toml declares KV binding ${binding} twice in [env.${env}]`);
		if (body.some((line) => idLine.test(line)))
			throw new Error(`wrangler.toml already has an id for KV binding ${binding} in [env.${env}]`);
		insertAt = i + 1 + at + 1;
		indent = bindingLine.exec(body[at] ?? "")?.[1] ?? "";
	}
	if (insertAt === -1) {
		throw new Error(`no [[${header}]] table with binding = "${binding}" in wrangler.toml; add id = "${id}" to it by hand`);
	}
	lines.splice(insertAt, 0, `${indent}id = "${id}"`);
	const result = lines.join(eol);

	// The edit must be exactly the one intended: the old configuration plus this id.
	const expected = parseConfig(source);
	const section = (expected.env as Table)[env] as Table;
	const namespace = (section.kv_namespaces as Table[]).find((entry) => entry.binding === binding);
	if (!namespace) throw new Error(`KV binding ${binding} is not in [env.${env}]`);
	namespace.id = id;
	if (!isDeepStrictEqual(parseConfig(result), expected)) {
		throw new Error(`adding the id of KV binding ${binding} would change more than that line of wrangler.toml; add id = "${id}" by hand`);
	}
	return result;
}
