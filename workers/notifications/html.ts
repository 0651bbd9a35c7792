/**
 * The HTML side of the e-mail templates. Markup is written with the `html`
 * tag, which escapes every interpolated value unless it is already SafeHtml
 * (the result of another `html` call), so forgetting to escape a product title
 * is not possible by construction. Styles are inline because most mail
 * clients drop `<style>` blocks; layout tables carry role="presentation" so
 * screen readers do not announce them as data tables.
 */

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes the five characters that matter in text and in quoted attribute values. */
export function escapeHtml(value: string): string {
	return value.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** Markup that is already escaped; only `html` creates it. */
export class SafeHtml {
	readonly value: string;

	constructor(value: string) {
		this.value = value;
	}

	toString(): string {
		return this.value;
	}
}

type Interpolation = SafeHtml | string | number | null | undefined | false | readonly Interpolation[];

function render(value: Interpolation): string {
	if (value === null || value === undefined || value === false) return "";
	if (value instanceof SafeHtml) return value.value;
	if (Array.isArray(value)) return value.map(render).join("");
	return escapeHtml(String(value));
}

/** A template literal whose values are escaped; `null`, `undefined` and `false` render as nothing, arrays are joined. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
	let out = strings[0] ?? "";
	for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? "");
	return new SafeHtml(out);
}

const FONT = "font-family:-apple-system,BlinkMacSystemFont,Segoe UI,Roboto,Helvetica,Arial,sans-serif";
const INK = "#18181b";
const MUTED = "#52525b";

export function heading(text: string): SafeHtml {
	return html`<h1 style="${FONT};margin:0 0 16px 0;font-size:22px;line-height:1.3;color:${INK};">${text}</h1>`;
}

export function paragraph(content: SafeHtml | string): SafeHtml {
	return html`<p style="margin:0 0 16px 0;">${content}</p>`;
}

/**
 * A link styled as a button, then the same address in full for clients that
 * block styled links and for readers who want to see where it goes.
 */
export function button(href: string, label: string): SafeHtml {
	return html`<p style="margin:24px 0;"><a href="${href}" style="display:inline-block;padding:12px 24px;background-color:${INK};color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600;">${label}</a></p>
<p style="margin:0 0 16px 0;font-size:13px;color:${MUTED};">If the button does not work, copy this address into your browser:<br><a href="${href}" style="color:${INK};word-break:break-all;">${href}</a></p>`;
}

/** Label/value rows (totals, details), as a real table with row headers. */
export function keyValueTable(caption: string, rows: readonly (readonly [string, string, boolean?])[]): SafeHtml {
	return html`<table style="width:100%;border-collapse:collapse;margin:0 0 16px 0;">
<caption style="text-align:left;font-weight:600;padding:0 0 8px 0;">${caption}</caption>
${rows.map(
	([label, value, strong]) =>
		html`<tr><th scope="row" style="text-align:left;font-weight:${strong ? "700" : "400"};padding:4px 0;">${label}</th><td style="text-align:right;font-weight:${strong ? "700" : "400"};padding:4px 0;white-space:nowrap;">${value}</td></tr>`,
)}
</table>`;
}

export interface LayoutOptions {
	lang: string;
	title: string;
	/** The summary line clients show next to the subject; hidden in the body. */
	preheader: string;
	shopName: string;
	body: SafeHtml;
	/** Why the reader got this e-mail. */
	footer: string;
}

/** The whole document: a centred 600 px card on a light background, readable without images or CSS support. */
export function layout(options: LayoutOptions): string {
	const { lang, title, preheader, shopName, body, footer } = options;
	return html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${title}</title>
</head>
<body style="margin:0;padding:0;background-color:#f4f4f5;">
<div style="display:none;max-height:0;overflow:hidden;opacity:0;" aria-hidden="true">${preheader}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f4f4f5;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;background-color:#ffffff;border-radius:8px;">
<tr><td style="${FONT};padding:24px 32px 0 32px;font-size:14px;font-weight:600;color:${MUTED};">${shopName}</td></tr>
<tr><td style="${FONT};padding:16px 32px 32px 32px;font-size:16px;line-height:1.5;color:${INK};">
${body}
</td></tr>
</table>
<p style="${FONT};max-width:600px;margin:16px auto 0 auto;font-size:12px;line-height:1.5;color:${MUTED};">${footer}</p>
</td></tr>
</table>
</body>
</html>
`.value;
}
