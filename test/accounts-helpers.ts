import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { users } from "../workers/db/schema.ts";
import worker from "../workers/index.ts";
import { call, callWith, withDb } from "./helpers.ts";

/** A client address of its own per caller, so rate limits of other tests never interfere. */
export function randomIp(): string {
	const b = crypto.getRandomValues(new Uint8Array(3));
	return `10.${b[0]}.${b[1]}.${b[2]}`;
}

export function uniqueEmail(tag = "shopper"): string {
	return `${tag}.${crypto.randomUUID().slice(0, 8)}@example.test`;
}

export interface Session {
	user: { id: string; email: string; role: string; email_verified: boolean };
	access_token: string;
	refresh_token: string;
}

export const jsonHeaders = (ip: string, extra: Record<string, string> = {}) => ({
	"content-type": "application/json",
	"cf-connecting-ip": ip,
	...extra,
});

export function post(path: string, body: unknown, ip = randomIp(), headers: Record<string, string> = {}) {
	return call(path, { method: "POST", headers: jsonHeaders(ip, headers), body: JSON.stringify(body) });
}

export function authed(token: string, init: RequestInit = {}): RequestInit {
	const headers = new Headers(init.headers);
	headers.set("authorization", `Bearer ${token}`);
	if (init.body) headers.set("content-type", "application/json");
	return { ...init, headers };
}

export const PASSWORD = "correct horse battery staple";

/** Registers a new shopper and returns the session; fails the test on anything but 201. */
export async function registerShopper(email = uniqueEmail(), password = PASSWORD): Promise<Session> {
	const res = await post("/v1/auth/register", { email, password, name: "Test Shopper" });
	if (res.status !== 201) throw new Error(`register answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as Session;
}

/** A queue binding that records what the Worker sends, to read e-mail tokens the way the consumer would. */
export function capturingQueue(): { queue: Queue; sent: { type: string; id: string; data: Record<string, unknown> }[] } {
	const sent: { type: string; id: string; data: Record<string, unknown> }[] = [];
	const queue = {
		send: async (body: { type: string; id: string; data: Record<string, unknown> }) => {
			sent.push(body);
		},
		sendBatch: async () => {},
	} as unknown as Queue;
	return { queue, sent };
}

/** Runs a request against the Worker with its notifications queue captured. */
export async function callCapturingNotifications(path: string, init: RequestInit) {
	const capture = capturingQueue();
	const res = await callWith(worker, path, init, { NOTIFICATIONS_QUEUE: capture.queue });
	return { res, sent: capture.sent };
}

/** Promotes a shopper to admin in Postgres and signs in again for a token with the admin role. */
export async function makeAdmin(session: Session): Promise<Session> {
	await withDb((db) => db.primary.update(users).set({ role: "admin" }).where(eq(users.id, session.user.id)));
	const res = await post("/v1/auth/login", { email: session.user.email, password: PASSWORD });
	return (await res.json()) as Session;
}

export { env };
