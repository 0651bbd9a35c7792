import type { Context, ErrorHandler, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { handleError } from "../../api/app.ts";
import { statusOf } from "../../api/lib/problem.ts";
import type { AppEnv } from "../../api/types.ts";
import { KeyConfigurationError } from "../../auth/keys.ts";
import { isDatabaseUnavailable } from "../../db/client.ts";
import { DomainError } from "../../domain/errors.ts";
import { Layout, PERSONAL_PAGE_CACHE } from "../layout.tsx";

interface ErrorPageContent {
	heading: string;
	message: string;
	/** Shown for faults on our side, so a shopper can quote it to support. */
	requestId?: string | undefined;
}

/**
 * A friendly error page in the shop's frame. It never shows an error message
 * or stack: only text written for shoppers and, for faults, the request id.
 * No categories in the frame: the database may be what failed.
 */
export async function errorPage(
	c: Context<AppEnv>,
	status: number,
	content: ErrorPageContent,
	headers: Record<string, string> = {},
): Promise<Response> {
	c.header("cache-control", PERSONAL_PAGE_CACHE);
	for (const [name, value] of Object.entries(headers)) c.header(name, value);
	return c.html(
		<Layout title={content.heading}>
			<section class="card narrow error-page" aria-labelledby="error-heading">
				<p class="muted error-code">Error {status}</p>
				<h1 id="error-heading">{content.heading}</h1>
				<p>{content.message}</p>
				{content.requestId ? <p class="muted small">Reference: {content.requestId}</p> : null}
				<p class="row">
					<a class="button" href="/">
						Go to the home page
					</a>
					<a class="button secondary" href="/search">
						Browse products
					</a>
				</p>
			</section>
		</Layout>,
		status as 400,
	);
}

export function notFoundPage(c: Context<AppEnv>): Promise<Response> {
	return errorPage(c, 404, {
		heading: "Page not found",
		message: "We could not find that page. It may have moved, or the product is no longer sold.",
	});
}

const UNAVAILABLE = {
	heading: "We’ll be right back",
	message: "The shop cannot reach its database for a moment. Nothing you did was lost; please try again in a few seconds.",
};

/** Friendly words for the refusals a page can run into that it does not handle itself. */
function contentOf(err: DomainError): Omit<ErrorPageContent, "requestId"> {
	switch (err.code) {
		case "not_found":
			return { heading: "Page not found", message: "We could not find that page. It may have moved, or the product is no longer sold." };
		case "cross_site_post":
			return {
				heading: "Form refused",
				message: "This form was sent from another site, so we did not act on it. Go back to our page, reload it and try again.",
			};
		case "rate_limited":
			return { heading: "Too many attempts", message: "Please wait a minute before trying again." };
		case "database_unavailable":
			return UNAVAILABLE;
		default:
			return statusOf(err) >= 500
				? { heading: "Temporarily unavailable", message: "Something we depend on is not answering. Please try again in a moment." }
				: { heading: "That did not work", message: err.detail ?? "The request could not be completed. Go back and try again." };
	}
}

/**
 * The error handler of the page routes: the same decisions as the API's
 * (`handleError` classifies and logs, so a fault is logged once, without its
 * message), answered as an HTML page. Paths under /v1 that reach a page
 * middleware keep their problem+json.
 */
export const pageErrorHandler: ErrorHandler<AppEnv> = (err, c) => {
	const problem = handleError(err, c);
	if (c.req.path === "/v1" || c.req.path.startsWith("/v1/")) return problem;
	const requestId = c.get("requestId");
	const headers: Record<string, string> = {};
	for (const name of ["retry-after", "ratelimit", "ratelimit-policy"]) {
		const value = problem.headers.get(name);
		if (value) headers[name] = value;
	}
	if (err instanceof DomainError) return errorPage(c, statusOf(err), contentOf(err), headers);
	if (isDatabaseUnavailable(err)) return errorPage(c, 503, UNAVAILABLE, headers);
	if (err instanceof KeyConfigurationError) {
		return errorPage(c, 503, { heading: "Sign-in unavailable", message: "Signing in is not possible right now. Please try again later." });
	}
	if (err instanceof HTTPException && err.status < 500) {
		return errorPage(c, err.status, { heading: "That did not work", message: "The request could not be read. Go back and try again." });
	}
	return errorPage(c, 500, {
		heading: "Something went wrong",
		message: "An unexpected error stopped this page. Please try again.",
		requestId,
	});
};

function wantsHtml(c: Context<AppEnv>): boolean {
	return (c.req.header("accept") ?? "").includes("text/html");
}

/**
 * Unknown pages requested by a browser get the shop's 404 page instead of the
 * API's problem+json; API paths (/v1) and other clients keep problem+json.
 */
export function htmlNotFound({ skip }: { skip?: (path: string) => boolean } = {}): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		await next();
		if (c.res.status !== 404 || !wantsHtml(c) || skip?.(c.req.path)) return;
		if (!c.res.headers.get("content-type")?.startsWith("application/problem+json")) return;
		c.res = await notFoundPage(c);
	};
}
