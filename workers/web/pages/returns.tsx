import type { Context } from "hono";
import type { StatusCode } from "hono/utils/http-status";
import { statusOf } from "../../api/lib/problem.ts";
import type { AppEnv } from "../../api/types.ts";
import { hashToken } from "../../auth/secrets.ts";
import { DomainError } from "../../domain/errors.ts";
import { isIdempotencyKey, requestHashOf, runIdempotent } from "../../idempotency/store.ts";
import type { LoadedOrder } from "../../orders/orders.ts";
import { cancelReturn, requestReturn } from "../../returns/returns.ts";
import { formText } from "../components/form.tsx";
import { returnQuantityField } from "../components/returns.tsx";
import { readOrderPasses } from "../session.ts";
import { accessibleOrder, notAccessible } from "./orders.tsx";

const RETURN_ID = /^ret_[0-9abcdefghjkmnpqrstvwxyz]{20}$/;

type Form = Record<string, string | File | (string | File)[]>;

/** The order page, with the outcome of a return form in its query (a code, never text) and scrolled to the returns. */
function backTo(c: Context<AppEnv>, orderId: string, outcome: { return: string } | { return_error: string }): Response {
	const [name, value] = Object.entries(outcome)[0] as [string, string];
	return c.redirect(`/orders/${orderId}?${name}=${encodeURIComponent(value)}#returns`, 303);
}

/** Who is asking: the signed-in owner, else the guest whose `ec_orders` pass opened the order. */
async function shopperOf(c: Context<AppEnv>, loaded: LoadedOrder): Promise<{ scope: string; requestedBy: string }> {
	const viewer = c.get("viewer");
	if (viewer && loaded.order.userId === viewer.userId) return { scope: `user:${viewer.userId}`, requestedBy: viewer.userId };
	const pass = readOrderPasses(c).find((known) => known.id === loaded.order.id);
	return { scope: `order:${await hashToken(pass?.token ?? "")}`, requestedBy: "guest" };
}

/**
 * Runs a return form once per rendered form (its hidden key, in the store the
 * API's Idempotency-Key uses, scoped to the shopper): a double submit gets the
 * first answer. A refusal is a 303 back with its code and is kept as the
 * answer too; a fault (5xx) is not, so the form can be sent again.
 */
async function once(
	c: Context<AppEnv>,
	loaded: LoadedOrder,
	body: Form,
	route: string,
	fingerprint: unknown,
	run: (requestedBy: string) => Promise<Response>,
): Promise<Response> {
	const orderId = loaded.order.id;
	const key = formText(body, "idempotency_key");
	if (!isIdempotencyKey(key)) return backTo(c, orderId, { return_error: "form_expired" });
	const shopper = await shopperOf(c, loaded);
	const request = {
		scope: shopper.scope,
		key,
		route: `POST ${route}`,
		requestHash: await requestHashOf("POST", c.req.path, JSON.stringify(fingerprint)),
	};
	try {
		const { replayed, response } = await runIdempotent(c.get("database").primary, request, async () => {
			try {
				return await run(shopper.requestedBy);
			} catch (err) {
				if (err instanceof DomainError && statusOf(err) < 500) return backTo(c, orderId, { return_error: err.code });
				throw err;
			}
		});
		return replayed ? c.newResponse(response.body, { status: response.status as StatusCode, headers: response.headers }) : response;
	} catch (err) {
		// The key's own refusals (in progress, reused): nothing was done.
		if (err instanceof DomainError && statusOf(err) < 500) return backTo(c, orderId, { return_error: err.code });
		throw err;
	}
}

/**
 * POST /orders/{id}/returns (a units field per line, reason): asks to return
 * the chosen units, then 303 back to the order page, where the return shows.
 */
export async function requestReturnAction(c: Context<AppEnv>): Promise<Response> {
	const id = c.req.param("id") ?? "";
	const body = await c.req.parseBody();
	const loaded = await accessibleOrder(c, id);
	if (!loaded) return notAccessible(c, id);
	const lines: { sku: string; quantity: number }[] = [];
	for (const line of loaded.lines) {
		const text = formText(body, returnQuantityField(line.sku)) || "0";
		if (!/^\d{1,2}$/.test(text)) return backTo(c, id, { return_error: "validation_failed" });
		const quantity = Number(text);
		if (quantity > 0) lines.push({ sku: line.sku, quantity });
	}
	if (lines.length === 0) return backTo(c, id, { return_error: "nothing_chosen" });
	const reason = formText(body, "reason").slice(0, 500) || undefined;
	return once(c, loaded, body, "/orders/:id/returns", { lines, reason }, async (requestedBy) => {
		await requestReturn(c.env, c.get("database").primary, loaded, { lines, reason }, requestedBy);
		return backTo(c, id, { return: "requested" });
	});
}

/** POST /orders/{id}/returns/{return_id}/cancel: withdraws a return that is still only requested. */
export async function cancelReturnAction(c: Context<AppEnv>): Promise<Response> {
	const id = c.req.param("id") ?? "";
	const returnId = c.req.param("returnId") ?? "";
	const body = await c.req.parseBody();
	const loaded = await accessibleOrder(c, id);
	if (!loaded) return notAccessible(c, id);
	if (!RETURN_ID.test(returnId)) return backTo(c, id, { return_error: "invalid_return_transition" });
	return once(c, loaded, body, "/orders/:id/returns/:returnId/cancel", { returnId }, async () => {
		await cancelReturn(c.get("database").primary, loaded, returnId);
		return backTo(c, id, { return: "cancelled" });
	});
}
