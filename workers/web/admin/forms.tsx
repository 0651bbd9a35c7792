import type { z } from "@hono/zod-openapi";
import type { FC } from "hono/jsx";
import type { CategoryNode } from "../../catalog/queries.ts";
import { DomainError } from "../../domain/errors.ts";
import { ERRORS, GENERIC_ERROR, type Messages } from "./messages.ts";

/**
 * Form plumbing for the console's edit forms: money and options typed the
 * way operators write them, and errors worded for the form they came from.
 */

/** Currencies offered in the forms; the API accepts any ISO 4217 code. */
export const CURRENCIES = ["EUR", "USD", "GBP", "CHF", "SEK", "DKK", "NOK", "PLN", "CZK", "JPY"] as const;

/** Digits after the decimal point, as `money()` in the storefront layout counts them. */
function digitsOf(currency: string): number {
	return currency === "JPY" || currency === "KRW" ? 0 : 2;
}

/** "12.50" or "12,50" in `currency` to minor units; undefined when it is not a price. */
export function parsePrice(text: string | undefined, currency: string): number | undefined {
	const digits = digitsOf(currency);
	const value = (text ?? "").trim().replace(/\s/g, "");
	const pattern = digits === 0 ? /^\d{1,9}$/ : /^\d{1,9}(?:[.,]\d{1,2})?$/;
	if (!pattern.test(value)) return undefined;
	const [whole = "0", fraction = ""] = value.split(/[.,]/);
	return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
}

/** Minor units as the price field shows them: "12.50", "1200" for yen. */
export function priceInput(minor: number, currency: string): string {
	const digits = digitsOf(currency);
	return digits === 0 ? String(minor) : `${Math.floor(minor / 10 ** digits)}.${String(minor % 10 ** digits).padStart(digits, "0")}`;
}

/** "Colour: Navy, Size: M" to `{ Colour: "Navy", Size: "M" }`; undefined when a pair has no name. */
export function parseOptions(text: string | undefined): Record<string, string> | undefined {
	const options: Record<string, string> = {};
	for (const pair of (text ?? "").split(",")) {
		if (pair.trim() === "") continue;
		const colon = pair.indexOf(":");
		const name = colon > 0 ? pair.slice(0, colon).trim() : "";
		if (!name) return undefined;
		options[name] = pair.slice(colon + 1).trim();
	}
	return options;
}

export function optionsInput(options: Record<string, string>): string {
	return Object.entries(options)
		.map(([name, value]) => `${name}: ${value}`)
		.join(", ");
}

/** A validation failure raised by the console itself, worded for the form. */
export function invalidForm(details: string[]): DomainError {
	return new DomainError("validation_failed", { extensions: { details } });
}

/**
 * The zod issues of a form's request body, labelled with the form's own field
 * names: `labels` maps a body key (`title`), or a key inside a list
 * (`variants.title`), to the label the operator sees.
 */
export function issuesOf(error: z.ZodError, labels: Record<string, string>): string[] {
	return error.issues.map((issue) => {
		const keys = issue.path.filter((part): part is string => typeof part === "string");
		const key = keys.at(-1);
		const label = (keys.length > 1 ? labels[`${keys[0]}.${key}`] : undefined) ?? (key ? labels[key] : undefined) ?? "Form";
		return `${label}: ${issue.message}`;
	});
}

/** What a page shows for an DomainError its form met: the service's own explanation, and field details. */
export function messagesForError(err: DomainError): Messages {
	const { details, errors } = err.extensions;
	// Field errors explain a validation failure; any other refusal's detail already says it all.
	const listed = Array.isArray(details)
		? details.map(String)
		: err.code === "validation_failed" && Array.isArray(errors)
			? errors.map((error: { message?: unknown }) => String(error.message))
			: undefined;
	return {
		error:
			err.code === "validation_failed" ? (ERRORS.validation_failed ?? GENERIC_ERROR) : (err.detail ?? ERRORS[err.code] ?? GENERIC_ERROR),
		details: listed,
	};
}

/** Every category, children indented under their parent, as `<option>`s. */
export const CategoryOptions: FC<{ tree: CategoryNode[]; selected: string | null | undefined }> = ({ tree, selected }) => {
	const rows: { id: string; label: string }[] = [];
	const walk = (nodes: CategoryNode[], prefix: string) => {
		for (const node of nodes) {
			rows.push({ id: node.id, label: `${prefix}${node.name}` });
			walk(node.children, `${prefix}${node.name} › `);
		}
	};
	walk(tree, "");
	return (
		<>
			<option value="">No category</option>
			{rows.map((row) => (
				<option value={row.id} selected={row.id === selected}>
					{row.label}
				</option>
			))}
		</>
	);
};

export const CurrencyOptions: FC<{ selected: string }> = ({ selected }) => (
	<>
		{[...new Set([selected, ...CURRENCIES])].map((code) => (
			<option value={code} selected={code === selected}>
				{code}
			</option>
		))}
	</>
);
