import { z } from "zod";
import { EMAIL_KINDS, type EmailKind } from "./email-schemas.ts";

/**
 * Per-recipient send limits, from EMAIL_LIMITS: at most `limit` e-mails of
 * one kind to one address within `period` seconds; `default` covers every
 * kind not listed. Keys are the kinds of email-schemas.ts (`verify_email`,
 * `password_reset`, `order_confirmation` …). The consumer counts in
 * `notifications` before each send (emails.ts); one over is recorded as
 * `limited` and not sent, so a stream of reset requests for one address
 * cannot flood its mailbox, whoever sends them and from wherever.
 */
export interface EmailLimit {
	limit: number;
	period: number;
}

const LimitSchema = z
	.object({
		limit: z.number().int().min(1),
		period: z
			.number()
			.int()
			.min(1)
			.max(30 * 24 * 3600),
	})
	.strict();

const TableSchema = z.object({ default: LimitSchema }).catchall(LimitSchema);

let parsed: { raw: string; table: Record<EmailKind | "default", EmailLimit> } | undefined;

/** The limit for `kind`, EMAIL_LIMITS parsed once per isolate; a missing `default` or a malformed entry is a configuration fault. */
export function emailLimit(env: Env, kind: EmailKind): EmailLimit {
	const raw = env.EMAIL_LIMITS ?? "";
	if (parsed?.raw !== raw) parsed = { raw, table: parseEmailLimits(raw) };
	return parsed.table[kind];
}

/**
 * Every kind's limit. A key that names no kind is ignored with a warning
 * rather than refused: refusing would stop every e-mail over a misspelt
 * name, and the kind it meant still gets `default`.
 */
export function parseEmailLimits(raw: string): Record<EmailKind | "default", EmailLimit> {
	let source: unknown;
	try {
		source = JSON.parse(raw);
	} catch {
		throw new Error("EMAIL_LIMITS must be JSON");
	}
	const result = TableSchema.safeParse(source);
	if (!result.success) {
		throw new Error(`EMAIL_LIMITS must map "default" and e-mail kinds to {"limit": <positive integer>, "period": <seconds>}`);
	}
	const entries = result.data;
	const unknown = Object.keys(entries).filter((key) => key !== "default" && !(EMAIL_KINDS as readonly string[]).includes(key));
	if (unknown.length > 0) {
		console.log(JSON.stringify({ level: "warn", msg: "email_limits_unknown_kinds", keys: unknown, kinds: EMAIL_KINDS }));
	}
	const table = { default: entries.default } as Record<EmailKind | "default", EmailLimit>;
	for (const kind of EMAIL_KINDS) table[kind] = entries[kind] ?? entries.default;
	return table;
}
