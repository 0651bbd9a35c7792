import { app } from "./api/index.ts";
import { consumeQueueBatch } from "./queues/index.ts";
import { runScheduled } from "./scheduled.ts";

export { Cart } from "../durable-objects/cart.ts";
export { ClientHolds } from "../durable-objects/client-holds.ts";
export { InventoryItem } from "../durable-objects/inventory-item.ts";

export default {
	fetch: app.fetch,
	queue: consumeQueueBatch,
	scheduled: runScheduled,
} satisfies ExportedHandler<Env>;
