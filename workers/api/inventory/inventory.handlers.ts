import type { RouteHandler } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import type { Context } from "hono";
import { variants } from "../../db/schema.ts";
import { inventoryItem } from "../../inventory/reservations.ts";
import { AppError } from "../lib/problem.ts";
import type { AppEnv } from "../types.ts";
import type { adjustInventory, getAvailability, liveAvailability } from "./inventory.routes.ts";

/** Only SKUs the catalog knows get an object: a made-up SKU must not create one. */
async function assertKnownSku(c: Context<AppEnv>, sku: string): Promise<void> {
	const [row] = await c.get("database").read.select({ id: variants.id }).from(variants).where(eq(variants.sku, sku));
	if (!row) throw new AppError(404, "not_found", "Not found", { detail: `No SKU ${sku}.` });
}

export const getAvailabilityHandler: RouteHandler<typeof getAvailability, AppEnv> = async (c) => {
	const { sku } = c.req.valid("param");
	await assertKnownSku(c, sku);
	const { available } = await inventoryItem(c.env, sku).available(sku);
	return c.json({ sku, available }, 200, { "cache-control": "no-store" });
};

export const liveAvailabilityHandler: RouteHandler<typeof liveAvailability, AppEnv> = async (c) => {
	const { sku } = c.req.valid("param");
	if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
		throw new AppError(426, "upgrade_required", "WebSocket required", {
			detail: "Connect with a WebSocket client.",
			headers: { upgrade: "websocket" },
		});
	}
	await assertKnownSku(c, sku);
	const url = new URL(c.req.url);
	url.search = `?sku=${encodeURIComponent(sku)}`;
	return (await inventoryItem(c.env, sku).fetch(new Request(url, c.req.raw))) as never;
};

export const adjustInventoryHandler: RouteHandler<typeof adjustInventory, AppEnv> = async (c) => {
	const { sku } = c.req.valid("param");
	const { delta, reason } = c.req.valid("json");
	const key = c.req.valid("header")["idempotency-key"];
	await assertKnownSku(c, sku);
	// Keys are scoped to the caller: two admins cannot collide on one.
	const result = await inventoryItem(c.env, sku).adjust(sku, delta, reason, `${c.get("auth").userId}:${key}`);
	if (!result.ok && result.reason === "below_reserved") {
		throw new AppError(409, "below_reserved", "Stock below reservations", {
			detail: `On hand ${result.onHand} with ${result.reserved} reserved: the change would leave fewer units than are reserved.`,
		});
	}
	if (!result.ok) {
		throw new AppError(422, "idempotency_key_reused", "Idempotency-Key reused", {
			detail: "This key was already used for a different change.",
		});
	}
	return c.json({ sku, on_hand: result.onHand, available: result.available, replayed: result.replayed }, 200);
};
