/**
 * The one place that describes the Postgres schema. drizzle-kit generates the
 * SQL in `migrations/` from this file; nothing else defines tables.
 *
 * Conventions: prefixed text ids (`prod_…`), money as integer minor units next
 * to an ISO-4217 currency, timestamps with time zone.
 */
import { sql } from "drizzle-orm";
import {
	type AnyPgColumn,
	bigserial,
	char,
	check,
	index,
	integer,
	jsonb,
	pgEnum,
	pgTable,
	text,
	timestamp,
	uniqueIndex,
} from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

export const productStatus = pgEnum("product_status", ["draft", "active", "archived"]);

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
		createdAt: createdAt(),
		updatedAt: updatedAt(),
	},
	(t) => [
		uniqueIndex("products_slug_key").on(t.slug),
		index("products_category_idx").on(t.categoryId),
		index("products_status_created_idx").on(t.status, t.createdAt),
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
		priceMinor: integer("price_minor").notNull(),
		currency: char("currency", { length: 3 }).notNull(),
		position: integer("position").notNull().default(0),
		createdAt: createdAt(),
		updatedAt: updatedAt(),
	},
	(t) => [
		uniqueIndex("variants_sku_key").on(t.sku),
		index("variants_product_idx").on(t.productId),
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
 * Messages a queue gave up on, drained from the dead-letter queues so that an
 * admin can inspect and replay them. One row per (queue, message id).
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
