import { createRoute, z } from "@hono/zod-openapi";
import { adminAuth, adminProblems, databaseProblems, integer, jsonResponse, problem, text, timestamp } from "../lib/openapi.ts";
import { Cursor, idPattern, pageLimit, prefixedId } from "../lib/params.ts";

const tags = ["Admin"];
const MAX_PAGE = 100;

const UserId = prefixedId(idPattern("usr"), "usr_4f8k2m9q0x7v3b6n1c5d");
const EntityType = z
	.string()
	.max(40)
	.regex(/^[a-z][a-z_]*$/, "Lower-case letters and underscores, e.g. product or webhook_endpoint.")
	.openapi({ example: "category" });
const EntityId = z
	.string()
	.min(1)
	.max(200)
	.regex(/^[A-Za-z0-9_.:-]+$/, "An id, a SKU or a number.")
	.openapi({ example: "cat_0a1b2c3d4e5f6g7h8i9j" });
const Action = z
	.string()
	.max(64)
	.regex(/^[a-z][a-z_]*\.[a-z][a-z_]*$/, "An entity type and a verb, e.g. category.update.")
	.openapi({ example: "category.update" });
const Instant = z.iso
	.datetime({ offset: true })
	.max(40)
	.refine((value) => !Number.isNaN(Date.parse(value)), "Not an instant.");

export const AuditEntrySchema = z
	.object({
		id: integer(1, Number.MAX_SAFE_INTEGER),
		actor_id: text(64)
			.regex(/^[\w:.-]+$/)
			.openapi({ description: "The admin who made the change (a user id)", example: "usr_4f8k2m9q0x7v3b6n1c5d" }),
		actor_email: text(254)
			.nullable()
			.openapi({ format: "email", description: "The admin's current e-mail address; null when the account is gone" }),
		action: text(64)
			.regex(/^[a-z][a-z_]*\.[a-z][a-z_]*$/)
			.openapi({ example: "order.ship" }),
		entity_type: text(40)
			.regex(/^[a-z][a-z_]*$/)
			.openapi({ example: "order" }),
		entity_id: text(200).regex(/^[\w:.-]+$/),
		before: z.unknown().openapi({ description: "The entity before the change; null for a creation. Secrets are never recorded." }),
		after: z.unknown().openapi({ description: "The entity after the change; null for a deletion. Secrets are never recorded." }),
		request_id: text(64)
			.regex(/^[\w-]+$/)
			.nullable()
			.openapi({ description: "The X-Request-Id of the request that made the change" }),
		created_at: timestamp(),
	})
	.openapi("AuditEntry");

/** The filters of the audit log, shared by the API and the console's filter form. */
export const AuditLogQuery = z
	.object({
		entity_type: EntityType.optional(),
		entity_id: EntityId.optional(),
		actor_id: UserId.optional(),
		action: Action.optional(),
		since: Instant.optional().openapi({ description: "Entries at or after this instant" }),
		until: Instant.optional().openapi({ description: "Entries at or before this instant" }),
		limit: pageLimit(MAX_PAGE, 50),
		cursor: Cursor.optional(),
	})
	.strict();

export const listAuditLog = createRoute({
	method: "get",
	path: "/admin/audit-log",
	operationId: "listAuditLog",
	tags,
	security: adminAuth,
	summary: "Every admin change, newest first, with the state before and after",
	description:
		"One entry per admin write, recorded in the write's own transaction: products, media, categories, orders (fulfil, ship, deliver, refunds, accepted payments), stock adjustments, dead-letter replays and webhook endpoints. Filters are exact and combine; `since` and `until` bound the time, both inclusive; `next_cursor` continues the same query.",
	request: { query: AuditLogQuery },
	responses: {
		200: jsonResponse(
			z.object({ data: z.array(AuditEntrySchema).max(MAX_PAGE), next_cursor: Cursor.nullable() }).openapi("AuditLogPage"),
			"A page of audit entries",
		),
		...databaseProblems,
		400: problem("Invalid query or cursor"),
		...adminProblems,
	},
});
