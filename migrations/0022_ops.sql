CREATE TYPE "public"."stock_run_status" AS ENUM('running', 'succeeded', 'failed');--> statement-breakpoint
CREATE TABLE "alert_incidents" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"key" text NOT NULL,
	"summary" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"notified_at" timestamp with time zone,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "stock_drift" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" bigint NOT NULL,
	"sku" text NOT NULL,
	"kind" text NOT NULL,
	"observed" jsonb NOT NULL,
	"resolved_at" timestamp with time zone,
	"resolution" text,
	"resolved_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stock_reconciliation_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"status" "stock_run_status" DEFAULT 'running' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"skus_checked" integer DEFAULT 0 NOT NULL,
	"drifted" integer DEFAULT 0 NOT NULL,
	"repaired" integer DEFAULT 0 NOT NULL,
	"errors" jsonb DEFAULT '[]'::jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "stock_drift" ADD CONSTRAINT "stock_drift_run_id_stock_reconciliation_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."stock_reconciliation_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "alert_incidents_open_key" ON "alert_incidents" USING btree ("kind","key") WHERE "alert_incidents"."resolved_at" IS NULL;--> statement-breakpoint
CREATE INDEX "alert_incidents_opened_idx" ON "alert_incidents" USING btree ("opened_at");--> statement-breakpoint
CREATE INDEX "stock_drift_run_idx" ON "stock_drift" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "stock_drift_open_idx" ON "stock_drift" USING btree ("sku") WHERE "stock_drift"."resolved_at" IS NULL;--> statement-breakpoint
CREATE INDEX "stock_reconciliation_runs_started_idx" ON "stock_reconciliation_runs" USING btree ("started_at");