import type { Context } from "hono";
import { statusOf } from "../../api/lib/problem.ts";
import type { AppEnv } from "../../api/types.ts";
import type { AdminActor } from "../../catalog/admin.ts";
import type { ShippingRate } from "../../db/schema.ts";
import { DomainError } from "../../domain/errors.ts";
import type { TaxClass } from "../../markets/admin.schemas.ts";
import { seeOther, withOutcome } from "./actions.ts";
import { invalidForm, messagesForError, parsePrice, priceInput } from "./forms.tsx";
import type { Messages, NoticeCode } from "./messages.ts";

/**
 * Form plumbing shared by the markets, tax-rate and shipping pages: rates,
 * percentages, country lists and shipping tiers typed the way operators
 * write them, and the one way those pages answer a post.
 */

/** Tax classes as operators read them. */
export const TAX_CLASS_TEXT: Record<TaxClass, string> = { standard: "Standard", reduced: "Reduced", zero: "Zero" };

export const actorOf = (c: Context<AppEnv>): AdminActor => ({ userId: c.get("auth").userId, requestId: c.get("requestId") });

/** The state a page is re-rendered with when its form was refused. */
export interface RefusedForm<V = undefined> {
	status?: 400 | 409 | 422;
	messages?: Messages;
	values?: V;
}

function formStatus(err: DomainError): 400 | 409 | 422 {
	const status = statusOf(err);
	return status === 409 ? 409 : status === 422 ? 422 : 400;
}

/**
 * Runs a form's change and answers 303 to `back` with `notice`; a refusal
 * other than a vanished record shows `render` again with the reason (and
 * `values`, what was typed), in the status the API would answer.
 */
export async function formAction<V = never>(
	c: Context<AppEnv>,
	options: {
		back: string | (() => string);
		notice: NoticeCode;
		run: () => Promise<void>;
		render: (state: RefusedForm<V>) => Promise<Response>;
		values?: V;
	},
): Promise<Response> {
	try {
		await options.run();
		const back = typeof options.back === "function" ? options.back() : options.back;
		return seeOther(c, withOutcome(back, { notice: options.notice }));
	} catch (err) {
		if (err instanceof DomainError && statusOf(err) < 500 && err.code !== "not_found") {
			return options.render({
				status: formStatus(err),
				messages: messagesForError(err),
				...(options.values === undefined ? {} : { values: options.values }),
			});
		}
		throw err;
	}
}

/** "DE, at fr" to ["DE", "AT", "FR"]: commas or spaces between codes, repeats dropped. */
export function parseCountries(text: string | undefined): string[] {
	const codes = (text ?? "")
		.split(/[\s,;]+/)
		.map((code) => code.trim().toUpperCase())
		.filter(Boolean);
	return [...new Set(codes)];
}

/** Whole grams typed into a weight field: undefined when left empty (unchanged), null when it is not a weight. */
export function parseGrams(text: string | undefined): number | null | undefined {
	if (text === undefined) return undefined;
	const value = text.trim().replace(/\s*g$/i, "");
	return /^\d{1,7}$/.test(value) ? Number(value) : null;
}

/** "0.86" to 860000 millionths; undefined when it is not a positive rate with at most six decimals. */
export function parseRate(text: string | undefined): number | undefined {
	const value = (text ?? "").trim().replace(",", ".");
	if (!/^\d{1,7}(?:\.\d{1,6})?$/.test(value)) return undefined;
	const [whole = "0", fraction = ""] = value.split(".");
	const micros = Number(whole) * 1_000_000 + Number(fraction.padEnd(6, "0"));
	return micros > 0 ? micros : undefined;
}

/** 860000 to "0.86". */
export function rateInput(micros: number | null): string {
	if (micros === null) return "";
	const whole = Math.floor(micros / 1_000_000);
	const fraction = String(micros % 1_000_000)
		.padStart(6, "0")
		.replace(/0+$/, "");
	return fraction ? `${whole}.${fraction}` : String(whole);
}

/** "19", "7.5" or "5,5" per cent to basis points; undefined unless 0 to 100 with at most two decimals. */
export function parsePercent(text: string | undefined): number | undefined {
	const value = (text ?? "").trim().replace(/\s*%$/, "").replace(",", ".");
	if (!/^\d{1,3}(?:\.\d{1,2})?$/.test(value)) return undefined;
	const [whole = "0", fraction = ""] = value.split(".");
	const bp = Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
	return bp <= 10_000 ? bp : undefined;
}

/** 1900 basis points to "19", 550 to "5.5". */
export function percentText(bp: number): string {
	const whole = Math.floor(bp / 100);
	const fraction = String(bp % 100)
		.padStart(2, "0")
		.replace(/0+$/, "");
	return fraction ? `${whole}.${fraction}` : String(whole);
}

/** Words that mean "no upper bound" in a weight tier. */
const UNBOUNDED = new Set(["", "*", "∞", "rest", "more", "heavier"]);

/**
 * The rate fields of a method form as a rate: `flat` takes `amount`, `weight`
 * takes lines "up_to_grams:amount" (`*` for the last, unbounded tier),
 * `subtotal` lines "from:amount", amounts in major units of `currency`. Line
 * errors are the form's own; the tier rules (ascending, the first subtotal
 * tier from 0) are checked by the service with the API's words.
 */
export function parseRateFields(fields: { type: string; amount: string; tiers: string }, currency: string): ShippingRate {
	if (fields.type === "flat") {
		const amount = parsePrice(fields.amount, currency);
		if (amount === undefined) throw invalidForm(["Amount: write an amount such as 4.95."]);
		return { type: "flat", amount };
	}
	if (fields.type !== "weight" && fields.type !== "subtotal") throw invalidForm(["Rate: choose flat, by weight or by subtotal."]);
	const lines = fields.tiers
		.split(/\r?\n/)
		.map((line) => line.trim())
		.filter(Boolean);
	const problems: string[] = [];
	if (lines.length === 0) problems.push(`Tiers: write one tier per line, e.g. ${fields.type === "weight" ? "1000:5.99" : "0:4.95"}.`);
	const parsed = lines.map((line, index) => {
		const colon = line.indexOf(":");
		const bound = colon === -1 ? "" : line.slice(0, colon).trim();
		const amount = parsePrice(colon === -1 ? undefined : line.slice(colon + 1), currency);
		if (colon === -1 || amount === undefined) problems.push(`Tier ${index + 1} ("${line}"): write limit:amount, e.g. 1000:5.99.`);
		if (fields.type === "weight") {
			const grams = UNBOUNDED.has(bound.toLowerCase()) ? null : /^\d{1,7}$/.test(bound) ? Number(bound) : undefined;
			if (grams === undefined) problems.push(`Tier ${index + 1}: the weight limit is whole grams, or * for everything heavier.`);
			return { up_to_grams: grams ?? null, amount: amount ?? 0 };
		}
		const from = parsePrice(bound, currency);
		if (from === undefined) problems.push(`Tier ${index + 1}: the subtotal it starts from is an amount such as 50.00.`);
		return { from: from ?? 0, amount: amount ?? 0 };
	});
	if (problems.length > 0) throw invalidForm(problems);
	return fields.type === "weight"
		? { type: "weight", tiers: parsed as { up_to_grams: number | null; amount: number }[] }
		: { type: "subtotal", tiers: parsed as { from: number; amount: number }[] };
}

/** A rate's tiers as the form's textarea shows them. */
export function tiersInput(rate: ShippingRate, currency: string): string {
	if (rate.type === "weight") {
		return rate.tiers.map((tier) => `${tier.up_to_grams ?? "*"}:${priceInput(tier.amount, currency)}`).join("\n");
	}
	if (rate.type === "subtotal") {
		return rate.tiers.map((tier) => `${priceInput(tier.from, currency)}:${priceInput(tier.amount, currency)}`).join("\n");
	}
	return "";
}

/** A price list pasted as lines "SKU,amount" (comma, semicolon or tab), amounts in major units of `currency`. */
export function parsePriceLines(text: string, currency: string): { sku: string; amount_minor: number }[] {
	const problems: string[] = [];
	const rows: { sku: string; amount_minor: number }[] = [];
	text
		.split(/\r?\n/)
		.map((line) => line.trim())
		.filter(Boolean)
		.forEach((line, index) => {
			// The first separator splits: the amount may have a decimal comma of its own ("TEE-M,12,50").
			const at = line.search(/[,;\t]/);
			const sku = at === -1 ? "" : line.slice(0, at).trim().toUpperCase();
			const amount = at === -1 ? undefined : parsePrice(line.slice(at + 1), currency);
			if (!sku || amount === undefined)
				problems.push(`Line ${index + 1} ("${line.slice(0, 80)}"): write SKU,amount, e.g. TEE-NAV-M,19.90.`);
			else rows.push({ sku, amount_minor: amount });
		});
	if (rows.length === 0 && problems.length === 0) problems.push("Prices: paste one SKU,amount per line.");
	if (problems.length > 0) throw invalidForm(problems.slice(0, 20));
	return rows;
}
