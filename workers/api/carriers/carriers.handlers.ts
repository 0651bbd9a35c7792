import type { RouteHandler } from "@hono/zod-openapi";
import { applyCarrierEvents, carrierEventsFor } from "../../orders/carriers.ts";
import type { AppEnv } from "../types.ts";
import type { receiveCarrierEvents } from "./carriers.routes.ts";

export const receiveCarrierEventsHandler: RouteHandler<typeof receiveCarrierEvents, AppEnv> = async (c) => {
	const { carrier } = c.req.valid("param");
	const adapter = carrierEventsFor(c.env, carrier);
	const events = await adapter.parse(c.req.raw);
	const outcome = await applyCarrierEvents(c.env, c.get("database").primary, c.executionCtx, adapter.name, events);
	return c.json({ received: true as const, events: events.length, delivered: outcome.delivered }, 200);
};
