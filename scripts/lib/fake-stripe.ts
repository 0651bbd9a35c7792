/**
 * A stand-in for Stripe's API on 127.0.0.1, for the tests only: Stripe's
 * servers cannot run here, and the Worker creates PaymentIntents over fetch
 * (workers/payments/stripe.ts). The Worker is pointed at it with
 * STRIPE_API_BASE; nothing else about the Worker changes.
 *
 * It speaks Stripe's documented wire format for the calls the shop makes and
 * the tests read back, and nothing more:
 * - `POST /v1/payment_intents` (form-encoded, bracketed keys such as
 *   `metadata[order_id]`) creates a PaymentIntent in `requires_payment_method`
 *   with a `client_secret` of the form `{id}_secret_{…}`;
 * - `GET /v1/payment_intents/{id}` retrieves one;
 * - `Authorization: Bearer` must carry the one secret key it was started
 *   with (else 401), as Stripe refuses an unknown key;
 * - `Idempotency-Key`: the same key with the same parameters answers the first
 *   result again with `Idempotent-Replayed: true`; with other parameters it is
 *   a 400 `idempotency_error`, so a caller that re-asks differently fails here
 *   as it would at Stripe;
 * - anything else is a 404 `invalid_request_error`, as for an unknown URL.
 * Confirming a payment happens in Stripe.js in the browser, never here; the
 * tests send the webhook Stripe would send afterwards.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type Stripe from "stripe";

/** The PaymentIntent fields the stand-in returns, typed by the stripe package so a misspelt field fails the typecheck. */
export type FakePaymentIntent = Pick<
	Stripe.PaymentIntent,
	| "id"
	| "object"
	| "amount"
	| "amount_capturable"
	| "amount_received"
	| "automatic_payment_methods"
	| "cancellation_reason"
	| "capture_method"
	| "client_secret"
	| "confirmation_method"
	| "created"
	| "currency"
	| "description"
	| "last_payment_error"
	| "latest_charge"
	| "livemode"
	| "metadata"
	| "next_action"
	| "payment_method"
	| "payment_method_types"
	| "receipt_email"
	| "status"
>;

/** A request as it reached the stand-in. */
export interface FakeStripeRequest {
	method: string;
	path: string;
	headers: Record<string, string | undefined>;
	/** The decoded form: nested objects for bracketed keys. */
	params: FormObject;
}

export interface FakeStripe {
	/** e.g. http://127.0.0.1:41235: what STRIPE_API_BASE is set to. */
	readonly url: string;
	readonly secretKey: string;
	/** Every PaymentIntent created, by id. */
	readonly intents: ReadonlyMap<string, FakePaymentIntent>;
	/** Every request received, in order. */
	readonly requests: readonly FakeStripeRequest[];
	stop(): Promise<void>;
}

type FormObject = { [key: string]: string | FormObject };

/** Decodes `a[b][c]=v` pairs into nested objects, as Stripe reads them. */
export function decodeForm(body: string): FormObject {
	const root: FormObject = {};
	for (const [key, value] of new URLSearchParams(body)) {
		const path = key.split(/\[|\]\[|\]$/).filter((part, i) => i === 0 || part !== "");
		let target = root;
		for (const part of path.slice(0, -1)) {
			const next = target[part];
			if (typeof next === "object") {
				target = next;
			} else {
				const child: FormObject = {};
				target[part] = child;
				target = child;
			}
		}
		target[path[path.length - 1] ?? key] = value;
	}
	return root;
}

/** Key order does not matter to Stripe's comparison of an idempotent request's parameters. */
function canonical(value: string | FormObject): string {
	if (typeof value === "string") return JSON.stringify(value);
	return `{${Object.keys(value)
		.sort()
		.map((key) => `${JSON.stringify(key)}:${canonical(value[key] as string | FormObject)}`)
		.join(",")}}`;
}

function randomId(length: number): string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	return [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join("");
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
	res.writeHead(status, { "content-type": "application/json", "request-id": `req_${randomId(14)}`, ...headers });
	res.end(JSON.stringify(body, null, 2));
}

function stripeError(res: ServerResponse, status: number, error: { type: string; message: string; code?: string; param?: string }): void {
	send(res, status, { error });
}

async function readBody(req: IncomingMessage): Promise<string> {
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks).toString("utf8");
}

/** Starts the stand-in on 127.0.0.1 (a free port unless `port` is given). */
export async function startFakeStripe(options: { secretKey: string; port?: number }): Promise<FakeStripe> {
	const { secretKey } = options;
	const intents = new Map<string, FakePaymentIntent>();
	const requests: FakeStripeRequest[] = [];
	/** Idempotency-Key → the parameters first sent with it and the answer given. */
	const replays = new Map<string, { params: string; status: number; body: unknown }>();

	function createIntent(params: FormObject): { status: number; body: unknown } {
		const amount = Number(params.amount);
		if (!Number.isSafeInteger(amount) || amount < 1) {
			return {
				status: 400,
				body: { error: { type: "invalid_request_error", code: "parameter_invalid_integer", param: "amount", message: "Invalid integer" } },
			};
		}
		if (typeof params.currency !== "string" || !/^[a-z]{3}$/.test(params.currency)) {
			return {
				status: 400,
				body: {
					error: {
						type: "invalid_request_error",
						code: "parameter_missing",
						param: "currency",
						message: "Missing required param: currency.",
					},
				},
			};
		}
		const id = `pi_${randomId(24)}`;
		const metadata = typeof params.metadata === "object" ? (params.metadata as Record<string, string>) : {};
		const automatic = typeof params.automatic_payment_methods === "object" && params.automatic_payment_methods.enabled === "true";
		const intent: FakePaymentIntent = {
			id,
			object: "payment_intent",
			amount,
			amount_capturable: 0,
			amount_received: 0,
			automatic_payment_methods: automatic ? { allow_redirects: "always", enabled: true } : null,
			capture_method: "automatic_async",
			client_secret: `${id}_secret_${randomId(25)}`,
			confirmation_method: "automatic",
			created: Math.floor(Date.now() / 1000),
			currency: params.currency,
			description: typeof params.description === "string" ? params.description : null,
			last_payment_error: null,
			latest_charge: null,
			livemode: false,
			metadata,
			next_action: null,
			payment_method: null,
			payment_method_types: ["card"],
			receipt_email: typeof params.receipt_email === "string" ? params.receipt_email : null,
			status: "requires_payment_method",
			cancellation_reason: null,
		};
		intents.set(id, intent);
		return { status: 200, body: intent };
	}

	const server = createServer((req, res) => {
		void (async () => {
			const url = new URL(req.url ?? "/", "http://127.0.0.1");
			const body = await readBody(req);
			const params = decodeForm(body);
			requests.push({ method: req.method ?? "GET", path: url.pathname, headers: { ...req.headers } as Record<string, string>, params });

			const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
			if (bearer !== secretKey) {
				const masked = bearer ? `${bearer.slice(0, 8)}****${bearer.slice(-4)}` : "";
				return stripeError(res, 401, {
					type: "invalid_request_error",
					message: bearer ? `Invalid API Key provided: ${masked}` : "You did not provide an API key.",
				});
			}

			if (req.method === "POST" && url.pathname === "/v1/payment_intents") {
				const key = req.headers["idempotency-key"];
				const fingerprint = canonical(params);
				const earlier = typeof key === "string" ? replays.get(key) : undefined;
				if (earlier) {
					if (earlier.params !== fingerprint) {
						return stripeError(res, 400, {
							type: "idempotency_error",
							message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
						});
					}
					return send(res, earlier.status, earlier.body, { "idempotent-replayed": "true", "idempotency-key": String(key) });
				}
				const answer = createIntent(params);
				if (typeof key === "string") replays.set(key, { params: fingerprint, ...answer });
				return send(res, answer.status, answer.body, typeof key === "string" ? { "idempotency-key": key } : {});
			}

			// Cancel: allowed while the intent awaits a payment method, confirmation, action or capture; otherwise
			// Stripe answers 400 payment_intent_unexpected_state.
			const cancel = /^\/v1\/payment_intents\/([^/]+)\/cancel$/.exec(url.pathname);
			if (req.method === "POST" && cancel) {
				const intent = intents.get(decodeURIComponent(cancel[1] ?? ""));
				if (!intent) {
					return stripeError(res, 404, {
						type: "invalid_request_error",
						code: "resource_missing",
						param: "intent",
						message: "No such payment_intent",
					});
				}
				const cancelable = ["requires_payment_method", "requires_capture", "requires_confirmation", "requires_action"];
				if (!cancelable.includes(String(intent.status))) {
					return stripeError(res, 400, {
						type: "invalid_request_error",
						code: "payment_intent_unexpected_state",
						message: `You cannot cancel this PaymentIntent because it has a status of ${String(intent.status)}.`,
					});
				}
				intent.status = "canceled";
				intent.cancellation_reason =
					typeof params.cancellation_reason === "string" ? (params.cancellation_reason as Stripe.PaymentIntent.CancellationReason) : null;
				return send(res, 200, intent);
			}

			const retrieve = /^\/v1\/payment_intents\/([^/]+)$/.exec(url.pathname);
			if (req.method === "GET" && retrieve) {
				const intent = intents.get(decodeURIComponent(retrieve[1] ?? ""));
				if (!intent) {
					return stripeError(res, 404, {
						type: "invalid_request_error",
						code: "resource_missing",
						param: "intent",
						message: `No such payment_intent: '${retrieve[1]}'`,
					});
				}
				return send(res, 200, intent);
			}

			return stripeError(res, 404, {
				type: "invalid_request_error",
				message: `Unrecognized request URL (${req.method}: ${url.pathname}). This stand-in answers only what the shop calls.`,
			});
		})().catch((err: unknown) => {
			if (!res.headersSent) stripeError(res, 500, { type: "api_error", message: err instanceof Error ? err.message : String(err) });
		});
	});
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
	});
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		secretKey,
		intents,
		requests,
		stop: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}
