/**
 * The pages' Content-Security-Policy. Every page loads only our own CSS,
 * script, images and live-stock socket. The one exception is the Stripe pay
 * page, which adds exactly the sources Stripe documents for Stripe.js and the
 * Payment Element (docs.stripe.com/security/guide, "Content Security
 * Policy"): its script, the frames it draws the card form and 3-D Secure in,
 * and its API. The Address Element's Google Maps sources are left out: the
 * shop does not use it. Nothing else is loosened, and no other page gets them.
 */

type Directives = Record<string, readonly string[]>;

const OWN_ORIGIN_ONLY: Directives = {
	"default-src": ["'self'"],
	"img-src": ["'self'", "data:"],
	"style-src": ["'self'"],
	"script-src": ["'self'"],
	"connect-src": ["'self'"],
	"form-action": ["'self'"],
	"frame-ancestors": ["'none'"],
	"base-uri": ["'self'"],
};

const STRIPE_JS: Directives = {
	"script-src": ["https://js.stripe.com", "https://*.js.stripe.com"],
	"frame-src": ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"],
	"connect-src": ["https://api.stripe.com"],
};

/** Adds sources to a policy; a directive it did not name starts from what it fell back to (default-src). */
function widen(base: Directives, extra: Directives): Directives {
	const merged: Record<string, readonly string[]> = { ...base };
	for (const [name, sources] of Object.entries(extra)) merged[name] = [...(base[name] ?? base["default-src"] ?? []), ...sources];
	return merged;
}

function render(policy: Directives): string {
	return Object.entries(policy)
		.map(([name, sources]) => `${name} ${sources.join(" ")}`)
		.join("; ");
}

/** Every storefront and admin page, unless it says otherwise. */
export const PAGE_CSP = render(OWN_ORIGIN_ONLY);

/** The pay page of an order paid with Stripe: PAGE_CSP plus Stripe.js and the Payment Element. */
export const STRIPE_PAY_PAGE_CSP = render(widen(OWN_ORIGIN_ONLY, STRIPE_JS));

/** Stripe.js, loaded from Stripe on the pages that take card payments, as Stripe requires (never bundled or self-hosted). */
export const STRIPE_JS_URL = "https://js.stripe.com/v3";
