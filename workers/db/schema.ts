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
	primaryKey,
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
/** What a product is taxed as; each country's rate per class is a row of `tax_rates`. */
export const taxClass = pgEnum("tax_class", ["standard", "reduced", "zero"]);
/** Whether a market's shelf prices include tax (EU, UK: VAT inside) or have it added at checkout (US sales tax). */
export const taxMode = pgEnum("tax_mode", ["inclusive", "exclusive"]);
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
		taxClass: taxClass("tax_class").notNull().default("standard"),
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
		// Typo-tolerant title search and suggestions (pg_trgm, migration 0020): similarity and ILIKE use it.
		index("products_title_trgm_idx").using("gin", sql`${t.title} gin_trgm_ops`),
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
		/** The base price, in the variant's currency: what a market uses without a price of its own (markets.ts). */
		priceMinor: minorUnits("price_minor").notNull(),
		currency: char("currency", { length: 3 }).notNull(),
		/** Shipping weight in grams, for weight-tier shipping rates. */
		weightGrams: integer("weight_grams").notNull().default(0),
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
		check("variants_weight_non_negative", sql`${t.weightGrams} >= 0`),
	],
);

/**
 * A market: the countries it sells to, the currency its prices are in,
 * whether those prices include tax, and its shipping zones. A variant's
 * price in a market is its row of `market_prices` (the market's price list),
 * else its base price when that is in the market's currency, else the base
 * price converted from `convert_from` at `rate_micros` (millionths of a unit
 * of this currency per unit of that one), rounded half up to the minor unit
 * (catalog/markets.ts); else the variant is not sold there.
 */
export const markets = pgTable(
	"markets",
	{
		id: text("id").primaryKey(),
		name: text("name").notNull(),
		currency: char("currency", { length: 3 }).notNull(),
		taxMode: taxMode("tax_mode").notNull(),
		convertFrom: char("convert_from", { length: 3 }),
		rateMicros: bigint("rate_micros", { mode: "number" }),
		isDefault: boolean("is_default").notNull().default(false),
		position: integer("position").notNull().default(0),
		createdAt: createdAt(),
		updatedAt: updatedAt(),
	},
	(t) => [
		check("markets_id_format", sql`${t.id} ~ '^[a-z][a-z0-9-]{0,31}$'`),
		check("markets_currency_upper", sql`${t.currency} ~ '^[A-Z]{3}$'`),
		check(
			"markets_conversion",
			sql`(${t.convertFrom} IS NULL) = (${t.rateMicros} IS NULL) AND (${t.rateMicros} IS NULL OR ${t.rateMicros} > 0)`,
		),
		uniqueIndex("markets_default_key").on(t.isDefault).where(sql`${t.isDefault}`),
	],
);

/** Which market sells to a country: one market per country, so an address always names one. */
export const marketCountries = pgTable(
	"market_countries",
	{
		country: char("country", { length: 2 }).primaryKey(),
		marketId: text("market_id")
			.notNull()
			.references(() => markets.id, { onDelete: "cascade" }),
	},
	(t) => [index("market_countries_market_idx").on(t.marketId), check("market_countries_upper", sql`${t.country} ~ '^[A-Z]{2}$'`)],
);

/** A market's price list: a variant's shelf price there, in the market's currency (tax included in an inclusive market). */
export const marketPrices = pgTable(
	"market_prices",
	{
		marketId: text("market_id")
			.notNull()
			.references(() => markets.id, { onDelete: "cascade" }),
		variantId: text("variant_id")
			.notNull()
			.references(() => variants.id, { onDelete: "cascade" }),
		amountMinor: minorUnits("amount_minor").notNull(),
		updatedAt: updatedAt(),
	},
	(t) => [
		primaryKey({ columns: [t.marketId, t.variantId] }),
		index("market_prices_variant_idx").on(t.variantId),
		check("market_prices_non_negative", sql`${t.amountMinor} >= 0`),
	],
);

/**
 * Tax rates per country (and, where tax differs inside one, per region: a US
 * state; `region` is '' for the whole country) and tax class, in basis points
 * (1900 = 19 %). A region's row wins over its country's; a country without a
 * row charges no tax.
 */
export const taxRates = pgTable(
	"tax_rates",
	{
		country: char("country", { length: 2 }).notNull(),
		region: text("region").notNull().default(""),
		taxClass: taxClass("tax_class").notNull(),
		rateBp: integer("rate_bp").notNull(),
		updatedAt: updatedAt(),
	},
	(t) => [
		primaryKey({ columns: [t.country, t.region, t.taxClass] }),
		check("tax_rates_range", sql`${t.rateBp} BETWEEN 0 AND 10000`),
		check("tax_rates_country_upper", sql`${t.country} ~ '^[A-Z]{2}$'`),
	],
);

export const shippingKind = pgEnum("shipping_kind", ["standard", "express", "pickup"]);

/** A market's shipping zone: the countries (of that market) its methods ship to. */
export const shippingZones = pgTable(
	"shipping_zones",
	{
		id: text("id").primaryKey(),
		marketId: text("market_id")
			.notNull()
			.references(() => markets.id, { onDelete: "cascade" }),
		name: text("name").notNull(),
		countries: text("countries").array().notNull(),
		createdAt: createdAt(),
		updatedAt: updatedAt(),
	},
	(t) => [index("shipping_zones_market_idx").on(t.marketId)],
);

/**
 * How a shipping method prices a parcel, in minor units of its market's
 * currency (tax included in an inclusive market): one flat amount, tiers by
 * the parcel's weight (the first tier whose `up_to_grams` covers it; a tier
 * without a bound covers everything heavier; none: the method is not
 * offered), or tiers by the discounted subtotal (the last tier whose `from`
 * it reaches).
 */
export type ShippingRate =
	| { type: "flat"; amount: number }
	| { type: "weight"; tiers: { up_to_grams: number | null; amount: number }[] }
	| { type: "subtotal"; tiers: { from: number; amount: number }[] };

/** One way to ship to a zone: its rate, and free from a discounted subtotal when `free_from_minor` is set. */
export const shippingMethods = pgTable(
	"shipping_methods",
	{
		id: text("id").primaryKey(),
		zoneId: text("zone_id")
			.notNull()
			.references(() => shippingZones.id, { onDelete: "cascade" }),
		kind: shippingKind("kind").notNull(),
		name: text("name").notNull(),
		rate: jsonb("rate").$type<ShippingRate>().notNull(),
		freeFromMinor: minorUnits("free_from_minor"),
		taxClass: taxClass("tax_class").notNull().default("standard"),
		active: boolean("active").notNull().default(true),
		position: integer("position").notNull().default(0),
		createdAt: createdAt(),
		updatedAt: updatedAt(),
	},
	(t) => [index("shipping_methods_zone_idx").on(t.zoneId, t.position)],
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

/** One resized copy of an image: its width, its R2 key (SHA-256 of its bytes), type and size. */
export interface MediaDerivative {
	width: number;
	height: number;
	key: string;
	content_type: string;
	bytes: number;
}

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
		/** Resized WebP copies made at upload, each under its own content-addressed key (media/derivatives.ts). */
		derivatives: jsonb("derivatives").$type<MediaDerivative[]>().notNull().default([]),
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

/** One rate's share of an order's tax: the amount it applies to (tax included when inclusive) and the tax. */
export interface TaxBreakdownLine {
	rate_bp: number;
	taxable_minor: number;
	tax_minor: number;
}

/** A promotion as an order keeps it: what it was called and what it took off (shipping included). */
export interface OrderPromotion {
	id: string;
	code: string | null;
	name: string;
	amount_minor: number;
}

/** A shipping method as an order keeps it. */
export interface OrderShippingMethod {
	id: string;
	kind: "standard" | "express" | "pickup";
	name: string;
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
		/** The promotions the order used and what each took off (code or automatic), as the order page shows them. */
		promotions: jsonb("promotions").$type<OrderPromotion[]>().notNull().default([]),
		/** The market the order was priced in; null for orders placed before markets. */
		marketId: text("market_id"),
		/** Whether the lines' and shipping's amounts include `tax_minor` (inclusive) or it was added on top. */
		taxMode: taxMode("tax_mode").notNull().default("exclusive"),
		/** Tax per rate, as the order page and e-mails show it ("VAT 19 % included: €6.23"). */
		taxBreakdown: jsonb("tax_breakdown").$type<TaxBreakdownLine[]>().notNull().default([]),
		/** The shipping method the shopper picked, as it was then. */
		shippingMethod: jsonb("shipping_method").$type<OrderShippingMethod>(),
		/** The affiliate whose referral link brought the shopper (first-party attribution cookie). */
		affiliateId: text("affiliate_id").references((): AnyPgColumn => affiliates.id, { onDelete: "set null" }),
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
		/** The order's discounts allocated to this line (orders/pricing.ts), part of `line_total_minor`'s price not charged. */
		discountMinor: minorUnits("discount_minor").notNull().default(0),
		/** The line's tax: inside `line_total_minor - discount_minor` in an inclusive order, on top of it otherwise. */
		taxMinor: minorUnits("tax_minor").notNull().default(0),
		taxRateBp: integer("tax_rate_bp").notNull().default(0),
		/** Units of this line refunded so far (partial refunds); never more than ordered. */
		refundedQuantity: integer("refunded_quantity").notNull().default(0),
		/** Units of this line in open or finished returns (not rejected or cancelled); never more than ordered. */
		returnQuantity: integer("return_quantity").notNull().default(0),
	},
	(t) => [
		uniqueIndex("order_lines_order_sku_key").on(t.orderId, t.sku),
		check("order_lines_quantity_positive", sql`${t.quantity} > 0`),
		check("order_lines_refunded_range", sql`${t.refundedQuantity} BETWEEN 0 AND ${t.quantity}`),
		check("order_lines_return_range", sql`${t.returnQuantity} BETWEEN 0 AND ${t.quantity}`),
		check("order_lines_discount_range", sql`${t.discountMinor} BETWEEN 0 AND ${t.lineTotalMinor} AND ${t.taxMinor} >= 0`),
	],
);

export const returnStatus = pgEnum("return_status", ["requested", "approved", "received", "refunded", "rejected", "cancelled"]);

/**
 * A shopper's request to send back lines of a shipped or delivered order,
 * and its steps: an admin approves it (the shopper is e-mailed instructions)
 * or rejects it, marks the parcel received, and refunds it (a partial refund
 * of those lines, `refund_id`), with or without restocking.
 */
export const returns = pgTable(
	"returns",
	{
		id: text("id").primaryKey(),
		orderId: text("order_id")
			.notNull()
			.references(() => orders.id, { onDelete: "cascade" }),
		status: returnStatus("status").notNull().default("requested"),
		reason: text("reason").notNull().default(""),
		/** The admin's message to the shopper: the instructions on approval, the reason on rejection. */
		note: text("note"),
		restock: boolean("restock"),
		refundId: text("refund_id").references(() => refunds.id),
		requestedBy: text("requested_by").notNull(),
		createdAt: createdAt(),
		approvedAt: timestamp("approved_at", { withTimezone: true }),
		receivedAt: timestamp("received_at", { withTimezone: true }),
		refundedAt: timestamp("refunded_at", { withTimezone: true }),
		closedAt: timestamp("closed_at", { withTimezone: true }),
		updatedAt: updatedAt(),
	},
	(t) => [index("returns_order_idx").on(t.orderId), index("returns_status_created_idx").on(t.status, t.createdAt)],
);

/** The units of each order line a return covers. */
export const returnLines = pgTable(
	"return_lines",
	{
		returnId: text("return_id")
			.notNull()
			.references(() => returns.id, { onDelete: "cascade" }),
		sku: text("sku").notNull(),
		quantity: integer("quantity").notNull(),
	},
	(t) => [primaryKey({ columns: [t.returnId, t.sku] }), check("return_lines_quantity_positive", sql`${t.quantity} > 0`)],
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

export const promotionKind = pgEnum("promotion_kind", ["percentage", "fixed", "free_shipping", "buy_x_get_y"]);
export const promotionTarget = pgEnum("promotion_target", ["order", "products", "categories"]);

/**
 * Promotions: discount codes (`code` set) and automatic promotions (no code),
 * with the rules of orders/promotions.ts:
 *
 * - `percentage`: `value` basis points off the order, or off the targeted
 *   products' lines;
 * - `fixed`: `value` minor units of `currency` off the order, or off each
 *   targeted unit;
 * - `free_shipping`: the chosen method costs nothing;
 * - `buy_x_get_y`: of every `buy_quantity` + `get_quantity` targeted units,
 *   the cheapest `get_quantity` get `value` basis points off (10000: free).
 *
 * Each may run in a window, up to `max_uses` orders in all and
 * `max_uses_per_customer` per customer, from a subtotal of
 * `min_subtotal_minor` in `currency`. `used_count` is kept by a conditional
 * increment in the order's transaction, so two last uses cannot both pass.
 */
export const promotions = pgTable(
	"promotions",
	{
		id: text("id").primaryKey(),
		/** Upper case; null for an automatic promotion, which applies without one. */
		code: text("code"),
		name: text("name").notNull(),
		kind: promotionKind("kind").notNull(),
		/** Basis points (percentage, buy_x_get_y) or minor units (fixed); 0 for free shipping. A money column, since it may hold money. */
		value: minorUnits("value").notNull().default(0),
		currency: char("currency", { length: 3 }),
		target: promotionTarget("target").notNull().default("order"),
		/** Product ids (`products`) or category ids, each with its sub-categories (`categories`). */
		targetIds: text("target_ids").array().notNull().default(sql`'{}'::text[]`),
		buyQuantity: integer("buy_quantity"),
		getQuantity: integer("get_quantity"),
		minSubtotalMinor: minorUnits("min_subtotal_minor").notNull().default(0),
		startsAt: timestamp("starts_at", { withTimezone: true }),
		endsAt: timestamp("ends_at", { withTimezone: true }),
		maxUses: integer("max_uses"),
		/** Uses per customer (a signed-in user, else an e-mail address); null for no limit. */
		maxUsesPerCustomer: integer("max_uses_per_customer"),
		usedCount: integer("used_count").notNull().default(0),
		active: boolean("active").notNull().default(true),
		createdAt: createdAt(),
		updatedAt: updatedAt(),
	},
	(t) => [
		uniqueIndex("promotions_code_key").on(t.code),
		index("promotions_automatic_idx").on(t.active).where(sql`${t.code} IS NULL`),
		check("promotions_code_upper", sql`${t.code} IS NULL OR ${t.code} = upper(${t.code})`),
		check(
			"promotions_value_range",
			sql`${t.value} >= 0 AND (${t.kind} NOT IN ('percentage', 'buy_x_get_y') OR ${t.value} BETWEEN 1 AND 10000) AND (${t.kind} <> 'fixed' OR ${t.value} > 0)`,
		),
		check("promotions_fixed_currency", sql`(${t.kind} <> 'fixed' AND ${t.minSubtotalMinor} = 0) OR ${t.currency} IS NOT NULL`),
		check(
			"promotions_bxgy",
			sql`(${t.kind} = 'buy_x_get_y') = (${t.buyQuantity} IS NOT NULL AND ${t.getQuantity} IS NOT NULL) AND (${t.buyQuantity} IS NULL OR (${t.buyQuantity} BETWEEN 1 AND 99 AND ${t.getQuantity} BETWEEN 1 AND 99))`,
		),
		check("promotions_target_ids", sql`(${t.target} = 'order') = (cardinality(${t.targetIds}) = 0)`),
		check("promotions_uses", sql`${t.maxUses} IS NULL OR ${t.usedCount} <= ${t.maxUses}`),
	],
);

/**
 * One row per promotion an order used, and for which customer (`user:<id>`,
 * else `email:<address>`). An unpaid order's rows live while its reservation
 * does; cancelling or expiring the order deletes them, so
 * `promotions.used_count` always equals the rows of that promotion.
 */
export const promotionRedemptions = pgTable(
	"promotion_redemptions",
	{
		orderId: text("order_id")
			.notNull()
			.references(() => orders.id, { onDelete: "cascade" }),
		promotionId: text("promotion_id")
			.notNull()
			.references(() => promotions.id),
		customer: text("customer").notNull(),
		createdAt: createdAt(),
	},
	(t) => [primaryKey({ columns: [t.orderId, t.promotionId] }), index("promotion_redemptions_customer_idx").on(t.promotionId, t.customer)],
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

/**
 * Affiliates: partners whose referral links (`?ref=CODE`) bring shoppers.
 * `commission_bp` is their share, in basis points, of what an attributed
 * order sold (its discounted lines, without tax or shipping).
 */
export const affiliates = pgTable(
	"affiliates",
	{
		id: text("id").primaryKey(),
		code: text("code").notNull(),
		name: text("name").notNull(),
		email: text("email"),
		commissionBp: integer("commission_bp").notNull(),
		active: boolean("active").notNull().default(true),
		createdAt: createdAt(),
		updatedAt: updatedAt(),
	},
	(t) => [
		uniqueIndex("affiliates_code_key").on(t.code),
		check("affiliates_code_format", sql`${t.code} ~ '^[A-Z0-9][A-Z0-9_-]{1,31}$'`),
		check("affiliates_commission_range", sql`${t.commissionBp} BETWEEN 0 AND 10000`),
	],
);

/**
 * The commission an attributed order earned, written when it is paid, and
 * what refunds took back of it (in proportion to the amount refunded).
 */
export const affiliateCommissions = pgTable(
	"affiliate_commissions",
	{
		orderId: text("order_id")
			.primaryKey()
			.references(() => orders.id, { onDelete: "cascade" }),
		affiliateId: text("affiliate_id")
			.notNull()
			.references(() => affiliates.id),
		rateBp: integer("rate_bp").notNull(),
		baseMinor: minorUnits("base_minor").notNull(),
		commissionMinor: minorUnits("commission_minor").notNull(),
		reversedMinor: minorUnits("reversed_minor").notNull().default(0),
		currency: char("currency", { length: 3 }).notNull(),
		createdAt: createdAt(),
		updatedAt: updatedAt(),
	},
	(t) => [
		index("affiliate_commissions_affiliate_idx").on(t.affiliateId, t.createdAt),
		check("affiliate_commissions_reversed_range", sql`${t.reversedMinor} BETWEEN 0 AND ${t.commissionMinor}`),
	],
);

export const stockRunStatus = pgEnum("stock_run_status", ["running", "succeeded", "failed"]);

/**
 * One run of the stock reconciliation job (issue 19): each SKU's
 * InventoryItem against the Postgres ledger, the stock_levels projection and
 * paid orders. What disagreed is a `stock_drift` row of the run.
 */
export const stockReconciliationRuns = pgTable(
	"stock_reconciliation_runs",
	{
		id: bigserial("id", { mode: "number" }).primaryKey(),
		status: stockRunStatus("status").notNull().default("running"),
		startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
		finishedAt: timestamp("finished_at", { withTimezone: true }),
		skusChecked: integer("skus_checked").notNull().default(0),
		drifted: integer("drifted").notNull().default(0),
		repaired: integer("repaired").notNull().default(0),
		errors: jsonb("errors").$type<{ sku: string | null; message: string }[]>().notNull().default([]),
	},
	(t) => [index("stock_reconciliation_runs_started_idx").on(t.startedAt)],
);

/**
 * A disagreement one run found for one SKU: what the object, the ledger, the
 * projection and paid orders said. Resolved by a repair (the projection
 * rewritten from the object) or by an admin's explicit action.
 */
export const stockDrift = pgTable(
	"stock_drift",
	{
		id: bigserial("id", { mode: "number" }).primaryKey(),
		runId: bigint("run_id", { mode: "number" })
			.notNull()
			.references(() => stockReconciliationRuns.id, { onDelete: "cascade" }),
		sku: text("sku").notNull(),
		/** Which record disagrees with the object: the ledger's on-hand sum, the projection's available, or paid orders' units. */
		kind: text("kind").notNull(),
		observed: jsonb("observed").$type<Record<string, number | null>>().notNull(),
		resolvedAt: timestamp("resolved_at", { withTimezone: true }),
		resolution: text("resolution"),
		resolvedBy: text("resolved_by"),
		createdAt: createdAt(),
	},
	(t) => [index("stock_drift_run_idx").on(t.runId), index("stock_drift_open_idx").on(t.sku).where(sql`${t.resolvedAt} IS NULL`)],
);

/**
 * Operational incidents the alerting job opened (issue 19): dead letters
 * waiting, stock drift, a payment in review, the outbox lagging. One open
 * incident per (kind, key); admins are e-mailed once when it opens, and it is
 * resolved when its condition clears.
 */
export const alertIncidents = pgTable(
	"alert_incidents",
	{
		id: text("id").primaryKey(),
		kind: text("kind").notNull(),
		key: text("key").notNull(),
		summary: text("summary").notNull(),
		details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
		openedAt: timestamp("opened_at", { withTimezone: true }).notNull().defaultNow(),
		lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
		notifiedAt: timestamp("notified_at", { withTimezone: true }),
		resolvedAt: timestamp("resolved_at", { withTimezone: true }),
	},
	(t) => [
		uniqueIndex("alert_incidents_open_key").on(t.kind, t.key).where(sql`${t.resolvedAt} IS NULL`),
		index("alert_incidents_opened_idx").on(t.openedAt),
	],
);
