import { createRouter } from "../app.ts";
import { getMediaHandler, uploadMediaHandler } from "./media.handlers.ts";
import { getMedia, getMediaRouting, uploadMedia } from "./media.routes.ts";

const media = createRouter();
// The document shows `/media/{key}`; the router needs the slash-tolerant pattern, which stays hidden.
media.openAPIRegistry.registerPath(getMedia);
media.openAPIRegistry.registerPath({ ...getMedia, method: "head", summary: "Media headers only (same answers as GET, no body)" });

/** Public media reads: `GET`/`HEAD /media/{key}`. Mount under `/v1`. */
export const mediaRouter = media.openapi(getMediaRouting, getMediaHandler);

/**
 * The admin upload, `POST /admin/products/{id}/media`. It carries no guard of
 * its own: mount it where `requireAdmin()` already covers `/admin/*`.
 */
export const adminMediaRouter = createRouter().openapi(uploadMedia, uploadMediaHandler);
