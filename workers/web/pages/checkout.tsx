import { z } from "@hono/zod-openapi";
import { desc, eq } from "drizzle-orm";
import type { Context } from "hono";
import { statusOf } from "../../api/lib/problem.ts";
import { addressFields } from "../../api/me/me.schemas.ts";
import type { AppEnv } from "../../api/types.ts";
import { cartNotFound } from "../../carts/carts.ts";
import { type CartView, viewCart } from "../../carts/view.ts";
import { addresses, users } from "../../db/schema.ts";
import { DomainError, isDomainError } from "../../domain/errors.ts";
import { isIdempotencyKey, requestHashOf } from "../../idempotency/store.ts";
import type { ShortLine } from "../../inventory/reservations.ts";
import { clientOf } from "../../limits/client.ts";
import { shippingAddressOf } from "../../orders/orders.ts";
import { checkoutScope, type PlaceOrderRequest, placeOrder } from "../../orders/place-order.ts";
import { type OrderQuote, priceOrder } from "../../orders/quote.ts";
import { Alert } from "../components/alert.tsx";
import { COUNTRIES, DEFAULT_COUNTRY, isCountry } from "../components/countries.ts";
import { type FieldErrors, formText, TextField } from "../components/form.tsx";
import { Layout, money, PERSONAL_PAGE_CACHE } from "../layout.tsx";
import { referralCode } from "../referral.ts";
import { findCart, followPickedMarket, type PageCart, rememberOrder } from "../session.ts";
import { catalogCategories } from "./catalog-data.ts";

/** The checkout form's fields, named as the API's checkout body names them. */
const FIELDS = [
	"email",
	"name",
	"line1",
	"line2",
	"city",
	"region",
	"postal_code",
	"country",
	"phone",
	"discount_code",
	"shipping_method",
] as const;
type Field = (typeof FIELDS)[number];
type Values = Record<Field, string>;

/** What each field says when it does not validate: written for shoppers, not zod's defaults. */
const FIELD_PROBLEMS: Record<Field, string> = {
	email: "Enter an e-mail address, like name@example.com.",
	name: "Enter the full name of the person receiving the parcel.",
	line1: "Enter the street and house number.",
	line2: "Keep address line 2 under 200 characters.",
	city: "Enter the city.",
	region: "Keep the region under 100 characters.",
	postal_code: "Enter the postal code (up to 20 characters).",
	country: "Choose a country from the list.",
	phone: "Use digits, spaces, brackets and dashes, optionally starting with +.",
	discount_code: "Discount codes have at most 64 characters.",
	shipping_method: "Choose one of the shipping methods offered for your country.",
};

const { is_default: _notForOrders, ...shippingFields } = addressFields;
/** The API's rules for the same fields (the address schema of /v1/me/addresses and /v1/checkout). */
const CheckoutForm = z.object({
	email: z.email().max(254),
	...shippingFields,
	discount_code: z.string().trim().min(1).max(64).optional(),
	shipping_method: z
		.string()
		.regex(/^shm_[0-9a-z]{1,40}$/)
		.optional(),
});

/** Time a double submit waits for its first copy to finish before answering. */
const DUPLICATE_WAIT_MS = 8000;
const DUPLICATE_POLL_MS = 250;

interface FormState {
	values?: Values | undefined;
	errors?: FieldErrors | undefined;
	alert?: { text: string; items?: string[] | undefined } | undefined;
}

function emptyValues(): Values {
	return Object.fromEntries(FIELDS.map((field) => [field, field === "country" ? DEFAULT_COUNTRY : ""])) as Values;
}

/** A signed-in shopper's e-mail and default address, to start the form with. */
async function prefill(c: Context<AppEnv>): Promise<Values> {
	const values = emptyValues();
	const viewer = c.get("viewer");
	if (!viewer) return values;
	const db = c.get("database").primary;
	const [[user], [address]] = await Promise.all([
		db.select({ email: users.email, name: users.name }).from(users).where(eq(users.id, viewer.userId)),
		db
			.select()
			.from(addresses)
			.where(eq(addresses.userId, viewer.userId))
			.orderBy(desc(addresses.isDefault), desc(addresses.updatedAt))
			.limit(1),
	]);
	if (user) Object.assign(values, { email: user.email, name: user.name });
	if (address) {
		Object.assign(values, {
			name: address.name,
			line1: address.line1,
			line2: address.line2 ?? "",
			city: address.city,
			region: address.region ?? "",
			postal_code: address.postalCode,
			country: isCountry(address.country) ? address.country : DEFAULT_COUNTRY,
			phone: address.phone ?? "",
		});
	}
	return values;
}

/** The cart's view, from the read database through the catalog cache's markets. */
function cartView(c: Context<AppEnv>, cart: PageCart): Promise<CartView> {
	const db = c.get("database").read;
	return viewCart(c.env, c.executionCtx, db, db, cart.state);
}

/** Refusals of an estimate that the shopper fixes in the form or the cart; placing the order explains them. */
const UNPRICED_YET = new Set(["shipping_unavailable", "country_not_in_market", "not_sold_in_market", "items_unavailable"]);

/**
 * What the order would cost shipped to `country` by the chosen method (or
 * the first standard one), before any discount code: the same pricing as
 * checkout. Null when it cannot be priced yet (an item not sold, no method
 * for the country): placing the order says why.
 */
async function estimateOf(c: Context<AppEnv>, cart: PageCart, country: string, values: Values): Promise<OrderQuote | null> {
	try {
		return await priceOrder(c.env, c.get("database").read, {
			market: cart.state.market,
			lines: cart.state.lines,
			country,
			region: values.region || null,
			shippingMethod: values.shipping_method || undefined,
			customer: "",
		});
	} catch (err) {
		// An order that cannot be placed at all (too large) says so on the page; what the form can fix does not stop it.
		if (!isDomainError(err) || !UNPRICED_YET.has(err.code)) throw err;
		if (err.code !== "shipping_unavailable" || !values.shipping_method) return null;
		// The method chosen is not offered for this country: show the ones that are.
		return estimateOf(c, cart, country, { ...values, shipping_method: "" });
	}
}

async function renderCheckout(c: Context<AppEnv>, cart: PageCart | undefined, state: FormState, status: number = 200): Promise<Response> {
	const view: CartView | undefined = cart ? await cartView(c, cart) : undefined;
	const categories = await catalogCategories(c);
	const values = state.values ?? (await prefill(c));
	const errors = state.errors ?? {};
	// Only the cart's market's countries can be shipped to; the form offers those.
	const offered = COUNTRIES.filter(([code]) => view?.market.countries.includes(code) ?? true);
	const country = offered.some(([code]) => code === values.country) ? values.country : (offered[0]?.[0] ?? DEFAULT_COUNTRY);
	const estimate = cart && view && view.lines.length > 0 ? await estimateOf(c, cart, country, values) : null;
	const taxIncluded = view?.market.tax_included ?? true;
	c.header("cache-control", PERSONAL_PAGE_CACHE);
	return c.html(
		<Layout title="Checkout" viewer={c.get("viewer")} categories={categories} cartCount={view?.item_count ?? 0} current="cart">
			<h1>Checkout</h1>
			{!view || view.lines.length === 0 ? (
				<div class="card empty-state">
					<p>Your cart is empty, so there is nothing to check out.</p>
					<a class="button" href="/search">
						Start shopping
					</a>
				</div>
			) : (
				<div class="two-col">
					<form class="card checkout-form" action="/checkout" method="post" novalidate>
						{state.alert ? (
							<Alert kind="error">
								<p>{state.alert.text}</p>
								{state.alert.items && state.alert.items.length > 0 ? (
									<ul>
										{state.alert.items.map((item) => (
											<li>{item}</li>
										))}
									</ul>
								) : null}
							</Alert>
						) : null}
						{/* A fresh key per render: a double submit of this copy places one order, a corrected resubmit a new attempt. */}
						<input type="hidden" name="idempotency_key" value={`web-${crypto.randomUUID()}`} />
						<fieldset>
							<legend>Contact</legend>
							<TextField
								name="email"
								label="Email"
								type="email"
								value={values.email}
								errors={errors}
								autocomplete="email"
								required
								hint="We send the order confirmation here."
							/>
						</fieldset>
						<fieldset>
							<legend>Shipping address</legend>
							<TextField name="name" label="Full name" value={values.name} errors={errors} autocomplete="name" required />
							<TextField name="line1" label="Address" value={values.line1} errors={errors} autocomplete="address-line1" required />
							<TextField
								name="line2"
								label="Address line 2"
								value={values.line2}
								errors={errors}
								autocomplete="address-line2"
								hint="Optional"
							/>
							<div class="field-row">
								<TextField name="city" label="City" value={values.city} errors={errors} autocomplete="address-level2" required />
								<TextField
									name="region"
									label="Region"
									value={values.region}
									errors={errors}
									autocomplete="address-level1"
									hint="Optional"
								/>
								<TextField
									name="postal_code"
									label="Postal code"
									value={values.postal_code}
									errors={errors}
									autocomplete="postal-code"
									required
								/>
							</div>
							<div class={errors.country ? "field invalid" : "field"}>
								<label for="field-country">Country</label>
								<select
									id="field-country"
									name="country"
									autocomplete="country"
									aria-invalid={errors.country ? "true" : undefined}
									aria-describedby={errors.country ? "field-country-error" : undefined}
								>
									{offered.map(([code, name]) => (
										<option value={code} selected={code === country}>
											{name}
										</option>
									))}
								</select>
								{errors.country ? (
									<p class="field-error" id="field-country-error">
										{errors.country}
									</p>
								) : null}
							</div>
							<TextField
								name="phone"
								label="Phone"
								type="tel"
								value={values.phone}
								errors={errors}
								autocomplete="tel"
								hint="Optional, for the courier"
							/>
						</fieldset>
						{estimate ? (
							<fieldset class={errors.shipping_method ? "invalid" : undefined}>
								<legend>Shipping method</legend>
								{errors.shipping_method ? <p class="field-error">{errors.shipping_method}</p> : null}
								{estimate.options.map((option) => (
									<label class="choice">
										<input type="radio" name="shipping_method" value={option.id} checked={option.id === estimate.method.id} />
										<span>
											{option.name}
											{option.kind === "pickup" ? <span class="muted"> ({option.zone})</span> : null}
										</span>
										<span>{option.price === 0 ? "Free" : money(option.price, estimate.currency)}</span>
									</label>
								))}
								<p class="hint">
									For {offered.find(([code]) => code === country)?.[1] ?? country}. Changed the country? Place the order and we show the
									methods for it.
								</p>
							</fieldset>
						) : null}
						<fieldset>
							<legend>Discount</legend>
							<TextField
								name="discount_code"
								label="Discount code"
								value={values.discount_code}
								errors={errors}
								autocomplete="off"
								hint="Optional"
							/>
						</fieldset>
						<button type="submit" class="wide" data-submit-once>
							Place order
						</button>
						<p class="hint">You pay on the next step. Your items are held for you while you pay.</p>
					</form>
					<aside class="card order-summary" aria-labelledby="summary-heading">
						<h2 id="summary-heading">Order summary</h2>
						<ul class="summary-lines">
							{view.lines.map((line) => (
								<li class={line.available ? undefined : "unavailable"}>
									<span>
										{line.title ?? line.sku} <span class="muted">× {line.quantity}</span>
										{line.available ? null : <span class="badge danger">No longer sold</span>}
									</span>
									<span>{line.line_total && line.available ? money(line.line_total.amount, line.line_total.currency) : "—"}</span>
								</li>
							))}
						</ul>
						<dl class="totals">
							<div>
								<dt>Subtotal</dt>
								<dd>{money(view.subtotal.amount, view.subtotal.currency)}</dd>
							</div>
							{estimate ? (
								<>
									<div>
										<dt>Shipping ({estimate.method.name})</dt>
										<dd>{estimate.totals.shipping === 0 ? "Free" : money(estimate.totals.shipping, estimate.currency)}</dd>
									</div>
									{taxIncluded ? null : (
										<div>
											<dt>Tax</dt>
											<dd>{money(estimate.totals.tax, estimate.currency)}</dd>
										</div>
									)}
									<div class="grand">
										<dt>Total</dt>
										<dd>{money(estimate.totals.total, estimate.currency)}</dd>
									</div>
									{taxIncluded ? (
										<div class="muted">
											<dt>Including VAT</dt>
											<dd>{money(estimate.totals.tax, estimate.currency)}</dd>
										</div>
									) : null}
								</>
							) : null}
						</dl>
						<p class="hint">
							{taxIncluded ? "Prices include VAT. " : "Sales tax is added for your state. "}Discount codes are applied when you place the
							order.
						</p>
						<a href="/cart">Edit cart</a>
					</aside>
				</div>
			)}
		</Layout>,
		status as 200,
	);
}

/** GET /checkout. */
export async function checkoutPage(c: Context<AppEnv>): Promise<Response> {
	const cart = await findCart(c);
	return renderCheckout(c, cart ? await followPickedMarket(c, cart) : undefined, {});
}

function readValues(body: Record<string, string | File | (string | File)[]>): Values {
	const values = Object.fromEntries(FIELDS.map((field) => [field, formText(body, field)])) as Values;
	values.country = values.country.toUpperCase();
	return values;
}

/** What the form asks the place-order service for; the caller and the key come from the page. */
type CheckoutInput = Omit<PlaceOrderRequest, "caller" | "client" | "idempotency">;

/** The form as a checkout input, or the fields that need fixing. */
function validate(values: Values, cartId: string): { input: CheckoutInput } | { errors: FieldErrors } {
	const parsed = CheckoutForm.safeParse({
		email: values.email,
		name: values.name,
		line1: values.line1,
		line2: values.line2 || null,
		city: values.city,
		region: values.region || null,
		postal_code: values.postal_code,
		country: values.country,
		phone: values.phone || null,
		discount_code: values.discount_code || undefined,
		shipping_method: values.shipping_method || undefined,
	});
	const errors: FieldErrors = {};
	if (!parsed.success) {
		for (const issue of parsed.error.issues) {
			const field = issue.path[0] as Field;
			if (FIELDS.includes(field)) errors[field] = FIELD_PROBLEMS[field];
		}
	}
	if (!isCountry(values.country)) errors.country = FIELD_PROBLEMS.country;
	if (!parsed.success || Object.keys(errors).length > 0) return { errors };
	const data = parsed.data;
	return {
		input: {
			cartId,
			email: data.email.toLowerCase(),
			shippingAddress: shippingAddressOf(data),
			...(data.discount_code ? { discountCode: data.discount_code } : {}),
			...(data.shipping_method ? { shippingMethod: data.shipping_method } : {}),
		},
	};
}

/**
 * Places the order once per form render, through the same place-order
 * service as the API. A form is often submitted twice: the second copy finds
 * its key known to the cart and waits for the first copy's answer (409 while
 * it runs) instead of reporting "out of stock" for an order that exists.
 * Refusals are not stored against the key, so a corrected resubmit of the
 * same form is a new attempt.
 */
async function placeOnce(
	c: Context<AppEnv>,
	cart: PageCart,
	key: string,
	input: CheckoutInput,
): Promise<{ order_id: string; order_token: string | null }> {
	const scope = checkoutScope(cart.caller);
	if (scope === null) throw cartNotFound();
	const request: PlaceOrderRequest = {
		...input,
		caller: cart.caller,
		client: clientOf(c.req.raw),
		// The referral this browser arrived with; not part of what the form asks, so not of its fingerprint.
		affiliateCode: referralCode(c),
		idempotency: { scope, key, route: "POST /checkout", requestHash: await requestHashOf("POST", "/checkout", JSON.stringify(input)) },
	};
	const deadline = Date.now() + DUPLICATE_WAIT_MS;
	for (;;) {
		try {
			const { response } = await placeOrder({ env: c.env, ctx: c.executionCtx, database: c.get("database") }, request, {
				// What a replay needs to send the shopper on: the order, and a guest's token for the ec_orders cookie.
				placed: (result) =>
					new Response(JSON.stringify({ order_id: result.order.id, order_token: result.order_token ?? null }), {
						status: 303,
						headers: { location: `/orders/${result.order.id}/pay`, "content-type": "application/json" },
					}),
				refused: (err) => {
					throw err;
				},
			});
			return (await response.json()) as { order_id: string; order_token: string | null };
		} catch (err) {
			if (!isDomainError(err, "idempotency_in_progress") || Date.now() > deadline) throw err;
			await new Promise((resolve) => setTimeout(resolve, DUPLICATE_POLL_MS));
		}
	}
}

/** A checkout refusal in the shopper's words, with the field it concerns when there is one. */
function explain(err: DomainError, view: CartView | undefined): { alert: NonNullable<FormState["alert"]>; errors?: FieldErrors } {
	const titleOf = (sku: string) => view?.lines.find((line) => line.sku === sku)?.title ?? sku;
	switch (err.code) {
		case "out_of_stock": {
			const lines = (err.extensions.lines ?? []) as ShortLine[];
			return {
				alert: {
					text: "Some items do not have enough stock left. Lower the quantity in your cart, then place the order again.",
					items: lines.map((line) =>
						line.available > 0
							? `${titleOf(line.sku)}: you asked for ${line.requested}, only ${line.available} left.`
							: `${titleOf(line.sku)}: sold out.`,
					),
				},
			};
		}
		case "invalid_discount_code": {
			const text = err.detail ?? "This discount code cannot be used.";
			return { alert: { text }, errors: { discount_code: text } };
		}
		case "shipping_unavailable":
			return { alert: { text: err.detail ?? FIELD_PROBLEMS.shipping_method }, errors: { shipping_method: FIELD_PROBLEMS.shipping_method } };
		case "country_not_in_market":
			return { alert: { text: err.detail ?? FIELD_PROBLEMS.country }, errors: { country: FIELD_PROBLEMS.country } };
		case "not_sold_in_market":
			return {
				alert: {
					text: "Some items in your cart are not sold in your country's shop. Remove them from your cart, then place the order again.",
					items: ((err.extensions.skus ?? []) as string[]).map(titleOf),
				},
			};
		case "items_unavailable":
			return {
				alert: {
					text: "Some items in your cart are no longer sold. Remove them from your cart, then place the order again.",
					items: ((err.extensions.skus ?? []) as string[]).map(titleOf),
				},
			};
		case "cart_empty":
		case "not_found":
			return { alert: { text: "Your cart is empty or has expired. Add the items again to check out." } };
		case "payment_rejected":
			return { alert: { text: "The payment provider refused this payment, so the order was not placed. Nothing was charged." } };
		case "payment_provider_unavailable":
			return {
				alert: {
					text: "We could not reach our payment provider, so the order was not placed. Nothing was charged; please try again in a moment.",
				},
			};
		case "inventory_unavailable":
			return { alert: { text: "We could not check the stock just now. Please try again in a moment." } };
		case "idempotency_key_reused":
			return { alert: { text: "This form was already used for a different order. Check the details and place the order again." } };
		case "idempotency_in_progress":
			return { alert: { text: "Your order is still being placed. Wait a few seconds, then check your e-mail before trying again." } };
		default:
			return { alert: { text: statusOf(err) < 500 && err.detail ? err.detail : "The order could not be placed. Please try again." } };
	}
}

/**
 * POST /checkout: validates the form, places the order (idempotent per form
 * render) and sends the shopper to pay (303). Refusals re-render the form
 * with what was typed and a `role="alert"` message.
 */
export async function submitCheckout(c: Context<AppEnv>): Promise<Response> {
	const body = await c.req.parseBody();
	const values = readValues(body);
	const key = formText(body, "idempotency_key");
	const cart = await findCart(c);
	if (!cart || cart.state.lines.length === 0) return renderCheckout(c, cart, { values }, 422);
	const checked = validate(values, cart.id);
	if ("errors" in checked) {
		return renderCheckout(c, cart, { values, errors: checked.errors, alert: { text: "Please correct the fields marked below." } }, 422);
	}
	if (!isIdempotencyKey(key)) {
		return renderCheckout(
			c,
			cart,
			{ values, alert: { text: "This form has expired. Please check the details and place the order again." } },
			422,
		);
	}
	try {
		const placed = await placeOnce(c, cart, key, checked.input);
		if (placed.order_token) rememberOrder(c, { id: placed.order_id, token: placed.order_token });
		return c.redirect(`/orders/${placed.order_id}/pay`, 303);
	} catch (err) {
		if (!(err instanceof DomainError) || err.code === "database_unavailable") throw err;
		const view = await cartView(c, cart);
		const { alert, errors } = explain(err, view);
		return renderCheckout(c, cart, { values, alert, errors }, statusOf(err));
	}
}
