import { webRouter } from "../web/index.ts";
import { adminRouter } from "./admin/admin.index.ts";
import { createApp } from "./app.ts";
import { auth } from "./auth/auth.index.ts";
import { carriersRouter } from "./carriers/carriers.index.ts";
import { cartsRouter } from "./carts/carts.index.ts";
import { catalog } from "./catalog/catalog.index.ts";
import { health } from "./health/health.index.ts";
import { inventoryRouter } from "./inventory/inventory.index.ts";
import { meRouter } from "./me/me.index.ts";
import { mediaRouter } from "./media/media.index.ts";
import { mountEdgeCache } from "./middleware/edge-cache.ts";
import { mountRateLimits } from "./middleware/rate-limits.ts";
import { mountOpenApi } from "./openapi.ts";
import { ordersRouter } from "./orders/orders.index.ts";
import { returnsRouter } from "./returns/returns.index.ts";
import { wellKnown } from "./well-known.ts";

/** The whole HTTP surface: every v1 resource router, plus the OpenAPI document and reference. */
export const app = createApp((root) => {
	mountRateLimits(root);
	mountEdgeCache(root);
	root.route("/v1", health);
	root.route("/v1", auth);
	root.route("/v1", meRouter);
	root.route("/v1", catalog);
	root.route("/v1", mediaRouter);
	root.route("/v1", inventoryRouter);
	root.route("/v1", cartsRouter);
	root.route("/v1", ordersRouter);
	root.route("/v1", returnsRouter);
	root.route("/v1", carriersRouter);
	root.route("/v1", adminRouter);
	root.route("/", wellKnown);
	root.route("/", webRouter);
	mountOpenApi(root);
});
