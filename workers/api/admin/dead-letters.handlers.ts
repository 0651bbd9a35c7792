import type { RouteHandler } from "@hono/zod-openapi";
import { listDeadLetters as listService, replayDeadLetter as replayService } from "../../queues/dead-letters.ts";
import type { AppEnv } from "../types.ts";
import type { listDeadLetters, replayDeadLetter } from "./dead-letters.routes.ts";

export const listDeadLettersHandler: RouteHandler<typeof listDeadLetters, AppEnv> = async (c) => {
	const { queue, replayed, limit, cursor } = c.req.valid("query");
	const page = await listService(c.get("database").primary, {
		queue,
		replayed: replayed === undefined ? undefined : replayed === "true",
		limit,
		cursor,
	});
	return c.json(page, 200);
};

export const replayDeadLetterHandler: RouteHandler<typeof replayDeadLetter, AppEnv> = async (c) =>
	c.json(
		await replayService(c.env, c.get("database").primary, c.req.valid("param").id, {
			userId: c.get("auth").userId,
			requestId: c.get("requestId"),
		}),
		202,
	);
