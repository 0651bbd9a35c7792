import type { FC } from "hono/jsx";

/** Field name → message, for a form that came back with errors. */
export type FieldErrors = Record<string, string>;

export interface TextFieldProps {
	name: string;
	label: string;
	value?: string | undefined;
	type?: "text" | "email" | "password" | "tel" | "search" | "number";
	autocomplete?: string;
	required?: boolean;
	maxlength?: number;
	/** Shown under the field and tied to it with aria-describedby (the label itself stays exact). */
	hint?: string;
	errors?: FieldErrors | undefined;
	inputmode?: "decimal" | "numeric" | "email" | "tel" | "text";
	min?: string;
	step?: string;
	placeholder?: string;
}

/**
 * A labelled input with its hint and error. The error text is tied to the
 * input (aria-describedby, aria-invalid), so it is read with the field, not
 * only in the summary at the top of the form.
 */
export const TextField: FC<TextFieldProps> = ({ name, label, value, type = "text", hint, errors, ...rest }) => {
	const id = `field-${name}`;
	const error = errors?.[name];
	const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
	return (
		<div class={error ? "field invalid" : "field"}>
			<label for={id}>{label}</label>
			<input
				id={id}
				name={name}
				type={type}
				value={value ?? ""}
				aria-invalid={error ? "true" : undefined}
				aria-describedby={described || undefined}
				{...rest}
			/>
			{hint ? (
				<p class="hint" id={`${id}-hint`}>
					{hint}
				</p>
			) : null}
			{error ? (
				<p class="field-error" id={`${id}-error`}>
					{error}
				</p>
			) : null}
		</div>
	);
};

/** The text of a form field, trimmed; files and missing fields are "". */
export function formText(body: Record<string, string | File | (string | File)[]>, name: string): string {
	const value = body[name];
	const first = Array.isArray(value) ? value[0] : value;
	return typeof first === "string" ? first.trim() : "";
}
