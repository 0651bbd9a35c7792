import type { MiddlewareHandler } from "hono";
import { createRouter } from "../api/app.ts";
import type { AppEnv } from "../api/types.ts";
import { clientOf } from "../limits/client.ts";
import { enforceRateLimit, type LimitKey, type LimitPolicy } from "../limits/rate-limits.ts";
import { adminRouter } from "./admin/index.ts";
import { PAGE_CSP } from "./csp.ts";
import { PERSONAL_PAGE_CACHE } from "./layout.tsx";
import { accountPage, register, registerPage, savePreferences, signin, signinPage, signout } from "./pages/account.tsx";
import { addToCart, cartPage, removeLine, updateLine } from "./pages/cart.tsx";
import { categoryPage, productPage, searchPage } from "./pages/catalog.tsx";
import { checkoutPage, submitCheckout } from "./pages/checkout.tsx";
import { htmlNotFound, pageErrorHandler } from "./pages/errors.tsx";
import { homePage } from "./pages/home.tsx";
import { accountOrderLink, orderPage, pay, payPage } from "./pages/orders.tsx";
import { forgotPassword, forgotPasswordPage, resetPassword, resetPasswordPage, verifyEmail, verifyEmailPage } from "./pages/recovery.tsx";
import { cancelReturnAction, requestReturnAction } from "./pages/returns.tsx";
import { referralAttribution } from "./referral.ts";
import { loadViewer, sameOriginPosts } from "./session.ts";

/**
 * Catalog pages are cached publicly (CATALOG_PAGE_CACHE), so they never read
 * the session: one copy serves everyone and carries no Set-Cookie.
 */
const CATALOG_PAGE = /^\/(?:$|search$|c\/[^/]+$|p\/[^/]+$)/;
/**
 * The API's own paths, which this router's middleware also sees (an unknown
 * /v1 route, the reference mounted after the pages): they keep the API's
 * headers and problem+json, and never touch the page session.
 */
const API_PATH = /^\/(?:v1(?:\/|$)|docs$|openapi\.json$)/;
/** The admin console, which takes no referrals. */
const ADMIN_PATH = /^\/admin(?:\/|$)/;

/**
 * The storefront and the admin console: server-rendered pages served by the
 * same Worker as the API, using the same services (never HTTP calls to
 * itself). Mounted after the API routes.
 */
const web = createRouter();
web.use("*", async (c, next) => {
	await next();
	if (API_PATH.test(c.req.path)) return;
	// Whatever a page did not mark cacheable (redirects after a form, refusals) is personal.
	if (!c.res.headers.has("cache-control")) c.res.headers.set("cache-control", PERSONAL_PAGE_CACHE);
	// Pages only ever load our own CSS, script, images and live-stock socket; the Stripe pay page sets its own (csp.ts).
	if (c.res.headers.get("content-type")?.startsWith("text/html") && !c.res.headers.has("content-security-policy")) {
		c.res.headers.set("content-security-policy", PAGE_CSP);
	}
});
web.use("*", htmlNotFound({ skip: (path) => API_PATH.test(path) }));
web.use("*", sameOriginPosts({ skip: (path) => API_PATH.test(path) }));
// Referral links (`?ref=CODE`) on any page but the console's; see referral.ts.
web.use("*", referralAttribution({ skip: (path) => API_PATH.test(path) || ADMIN_PATH.test(path) }));
web.use("*", loadViewer({ skip: (path) => API_PATH.test(path) || CATALOG_PAGE.test(path) }));

/**
 * The storefront's costly form posts count against the same policies as the
 * API routes they mirror (api/middleware/rate-limits.ts), per client and per
 * signed-in shopper; a refusal is the 429 error page with Retry-After.
 */
function limitForm(policy: LimitPolicy): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		const viewer = c.get("viewer");
		const keys: LimitKey[] = [{ scope: "client", id: clientOf(c.req.raw) }];
		if (viewer) keys.push({ scope: "user", id: viewer.userId });
		await enforceRateLimit(c.env, policy, keys);
		await next();
	};
}

web.get("/", homePage);
web.get("/search", searchPage);
web.get("/c/:slug", categoryPage);
web.get("/p/:slug", productPage);

web.get("/cart", cartPage);
web.post("/cart/items", limitForm("cart_writes"), addToCart);
web.post("/cart/items/:sku", limitForm("cart_writes"), updateLine);
web.post("/cart/items/:sku/remove", limitForm("cart_writes"), removeLine);

web.get("/checkout", checkoutPage);
web.post("/checkout", limitForm("checkouts"), submitCheckout);
web.get("/orders/:id/pay", payPage);
web.post("/orders/:id/pay", limitForm("checkouts"), pay);
web.get("/orders/:id", orderPage);
web.post("/orders/:id/returns", limitForm("checkouts"), requestReturnAction);
web.post("/orders/:id/returns/:returnId/cancel", limitForm("checkouts"), cancelReturnAction);

web.get("/signin", signinPage);
web.post("/signin", signin);
web.get("/register", registerPage);
web.post("/register", register);
web.post("/signout", signout);
web.get("/verify-email", verifyEmailPage);
web.post("/verify-email", verifyEmail);
web.get("/forgot-password", forgotPasswordPage);
web.post("/forgot-password", forgotPassword);
web.get("/reset-password", resetPasswordPage);
web.post("/reset-password", resetPassword);
web.get("/account", accountPage);
web.post("/account/preferences", savePreferences);
web.get("/account/orders/:id", accountOrderLink);

// Errors in pages (and the admin console mounted here) are answered as HTML pages, never problem+json or a stack.
web.onError(pageErrorHandler);

web.route("/", adminRouter);

export const webRouter = web;
