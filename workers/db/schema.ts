/**
 * The one place that describes the Postgres schema. drizzle-kit generates the
 * SQL in `migrations/` from this file; nothing else defines tables.
 *
 * Conventions: prefixed text ids (`prod_…`), money as integer minor units next
 * to an ISO-4217 currency (`minorUnits`), timestamps with time zone.
 */
import { sql } from "drizzle-orm";
import {
	type AnyPgColumn,
	bigint,
	bigserial,
	boolean,
	char,
	check,
	customType,
	index,
	integer,
	jsonb,
	pgEnum,
	pgTable,
	text,
	timestamp,
	uniqueIndex,
} from "drizzle-orm/pg-core";
import { ORDER_STATUSES } from "../orders/state.ts";

const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

/**
 * A money column: `bigint` in Postgres (an `integer` ends at 2,147,483,647
 * minor units, €21.4M, which one order of expensive lines passes), read and
 * written as a JS number. A number is exact up to Number.MAX_SAFE_INTEGER
 * (about 9 × 10^15), and the input bounds keep every value far below it: a
 * price is at most 100,000,000 (catalog/admin.schemas.ts) and a cart holds at
 * most 50 lines of at most 99 units (durable-objects/cart.ts), so a subtotal
 * stays under 5 × 10^11; checkout refuses a total above MAX_ORDER_TOTAL_MINOR
 * (orders/pricing.ts, which also refuses a maximum past the safe range); and
 * payments, refunds and the provider's record carry an order's total or part
 * of it.
 */
const minorUnits = (name: string) => bigint(name, { mode: "number" });

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

export const productStatus = pgEnum("product_status", ["draft", "active", "archived"]);
export const userRole = pgEnum("user_role", ["customer", "admin"]);
export const accountTokenKind = pgEnum("account_token_kind", ["verify_email", "password_reset"]);

/**
 * Shoppers and admins. `email` is stored normalised (trimmed, lower-case), so
 * the unique index makes addresses unique regardless of letter case.
 * `password_hash` is a PHC-style string naming its algorithm and parameters.
 */
export const users = pgTable(
	"users",
	{
		id: text("id").primaryKey(),
		email: text("email").notNull(),
		emailVerifiedAt: timestamp("email_verified_at", { withTimezone: true }),
		passwordHash: text("password_hash").notNull(),
		name: text("name").notNull(),
		role: userRole("role").notNull().default("customer"),
		abandonedCartEmails: boolean("abandoned_cart_emails").notNull().default(true),
		/** The user's current cart (a Cart Durable Object id): set when they create one or sign in with a guest cart. */
		cartId: text("cart_id"),
		createdAt: createdAt(),
		updatedAt: updatedAt(),
	},
	(t) => [uniqueIndex("users_email_key").on(t.email), check("users_email_lower", sql`${t.email} = lower(${t.email})`)],
);

/**
 * Opaque refresh tokens, stored as SHA-256 hashes. Each use rotates the token
 * inside its family; presenting a token that was already rotated means it was
 * copied, and the whole family is revoked.
 */
export const refreshTokens = pgTable(
	"refresh_tokens",
	{
		id: text("id").primaryKey(),
		userId: text("user_id")
			.notNull()
			.references(() => users.id, { onDelete: "cascade" }),
		familyId: text("family_id").notNull(),
		tokenHash: text("token_hash").notNull(),
		expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
		rotatedAt: timestamp("rotated_at", { withTimezone: true }),
		revokedAt: timestamp("revoked_at", { withTimezone: true }),
		revokedReason: text("revoked_reason"),
		createdAt: createdAt(),
	},
	(t) => [
		uniqueIndex("refresh_tokens_hash_key").on(t.tokenHash),
		index("refresh_tokens_family_idx").on(t.familyId),
		index("refresh_tokens_user_idx").on(t.userId),
	],
);

/** Single-use, expiring tokens sent by e-mail (verification, password reset), stored hashed. */
export const accountTokens = pgTable(
	"account_tokens",
	{
		id: text("id").primaryKey(),
		userId: text("user_id")
			.notNull()
			.references(() => users.id, { onDelete: "cascade" }),
		kind: accountTokenKind("kind").notNull(),
		tokenHash: text("token_hash").notNull(),
		expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
		usedAt: timestamp("used_at", { withTimezone: true }),
		createdAt: createdAt(),
	},
	(t) => [uniqueIndex("account_tokens_hash_key").on(t.tokenHash), index("account_tokens_user_idx").on(t.userId, t.kind)],
);

/** A shopper's saved addresses; only their owner can read or change them. */
export const addresses = pgTable(
	"addresses",
	{
		id: text("id").primaryKey(),
		userId: text("user_id")
			.notNull()
			.references(() => users.id, { onDelete: "cascade" }),
		name: text("name").notNull(),
		line1: text("line1").notNull(),
		line2: text("line2"),
		city: text("city").notNull(),
		region: text("region"),
		postalCode: text("postal_code").notNull(),
		country: char("country", { length: 2 }).notNull(),
		phone: text("phone"),
		isDefault: boolean("is_default").notNull().default(false),
		createdAt: createdAt(),
		updatedAt: updatedAt(),
	},
	(t) => [index("addresses_user_idx").on(t.userId)],
);

export const categories = pgTable(
	"categories",
	{
		id: text("id").primaryKey(),
		parentId: text("parent_id").references((): AnyPgColumn => categories.id, { onDelete: "restrict" }),
		slug: text("slug").notNull(),
		name: text("name").notNull(),
		position: integer("position").notNull().default(0),
		createdAt: createdAt(),
		updatedAt: updatedAt(),
	},
	(t) => [uniqueIndex("categories_slug_key").on(t.slug), index("categories_parent_idx").on(t.parentId)],
);

export const products = pgTable(
	"products",
	{
		id: text("id").primaryKey(),
		slug: text("slug").notNull(),
		title: text("title").notNull(),
		description: text("description").notNull().default(""),
		status: productStatus("status").notNull().default("draft"),
		categoryId: text("category_id").references(() => categories.id, { onDelete: "set null" }),
		attributes: jsonb("attributes").$type<Record<string, string>>().notNull().default({}),
		/** Full-text document: title weighted A, description B; kept by Postgres itself. */
		search: tsvector("search")
			.notNull()
			.generatedAlwaysAs(
				sql`setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', coalesce(description, '')), 'B')`,
			),
		createdAt: createdAt(),
		updatedAt: updatedAt(),
	},
	(t) => [
		uniqueIndex("products_slug_key").on(t.slug),
		index("products_category_idx").on(t.categoryId),
		index("products_status_created_idx").on(t.status, t.createdAt),
		index("products_search_idx").using("gin", t.search),
	],
);

export const variants = pgTable(
	"variants",
	{
		id: text("id").primaryKey(),
		productId: text("product_id")
			.notNull()
			.references(() => products.id, { onDelete: "cascade" }),
		sku: text("sku").notNull(),
		title: text("title").notNull(),
		options: jsonb("options").$type<Record<string, string>>().notNull().default({}),
		priceMinor: minorUnits("price_minor").notNull(),
		currency: char("currency", { length: 3 }).notNull(),
		position: integer("position").notNull().default(0),
		/** Archived variants stay for order history but are no longer sold or shown. */
		archivedAt: timestamp("archived_at", { withTimezone: true }),
		createdAt: createdAt(),
		updatedAt: updatedAt(),
	},
	(t) => [
		uniqueIndex("variants_sku_key").on(t.sku),
		index("variants_product_idx").on(t.productId, t.priceMinor),
		check("variants_price_non_negative", sql`${t.priceMinor} >= 0`),
		check("variants_currency_upper", sql`${t.currency} ~ '^[A-Z]{3}$'`),
	],
);

/**
 * Append-only record of every stock movement. The InventoryItem Durable Object
 * is the authority on availability; this ledger is for reporting and
 * reconciliation, written idempotently (one row per `event_id`).
 */
export const inventoryLedger = pgTable(
	"inventory_ledger",
	{
		id: bigserial("id", { mode: "number" }).primaryKey(),
		eventId: text("event_id").notNull(),
		sku: text("sku").notNull(),
		delta: integer("delta").notNull(),
		reason: text("reason").notNull(),
		occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull(),
		createdAt: createdAt(),
	},
	(t) => [uniqueIndex("inventory_ledger_event_key").on(t.eventId), index("inventory_ledger_sku_idx").on(t.sku)],
);

/**
 * Units available per SKU (on hand minus live holds) as its InventoryItem
 * last reported them: the projection catalog reads take `in_stock` from. The
 * objects stay the authority; this row lags them by the queue's delay. `seq`
 * is the object's event sequence, so a late or redelivered event never
 * overwrites a newer one. `previous_available` is the figure before the event
 * at `seq`, which tells the consumer whether that event flipped the SKU
 * between in stock and sold out (null: the row's first event).
 */
export const stockLevels = pgTable("stock_levels", {
	sku: text("sku").primaryKey(),
	available: integer("available").notNull(),
	previousAvailable: integer("previous_available"),
	seq: bigint("seq", { mode: "number" }).notNull(),
	updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
});

/**
 * Messages a queue gave up on, drained from the dead-letter queues so that an
 * admin can inspect and replay them. One row per (queue, message id). `body`
 * is stored with its tokens replaced by `[redacted]` (queues/dead-letters.ts).
 */
export const deadLetters = pgTable(
	"dead_letters",
	{
		id: bigserial("id", { mode: "number" }).primaryKey(),
		queue: text("queue").notNull(),
		messageId: text("message_id").notNull(),
		body: jsonb("body").notNull(),
		attempts: integer("attempts").notNull(),
		receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
		replayedAt: timestamp("replayed_at", { withTimezone: true }),
	},
	(t) => [uniqueIndex("dead_letters_queue_message_key").on(t.queue, t.messageId)],
);

/**
 * Product images in R2. `key` is content-addressed (SHA-256 of the bytes plus
 * the sniffed extension), so one upload of the same bytes is one object.
 */
export const media = pgTable(
	"media",
	{
		id: text("id").primaryKey(),
		productId: text("product_id")
			.notNull()
			.references(() => products.id, { onDelete: "cascade" }),
		key: text("key").notNull(),
		contentType: text("content_type").notNull(),
		bytes: integer("bytes").notNull(),
		alt: text("alt").notNull().default(""),
		position: integer("position").notNull().default(0),
		createdAt: createdAt(),
	},
	(t) => [uniqueIndex("media_product_key").on(t.productId, t.key), index("media_product_idx").on(t.productId, t.position)],
);

/** Who changed what and when, with the state before and after: every admin write adds one row. */
export const auditLog = pgTable(
	"audit_log",
	{
		id: bigserial("id", { mode: "number" }).primaryKey(),
		actorId: text("actor_id").notNull(),
		action: text("action").notNull(),
		entityType: text("entity_type").notNull(),
		entityId: text("entity_id").notNull(),
		before: jsonb("before"),
		after: jsonb("after"),
		requestId: text("request_id"),
		createdAt: createdAt(),
	},
	(t) => [index("audit_log_entity_idx").on(t.entityType, t.entityId, t.createdAt), index("audit_log_actor_idx").on(t.actorId, t.createdAt)],
);

/** The statuses of the order state machine (`orders/state.ts`, the one list of them). */
export const orderStatus = pgEnum("order_status", ORDER_STATUSES);
export const discountKind = pgEnum("discount_kind", ["percentage", "fixed"]);
export const paymentStatus = pgEnum("payment_status", ["requires_action", "processing", "succeeded", "failed", "canceled", "refunded"]);

/** A shipping address as an order keeps it: a copy, so later edits of saved addresses change no order. */
export interface ShippingAddress {
	name: string;
	line1: string;
	line2?: string | null;
	city: string;
	region?: string | null;
	postal_code: string;
	country: string;
	phone?: string | null;
}

/**
 * Orders. Totals are computed by the server at checkout from Postgres prices
 * and frozen here; the status moves only through the transitions of
 * `workers/orders/state.ts`, each applied as a conditional update on the
 * current status. Guests read their order with a token stored hashed.
 */
export const orders = pgTable(
	"orders",
	{
		id: text("id").primaryKey(),
		userId: text("user_id").references(() => users.id, { onDelete: "set null" }),
		email: text("email").notNull(),
		status: orderStatus("status").notNull().default("pending_payment"),
		currency: char("currency", { length: 3 }).notNull(),
		subtotalMinor: minorUnits("subtotal_minor").notNull(),
		discountMinor: minorUnits("discount_minor").notNull().default(0),
		shippingMinor: minorUnits("shipping_minor").notNull(),
		taxMinor: minorUnits("tax_minor").notNull(),
		totalMinor: minorUnits("total_minor").notNull(),
		discountCode: text("discount_code"),
		shippingAddress: jsonb("shipping_address").$type<ShippingAddress>().notNull(),
		cartId: text("cart_id").notNull(),
		accessTokenHash: text("access_token_hash"),
		reservationExpiresAt: timestamp("reservation_expires_at", { withTimezone: true }).notNull(),
		carrier: text("carrier"),
		trackingNumber: text("tracking_number"),
		cancelReason: text("cancel_reason"),
		paidAt: timestamp("paid_at", { withTimezone: true }),
		fulfilledAt: timestamp("fulfilled_at", { withTimezone: true }),
		shippedAt: timestamp("shipped_at", { withTimezone: true }),
		deliveredAt: timestamp("delivered_at", { withTimezone: true }),
		cancelledAt: timestamp("cancelled_at", { withTimezone: true }),
		refundedAt: timestamp("refunded_at", { withTimezone: true }),
		createdAt: createdAt(),
		updatedAt: updatedAt(),
	},
	(t) => [
		index("orders_user_created_idx").on(t.userId, t.createdAt, t.id),
		index("orders_status_created_idx").on(t.status, t.createdAt),
		index("orders_email_idx").on(t.email),
		index("orders_created_idx").on(t.createdAt, t.id),
		check(
			"orders_amounts_non_negative",
			sql`${t.subtotalMinor} >= 0 AND ${t.discountMinor} >= 0 AND ${t.shippingMinor} >= 0 AND ${t.taxMinor} >= 0 AND ${t.totalMinor} >= 0`,
		),
	],
);

/** One line per SKU, with the price and titles as they were when the order was placed. */
export const orderLines = pgTable(
	"order_lines",
	{
		id: bigserial("id", { mode: "number" }).primaryKey(),
		orderId: text("order_id")
			.notNull()
			.references(() => orders.id, { onDelete: "cascade" }),
		sku: text("sku").notNull(),
		productId: text("product_id").notNull(),
		variantId: text("variant_id").notNull(),
		title: text("title").notNull(),
		unitPriceMinor: minorUnits("unit_price_minor").notNull(),
		quantity: integer("quantity").notNull(),
		lineTotalMinor: minorUnits("line_total_minor").notNull(),
		/** Units of this line refunded so far (partial refunds); never more than ordered. */
		refundedQuantity: integer("refunded_quantity").notNull().default(0),
	},
	(t) => [
		uniqueIndex("order_lines_order_sku_key").on(t.orderId, t.sku),
		check("order_lines_quantity_positive", sql`${t.quantity} > 0`),
		check("order_lines_refunded_range", sql`${t.refundedQuantity} BETWEEN 0 AND ${t.quantity}`),
	],
);

export const refundStatus = pgEnum("refund_status", ["pending", "succeeded", "failed"]);

/**
 * One row per admin refund of part of an order: its amount, the lines and
 * units it covers, whether they go back to stock. The amount is taken off
 * what may still be refunded before the provider is asked, so concurrent
 * refunds can never exceed the capture; a provider failure gives it back.
 */
export const refunds = pgTable(
	"refunds",
	{
		id: text("id").primaryKey(),
		orderId: text("order_id")
			.notNull()
			.references(() => orders.id, { onDelete: "cascade" }),
		amountMinor: minorUnits("amount_minor").notNull(),
		currency: char("currency", { length: 3 }).notNull(),
		lines: jsonb("lines").$type<{ sku: string; quantity: number }[]>().notNull().default([]),
		restock: boolean("restock").notNull().default(false),
		status: refundStatus("status").notNull().default("pending"),
		providerRefundId: text("provider_refund_id"),
		reason: text("reason"),
		actor: text("actor").notNull(),
		createdAt: createdAt(),
	},
	(t) => [index("refunds_order_idx").on(t.orderId), check("refunds_amount_positive", sql`${t.amountMinor} > 0`)],
);

/** The payment of an order at its provider. One per order. */
export const payments = pgTable(
	"payments",
	{
		id: text("id").primaryKey(),
		orderId: text("order_id")
			.notNull()
			.references(() => orders.id, { onDelete: "cascade" }),
		provider: text("provider").notNull(),
		providerPaymentId: text("provider_payment_id"),
		status: paymentStatus("status").notNull().default("requires_action"),
		amountMinor: minorUnits("amount_minor").notNull(),
		currency: char("currency", { length: 3 }).notNull(),
		refundedMinor: minorUnits("refunded_minor").notNull().default(0),
		providerRefundId: text("provider_refund_id"),
		createdAt: createdAt(),
		updatedAt: updatedAt(),
	},
	(t) => [
		uniqueIndex("payments_order_key").on(t.orderId),
		uniqueIndex("payments_provider_payment_key").on(t.provider, t.providerPaymentId),
	],
);

/** Every state change of an order, with who or what caused it. */
export const orderEvents = pgTable(
	"order_events",
	{
		id: bigserial("id", { mode: "number" }).primaryKey(),
		orderId: text("order_id")
			.notNull()
			.references(() => orders.id, { onDelete: "cascade" }),
		type: text("type").notNull(),
		fromStatus: orderStatus("from_status"),
		toStatus: orderStatus("to_status"),
		actor: text("actor").notNull(),
		data: jsonb("data").$type<Record<string, unknown>>().notNull().default({}),
		createdAt: createdAt(),
	},
	(t) => [index("order_events_order_idx").on(t.orderId, t.id)],
);

/**
 * Idempotency keys of mutating requests, per caller. The first request claims
 * the key (insert), later ones with the same key get its stored answer, 409
 * while it is still running, 422 when their body differs.
 */
export const idempotencyKeys = pgTable(
	"idempotency_keys",
	{
		scope: text("scope").notNull(),
		key: text("key").notNull(),
		route: text("route").notNull(),
		requestHash: text("request_hash").notNull(),
		responseStatus: integer("response_status"),
		responseBody: text("response_body"),
		responseHeaders: jsonb("response_headers").$type<Record<string, string>>(),
		/**
		 * What a handler already committed (e.g. the order id), written in its own
		 * transaction: a retry after a crash resumes from here instead of doing it again.
		 */
		recovery: jsonb("recovery").$type<Record<string, unknown>>(),
		lockedUntil: timestamp("locked_until", { withTimezone: true }).notNull(),
		createdAt: createdAt(),
		completedAt: timestamp("completed_at", { withTimezone: true }),
	},
	(t) => [uniqueIndex("idempotency_keys_scope_key").on(t.scope, t.key), index("idempotency_keys_created_idx").on(t.createdAt)],
);

/** Events already applied (provider webhooks, queue messages): the effect and this row commit together. */
export const processedEvents = pgTable(
	"processed_events",
	{
		source: text("source").notNull(),
		eventId: text("event_id").notNull(),
		processedAt: timestamp("processed_at", { withTimezone: true }).notNull().defaultNow(),
	},
	(t) => [uniqueIndex("processed_events_key").on(t.source, t.eventId)],
);

export const reconciliationRunStatus = pgEnum("reconciliation_run_status", ["running", "succeeded", "failed", "abandoned"]);

/**
 * One run of the payment reconciliation job (workers/orders/reconciliation.ts):
 * the window it asked the provider about, what it checked and applied, what
 * went wrong, and `checkpoint`, where the next run starts (minus an overlap).
 * At most one run per provider is `running` at a time; one that died is
 * marked `abandoned` by the first run after its lease.
 */
export const paymentReconciliationRuns = pgTable(
	"payment_reconciliation_runs",
	{
		id: bigserial("id", { mode: "number" }).primaryKey(),
		provider: text("provider").notNull(),
		status: reconciliationRunStatus("status").notNull().default("running"),
		startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
		finishedAt: timestamp("finished_at", { withTimezone: true }),
		windowFrom: timestamp("window_from", { withTimezone: true }).notNull(),
		windowTo: timestamp("window_to", { withTimezone: true }).notNull(),
		checked: integer("checked").notNull().default(0),
		applied: integer("applied").notNull().default(0),
		/** Succeeded payments no order of ours matches: logged and counted, never applied. */
		unmatched: integer("unmatched").notNull().default(0),
		errors: jsonb("errors").$type<{ event_id: string | null; code: string; message: string }[]>().notNull().default([]),
		checkpoint: timestamp("checkpoint", { withTimezone: true }),
	},
	(t) => [
		index("payment_reconciliation_runs_provider_idx").on(t.provider, t.id),
		uniqueIndex("payment_reconciliation_runs_running_key").on(t.provider).where(sql`${t.status} = 'running'`),
	],
);

/**
 * The test payment provider's own record of the payments it confirmed, the
 * stand-in for Stripe's Events API, so reconciliation works in development
 * and tests too: one row per `payment.succeeded` event the confirm step sent,
 * under the event's id. Never written when PAYMENT_PROVIDER is `stripe`.
 */
export const testProviderPayments = pgTable(
	"test_provider_payments",
	{
		eventId: text("event_id").primaryKey(),
		providerPaymentId: text("provider_payment_id").notNull(),
		orderId: text("order_id"),
		amountMinor: minorUnits("amount_minor").notNull(),
		currency: char("currency", { length: 3 }).notNull(),
		succeededAt: timestamp("succeeded_at", { withTimezone: true, precision: 3 }).notNull(),
	},
	(t) => [index("test_provider_payments_succeeded_idx").on(t.succeededAt, t.eventId)],
);

/**
 * Messages to publish after a commit: written in the same transaction as the
 * change they announce, sent right after, and relayed by the scheduled handler
 * if the sender died in between. Consumers de-duplicate by the envelope id.
 */
export const outbox = pgTable(
	"outbox",
	{
		id: bigserial("id", { mode: "number" }).primaryKey(),
		queue: text("queue").notNull(),
		body: jsonb("body").$type<Record<string, unknown>>().notNull(),
		delaySeconds: integer("delay_seconds").notNull().default(0),
		createdAt: createdAt(),
		publishedAt: timestamp("published_at", { withTimezone: true }),
		attempts: integer("attempts").notNull().default(0),
	},
	(t) => [index("outbox_unpublished_idx").on(t.id).where(sql`${t.publishedAt} IS NULL`)],
);

/**
 * Discount codes: a percentage (in basis points) or a fixed amount in one
 * currency, valid in a window, with an optional total usage limit enforced by
 * a conditional increment in the order's transaction.
 */
export const discountCodes = pgTable(
	"discount_codes",
	{
		code: text("code").primaryKey(),
		kind: discountKind("kind").notNull(),
		/**
		 * Basis points for `percentage` (1000 = 10 %, at most 10000: the check below),
		 * minor units for `fixed`. A money column, since it may hold money; basis
		 * points fit it as well.
		 */
		value: minorUnits("value").notNull(),
		currency: char("currency", { length: 3 }),
		minSubtotalMinor: minorUnits("min_subtotal_minor").notNull().default(0),
		startsAt: timestamp("starts_at", { withTimezone: true }),
		endsAt: timestamp("ends_at", { withTimezone: true }),
		maxUses: integer("max_uses"),
		/** Uses per customer (a signed-in user, else an e-mail address); null for no limit. */
		maxUsesPerCustomer: integer("max_uses_per_customer"),
		usedCount: integer("used_count").notNull().default(0),
		active: boolean("active").notNull().default(true),
		createdAt: createdAt(),
	},
	(t) => [
		check("discount_codes_code_upper", sql`${t.code} = upper(${t.code})`),
		check("discount_codes_value_range", sql`${t.value} > 0 AND (${t.kind} <> 'percentage' OR ${t.value} <= 10000)`),
		check("discount_codes_fixed_currency", sql`${t.kind} <> 'fixed' OR ${t.currency} IS NOT NULL`),
		check("discount_codes_uses", sql`${t.maxUses} IS NULL OR ${t.usedCount} <= ${t.maxUses}`),
	],
);

/**
 * One row per use of a discount code: which order holds it and for which
 * customer (`user:<id>`, else `email:<address>`). An unpaid order's row lives
 * while its reservation does; cancelling or expiring the order deletes it, so
 * `discount_codes.used_count` always equals the rows of that code.
 */
export const discountRedemptions = pgTable(
	"discount_redemptions",
	{
		orderId: text("order_id")
			.primaryKey()
			.references(() => orders.id, { onDelete: "cascade" }),
		code: text("code")
			.notNull()
			.references(() => discountCodes.code),
		customer: text("customer").notNull(),
		createdAt: createdAt(),
	},
	(t) => [index("discount_redemptions_customer_idx").on(t.code, t.customer)],
);

/** `limited`: not sent because its recipient already had EMAIL_LIMITS' share of this kind (notifications/limits.ts). */
export const notificationStatus = pgEnum("notification_status", ["sending", "sent", "failed", "skipped", "limited"]);
export const deliveryStatus = pgEnum("delivery_status", ["pending", "succeeded", "failed"]);

/**
 * One row per e-mail the platform means to send, keyed by a deterministic id
 * (event + recipient + kind): a redelivered event finds its row and sends
 * nothing twice. The rendered message is kept, so `GET /v1/admin/notifications`
 * shows what was (or, with the development adapter, would have been) sent,
 * with its secrets (link tokens) replaced by `[redacted]`: only the provider
 * gets the real link (notifications/redaction.ts). `recipient` is normalised
 * (auth/email.ts), so the per-recipient limit counts one address once.
 */
export const notifications = pgTable(
	"notifications",
	{
		id: text("id").primaryKey(),
		kind: text("kind").notNull(),
		eventId: text("event_id").notNull(),
		recipient: text("recipient").notNull(),
		subject: text("subject").notNull(),
		html: text("html").notNull(),
		text: text("text").notNull(),
		status: notificationStatus("status").notNull().default("sending"),
		provider: text("provider").notNull(),
		providerMessageId: text("provider_message_id"),
		attempts: integer("attempts").notNull().default(0),
		lastError: text("last_error"),
		createdAt: createdAt(),
		sentAt: timestamp("sent_at", { withTimezone: true }),
	},
	(t) => [index("notifications_created_idx").on(t.createdAt, t.id), index("notifications_recipient_idx").on(t.recipient)],
);

/**
 * Merchants' webhook endpoints. The secret signs deliveries (Standard
 * Webhooks); during a rotation the previous secret keeps signing alongside the
 * new one until `previous_secret_expires_at`, so receivers can switch without
 * a gap.
 */
export const webhookEndpoints = pgTable("webhook_endpoints", {
	id: text("id").primaryKey(),
	url: text("url").notNull(),
	description: text("description").notNull().default(""),
	eventTypes: jsonb("event_types").$type<string[]>().notNull(),
	secret: text("secret").notNull(),
	previousSecret: text("previous_secret"),
	previousSecretExpiresAt: timestamp("previous_secret_expires_at", { withTimezone: true }),
	active: boolean("active").notNull().default(true),
	createdAt: createdAt(),
	updatedAt: updatedAt(),
});

/** One delivery of one event to one endpoint, with its attempts; unique per (endpoint, event). */
export const webhookDeliveries = pgTable(
	"webhook_deliveries",
	{
		id: text("id").primaryKey(),
		endpointId: text("endpoint_id")
			.notNull()
			.references(() => webhookEndpoints.id, { onDelete: "cascade" }),
		eventId: text("event_id").notNull(),
		eventType: text("event_type").notNull(),
		payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
		status: deliveryStatus("status").notNull().default("pending"),
		attempts: integer("attempts").notNull().default(0),
		lastStatusCode: integer("last_status_code"),
		lastError: text("last_error"),
		createdAt: createdAt(),
		lastAttemptAt: timestamp("last_attempt_at", { withTimezone: true }),
		deliveredAt: timestamp("delivered_at", { withTimezone: true }),
	},
	(t) => [
		uniqueIndex("webhook_deliveries_endpoint_event_key").on(t.endpointId, t.eventId),
		index("webhook_deliveries_endpoint_idx").on(t.endpointId, t.createdAt),
	],
);
