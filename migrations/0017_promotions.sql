CREATE TYPE "public"."promotion_kind" AS ENUM('percentage', 'fixed', 'free_shipping', 'buy_x_get_y');--> statement-breakpoint
CREATE TYPE "public"."promotion_target" AS ENUM('order', 'products', 'categories');--> statement-breakpoint
CREATE TABLE "promotion_redemptions" (
	"order_id" text NOT NULL,
	"promotion_id" text NOT NULL,
	"customer" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "promotion_redemptions_order_id_promotion_id_pk" PRIMARY KEY("order_id","promotion_id")
);
--> statement-breakpoint
CREATE TABLE "promotions" (
	"id" text PRIMARY KEY NOT NULL,
	"code" text,
	"name" text NOT NULL,
	"kind" "promotion_kind" NOT NULL,
	"value" bigint DEFAULT 0 NOT NULL,
	"currency" char(3),
	"target" "promotion_target" DEFAULT 'order' NOT NULL,
	"target_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"buy_quantity" integer,
	"get_quantity" integer,
	"min_subtotal_minor" bigint DEFAULT 0 NOT NULL,
	"starts_at" timestamp with time zone,
	"ends_at" timestamp with time zone,
	"max_uses" integer,
	"max_uses_per_customer" integer,
	"used_count" integer DEFAULT 0 NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "promotions_code_upper" CHECK ("promotions"."code" IS NULL OR "promotions"."code" = upper("promotions"."code")),
	CONSTRAINT "promotions_value_range" CHECK ("promotions"."value" >= 0 AND ("promotions"."kind" NOT IN ('percentage', 'buy_x_get_y') OR "promotions"."value" BETWEEN 1 AND 10000) AND ("promotions"."kind" <> 'fixed' OR "promotions"."value" > 0)),
	CONSTRAINT "promotions_fixed_currency" CHECK (("promotions"."kind" <> 'fixed' AND "promotions"."min_subtotal_minor" = 0) OR "promotions"."currency" IS NOT NULL),
	CONSTRAINT "promotions_bxgy" CHECK (("promotions"."kind" = 'buy_x_get_y') = ("promotions"."buy_quantity" IS NOT NULL AND "promotions"."get_quantity" IS NOT NULL) AND ("promotions"."buy_quantity" IS NULL OR ("promotions"."buy_quantity" BETWEEN 1 AND 99 AND "promotions"."get_quantity" BETWEEN 1 AND 99))),
	CONSTRAINT "promotions_target_ids" CHECK (("promotions"."target" = 'order') = (cardinality("promotions"."target_ids") = 0)),
	CONSTRAINT "promotions_uses" CHECK ("promotions"."max_uses" IS NULL OR "promotions"."used_count" <= "promotions"."max_uses")
);
--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "promotions" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "promotion_redemptions" ADD CONSTRAINT "promotion_redemptions_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promotion_redemptions" ADD CONSTRAINT "promotion_redemptions_promotion_id_promotions_id_fk" FOREIGN KEY ("promotion_id") REFERENCES "public"."promotions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "promotion_redemptions_customer_idx" ON "promotion_redemptions" USING btree ("promotion_id","customer");--> statement-breakpoint
CREATE UNIQUE INDEX "promotions_code_key" ON "promotions" USING btree ("code");--> statement-breakpoint
CREATE INDEX "promotions_automatic_idx" ON "promotions" USING btree ("active") WHERE "promotions"."code" IS NULL;