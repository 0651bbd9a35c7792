import { createRoute, z } from "@hono/zod-openapi";
import { integer, jsonResponse, problem, publicAccess } from "../lib/openapi.ts";

const CarrierName = z
	.string()
	.max(20)
	.regex(/^[a-z][a-z0-9_-]*$/)
	.openapi({ example: "test", param: { name: "carrier", in: "path" } });

const CarrierEventsAck = z
	.object({
		received: z.literal(true),
		events: integer(0, 100).openapi({ description: "Events in the request" }),
		delivered: integer(0, 10_000).openapi({ description: "Orders this request marked delivered" }),
	})
	.openapi("CarrierEventsAck");

export const receiveCarrierEvents = createRoute({
	method: "post",
	path: "/carriers/{carrier}/events",
	operationId: "receiveCarrierEvents",
	tags: ["Checkout and orders"],
	security: publicAccess,
	summary: "Carrier shipment events; a delivery marks the shipped order with that tracking number delivered",
	description:
		"Called by the carrier, not by clients: the carrier's signature is the credential (the `test` carrier: `Carrier-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of t.body>` with CARRIER_WEBHOOK_SECRET, at most five minutes old, over a body of `{ events: [{ tracking_number, status: delivered | in_transit | returned, occurred_at }] }`). An event seen before, an order no longer shipped and an unknown tracking number are acknowledged and change nothing.",
	request: { params: z.object({ carrier: CarrierName }) },
	responses: {
		200: jsonResponse(CarrierEventsAck, "Accepted"),
		400: problem("`malformed_event`: the signed body is not a list of events; or a malformed carrier name"),
		401: problem("`invalid_carrier_signature`: the signature is missing, wrong or too old"),
		404: problem("Not a carrier CARRIER_EVENTS names"),
		500: problem("`internal_error`: an unexpected failure; nothing is promised about what happened. Quote the request id."),
		503: problem("`database_unavailable`: the carrier retries later"),
	},
});
