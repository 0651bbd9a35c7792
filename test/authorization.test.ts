import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { MEDIA_UPLOAD_PATH } from "../workers/api/app.ts";
import { app } from "../workers/api/index.ts";
import { Database } from "../workers/db/client.ts";
import { deadLetters, users } from "../workers/db/schema.ts";
import { newId } from "../workers/domain/ids.ts";
import { authed, env, makeAdmin, registerShopper } from "./accounts-helpers.ts";
import { call, problemOf } from "./helpers.ts";

const address = {
	name: "Ana Lima",
	line1: "Rua das Flores 12",
	city: "Porto",
	postal_code: "4050-262",
	country: "pt",
};

describe("own data only (I6)", () => {
	it("keeps addresses private: another user gets 404 on read, change and delete", async () => {
		const ana = await registerShopper();
		const bob = await registerShopper();
		const created = await call("/v1/me/addresses", authed(ana.access_token, { method: "POST", body: JSON.stringify(address) }));
		expect(created.status).toBe(201);
		const addr = (await created.json()) as { id: string; country: string; is_default: boolean };
		expect(addr).toMatchObject({ country: "PT", is_default: true });

		const bobsList = (await (await call("/v1/me/addresses", authed(bob.access_token))).json()) as { data: unknown[] };
		expect(bobsList.data).toEqual([]);
		const patch = await call(
			`/v1/me/addresses/${addr.id}`,
			authed(bob.access_token, { method: "PATCH", body: JSON.stringify({ city: "Lisboa" }) }),
		);
		expect(patch.status).toBe(404);
		const del = await call(`/v1/me/addresses/${addr.id}`, authed(bob.access_token, { method: "DELETE" }));
		expect(del.status).toBe(404);

		const anas = (await (await call("/v1/me/addresses", authed(ana.access_token))).json()) as { data: { city: string }[] };
		expect(anas.data.map((a) => a.city)).toEqual(["Porto"]);
	});

	it("keeps a single default address", async () => {
		const ana = await registerShopper();
		const add = (body: object) => call("/v1/me/addresses", authed(ana.access_token, { method: "POST", body: JSON.stringify(body) }));
		const first = (await (await add(address)).json()) as { id: string };
		const second = (await (await add({ ...address, city: "Braga", is_default: true })).json()) as { id: string; is_default: boolean };
		expect(second.is_default).toBe(true);
		const list = (await (await call("/v1/me/addresses", authed(ana.access_token))).json()) as {
			data: { id: string; is_default: boolean }[];
		};
		expect(list.data.map((a) => [a.id, a.is_default])).toEqual([
			[second.id, true],
			[first.id, false],
		]);
	});

	it("validates addresses and rejects unknown fields", async () => {
		const ana = await registerShopper();
		const res = await call(
			"/v1/me/addresses",
			authed(ana.access_token, { method: "POST", body: JSON.stringify({ ...address, country: "Portugal", user_id: "usr_other" }) }),
		);
		expect(res.status).toBe(400);
		const paths = ((await problemOf(res)).errors as { path: string }[]).map((e) => e.path).sort();
		expect(paths).toEqual(["body", "body.country"]);
	});
});

/**
 * Every admin route as [method, Hono path pattern]: each operation under
 * /v1/admin in the OpenAPI document, and each route the app registers there.
 * Middleware (method ALL) is not a route of its own, unless nothing else
 * answers its path.
 */
async function adminRoutes(): Promise<[string, string][]> {
	const res = await call("/openapi.json");
	expect(res.status).toBe(200);
	const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
	const documented = Object.entries(doc.paths)
		.filter(([path]) => path.startsWith("/v1/admin"))
		.flatMap(([path, operations]) =>
			Object.keys(operations)
				.filter((method) => ["get", "post", "put", "patch", "delete"].includes(method))
				.map((method): [string, string] => [method.toUpperCase(), path.replaceAll(/\{([^}]+)\}/g, ":$1")]),
		);
	expect(documented.length).toBeGreaterThan(15);
	const registered = app.routes.filter((route) => route.path.startsWith("/v1/admin"));
	const handled = new Set(registered.filter((route) => route.method !== "ALL").map((route) => route.path));
	const fromApp = registered.flatMap((route): [string, string][] => {
		if (route.method !== "ALL") return [[route.method, route.path]];
		return route.path.endsWith("*") || handled.has(route.path) ? [] : [["GET", route.path]];
	});
	const all = new Map([...documented, ...fromApp].map(([method, path]) => [`${method} ${path}`, [method, path] as [string, string]]));
	const routes = [...all.values()];
	expect(routes.length).toBeGreaterThanOrEqual(documented.length);
	return routes;
}

/** Fills a route's path parameters with ids of the right shape, none of which exists. */
function withParams(pattern: string): string {
	const ids: Record<string, string> = {
		products: newId("prod"),
		orders: newId("ord"),
		webhooks: newId("whe"),
		"dead-letters": "999999999",
		inventory: "NO-SUCH-SKU-1",
	};
	return pattern.replaceAll(/\/([^/]+)\/:[^/]+/g, (_match, collection: string) => `/${collection}/${ids[collection] ?? "x_0123456789"}`);
}

describe("admin routes (BFLA)", () => {
	it("guards every admin route of the deployed Worker, uploads included", async () => {
		const routes = await adminRoutes();
		expect(routes.length).toBeGreaterThan(15);
		expect(routes.some(([, path]) => MEDIA_UPLOAD_PATH.test(path))).toBe(true);
		const customer = await registerShopper();
		for (const [method, pattern] of routes) {
			const path = withParams(pattern);
			// A fresh body for each request (a sent one is used up), and an upload as a real multipart form.
			const init = (token?: string): RequestInit => {
				const headers = new Headers(token ? { authorization: `Bearer ${token}` } : {});
				if (MEDIA_UPLOAD_PATH.test(path)) {
					const form = new FormData();
					form.set("file", new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])]), "x.png");
					return { method, headers, body: form };
				}
				if (method === "GET" || method === "DELETE") return { method, headers };
				headers.set("content-type", "application/json");
				return { method, headers, body: "{}" };
			};
			expect((await call(path, init())).status, `${method} ${pattern} anonymous`).toBe(401);
			expect((await call(path, init(customer.access_token))).status, `${method} ${pattern} customer`).toBe(403);
		}
	});

	it("refuses customers with 403 and anonymous callers with 401", async () => {
		const customer = await registerShopper();
		const res = await call("/v1/admin/dead-letters", authed(customer.access_token));
		expect(res.status).toBe(403);
		expect((await problemOf(res)).code).toBe("forbidden");
		expect((await call("/v1/admin/dead-letters")).status).toBe(401);
	});

	it("lets an admin list dead letters, and a demoted admin loses access at once", async () => {
		const admin = await makeAdmin(await registerShopper());
		const ok = await call("/v1/admin/dead-letters?queue=orders&limit=5", authed(admin.access_token));
		expect(ok.status).toBe(200);

		const db = new Database(env);
		try {
			await db.primary.update(users).set({ role: "customer" }).where(eq(users.id, admin.user.id));
		} finally {
			await db.close();
		}
		expect((await call("/v1/admin/dead-letters", authed(admin.access_token))).status).toBe(403);
	});

	it("replays a dead letter once onto its queue", async () => {
		const admin = await makeAdmin(await registerShopper());
		const db = new Database(env);
		let id: number;
		try {
			const [row] = await db.primary
				.insert(deadLetters)
				.values({
					queue: "notifications",
					messageId: `m-${crypto.randomUUID()}`,
					body: { id: "evt", type: "x.y", occurred_at: new Date().toISOString(), data: {} },
					attempts: 9,
				})
				.returning();
			id = row?.id as number;
		} finally {
			await db.close();
		}
		const first = await call(`/v1/admin/dead-letters/${id}/replay`, authed(admin.access_token, { method: "POST" }));
		expect(first.status).toBe(202);
		expect(((await first.json()) as { replayed_at: string | null }).replayed_at).not.toBeNull();
		const second = await call(`/v1/admin/dead-letters/${id}/replay`, authed(admin.access_token, { method: "POST" }));
		expect(second.status).toBe(409);
		expect((await call("/v1/admin/dead-letters/999999999/replay", authed(admin.access_token, { method: "POST" }))).status).toBe(404);
	});
});
