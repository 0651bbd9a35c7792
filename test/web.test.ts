import { describe, expect, it } from "vitest";
import { call } from "./helpers.ts";

describe("storefront pages", () => {
	it("serves the home page as cacheable HTML with a strict CSP and hashed assets", async () => {
		const res = await call("/", { headers: { accept: "text/html" } });
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toMatch(/^text\/html/);
		expect(res.headers.get("cache-control")).toMatch(/^public/);
		expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
		const html = await res.text();
		expect(html).toMatch(/<link rel="stylesheet" href="\/assets\/app\.[0-9a-f]{10}\.css"/);
		expect(html).toContain("Shop by category");
		expect(html).not.toMatch(/https?:\/\/(?!localhost)[^"']*\.(css|js)/);
	});

	it("refuses a cross-site form post", async () => {
		const res = await call("/", {
			method: "POST",
			headers: { origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
			body: "a=1",
		});
		expect(res.status).toBe(403);
	});
});
