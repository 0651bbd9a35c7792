CREATE TYPE "public"."reconciliation_run_status" AS ENUM('running', 'succeeded', 'failed', 'abandoned');--> statement-breakpoint
CREATE TABLE "payment_reconciliation_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"status" "reconciliation_run_status" DEFAULT 'running' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"window_from" timestamp with time zone NOT NULL,
	"window_to" timestamp with time zone NOT NULL,
	"checked" integer DEFAULT 0 NOT NULL,
	"applied" integer DEFAULT 0 NOT NULL,
	"unmatched" integer DEFAULT 0 NOT NULL,
	"errors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"checkpoint" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "test_provider_payments" (
	"event_id" text PRIMARY KEY NOT NULL,
	"provider_payment_id" text NOT NULL,
	"order_id" text,
	"amount_minor" integer NOT NULL,
	"currency" char(3) NOT NULL,
	"succeeded_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "payment_reconciliation_runs_provider_idx" ON "payment_reconciliation_runs" USING btree ("provider","id");--> statement-breakpoint
CREATE UNIQUE INDEX "payment_reconciliation_runs_running_key" ON "payment_reconciliation_runs" USING btree ("provider") WHERE "payment_reconciliation_runs"."status" = 'running';--> statement-breakpoint
CREATE INDEX "test_provider_payments_succeeded_idx" ON "test_provider_payments" USING btree ("succeeded_at","event_id");