import { createRoute, z } from "@hono/zod-openapi";
import {
	adminAuth,
	adminProblems,
	bodyProblems,
	count,
	databaseProblems,
	integer,
	jsonBody,
	jsonResponse,
	problem,
	publicAccess,
} from "../lib/openapi.ts";
import { IdempotencyHeader, Sku, SkuParam } from "../lib/params.ts";

const Availability = z.object({ sku: Sku, available: count() }).openapi("Availability");

export const getAvailability = createRoute({
	method: "get",
	path: "/inventory/{sku}",
	operationId: "getAvailability",
	tags: ["Inventory"],
	security: publicAccess,
	summary: "Units of a SKU that can be bought now",
	description: "Units on hand less the units held for carts and unpaid orders, as the SKU's inventory object counts them now.",
	request: { params: SkuParam },
	responses: {
		200: jsonResponse(Availability, "Availability"),
		...databaseProblems,
		400: problem("Malformed SKU"),
		404: problem("Unknown SKU"),
	},
});

export const liveAvailability = createRoute({
	method: "get",
	path: "/inventory/{sku}/live",
	operationId: "watchAvailability",
	tags: ["Inventory"],
	security: publicAccess,
	summary: "WebSocket: sends `{ sku, available }` at once and after every change",
	description: "Send a WebSocket upgrade request: the first message comes at once, the next after each change of the SKU's stock.",
	request: { params: SkuParam },
	responses: {
		101: { description: "Switching to WebSocket" },
		...databaseProblems,
		400: problem("Malformed SKU"),
		404: problem("Unknown SKU"),
		426: problem("Not a WebSocket upgrade request"),
	},
});

export const AdjustBody = z
	.object({
		delta: integer(-1_000_000, 1_000_000).refine((d) => d !== 0, "delta must not be 0."),
		reason: z.string().trim().min(1).max(200),
	})
	.strict()
	.openapi("InventoryAdjustRequest");

export const adjustInventory = createRoute({
	method: "post",
	path: "/admin/inventory/{sku}/adjust",
	operationId: "adjustInventory",
	tags: ["Admin"],
	security: adminAuth,
	summary: "Change on-hand stock; Idempotency-Key required (a repeat changes nothing and answers the same)",
	description: "Adds `delta` (negative to take units away) to the units on hand; the reason and the admin are kept with the change.",
	request: { params: SkuParam, headers: IdempotencyHeader, body: jsonBody(AdjustBody) },
	responses: {
		200: jsonResponse(
			z.object({ sku: Sku, on_hand: count(), available: count(), replayed: z.boolean() }).openapi("InventoryLevel"),
			"Stock after the change",
		),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		404: problem("Unknown SKU"),
		409: problem("Would leave fewer units than are reserved"),
		422: problem("The Idempotency-Key was used for another change"),
	},
});
