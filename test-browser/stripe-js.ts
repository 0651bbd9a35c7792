/**
 * A stand-in for Stripe.js (https://js.stripe.com/v3), which cannot load
 * here: served to the page in its place by request interception, so the
 * page's own script tag, the CSP and our card script run unchanged. It
 * implements the part of Stripe.js's documented API the shop uses, and
 * records every call: `Stripe(publishableKey)`, `stripe.elements({ clientSecret })`,
 * `elements.create("payment")` and `mount(...)` (it draws a placeholder and
 * fires "ready"), and `stripe.confirmPayment({ elements, confirmParams })`.
 * confirmPayment resolves with Stripe's card_error for the first `declines`
 * calls, as Stripe.js does for a declined card; after that it leaves for
 * `return_url` with the query Stripe appends (`payment_intent`,
 * `payment_intent_client_secret`, `redirect_status=succeeded`) and never
 * resolves, as Stripe.js does when it redirects. Nothing is paid by it: the
 * test sends Stripe's webhook itself.
 */
import type { Page } from "playwright-core";

export type StripeJsCall =
	| { call: "Stripe"; publishableKey: string }
	| { call: "elements"; clientSecret: string }
	| { call: "create"; type: string }
	| { call: "mount"; into: { tag: string; attributes: Record<string, string>; formAttributes: Record<string, string> } }
	| { call: "confirmPayment"; returnUrl: string; sameElements: boolean; answer: "declined" | "redirected" };

/** The Stripe.js stand-in's source; `declines` is baked in when it is served. */
function standInSource(declines: number): string {
	return `(() => {
	const record = (call) => window.__recordStripeJsCall(call);
	let declinesLeft = ${JSON.stringify(declines)};
	const attributes = (el) => (el ? Object.fromEntries([...el.attributes].map((a) => [a.name, a.value])) : {});
	window.Stripe = function Stripe(publishableKey) {
		record({ call: "Stripe", publishableKey });
		let created;
		let clientSecret;
		return {
			elements(options) {
				clientSecret = options && options.clientSecret;
				record({ call: "elements", clientSecret });
				created = {
					create(type) {
						record({ call: "create", type });
						const handlers = {};
						return {
							on(event, handler) {
								(handlers[event] = handlers[event] || []).push(handler);
								return this;
							},
							mount(target) {
								const el = typeof target === "string" ? document.querySelector(target) : target;
								record({ call: "mount", into: { tag: el ? el.tagName.toLowerCase() : "", attributes: attributes(el), formAttributes: attributes(el && el.closest("form")) } });
								if (el) el.textContent = "Card form (Stripe.js stand-in)";
								setTimeout(() => (handlers.ready || []).forEach((handler) => handler({ elementType: type })), 0);
							},
						};
					},
				};
				return created;
			},
			async confirmPayment({ elements, confirmParams }) {
				const returnUrl = confirmParams && confirmParams.return_url;
				if (declinesLeft > 0) {
					declinesLeft--;
					await record({ call: "confirmPayment", returnUrl, sameElements: elements === created, answer: "declined" });
					return { error: { type: "card_error", code: "card_declined", decline_code: "generic_decline", message: "Your card was declined." } };
				}
				await record({ call: "confirmPayment", returnUrl, sameElements: elements === created, answer: "redirected" });
				const url = new URL(returnUrl);
				url.searchParams.set("payment_intent", clientSecret.split("_secret_")[0]);
				url.searchParams.set("payment_intent_client_secret", clientSecret);
				url.searchParams.set("redirect_status", "succeeded");
				window.location.assign(url.href);
				return new Promise(() => {});
			},
		};
	};
})();
`;
}

/**
 * Serves the stand-in for https://js.stripe.com/v3 to this page (every other
 * js.stripe.com request is refused) and returns the calls it records, in
 * order, across the page's navigations.
 */
export async function standInStripeJs(page: Page, options: { declines?: number } = {}): Promise<StripeJsCall[]> {
	const calls: StripeJsCall[] = [];
	await page.exposeFunction("__recordStripeJsCall", (call: StripeJsCall) => {
		calls.push(call);
	});
	await page.route("https://js.stripe.com/**", (route) => {
		if (new URL(route.request().url()).pathname !== "/v3") return route.abort("blockedbyclient");
		return route.fulfill({ status: 200, contentType: "text/javascript; charset=utf-8", body: standInSource(options.declines ?? 0) });
	});
	return calls;
}
