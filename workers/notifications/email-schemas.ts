import { z } from "zod";

/**
 * What each kind of e-mail needs, as the notifications consumer receives it
 * in a queue message body. Objects are strict, so a misspelt field fails
 * validation instead of rendering an e-mail without it; optional fields also
 * accept null, so database rows (nullable columns) can be passed as they are.
 */

const text = (max: number) => z.string().trim().min(1).max(max);
const email = z.email().max(254);
/** `randomToken()` output: base64url, never shorter than 16 characters. */
const token = z.string().regex(/^[A-Za-z0-9_-]{16,512}$/, "A token is 16 to 512 base64url characters.");
const orderId = text(100);
/** A human-friendly order number, shown instead of the id when present. */
const orderNumber = text(50).nullish();
/**
 * The customer's order page: a path under the shop's baseUrl, or an absolute
 * URL that renderEmail checks is under it (a guest's link carries an access token).
 * Put such a token in the query or the fragment: those are what the stored
 * copy redacts (redaction.ts); the path is kept as it is.
 */
const orderUrl = z
	.string()
	.max(2048)
	.refine((value) => (value.startsWith("/") && !value.startsWith("//")) || /^https?:\/\//i.test(value), "Use a path or an http(s) URL.")
	.nullish();

export const MoneySchema = z
	.object({
		amount: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
		currency: z.string().regex(/^[A-Z]{3}$/, "Use an ISO 4217 code in capitals, e.g. EUR."),
	})
	.strict();

const AddressSchema = z
	.object({
		name: text(200),
		line1: text(200),
		line2: text(200).nullish(),
		city: text(100),
		region: text(100).nullish(),
		postal_code: text(20),
		country: z.string().regex(/^[A-Z]{2}$/, "Use an ISO 3166-1 alpha-2 code, e.g. DE."),
		phone: text(40).nullish(),
	})
	.strict();

const AccountTokenSchema = z.object({ name: text(200), email, token, expires_at: z.iso.datetime({ offset: true }) }).strict();

const OrderLineSchema = z
	.object({
		title: text(300),
		sku: text(100),
		quantity: z.number().int().min(1).max(100_000),
		unit_price: MoneySchema,
		line_total: MoneySchema,
	})
	.strict();

const OrderConfirmationSchema = z
	.object({
		order_id: orderId,
		number: orderNumber,
		name: text(200).nullish(),
		email,
		lines: z.array(OrderLineSchema).min(1).max(500),
		subtotal: MoneySchema,
		discount: MoneySchema,
		shipping: MoneySchema,
		tax: MoneySchema,
		total: MoneySchema,
		/** True: the lines and shipping include `tax` (VAT), shown as "includes VAT"; false: tax was added. */
		tax_included: z.boolean().optional(),
		tax_breakdown: z
			.array(z.object({ rate_bp: z.number().int().min(0).max(10000), tax: MoneySchema }).strict())
			.max(20)
			.optional(),
		shipping_method: text(200).nullish(),
		shipping_address: AddressSchema,
		order_url: orderUrl,
	})
	.strict()
	.superRefine((order, ctx) => {
		// Amounts in two currencies cannot be added up on one receipt.
		const currency = order.total.currency;
		const amounts: [string[], z.infer<typeof MoneySchema>][] = [
			[["subtotal"], order.subtotal],
			[["discount"], order.discount],
			[["shipping"], order.shipping],
			[["tax"], order.tax],
			...order.lines.flatMap((line, i): [string[], z.infer<typeof MoneySchema>][] => [
				[["lines", String(i), "unit_price"], line.unit_price],
				[["lines", String(i), "line_total"], line.line_total],
			]),
		];
		for (const [path, money] of amounts) {
			if (money.currency !== currency) {
				ctx.addIssue({ code: "custom", path: [...path, "currency"], message: `Every amount of an order is in ${currency}.` });
			}
		}
	});

const OrderShippedSchema = z
	.object({
		order_id: orderId,
		number: orderNumber,
		email,
		carrier: text(100).nullish(),
		tracking_number: text(100),
		/** The carrier's page: the one link that is not under the shop's baseUrl, so it must be https. */
		tracking_url: z
			.url({ protocol: /^https$/ })
			.max(2048)
			.nullish(),
		order_url: orderUrl,
	})
	.strict();

const OrderCancelledSchema = z
	.object({ order_id: orderId, number: orderNumber, email, reason: text(500).nullish(), order_url: orderUrl })
	.strict();

const OrderRefundedSchema = z.object({ order_id: orderId, number: orderNumber, email, amount: MoneySchema, order_url: orderUrl }).strict();

const AbandonedCartSchema = z
	.object({
		email,
		name: text(200).nullish(),
		cart_id: text(100),
		lines: z
			.array(z.object({ title: text(300), quantity: z.number().int().min(1).max(100_000) }).strict())
			.min(1)
			.max(500),
	})
	.strict();

const LowStockSchema = z
	.object({
		sku: text(100),
		/** Can be below zero when more was sold than counted on hand. */
		available: z.number().int(),
		threshold: z.number().int().min(0),
	})
	.strict();

const PaymentReviewSchema = z
	.object({
		order_id: orderId,
		expected: MoneySchema,
		received: MoneySchema,
		provider: text(50),
		provider_payment_id: text(255),
		/** Which of provider, provider_payment_id, amount and currency differ. */
		mismatch: z.array(text(50)).min(1).max(10),
	})
	.strict();

const ReturnLineSchema = z.object({ title: text(300), sku: text(100), quantity: z.number().int().min(1).max(100_000) }).strict();

/** The shop's message, one line per element: templates show every value on one line, so the producer splits it. */
const noteLines = z.array(text(2000)).min(1).max(1000);

const ReturnApprovedSchema = z
	.object({
		order_id: orderId,
		number: orderNumber,
		email,
		return_id: text(100),
		lines: z.array(ReturnLineSchema).min(1).max(500),
		/** How to send the parcel back, as the admin wrote it. */
		instructions: noteLines,
		order_url: orderUrl,
	})
	.strict();

const ReturnRejectedSchema = z
	.object({
		order_id: orderId,
		number: orderNumber,
		email,
		return_id: text(100),
		lines: z.array(ReturnLineSchema).min(1).max(500),
		/** Why, as the admin wrote it. */
		reason: noteLines,
		order_url: orderUrl,
	})
	.strict();

/** What an operational alert can be about: the conditions ops/alerts.ts evaluates. */
export const ALERT_KINDS = ["dead_letters", "stock_drift", "payment_review", "outbox_lag"] as const;

export type AlertKind = (typeof ALERT_KINDS)[number];

/**
 * One alert incident, as every admin is told of it once (ops/alerts.ts).
 * Carries ids, counts and times only: never a shopper's address, name or a
 * message body.
 */
const OpsAlertSchema = z
	.object({
		incident_id: text(100),
		alert_kind: z.enum(ALERT_KINDS),
		/** The incident's key: a queue name, an order id, `open` or `outbox`. */
		key: text(200),
		summary: text(500),
		opened_at: z.iso.datetime({ offset: true }),
		facts: z.array(z.object({ label: text(100), value: text(500) }).strict()).max(20),
	})
	.strict();

/** One schema per kind, for the payload without its `kind`. */
export const emailPayloadSchemas = {
	verify_email: AccountTokenSchema,
	password_reset: AccountTokenSchema,
	order_confirmation: OrderConfirmationSchema,
	order_shipped: OrderShippedSchema,
	order_cancelled: OrderCancelledSchema,
	order_refunded: OrderRefundedSchema,
	abandoned_cart: AbandonedCartSchema,
	low_stock: LowStockSchema,
	payment_review: PaymentReviewSchema,
	return_approved: ReturnApprovedSchema,
	return_rejected: ReturnRejectedSchema,
	ops_alert: OpsAlertSchema,
} as const;

export type EmailKind = keyof typeof emailPayloadSchemas;

export const EMAIL_KINDS = Object.keys(emailPayloadSchemas) as [EmailKind, ...EmailKind[]];

export type EmailPayload<K extends EmailKind> = z.output<(typeof emailPayloadSchemas)[K]>;

/** A message for renderEmail: the payload of one kind, tagged with that kind. */
export type EmailMessage = { [K in EmailKind]: { kind: K } & EmailPayload<K> }[EmailKind];

export type EmailMessageParseResult = { success: true; data: EmailMessage } | { success: false; error: z.ZodError };

const MessageKindSchema = z.looseObject({ kind: z.enum(EMAIL_KINDS) });

/**
 * Validates `{ kind, ...payload }` in one step, for a queue body that carries
 * both: the kind picks the payload schema, so an unknown kind fails here
 * rather than in the renderer.
 */
export function parseEmailMessage(input: unknown): EmailMessageParseResult {
	const head = MessageKindSchema.safeParse(input);
	if (!head.success) return { success: false, error: head.error };
	const { kind, ...payload } = head.data;
	const result = emailPayloadSchemas[kind].safeParse(payload);
	return result.success ? { success: true, data: { kind, ...result.data } as EmailMessage } : { success: false, error: result.error };
}
