import type { RouteHandler } from "@hono/zod-openapi";
import { DomainError } from "../../domain/errors.ts";
import { adjustStock, assertKnownSku } from "../../inventory/admin.ts";
import { inventoryItem } from "../../inventory/reservations.ts";
import { HttpError } from "../lib/problem.ts";
import type { AppEnv } from "../types.ts";
import type { adjustInventory, getAvailability, liveAvailability } from "./inventory.routes.ts";

export const getAvailabilityHandler: RouteHandler<typeof getAvailability, AppEnv> = async (c) => {
	const { sku } = c.req.valid("param");
	await assertKnownSku(c.get("database").read, sku);
	const { available } = await inventoryItem(c.env, sku).available(sku);
	return c.json({ sku, available }, 200, { "cache-control": "no-store" });
};

export const liveAvailabilityHandler: RouteHandler<typeof liveAvailability, AppEnv> = async (c) => {
	const { sku } = c.req.valid("param");
	if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
		throw new HttpError("upgrade_required", {
			detail: "Connect with a WebSocket client.",
			headers: { upgrade: "websocket" },
		});
	}
	await assertKnownSku(c.get("database").read, sku);
	const url = new URL(c.req.url);
	url.search = `?sku=${encodeURIComponent(sku)}`;
	const upgraded = await inventoryItem(c.env, sku).fetch(new Request(url, c.req.raw));
	if (upgraded.status !== 101) {
		throw new DomainError("rate_limited", {
			detail: "Too many shoppers are watching this item's stock live. Retry later; the page's figure stays valid.",
			retryAfterSeconds: 30,
		});
	}
	return upgraded as never;
};

export const adjustInventoryHandler: RouteHandler<typeof adjustInventory, AppEnv> = async (c) => {
	const { sku } = c.req.valid("param");
	const { delta, reason } = c.req.valid("json");
	const key = c.req.valid("header")["idempotency-key"];
	const level = await adjustStock(c.env, c.get("database").primary, {
		sku,
		delta,
		reason,
		key,
		actorId: c.get("auth").userId,
		requestId: c.get("requestId"),
	});
	return c.json(level, 200);
};
