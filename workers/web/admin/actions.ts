import type { Context } from "hono";
import type { StatusCode } from "hono/utils/http-status";
import { statusOf } from "../../api/lib/problem.ts";
import type { AppEnv } from "../../api/types.ts";
import { DomainError } from "../../domain/errors.ts";
import { isIdempotencyKey, requestHashOf, runIdempotent } from "../../idempotency/store.ts";
import type { NoticeCode } from "./messages.ts";

/**
 * How the console's forms change things: a POST answered with 303 back to a
 * page, whose URL names the outcome (`?notice=` or `?error=`, see
 * messages.ts). Forms need no JavaScript.
 */

/** The hidden field that carries a form's idempotency key, fresh on every render. */
export const IDEMPOTENCY_FIELD = "idempotency_key";

/** A fresh key for one rendering of an idempotent form. */
export function newFormKey(): string {
	return crypto.randomUUID();
}

/**
 * 303 See Other: the browser follows it with a GET, so a reload never repeats
 * the POST. Made through the context, so the cookies of a session renewed on
 * this request (see session.ts) reach the browser: dropping them would leave
 * it with a rotated-out refresh token, which ends the session as reuse.
 */
export function seeOther(c: Context<AppEnv>, location: string): Response {
	return c.redirect(location, 303);
}

/** `path` with the outcome of an action in its query. */
export function withOutcome(path: string, outcome: { notice: NoticeCode } | { error: string }): string {
	const url = new URL(path, "https://admin.invalid");
	url.searchParams.delete("notice");
	url.searchParams.delete("error");
	if ("notice" in outcome) url.searchParams.set("notice", outcome.notice);
	else url.searchParams.set("error", outcome.error);
	return `${url.pathname}${url.search}`;
}

/**
 * The urlencoded body of a form post: its raw text (for the idempotency
 * fingerprint) and its fields. Read as bytes: workerd warns when a form body
 * is read with `.text()`.
 */
export async function readForm(c: Context<AppEnv>): Promise<{ text: string; fields: URLSearchParams }> {
	const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
	const text = type === "application/x-www-form-urlencoded" ? new TextDecoder().decode(await c.req.arrayBuffer()) : "";
	return { text, fields: new URLSearchParams(text) };
}

/** A trimmed text field, or undefined when absent or blank. */
export function field(fields: URLSearchParams, name: string): string | undefined {
	const value = fields.get(name)?.trim();
	return value ? value : undefined;
}

/**
 * Runs a plain (not idempotent) action: the answer is 303 to `back` with its
 * notice, or with the code of the DomainError it met. Unknown errors propagate
 * to the error page.
 */
export async function action(c: Context<AppEnv>, back: string, run: () => Promise<NoticeCode>): Promise<Response> {
	try {
		return seeOther(c, withOutcome(back, { notice: await run() }));
	} catch (err) {
		if (err instanceof DomainError) return seeOther(c, withOutcome(back, { error: err.code }));
		throw err;
	}
}

/**
 * Runs an action the API marks idempotent (adjust, fulfil, ship, refund) under
 * the form's key, through the same Postgres store as the API's
 * `Idempotency-Key` (scope: the admin, as there). A double submit gets the
 * first answer back, the same 303 with the same message, and the change
 * happens once. A refusal (4xx) is an answer and is stored too; a 5xx is not,
 * so the same form can be sent again once the outage is over.
 */
export async function idempotentAction(
	c: Context<AppEnv>,
	options: { route: string; back: string; run: (key: string, fields: URLSearchParams) => Promise<NoticeCode> },
): Promise<Response> {
	const { text, fields } = await readForm(c);
	const key = fields.get(IDEMPOTENCY_FIELD) ?? "";
	if (!isIdempotencyKey(key)) return seeOther(c, withOutcome(options.back, { error: "form_expired" }));
	const request = {
		scope: `user:${c.get("auth").userId}`,
		key,
		route: `POST ${options.route}`,
		requestHash: await requestHashOf("POST", c.req.path, text),
	};
	try {
		const { replayed, response } = await runIdempotent(c.get("database").primary, request, async () => {
			try {
				return seeOther(c, withOutcome(options.back, { notice: await options.run(key, fields) }));
			} catch (err) {
				if (err instanceof DomainError && statusOf(err) < 500) return seeOther(c, withOutcome(options.back, { error: err.code }));
				throw err;
			}
		});
		// The stored answer, through the context for the same reason as `seeOther`.
		return replayed ? c.newResponse(response.body, { status: response.status as StatusCode, headers: response.headers }) : response;
	} catch (err) {
		// Claim refusals (409 in progress, 422 reused) and outages: nothing stored, say what happened.
		if (err instanceof DomainError) return seeOther(c, withOutcome(options.back, { error: err.code }));
		throw err;
	}
}
