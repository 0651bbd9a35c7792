/**
 * The yardstick of `npm run bench`: a Worker that answers every request with
 * a constant and does nothing else. It runs under the same `wrangler dev`, with
 * the same flags, in the same run as ours, so what it answers per second is
 * what the local stack itself allows; every scenario is also reported as a
 * share of it (× constant).
 */
export default {
	fetch(): Response {
		return new Response("ok");
	},
} satisfies ExportedHandler;
