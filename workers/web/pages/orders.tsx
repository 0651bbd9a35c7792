import { eq } from "drizzle-orm";
import type { Context } from "hono";
import { statusOf } from "../../api/lib/problem.ts";
import type { AppEnv } from "../../api/types.ts";
import { hashToken } from "../../auth/secrets.ts";
import { payments } from "../../db/schema.ts";
import { DomainError } from "../../domain/errors.ts";
import { type LoadedOrder, loadOrder, type OrderView, viewOf } from "../../orders/orders.ts";
import { sendTestPaymentEvent } from "../../orders/payment-webhooks.ts";
import { paymentsFor } from "../../orders/payments.ts";
import { returnsOfOrder } from "../../returns/returns.ts";
import { assets } from "../assets.ts";
import { Alert } from "../components/alert.tsx";
import { formText } from "../components/form.tsx";
import { AddressBlock, CANCEL_REASON_TEXT, OrderLines, OrderTotals, StatusBadge, shortOrderId } from "../components/order.tsx";
import { ReturnsPanel } from "../components/returns.tsx";
import { STRIPE_JS_URL, STRIPE_PAY_PAGE_CSP } from "../csp.ts";
import { Layout, money, PERSONAL_PAGE_CACHE } from "../layout.tsx";
import { clearPaymentSent, findCart, markPaymentSent, paymentSent, readOrderPasses } from "../session.ts";
import { notFoundPage } from "./errors.tsx";

const ORDER_ID = /^ord_[0-9abcdefghjkmnpqrstvwxyz]{20}$/;

/**
 * The order if this browser may see it: the signed-in owner, or a guest
 * holding the order's token in `ec_orders`. Anything else is "not yours",
 * answered like a missing order.
 */
export async function accessibleOrder(c: Context<AppEnv>, id: string): Promise<LoadedOrder | undefined> {
	if (!ORDER_ID.test(id)) return undefined;
	const loaded = await loadOrder(c.get("database").primary, id);
	if (!loaded) return undefined;
	const viewer = c.get("viewer");
	if (viewer && loaded.order.userId === viewer.userId) return loaded;
	const pass = readOrderPasses(c).find((known) => known.id === id);
	if (pass && loaded.order.accessTokenHash && loaded.order.accessTokenHash === (await hashToken(pass.token))) return loaded;
	return undefined;
}

/** Signed out, an order may be the shopper's own: sign in first. Signed in, it is not theirs: 404. */
export function notAccessible(c: Context<AppEnv>, id: string): Response | Promise<Response> {
	if (!c.get("viewer") && ORDER_ID.test(id)) return c.redirect(`/signin?next=${encodeURIComponent(`/orders/${id}`)}`, 303);
	return notFoundPage(c);
}

async function cartCount(c: Context<AppEnv>): Promise<number> {
	return (await findCart(c))?.state.lines.reduce((n, line) => n + line.quantity, 0) ?? 0;
}

function placedOn(order: OrderView): string {
	return new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeZone: "UTC" }).format(new Date(order.created_at));
}

/** Minutes left on the stock held for an unpaid order, at least 0. */
function minutesLeft(order: OrderView): number {
	return Math.max(0, Math.ceil((Date.parse(order.reservation_expires_at) - Date.now()) / 60_000));
}

/** The Stripe PaymentIntent's client secret, asked again (the order id is its idempotency key, so the same intent answers). */
async function stripeClientSecret(env: Env, order: OrderView): Promise<string | undefined> {
	try {
		const created = await paymentsFor(env).createPayment({
			orderId: order.id,
			amount: order.total.amount,
			currency: order.total.currency,
			email: order.email,
			description: `Order ${order.id}`,
		});
		return created.clientSecret;
	} catch {
		return undefined;
	}
}

/** What web/scripts/stripe-payment.js needs to draw the Payment Element and confirm the payment. */
interface StripeCardForm {
	publishableKey: string;
	clientSecret: string;
	/** Where Stripe sends the shopper after confirming (it must be absolute): the order page. */
	returnUrl: string;
}

/** The card form for a Stripe order, or undefined when it cannot be shown (no publishable key, or Stripe did not answer). */
async function stripeCardForm(c: Context<AppEnv>, order: OrderView): Promise<StripeCardForm | undefined> {
	const publishableKey = c.env.STRIPE_PUBLISHABLE_KEY;
	if (!/^pk_(test|live)_\S+$/.test(publishableKey ?? "")) {
		console.log(
			JSON.stringify({ level: "error", msg: "STRIPE_PUBLISHABLE_KEY is not a pk_test_… or pk_live_… key; the pay page cannot take cards" }),
		);
		return undefined;
	}
	const clientSecret = await stripeClientSecret(c.env, order);
	if (!clientSecret) return undefined;
	return { publishableKey, clientSecret, returnUrl: new URL(`/orders/${order.id}`, c.req.url).href };
}

async function renderPayPage(c: Context<AppEnv>, loaded: LoadedOrder, alert?: string, status: 200 | 503 = 200): Promise<Response> {
	const order = viewOf(loaded);
	const provider = loaded.payment?.provider ?? c.env.PAYMENT_PROVIDER;
	const card = provider === "stripe" ? await stripeCardForm(c, order) : undefined;
	const minutes = minutesLeft(order);
	c.header("cache-control", PERSONAL_PAGE_CACHE);
	// Only a page that draws the card form lets Stripe.js in.
	if (card) c.header("content-security-policy", STRIPE_PAY_PAGE_CSP);
	return c.html(
		<Layout
			title="Pay for your order"
			viewer={c.get("viewer")}
			cartCount={await cartCount(c)}
			scripts={card ? [STRIPE_JS_URL, assets["stripe-payment.js"]] : undefined}
		>
			<h1>Pay for order {shortOrderId(order.id)}</h1>
			{alert ? <Alert kind="error">{alert}</Alert> : null}
			<div class="two-col">
				<section class="card" aria-labelledby="items-heading">
					<h2 id="items-heading">Your order</h2>
					<OrderLines order={order} />
					<OrderTotals order={order} />
				</section>
				<aside class="stack">
					<section class="card pay-box" aria-labelledby="pay-heading">
						<h2 id="pay-heading">Payment</h2>
						<p>
							{minutes > 0
								? `Your items are held for you for about ${minutes} more minute${minutes === 1 ? "" : "s"}.`
								: "The hold on your items has run out; if you pay now we reserve them again when stock allows."}
						</p>
						{provider === "test" ? (
							<>
								<p class="hint">This shop runs with the test payment provider: no card is needed and nothing is charged.</p>
								<form action={`/orders/${order.id}/pay`} method="post">
									<input type="hidden" name="outcome" value="succeeded" />
									<button type="submit" class="wide" data-submit-once>
										Pay now
									</button>
								</form>
								<form action={`/orders/${order.id}/pay`} method="post">
									<input type="hidden" name="outcome" value="failed" />
									<button type="submit" class="secondary wide" data-submit-once>
										Simulate failed payment
									</button>
								</form>
							</>
						) : card ? (
							<form
								class="stripe-payment"
								data-stripe-payment
								data-stripe-publishable-key={card.publishableKey}
								data-stripe-client-secret={card.clientSecret}
								data-return-url={card.returnUrl}
							>
								<p class="hint">Your card details go straight to Stripe, which handles the payment; this shop never sees them.</p>
								<div class="payment-element" data-payment-element />
								<div data-payment-messages />
								<noscript>
									<p class="alert error">The card form needs JavaScript. Please turn it on and reload this page.</p>
								</noscript>
								{/* Enabled by stripe-payment.js once the card form is ready. */}
								<button type="submit" class="wide" disabled>
									Pay {money(order.total.amount, order.total.currency)}
								</button>
							</form>
						) : (
							<div class="stripe-payment">
								<p>Card payments are handled by Stripe.</p>
								<p class="hint">The payment could not be prepared just now. Please reload this page in a moment.</p>
							</div>
						)}
					</section>
					<section class="card" aria-labelledby="ship-heading">
						<h2 id="ship-heading">Shipping to</h2>
						<AddressBlock address={order.shipping_address} />
						<p class="muted small">Confirmation to {order.email}</p>
					</section>
				</aside>
			</div>
		</Layout>,
		status,
	);
}

/** GET /orders/{id}/pay: the summary and the payment step; an order past payment goes to its page. */
export async function payPage(c: Context<AppEnv>): Promise<Response> {
	const id = c.req.param("id") ?? "";
	const loaded = await accessibleOrder(c, id);
	if (!loaded) return notAccessible(c, id);
	if (loaded.order.status !== "pending_payment") return c.redirect(`/orders/${id}`, 303);
	return renderPayPage(c, loaded);
}

/**
 * POST /orders/{id}/pay (outcome): the test provider's payment. A correctly
 * signed webhook goes through the same path as one from outside (verified,
 * queued, applied by the orders consumer), then the order page waits for it.
 */
export async function pay(c: Context<AppEnv>): Promise<Response> {
	const id = c.req.param("id") ?? "";
	const body = await c.req.parseBody();
	const outcome = formText(body, "outcome") === "failed" ? "failed" : "succeeded";
	const loaded = await accessibleOrder(c, id);
	if (!loaded) return notAccessible(c, id);
	if (c.env.PAYMENT_PROVIDER !== "test") return notFoundPage(c);
	if (loaded.order.status !== "pending_payment") return c.redirect(`/orders/${id}`, 303);
	const [payment] = await c.get("database").primary.select().from(payments).where(eq(payments.orderId, id));
	if (payment?.provider !== "test" || !payment.providerPaymentId) return c.redirect(`/orders/${id}`, 303);
	try {
		await sendTestPaymentEvent(c.env, payment, payment.providerPaymentId, outcome);
	} catch (err) {
		if (!(err instanceof DomainError) || statusOf(err) < 500) throw err;
		return renderPayPage(c, loaded, "We could not send your payment just now. Nothing was charged; please try again in a moment.", 503);
	}
	markPaymentSent(c, id);
	return c.redirect(`/orders/${id}`, 303);
}

/**
 * An unpaid order the shopper just tried to pay: with the test provider
 * ("confirming", the form sent its webhook), or back from Stripe
 * ("processing"; "not_completed" when Stripe said the attempt failed).
 */
type PaymentAttempt = "confirming" | "processing" | "not_completed" | "declined";

/**
 * Stripe sends the shopper back here after `confirmPayment`, adding
 * `payment_intent`, `payment_intent_client_secret` and `redirect_status` to
 * the return URL. That only says this visit is such a return (for this
 * order's own PaymentIntent), so the page can wait for the payment; whether
 * the order is paid is read from the order alone, which only the webhook moves.
 */
function stripeReturn(c: Context<AppEnv>, loaded: LoadedOrder): PaymentAttempt | undefined {
	const intent = c.req.query("payment_intent");
	const payment = loaded.payment;
	if (!intent || payment?.provider !== "stripe" || intent !== payment.providerPaymentId) return undefined;
	return c.req.query("redirect_status") === "failed" ? "not_completed" : "processing";
}

const ATTEMPT_NOTE: Record<PaymentAttempt, { kind: "info" | "error"; text: string }> = {
	confirming: { kind: "info", text: "Confirming your payment…" },
	processing: { kind: "info", text: "Your payment is being processed. This page updates by itself." },
	not_completed: { kind: "error", text: "Your payment was not completed and nothing was charged. You can try again." },
	declined: {
		kind: "error",
		text: "Your payment was declined and nothing was charged. Your items are still held for you: you can try again, with another card if you like.",
	},
};

/** What the shopper should know about an order in its current status. */
function statusNote(order: OrderView, attempt: PaymentAttempt | undefined): { kind: "ok" | "info" | "error"; text: string } | undefined {
	switch (order.status) {
		case "pending_payment":
			return attempt ? ATTEMPT_NOTE[attempt] : undefined;
		case "payment_review":
			return { kind: "info", text: "We received your payment and are checking it. We will e-mail you as soon as your order is confirmed." };
		case "paid":
			return { kind: "ok", text: "Thank you! Your payment was received. We will e-mail you when your order ships." };
		case "fulfilled":
			return { kind: "ok", text: "Your order is packed and will ship soon." };
		case "shipped":
			return { kind: "ok", text: "Your order is on its way." };
		case "delivered":
			return { kind: "ok", text: "Your order was delivered." };
		case "cancelled":
			return { kind: "error", text: CANCEL_REASON_TEXT[order.cancel_reason ?? ""] ?? "This order was cancelled." };
		case "partially_refunded":
			return { kind: "info", text: "Part of this order was refunded to your original payment method." };
		case "refunded":
			return { kind: "info", text: "This order was refunded to your original payment method." };
	}
}

/**
 * GET /orders/{id}: status, lines, totals, address and tracking. Right after
 * a payment was sent (the test provider's form, or Stripe's redirect back
 * here), and until the consumer applies its webhook, the page says so and
 * reloads itself every 2 seconds. A declined attempt leaves the order
 * unpaid, and the page offers the payment again.
 */
export async function orderPage(c: Context<AppEnv>): Promise<Response> {
	const id = c.req.param("id") ?? "";
	const loaded = await accessibleOrder(c, id);
	if (!loaded) return notAccessible(c, id);
	const order = viewOf(loaded);
	const pending = order.status === "pending_payment";
	// A declined attempt is the order's own state: its payment failed, and the shopper may try again.
	const declined = pending && order.payment?.status === "failed";
	const sent = paymentSent(c, id) && !declined;
	if (paymentSent(c, id) && (!pending || declined)) clearPaymentSent(c);
	const returned = pending ? stripeReturn(c, loaded) : undefined;
	const attempt = pending ? (sent ? "confirming" : (returned ?? (declined ? "declined" : undefined))) : undefined;
	const confirming = attempt === "confirming" || attempt === "processing";
	const note = statusNote(order, attempt);
	const returns = await returnsOfOrder(c.env, c.get("database").primary, loaded);
	c.header("cache-control", PERSONAL_PAGE_CACHE);
	return c.html(
		<Layout
			title={`Order ${shortOrderId(order.id)}`}
			viewer={c.get("viewer")}
			cartCount={await cartCount(c)}
			refresh={confirming ? 2 : undefined}
		>
			<div class="order-head">
				<h1>Order {shortOrderId(order.id)}</h1>
				<StatusBadge status={order.status} />
			</div>
			<p class="muted">
				Placed on {placedOn(order)} · Reference <span class="mono">{order.id}</span>
			</p>
			{note ? <Alert kind={note.kind}>{note.text}</Alert> : null}
			{order.status === "pending_payment" && !confirming ? (
				<p>
					<a class="button" href={`/orders/${order.id}/pay`}>
						Go to payment
					</a>
				</p>
			) : null}
			{order.tracking ? (
				<section class="card tracking" aria-labelledby="tracking-heading">
					<h2 id="tracking-heading">Tracking</h2>
					<p>Tracking number: {order.tracking.number}</p>
					{order.tracking.carrier ? <p>Carrier: {order.tracking.carrier}</p> : null}
				</section>
			) : null}
			<div class="two-col">
				<section class="card" aria-labelledby="items-heading">
					<h2 id="items-heading">Items</h2>
					<OrderLines order={order} />
					<OrderTotals order={order} />
				</section>
				<section class="card" aria-labelledby="ship-heading">
					<h2 id="ship-heading">Shipping to</h2>
					<AddressBlock address={order.shipping_address} />
					<p class="muted small">Updates go to {order.email}</p>
				</section>
			</div>
			<ReturnsPanel
				orderId={order.id}
				returns={returns.data}
				offer={returns.returnable}
				notice={c.req.query("return")}
				error={c.req.query("return_error")}
				formKey={() => `web-${crypto.randomUUID()}`}
			/>
		</Layout>,
	);
}

/** GET /account/orders/{id}, the address order e-mails link to: the order page, after sign-in when needed. */
export function accountOrderLink(c: Context<AppEnv>): Response | Promise<Response> {
	const id = c.req.param("id") ?? "";
	if (!ORDER_ID.test(id)) return notFoundPage(c);
	return c.redirect(`/orders/${id}`, 303);
}
