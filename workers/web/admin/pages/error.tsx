import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../../../api/types.ts";
import { PERSONAL_PAGE_CACHE } from "../../layout.tsx";
import { AdminLayout } from "../layout.tsx";

/**
 * The console's error page. A client error says what went wrong (the
 * service's own words); anything else says only that it failed, with the
 * request id to quote, never the error's message.
 */
export async function errorPage(c: Context<AppEnv>, status: number, detail: string | undefined): Promise<Response> {
	const title =
		status === 404 ? "Not found" : status < 500 ? "Request refused" : status === 503 ? "Temporarily unavailable" : "Something went wrong";
	const response = await c.html(
		<AdminLayout title={title}>
			<h1>{title}</h1>
			<div class="alert error" role="alert">
				<p>
					{status === 404
						? "There is nothing here. It may have been removed, or the link is wrong."
						: (detail ??
							(status === 503 ? "A service the console needs is not answering. Try again shortly." : "The page could not be shown."))}
				</p>
				{status >= 500 ? (
					<p>
						Request id: <code>{c.get("requestId")}</code>
					</p>
				) : null}
			</div>
			<p>
				<a href="/admin">Back to the dashboard</a>
			</p>
		</AdminLayout>,
		status as ContentfulStatusCode,
	);
	response.headers.set("cache-control", PERSONAL_PAGE_CACHE);
	return response;
}
