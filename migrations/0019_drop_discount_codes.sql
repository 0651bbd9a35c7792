DROP TABLE "discount_codes" CASCADE;--> statement-breakpoint
DROP TABLE "discount_redemptions" CASCADE;--> statement-breakpoint
DROP TYPE "public"."discount_kind";