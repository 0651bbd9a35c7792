import { randomIp } from "./accounts-helpers.ts";
import { Bus } from "./orders-helpers.ts";

/**
 * A browser for page tests: keeps the cookies the Worker sets (Set-Cookie in,
 * Cookie out, Max-Age=0 deletes), sends forms url-encoded, never follows
 * redirects (tests assert them), and routes queues through a captured Bus.
 */
export class Browser {
	readonly cookies = new Map<string, string>();
	readonly ip = randomIp();
	readonly bus: Bus;

	constructor(bus = new Bus()) {
		this.bus = bus;
	}

	get(path: string, headers: Record<string, string> = {}): Promise<Response> {
		return this.send(path, { headers: { accept: "text/html", ...headers } });
	}

	post(path: string, form: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Response> {
		return this.send(path, {
			method: "POST",
			headers: { accept: "text/html", "content-type": "application/x-www-form-urlencoded", ...headers },
			body: new URLSearchParams(form).toString(),
		});
	}

	/** GET that must answer 200 HTML; returns the page's text. */
	async page(path: string): Promise<string> {
		const res = await this.get(path);
		const html = await res.text();
		if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${html.slice(0, 500)}`);
		return html;
	}

	async send(path: string, init: RequestInit & { headers: Record<string, string> }): Promise<Response> {
		const headers: Record<string, string> = { "cf-connecting-ip": this.ip, ...init.headers };
		if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
		const res = await this.bus.request(path, { ...init, headers, redirect: "manual" });
		for (const line of res.headers.getSetCookie()) {
			const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
			const at = pair.indexOf("=");
			const name = pair.slice(0, at);
			const gone = attributes.some((attribute) => /^max-age=0$/i.test(attribute));
			if (gone) this.cookies.delete(name);
			else this.cookies.set(name, pair.slice(at + 1));
		}
		return res;
	}
}

/** The value of a form field named `name` in a page (the first one). */
export function fieldValue(html: string, name: string): string {
	const match = new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(html);
	if (!match?.[1]) throw new Error(`no field ${name} with a value in the page`);
	return match[1];
}

/** A 303 and where it points. */
export function redirectOf(res: Response): string {
	if (res.status !== 303) throw new Error(`expected 303, got ${res.status}`);
	return res.headers.get("location") ?? "";
}

/** The checkout form of a shopper in Berlin, as the fields are named on the page. */
export const CHECKOUT_FORM = {
	email: "ana@example.com",
	name: "Ana Lima",
	line1: "Hauptstraße 1",
	line2: "",
	city: "Berlin",
	region: "",
	postal_code: "10115",
	country: "DE",
	phone: "",
	discount_code: "",
};
