import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { orders } from "../db/schema.ts";
import { DomainError, isDomainError, notFound } from "../domain/errors.ts";
import type { WaitUntil } from "../domain/runtime.ts";
import { signPayload, verifySignature } from "../payments/signature.ts";
import { deliverOrder } from "./admin.ts";

/**
 * Carrier events: what a parcel carrier reports about the shipments it
 * carries, behind one small interface so each carrier's wire format and
 * signature scheme stay in its adapter. `POST /v1/carriers/{carrier}/events`
 * hands the request to the adapter CARRIER_EVENTS names; a `delivered` event
 * for a shipped order's tracking number marks it delivered through the same
 * transition as the admin's "Mark delivered" (orders/admin.ts `deliverOrder`).
 * Applying an event twice changes nothing: the order is no longer shipped.
 */

export type CarrierStatus = "delivered" | "in_transit" | "returned";

export interface CarrierEvent {
	tracking_number: string;
	status: CarrierStatus;
	/** When the carrier saw it happen, ISO 8601. */
	occurred_at: string;
}

/** One carrier's webhook: verifies a request and reads the events in it (DomainError when it cannot). */
export interface CarrierEvents {
	readonly name: string;
	parse(request: Request): Promise<CarrierEvent[]>;
}

/** The test adapter's signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, the test payment provider's scheme. */
export const TEST_CARRIER_SIGNATURE_HEADER = "carrier-signature";

const TestCarrierBody = z
	.object({
		events: z
			.array(
				z
					.object({
						tracking_number: z.string().trim().min(1).max(100),
						status: z.enum(["delivered", "in_transit", "returned"]),
						occurred_at: z.iso.datetime({ offset: true }),
					})
					.strict(),
			)
			.min(1)
			.max(100),
	})
	.strict();

const badSignature = () =>
	new DomainError("invalid_carrier_signature", { detail: "The Carrier-Signature header is missing, wrong or too old." });

/**
 * The development and test carrier: a JSON body `{ "events": [...] }`
 * signed with CARRIER_WEBHOOK_SECRET. A signature older or newer than five
 * minutes is refused, so a captured request cannot be replayed later.
 */
export function testCarrier(secret: string): CarrierEvents {
	return {
		name: "test",
		async parse(request) {
			const raw = await request.text();
			if (!secret) {
				// Nothing can be verified without a secret; every request is refused rather than trusted.
				console.log(JSON.stringify({ level: "error", msg: "CARRIER_WEBHOOK_SECRET is not set; carrier events are refused" }));
				throw badSignature();
			}
			try {
				await verifySignature(raw, request.headers.get(TEST_CARRIER_SIGNATURE_HEADER), secret);
			} catch {
				throw badSignature();
			}
			let parsed: z.infer<typeof TestCarrierBody>;
			try {
				parsed = TestCarrierBody.parse(JSON.parse(raw));
			} catch {
				throw new DomainError("malformed_event", { detail: "The signed body is not a list of carrier events this endpoint can read." });
			}
			return parsed.events;
		},
	};
}

/** The headers of a test carrier request for `body`, as a carrier would sign it (tests and local tools). */
export async function signTestCarrierEvents(body: string, secret: string, nowMs = Date.now()): Promise<Record<string, string>> {
	return {
		"content-type": "application/json",
		[TEST_CARRIER_SIGNATURE_HEADER]: await signPayload(body, secret, Math.floor(nowMs / 1000)),
	};
}

/** The adapter for `carrier`, when CARRIER_EVENTS names it; else 404, as for a carrier the shop does not use. */
export function carrierEventsFor(env: Env, carrier: string): CarrierEvents {
	const configured = (env.CARRIER_EVENTS ?? "")
		.split(",")
		.map((name) => name.trim())
		.filter(Boolean);
	if (!configured.includes(carrier)) throw notFound("No such carrier.");
	switch (carrier) {
		case "test":
			return testCarrier(env.CARRIER_WEBHOOK_SECRET ?? "");
		default:
			throw notFound("No such carrier.");
	}
}

/** What applying a request's events did: orders newly marked delivered, and events that changed nothing. */
export interface CarrierOutcome {
	delivered: number;
	ignored: number;
}

/**
 * Applies verified events. A `delivered` event moves every shipped order
 * with its tracking number to delivered (the actor is `carrier:<name>`); an
 * order already past shipped, an unknown tracking number and the other
 * statuses are acknowledged and logged, never an error, so the carrier does
 * not retry what can never apply.
 */
export async function applyCarrierEvents(
	env: Env,
	db: Db,
	ctx: WaitUntil,
	carrier: string,
	events: readonly CarrierEvent[],
): Promise<CarrierOutcome> {
	const outcome: CarrierOutcome = { delivered: 0, ignored: 0 };
	for (const event of events) {
		if (event.status !== "delivered") {
			outcome.ignored++;
			continue;
		}
		const shipped = await db
			.select({ id: orders.id, status: orders.status })
			.from(orders)
			.where(eq(orders.trackingNumber, event.tracking_number));
		if (shipped.length === 0) {
			// The number is the carrier's, not a secret, but it is request body: logged by what it is, not its value.
			console.log(JSON.stringify({ level: "warn", msg: "carrier event for an unknown tracking number", carrier, status: event.status }));
			outcome.ignored++;
			continue;
		}
		for (const order of shipped) {
			if (order.status !== "shipped") {
				outcome.ignored++;
				continue;
			}
			try {
				await deliverOrder(env, db, ctx, order.id, `carrier:${carrier}`);
				outcome.delivered++;
			} catch (err) {
				// Delivered (or refunded) meanwhile by another event or an admin: nothing left to do.
				if (!isDomainError(err, "invalid_transition")) throw err;
				outcome.ignored++;
			}
		}
	}
	return outcome;
}
