import { createRouter } from "../api/app.ts";
import { homePage } from "./pages/home.tsx";
import { loadViewer, sameOriginPosts } from "./session.ts";

/**
 * The storefront and the admin console: server-rendered pages served by the
 * same Worker as the API, using the same services (never HTTP calls to
 * itself). Mounted after the API routes.
 */
const web = createRouter();
web.use("*", async (c, next) => {
	// Pages only ever load our own CSS, script, images and live-stock socket.
	await next();
	if (c.res.headers.get("content-type")?.startsWith("text/html")) {
		c.res.headers.set(
			"content-security-policy",
			"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'",
		);
	}
});
web.use("*", sameOriginPosts());
web.use("*", loadViewer());

web.get("/", homePage);

export const webRouter = web;
