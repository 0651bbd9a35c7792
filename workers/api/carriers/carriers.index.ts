import { createRouter } from "../app.ts";
import { receiveCarrierEventsHandler } from "./carriers.handlers.ts";
import { receiveCarrierEvents } from "./carriers.routes.ts";

export const carriersRouter = createRouter().openapi(receiveCarrierEvents, receiveCarrierEventsHandler);
