CREATE TABLE "stock_levels" (
	"sku" text PRIMARY KEY NOT NULL,
	"available" integer NOT NULL,
	"previous_available" integer,
	"seq" bigint NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
