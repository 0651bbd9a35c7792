import { createApp } from "./app.ts";
import { health } from "./health/health.index.ts";
import { mountOpenApi } from "./openapi.ts";

/** The whole HTTP surface: every v1 resource router, plus the OpenAPI document and reference. */
export const app = createApp((root) => {
	root.route("/v1", health);
	mountOpenApi(root);
});
