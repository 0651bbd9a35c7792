import { createRoute, z } from "@hono/zod-openapi";
import { authProblems, bearerAuth, bodyProblems, jsonBody, jsonResponse } from "../lib/openapi.ts";
import { problemResponse } from "../lib/problem.ts";

export const SkuParam = z.object({
	sku: z
		.string()
		.regex(/^[A-Z0-9]+(?:-[A-Z0-9]+)*$/, "A SKU is upper-case letters, digits and single dashes.")
		.max(64)
		.openapi({ param: { name: "sku", in: "path" }, example: "TEE-MER-CHA-M" }),
});

const Availability = z.object({ sku: z.string(), available: z.number().int() }).openapi("Availability");

export const getAvailability = createRoute({
	method: "get",
	path: "/inventory/{sku}",
	tags: ["Inventory"],
	summary: "Units of a SKU that can be bought now",
	request: { params: SkuParam },
	responses: {
		200: jsonResponse(Availability, "Availability"),
		400: problemResponse("Malformed SKU"),
		404: problemResponse("Unknown SKU"),
	},
});

export const liveAvailability = createRoute({
	method: "get",
	path: "/inventory/{sku}/live",
	tags: ["Inventory"],
	summary: "WebSocket: sends `{ sku, available }` at once and after every change",
	request: { params: SkuParam },
	responses: {
		101: { description: "Switching to WebSocket" },
		404: problemResponse("Unknown SKU"),
		426: problemResponse("Not a WebSocket upgrade request"),
	},
});

export const AdjustBody = z
	.object({
		delta: z
			.number()
			.int()
			.min(-1_000_000)
			.max(1_000_000)
			.refine((d) => d !== 0, "delta must not be 0."),
		reason: z.string().trim().min(1).max(200),
	})
	.strict()
	.openapi("InventoryAdjustRequest");

export const adjustInventory = createRoute({
	method: "post",
	path: "/admin/inventory/{sku}/adjust",
	tags: ["Admin"],
	security: bearerAuth,
	summary: "Change on-hand stock; Idempotency-Key required (a repeat changes nothing and answers the same)",
	request: {
		params: SkuParam,
		headers: z.object({ "idempotency-key": z.string().min(8).max(200).openapi({ description: "Unique per intended change" }) }),
		body: jsonBody(AdjustBody),
	},
	responses: {
		200: jsonResponse(
			z
				.object({ sku: z.string(), on_hand: z.number().int(), available: z.number().int(), replayed: z.boolean() })
				.openapi("InventoryLevel"),
			"Stock after the change",
		),
		...bodyProblems,
		...authProblems,
		403: problemResponse("Not an admin"),
		404: problemResponse("Unknown SKU"),
		409: problemResponse("Would leave fewer units than are reserved"),
		422: problemResponse("The Idempotency-Key was used for another change"),
	},
});
