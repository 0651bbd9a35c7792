import { createRoute, z } from "@hono/zod-openapi";
import { WEBHOOK_EVENT_TYPES } from "../../notifications/outbound-webhooks.ts";
import { authProblems, bearerAuth, bodyProblems, jsonBody, jsonResponse } from "../lib/openapi.ts";
import { problemResponse } from "../lib/problem.ts";

const tags = ["Admin"];
const adminProblems = { ...authProblems, 403: problemResponse("Not an admin") };

const Page = z.object({
	limit: z.coerce.number().int().min(1).max(100).default(20),
	cursor: z.string().max(200).optional(),
});

export const NotificationSchema = z
	.object({
		id: z.string(),
		kind: z.string(),
		event_id: z.string(),
		recipient: z.string(),
		subject: z.string(),
		text: z.string(),
		html: z.string(),
		status: z.enum(["sending", "sent", "failed", "skipped"]),
		provider: z.string(),
		attempts: z.number().int(),
		last_error: z.string().nullable(),
		created_at: z.string(),
		sent_at: z.string().nullable(),
	})
	.openapi("Notification");

export const listNotifications = createRoute({
	method: "get",
	path: "/admin/notifications",
	tags,
	security: bearerAuth,
	summary: "E-mails sent, failed, skipped or (development adapter) that would have been sent, newest first",
	request: {
		query: Page.extend({
			recipient: z.string().trim().toLowerCase().max(254).optional(),
			kind: z.string().max(50).optional(),
			status: z.enum(["sending", "sent", "failed", "skipped"]).optional(),
		}),
	},
	responses: {
		200: jsonResponse(z.object({ data: z.array(NotificationSchema), next_cursor: z.string().nullable() }), "A page of notifications"),
		400: problemResponse("Bad query or cursor"),
		...adminProblems,
	},
});

const EventType = z.enum(WEBHOOK_EVENT_TYPES);

export const EndpointSchema = z
	.object({
		id: z.string(),
		url: z.string(),
		description: z.string(),
		event_types: z.array(EventType),
		active: z.boolean(),
		rotating_until: z.string().nullable().openapi({ description: "While set, deliveries are signed with the previous secret too" }),
		created_at: z.string(),
	})
	.openapi("WebhookEndpoint");

const WithSecret = EndpointSchema.extend({
	secret: z.string().openapi({ description: "Shown only here: verify deliveries with it (Standard Webhooks)" }),
}).openapi("WebhookEndpointWithSecret");

const EndpointParam = z.object({
	id: z
		.string()
		.regex(/^whe_[0-9a-z]{20}$/, "Not an endpoint id.")
		.openapi({ param: { name: "id", in: "path" }, example: "whe_0123456789abcdefghjk" }),
});

export const CreateEndpointBody = z
	.object({
		url: z.string().max(2048),
		event_types: z.array(EventType).min(1).max(WEBHOOK_EVENT_TYPES.length),
		description: z.string().trim().max(200).optional(),
	})
	.strict()
	.openapi("WebhookEndpointRequest");

export const listEndpoints = createRoute({
	method: "get",
	path: "/admin/webhooks",
	tags,
	security: bearerAuth,
	summary: "Registered webhook endpoints",
	responses: { 200: jsonResponse(z.object({ data: z.array(EndpointSchema) }), "Endpoints"), ...adminProblems },
});

export const createEndpoint = createRoute({
	method: "post",
	path: "/admin/webhooks",
	tags,
	security: bearerAuth,
	summary: "Register an endpoint (https; private, loopback and link-local addresses refused); its secret is shown once",
	request: { body: jsonBody(CreateEndpointBody) },
	responses: {
		201: jsonResponse(WithSecret, "The endpoint and its secret"),
		...bodyProblems,
		...adminProblems,
		422: problemResponse("URL refused"),
	},
});

export const deleteEndpoint = createRoute({
	method: "delete",
	path: "/admin/webhooks/{id}",
	tags,
	security: bearerAuth,
	summary: "Deactivate an endpoint: no further deliveries (its log stays)",
	request: { params: EndpointParam },
	responses: { 204: { description: "Deactivated" }, ...adminProblems, 404: problemResponse("No such endpoint") },
});

export const rotateSecret = createRoute({
	method: "post",
	path: "/admin/webhooks/{id}/rotate-secret",
	tags,
	security: bearerAuth,
	summary: "New secret; the previous one keeps signing alongside it for 24 hours",
	request: { params: EndpointParam },
	responses: {
		200: jsonResponse(WithSecret, "The endpoint and its new secret"),
		...adminProblems,
		404: problemResponse("No such endpoint"),
	},
});

export const DeliverySchema = z
	.object({
		id: z.string(),
		event_id: z.string(),
		event_type: z.string(),
		status: z.enum(["pending", "succeeded", "failed"]),
		attempts: z.number().int(),
		last_status_code: z.number().int().nullable(),
		last_error: z.string().nullable(),
		created_at: z.string(),
		last_attempt_at: z.string().nullable(),
		delivered_at: z.string().nullable(),
	})
	.openapi("WebhookDelivery");

export const listDeliveries = createRoute({
	method: "get",
	path: "/admin/webhooks/{id}/deliveries",
	tags,
	security: bearerAuth,
	summary: "An endpoint's delivery log, newest first",
	request: { params: EndpointParam, query: Page },
	responses: {
		200: jsonResponse(z.object({ data: z.array(DeliverySchema), next_cursor: z.string().nullable() }), "Deliveries"),
		400: problemResponse("Bad cursor"),
		...adminProblems,
		404: problemResponse("No such endpoint"),
	},
});
