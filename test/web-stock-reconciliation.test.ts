import { env } from "cloudflare:test";
import { and, desc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, inventoryLedger, stockDrift, stockReconciliationRuns } from "../workers/db/schema.ts";
import { reconcileStock, type StockRunView } from "../workers/inventory/reconcile.ts";
import { inventoryItem } from "../workers/inventory/reservations.ts";
import { makeAdmin, registerShopper, type Session } from "./accounts-helpers.ts";
import { BASE, withDb } from "./helpers.ts";
import { available, Bus, newSku, stock } from "./orders-helpers.ts";
import { Browser } from "./web-helpers.ts";

/** The console's browser: signed in through the storefront's session cookies, posting forms from its own origin. */
class Console extends Browser {
	signIn(session: Session): this {
		this.cookies.set("ec_at", session.access_token);
		this.cookies.set("ec_rt", session.refresh_token);
		return this;
	}

	form(path: string, fields: Record<string, string>): Promise<Response> {
		return this.post(path, fields, { origin: BASE, "sec-fetch-site": "same-origin" });
	}
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function adminConsole(bus = new Bus()): Promise<{ browser: Console; admin: Session }> {
	const admin = await makeAdmin(await registerShopper());
	return { browser: new Console(bus).signIn(admin), admin };
}

/** A run for this SKU only, waiting out another file's run that holds the lease. */
async function reconcile(sku: string): Promise<StockRunView> {
	for (let attempt = 0; attempt < 100; attempt++) {
		const run = await withDb((db) => reconcileStock(env, db, { skus: [sku] }));
		if (run) return run;
		await sleep(100);
	}
	throw new Error("another stock reconciliation run held the lease for 10 s");
}

/** A stocked SKU (10 in, 3 sold, 5 in: 12 on hand) whose sale's ledger row is gone, and the run that found it. */
async function driftedSku(bus: Bus): Promise<{ sku: string; driftId: number }> {
	const { sku } = await newSku();
	await bus.watch(sku);
	await stock(sku, 10);
	const item = inventoryItem(env, sku);
	const held = await item.reserve(sku, "web-recon", 3, 60_000);
	if (!held.ok) throw new Error("hold refused");
	await item.commit(sku, "web-recon");
	await stock(sku, 5);
	await bus.pump();
	await withDb((db) => db.primary.delete(inventoryLedger).where(eq(inventoryLedger.eventId, `inv:${sku}:3`)));
	await reconcile(sku);
	const [drift] = await withDb((db) =>
		db.primary
			.select()
			.from(stockDrift)
			.where(and(eq(stockDrift.sku, sku), eq(stockDrift.kind, "ledger"))),
	);
	if (!drift) throw new Error("no drift recorded");
	return { sku, driftId: drift.id };
}

/** Presses a "Run now" or "Check again" button, again while another file's run holds the lease (the page says so); answers where it led. */
async function pressRun(browser: Console, fields: Record<string, string>): Promise<string> {
	for (let attempt = 0; attempt < 100; attempt++) {
		const res = await browser.form("/admin/stock-reconciliation/run", { ...fields, back: "/admin/stock-reconciliation" });
		expect(res.status).toBe(303);
		const location = res.headers.get("location") ?? "";
		if (!location.includes("error=reconciliation_running")) return location;
		await sleep(100);
	}
	throw new Error("another stock reconciliation run held the lease for 10 s");
}

/** The HTML of the open-drift row of this drift, or undefined when the page does not list it. */
function driftRow(html: string, id: number): string | undefined {
	const start = html.indexOf(`id="drift-${id}"`);
	if (start < 0) return undefined;
	return html.slice(start, html.indexOf("</tr>", start));
}

describe("admin console: stock reconciliation", () => {
	it("is linked from the navigation and shows open drift with its figures and both ways to resolve it", async () => {
		const bus = new Bus();
		const { browser } = await adminConsole(bus);
		const { sku, driftId } = await driftedSku(bus);
		const html = await browser.page("/admin/stock-reconciliation");
		expect(html).toContain('href="/admin/stock-reconciliation" aria-current="page"');
		expect(html).toContain("<h1>Stock reconciliation</h1>");
		const row = driftRow(html, driftId);
		expect(row, "the drift is listed").toBeDefined();
		expect(row).toContain(sku);
		expect(row).toContain("Object: 12 on hand after 4 events. Ledger: 15 in 3 rows");
		expect(row).toContain(`action="/admin/stock-drift/${driftId}/resolve"`);
		expect(row).toContain('value="accept"');
		// Setting the object asks first, naming the change.
		expect(row).toMatch(/data-confirm="Change [A-Z0-9-]+&#39;s on hand by \+3 to the ledger&#39;s figure\?/);
		expect(row).toContain('value="set_object_from_ledger"');
	});

	it("sets the object from the ledger through the form: the on hand moves, the drift leaves the page, the change is audited", async () => {
		const bus = new Bus();
		const { browser, admin } = await adminConsole(bus);
		const { sku, driftId } = await driftedSku(bus);
		const res = await browser.form(`/admin/stock-drift/${driftId}/resolve`, {
			action: "set_object_from_ledger",
			note: "Counted 15 on the shelf",
			back: "/admin/stock-reconciliation",
		});
		expect(res.status).toBe(303);
		expect(res.headers.get("location")).toBe("/admin/stock-reconciliation?notice=drift_set_from_ledger");
		expect((await available(sku)).onHand).toBe(15);
		const html = await browser.page(res.headers.get("location") ?? "");
		expect(html).toContain("The object&#39;s on hand was set to the ledger&#39;s figure.");
		expect(driftRow(html, driftId)).toBeUndefined();
		const entries = await withDb((db) => db.primary.select().from(auditLog).where(eq(auditLog.actorId, admin.user.id)));
		expect(entries.map((e) => e.action).sort()).toEqual(["inventory.adjust", "stock_drift.set_object_from_ledger"]);

		// The same form again (a double submit) answers as done; nothing moves again.
		const again = await browser.form(`/admin/stock-drift/${driftId}/resolve`, {
			action: "set_object_from_ledger",
			note: "Counted 15 on the shelf",
			back: "/admin/stock-reconciliation",
		});
		expect(again.headers.get("location")).toBe("/admin/stock-reconciliation?notice=drift_set_from_ledger");
		expect((await available(sku)).onHand).toBe(15);
	});

	it("accepts a drift with its note, and refuses an accept without one", async () => {
		const bus = new Bus();
		const { browser } = await adminConsole(bus);
		const { sku, driftId } = await driftedSku(bus);
		const blank = await browser.form(`/admin/stock-drift/${driftId}/resolve`, {
			action: "accept",
			note: " ",
			back: "/admin/stock-reconciliation",
		});
		expect(blank.headers.get("location")).toBe("/admin/stock-reconciliation?error=validation_failed");
		const res = await browser.form(`/admin/stock-drift/${driftId}/resolve`, {
			action: "accept",
			note: "Sale row lost in a restore",
			back: "/admin/stock-reconciliation",
		});
		expect(res.headers.get("location")).toBe("/admin/stock-reconciliation?notice=drift_accepted");
		expect((await available(sku)).onHand).toBe(12);
		const [drift] = await withDb((db) => db.primary.select().from(stockDrift).where(eq(stockDrift.id, driftId)));
		expect(drift).toMatchObject({ resolution: "accepted" });
		expect(driftRow(await browser.page("/admin/stock-reconciliation"), driftId)).toBeUndefined();
	});

	it("runs now from the button and lists the run among the last runs; checks one SKU again from its drift", async () => {
		const bus = new Bus();
		const { browser } = await adminConsole(bus);
		const location = await pressRun(browser, {});
		expect(location).toBe("/admin/stock-reconciliation?notice=stock_run_done");
		const [newest] = await withDb((db) =>
			db.primary.select().from(stockReconciliationRuns).orderBy(desc(stockReconciliationRuns.id)).limit(1),
		);
		const html = await browser.page(location);
		expect(html).toContain("Stock reconciliation ran");
		expect(html).toContain('<h2 id="runs-heading">Last runs</h2>');
		if (newest && newest.status !== "running") expect(html).toContain(`id="run-${newest.id}"`);

		const { sku, driftId } = await driftedSku(bus);
		const [before] = await withDb((db) => db.primary.select().from(stockDrift).where(eq(stockDrift.id, driftId)));
		expect(await pressRun(browser, { sku })).toBe("/admin/stock-reconciliation?notice=stock_run_done");
		const [drift] = await withDb((db) => db.primary.select().from(stockDrift).where(eq(stockDrift.id, driftId)));
		// Still disagreeing: still open, now seen by the newer run, which checked that SKU alone.
		expect(drift?.resolvedAt).toBeNull();
		expect(drift?.runId).toBeGreaterThan(before?.runId ?? 0);
		const [run] = await withDb((db) =>
			db.primary
				.select()
				.from(stockReconciliationRuns)
				.where(eq(stockReconciliationRuns.id, drift?.runId ?? 0)),
		);
		expect(run).toMatchObject({ skusChecked: 1, drifted: 1 });
	});

	it("shows customers the console's 403 page", async () => {
		const customer = await registerShopper();
		const browser = new Console().signIn(customer);
		const page = await browser.get("/admin/stock-reconciliation");
		expect(page.status).toBe(403);
		await page.body?.cancel();
		const post = await browser.form("/admin/stock-reconciliation/run", {});
		expect(post.status).toBe(403);
		await post.body?.cancel();
		const resolve = await browser.form("/admin/stock-drift/1/resolve", { action: "accept", note: "mine" });
		expect(resolve.status).toBe(403);
		await resolve.body?.cancel();
	});
});
