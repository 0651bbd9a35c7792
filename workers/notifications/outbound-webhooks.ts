import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { webhookDeliveries, webhookEndpoints } from "../db/schema.ts";
import { newId } from "../domain/ids.ts";
import { envelope } from "../queues/envelope.ts";
import { outbound } from "./outbound.ts";
import { checkWebhookUrl } from "./ssrf.ts";
import { signWebhook } from "./webhook-signing.ts";

/** The events merchants can subscribe to. */
export const WEBHOOK_EVENT_TYPES = ["order.paid", "order.shipped", "order.cancelled", "order.refunded", "inventory.low_stock"] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** How long a delivery may take before it counts as failed (and is retried). */
const DELIVERY_TIMEOUT_MS = 10_000;

/** Plain http is accepted for endpoints only in development (local receivers); everywhere else https. */
export function allowHttpEndpoints(env: Env): boolean {
	return env.APP_ENV === "development";
}

/**
 * Records one delivery per subscribed endpoint for the event (unique per
 * endpoint and event, so a redelivered event adds none) and queues a
 * `webhook.deliver` message for each delivery still pending: also those a
 * previous attempt recorded but failed to queue.
 */
export async function fanOut(env: Env, db: Db, eventId: string, type: WebhookEventType, data: Record<string, unknown>): Promise<number> {
	const endpoints = await db
		.select({ id: webhookEndpoints.id })
		.from(webhookEndpoints)
		.where(and(eq(webhookEndpoints.active, true), sql`${webhookEndpoints.eventTypes} @> ${JSON.stringify([type])}::jsonb`));
	if (endpoints.length === 0) return 0;
	await db
		.insert(webhookDeliveries)
		.values(endpoints.map((endpoint) => ({ id: newId("whd"), endpointId: endpoint.id, eventId, eventType: type, payload: data })))
		.onConflictDoNothing();
	const pending = await db
		.select({ id: webhookDeliveries.id })
		.from(webhookDeliveries)
		.where(and(eq(webhookDeliveries.eventId, eventId), eq(webhookDeliveries.status, "pending")));
	for (const delivery of pending) {
		await env.NOTIFICATIONS_QUEUE.send(envelope(`webhook.deliver:${delivery.id}`, "webhook.deliver", { delivery_id: delivery.id }), {
			contentType: "json",
		});
	}
	return pending.length;
}

export class WebhookDeliveryError extends Error {
	override name = "WebhookDeliveryError";
}

/**
 * One attempt at one delivery: the JSON body signed with the endpoint's
 * secret (and the previous one during a rotation), POSTed without following
 * redirects. 2xx marks it delivered; anything else is logged on the delivery
 * and thrown, so the queue retries with backoff and, in the end, dead-letters
 * it. An endpoint that was deactivated, or whose URL is no longer allowed,
 * fails the delivery for good.
 */
export async function deliver(env: Env, db: Db, deliveryId: string, now = new Date()): Promise<"delivered" | "done" | "refused"> {
	const [row] = await db
		.select({ delivery: webhookDeliveries, endpoint: webhookEndpoints })
		.from(webhookDeliveries)
		.innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
		.where(eq(webhookDeliveries.id, deliveryId));
	if (row?.delivery.status !== "pending") return "done";
	const { delivery, endpoint } = row;
	const target = checkWebhookUrl(endpoint.url, { allowHttp: allowHttpEndpoints(env) });
	if (!endpoint.active || !target.ok) {
		await db
			.update(webhookDeliveries)
			.set({ status: "failed", lastError: endpoint.active ? `refused URL: ${target.ok ? "" : target.reason}` : "endpoint deactivated" })
			.where(eq(webhookDeliveries.id, deliveryId));
		return "refused";
	}
	const body = JSON.stringify({
		id: delivery.eventId,
		type: delivery.eventType,
		created_at: delivery.createdAt.toISOString(),
		data: delivery.payload,
	});
	const secrets = [endpoint.secret];
	if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now)
		secrets.push(endpoint.previousSecret);
	const headers = await signWebhook(secrets, body, Math.floor(now.getTime() / 1000), delivery.id);
	let status: number | null = null;
	let error: string | null = null;
	try {
		const response = await outbound.fetch(target.url.href, {
			method: "POST",
			headers: { ...headers, "content-type": "application/json", "user-agent": "edge-commerce-webhooks/1" },
			body,
			redirect: "manual",
			signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
		});
		status = response.status;
		await response.body?.cancel();
		if (response.status < 200 || response.status >= 300) error = `HTTP ${response.status}`;
	} catch (err) {
		error = err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 300) : "network error";
	}
	await db
		.update(webhookDeliveries)
		.set({
			attempts: sql`${webhookDeliveries.attempts} + 1`,
			lastStatusCode: status,
			lastError: error,
			lastAttemptAt: sql`now()`,
			...(error === null ? { status: "succeeded" as const, deliveredAt: sql`now()` } : {}),
		})
		.where(eq(webhookDeliveries.id, deliveryId));
	if (error !== null) throw new WebhookDeliveryError(`delivery ${deliveryId} to ${endpoint.id} failed: ${error}`);
	return "delivered";
}
