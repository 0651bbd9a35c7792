/**
 * The one door through which notifications leave the Worker (e-mail API
 * calls, merchants' webhooks). Production uses the platform `fetch`; the
 * tests put a recorder in its place, because the real receivers are servers
 * on the internet that cannot run here.
 */
export const outbound: { fetch: typeof fetch } = {
	fetch: (input, init) => fetch(input, init),
};
