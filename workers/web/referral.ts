import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { activeAffiliate, normalizeAffiliateCode } from "../affiliates/affiliates.ts";
import type { AppEnv } from "../api/types.ts";

/**
 * Referral links: `?ref=CODE` on any storefront page. The code of an active
 * affiliate goes into the first-party `ref` cookie (HttpOnly, SameSite=Lax,
 * Secure as the session cookies are), for AFFILIATE_COOKIE_DAYS days; the
 * storefront's checkout hands it to the order (`referralCode`). Nothing else
 * is involved: no script, no third party, no pixel.
 *
 * Last click wins: a later link of another active affiliate replaces the
 * cookie and starts a new window, as does following the same link again. A
 * code that is unknown, inactive or malformed sets nothing and leaves an
 * earlier attribution as it was.
 *
 * The request is answered with a redirect to the same address without `ref`:
 * the page itself (the home page and catalog pages are cached publicly) is
 * served without a Set-Cookie, the code does not stay in the address bar to
 * be shared on, and a reload does not count as another click.
 */

const REF_COOKIE = "ref";
const DEFAULT_DAYS = 30;

/** AFFILIATE_COOKIE_DAYS as a whole number of days; anything else is the default. */
export function attributionDays(env: { AFFILIATE_COOKIE_DAYS?: string }): number {
	const days = Number(env.AFFILIATE_COOKIE_DAYS);
	return Number.isInteger(days) && days > 0 && days <= 400 ? days : DEFAULT_DAYS;
}

/** As session.ts: Secure everywhere but on plain-http localhost. */
function secure(c: Context<AppEnv>): boolean {
	const url = new URL(c.req.url);
	return url.protocol === "https:" || !["localhost", "127.0.0.1"].includes(url.hostname);
}

/** Records the referral of a page GET that carries `?ref=`, then sends the browser to the page without it. */
export function referralAttribution({ skip }: { skip?: (path: string) => boolean } = {}): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		if (c.req.method !== "GET" || skip?.(c.req.path)) return next();
		const url = new URL(c.req.url);
		if (!url.searchParams.has("ref")) return next();
		const code = normalizeAffiliateCode(url.searchParams.get("ref"));
		url.searchParams.delete("ref");
		if (code) {
			try {
				const affiliate = await activeAffiliate(c.get("database").primary, code);
				if (affiliate) {
					setCookie(c, REF_COOKIE, affiliate.code, {
						httpOnly: true,
						secure: secure(c),
						sameSite: "Lax",
						path: "/",
						maxAge: attributionDays(c.env) * 86_400,
					});
				}
			} catch (err) {
				// Attribution never stands between a shopper and the shop: the page is served without it. The
				// error's name only: a query error's message carries its parameters.
				const error_name = err instanceof Error ? err.name : typeof err;
				console.log(JSON.stringify({ level: "warn", msg: "referral not recorded", request_id: c.get("requestId"), error_name }));
			}
		}
		return c.redirect(`${url.pathname}${url.search}`, 302);
	};
}

/** The affiliate code this browser arrived with, for its checkout; undefined when there is none. */
export function referralCode(c: Context<AppEnv>): string | undefined {
	return normalizeAffiliateCode(getCookie(c, REF_COOKIE)) ?? undefined;
}
