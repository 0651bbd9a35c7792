import { createRoute, z } from "@hono/zod-openapi";
import { deliveryStatus, notificationStatus } from "../../db/schema.ts";
import { EMAIL_KINDS } from "../../notifications/email-schemas.ts";
import { WEBHOOK_EVENT_TYPES } from "../../notifications/outbound-webhooks.ts";
import {
	adminAuth,
	adminProblems,
	bodyProblems,
	count,
	databaseProblems,
	email,
	integer,
	jsonBody,
	jsonResponse,
	problem,
	text,
	timestamp,
} from "../lib/openapi.ts";
import { Cursor, idParam, idPattern, pageLimit, prefixedId } from "../lib/params.ts";

const tags = ["Admin"];

const Page = z.object({
	limit: pageLimit(100, 20),
	cursor: Cursor.optional(),
});

const NotificationStatus = z.enum(notificationStatus.enumValues);
/** A provider's or a delivery's last failure, cut to 500 characters where it is recorded. */
const LastError = text(500).nullable();

export const NotificationSchema = z
	.object({
		id: text(600).openapi({ description: "The event, the recipient and the kind: one e-mail per event and recipient" }),
		kind: z
			.string()
			.max(50)
			.regex(/^[a-z_]+$/)
			.openapi({ example: "order_confirmation" }),
		event_id: text(255),
		recipient: email(),
		subject: text(300),
		text: text(1_000_000),
		html: text(1_000_000),
		status: NotificationStatus,
		provider: z
			.string()
			.max(20)
			.regex(/^[a-z]+$/)
			.openapi({ example: "outbox" }),
		attempts: count(),
		last_error: LastError,
		created_at: timestamp(),
		sent_at: timestamp().nullable(),
	})
	.openapi("Notification");

export const listNotifications = createRoute({
	method: "get",
	path: "/admin/notifications",
	operationId: "listNotifications",
	tags,
	security: adminAuth,
	summary: "E-mails sent, failed, skipped or (development adapter) that would have been sent, newest first",
	description:
		"Stored copies of the e-mails, link tokens redacted. Filter by recipient, kind and status; `next_cursor` continues the same query.",
	request: {
		query: Page.extend({
			recipient: z
				.string()
				.trim()
				.toLowerCase()
				.max(254)
				.optional()
				.openapi({ format: "email", description: "The recipient's e-mail address, exactly (any letter case)" }),
			kind: z.enum(EMAIL_KINDS).optional(),
			status: NotificationStatus.optional(),
		}),
	},
	responses: {
		200: jsonResponse(z.object({ data: z.array(NotificationSchema).max(100), next_cursor: Cursor.nullable() }), "A page of notifications"),
		...databaseProblems,
		400: problem("Bad query or cursor"),
		...adminProblems,
	},
});

const EventType = z.enum(WEBHOOK_EVENT_TYPES);
const EndpointId = prefixedId(idPattern("whe"), "whe_0123456789abcdefghjk");

export const EndpointSchema = z
	.object({
		id: EndpointId,
		url: z.url().max(2048),
		description: text(200),
		event_types: z.array(EventType).max(WEBHOOK_EVENT_TYPES.length),
		active: z.boolean(),
		rotating_until: timestamp().nullable().openapi({ description: "While set, deliveries are signed with the previous secret too" }),
		created_at: timestamp(),
	})
	.openapi("WebhookEndpoint");

const WithSecret = EndpointSchema.extend({
	secret: z
		.string()
		.max(100)
		.regex(/^whsec_[A-Za-z0-9+/]+=*$/)
		.openapi({ description: "Shown only here: verify deliveries with it (Standard Webhooks)" }),
}).openapi("WebhookEndpointWithSecret");

const EndpointParam = idParam("whe", "whe_0123456789abcdefghjk");

export const CreateEndpointBody = z
	.object({
		url: z.string().max(2048).openapi({ format: "uri", description: "https (http only in development); private addresses are refused" }),
		event_types: z.array(EventType).min(1).max(WEBHOOK_EVENT_TYPES.length),
		description: z.string().trim().max(200).optional(),
	})
	.strict()
	.openapi("WebhookEndpointRequest");

export const listEndpoints = createRoute({
	method: "get",
	path: "/admin/webhooks",
	operationId: "listWebhookEndpoints",
	tags,
	security: adminAuth,
	summary: "Registered webhook endpoints",
	description: "Active and deactivated endpoints, without their secrets.",
	responses: {
		200: jsonResponse(z.object({ data: z.array(EndpointSchema).max(1000) }), "Endpoints"),
		...databaseProblems,
		...adminProblems,
	},
});

export const createEndpoint = createRoute({
	method: "post",
	path: "/admin/webhooks",
	operationId: "createWebhookEndpoint",
	tags,
	security: adminAuth,
	summary: "Register an endpoint (https; private, loopback and link-local addresses refused); its secret is shown once",
	description:
		"The endpoint receives the chosen event types, each delivery signed with its secret (Standard Webhooks) and retried when it fails.",
	request: { body: jsonBody(CreateEndpointBody) },
	responses: {
		201: jsonResponse(WithSecret, "The endpoint and its secret"),
		...databaseProblems,
		...bodyProblems,
		...adminProblems,
		422: problem("URL refused"),
	},
});

export const deleteEndpoint = createRoute({
	method: "delete",
	path: "/admin/webhooks/{id}",
	operationId: "deactivateWebhookEndpoint",
	tags,
	security: adminAuth,
	summary: "Deactivate an endpoint: no further deliveries (its log stays)",
	description: "Deactivating an endpoint already deactivated succeeds; its delivery log stays readable.",
	request: { params: EndpointParam },
	responses: { 204: { description: "Deactivated" }, ...databaseProblems, ...adminProblems, 404: problem("No such endpoint") },
});

export const rotateSecret = createRoute({
	method: "post",
	path: "/admin/webhooks/{id}/rotate-secret",
	operationId: "rotateWebhookSecret",
	tags,
	security: adminAuth,
	summary: "New secret; the previous one keeps signing alongside it for 24 hours",
	description: "Receivers have 24 hours to switch to the new secret; until then each delivery carries a signature for both.",
	request: { params: EndpointParam },
	responses: {
		200: jsonResponse(WithSecret, "The endpoint and its new secret"),
		...databaseProblems,
		...adminProblems,
		404: problem("No such endpoint"),
	},
});

export const DeliverySchema = z
	.object({
		id: prefixedId(idPattern("whd"), "whd_0123456789abcdefghjk"),
		event_id: text(255),
		event_type: z
			.string()
			.max(64)
			.regex(/^[a-z_.]+$/)
			.openapi({ example: "order.paid" }),
		status: z.enum(deliveryStatus.enumValues),
		attempts: count(),
		last_status_code: integer(100, 599).nullable(),
		last_error: LastError,
		created_at: timestamp(),
		last_attempt_at: timestamp().nullable(),
		delivered_at: timestamp().nullable(),
	})
	.openapi("WebhookDelivery");

export const listDeliveries = createRoute({
	method: "get",
	path: "/admin/webhooks/{id}/deliveries",
	operationId: "listWebhookDeliveries",
	tags,
	security: adminAuth,
	summary: "An endpoint's delivery log, newest first",
	description: "Each delivery of an event to the endpoint with its attempts and last outcome; `next_cursor` continues the list.",
	request: { params: EndpointParam, query: Page },
	responses: {
		200: jsonResponse(z.object({ data: z.array(DeliverySchema).max(100), next_cursor: Cursor.nullable() }), "Deliveries"),
		...databaseProblems,
		400: problem("Bad cursor"),
		...adminProblems,
		404: problem("No such endpoint"),
	},
});
