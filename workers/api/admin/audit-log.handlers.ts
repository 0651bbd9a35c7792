import type { RouteHandler } from "@hono/zod-openapi";
import { listAuditLog as listService } from "../../audit/audit-log.ts";
import type { AppEnv } from "../types.ts";
import type { listAuditLog } from "./audit-log.routes.ts";

export const listAuditLogHandler: RouteHandler<typeof listAuditLog, AppEnv> = async (c) => {
	const query = c.req.valid("query");
	const page = await listService(c.get("database").primary, {
		entityType: query.entity_type,
		entityId: query.entity_id,
		actorId: query.actor_id,
		action: query.action,
		since: query.since,
		until: query.until,
		limit: query.limit,
		cursor: query.cursor,
	});
	return c.json(page, 200, { "cache-control": "private, no-store" });
};
