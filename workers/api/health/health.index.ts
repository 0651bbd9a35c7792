import { createRouter } from "../app.ts";
import { liveHandler, readyHandler } from "./health.handlers.ts";
import { live, ready } from "./health.routes.ts";

export const health = createRouter().openapi(live, liveHandler).openapi(ready, readyHandler);
