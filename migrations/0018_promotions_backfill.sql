-- Discount codes become promotions (issue 17): each code keeps its rules, its uses and their
-- customers, under an id derived from the code (md5's hex digits fit the id alphabet), so this
-- migration is repeatable. Orders that used a code list it as their promotion with the amount they
-- saved. discount_codes and discount_redemptions are dropped by the next migration.
INSERT INTO "promotions" ("id", "code", "name", "kind", "value", "currency", "target", "min_subtotal_minor", "starts_at", "ends_at",
	"max_uses", "max_uses_per_customer", "used_count", "active", "created_at", "updated_at")
SELECT 'prm_' || substr(md5("code"), 1, 20), "code", "code", "kind"::text::"promotion_kind", "value",
	-- A minimum subtotal is now always in a currency: the default market's, where the code named none.
	coalesce("currency", CASE WHEN "min_subtotal_minor" > 0 THEN (SELECT "currency" FROM "markets" WHERE "is_default") END), 'order',
	"min_subtotal_minor", "starts_at", "ends_at", "max_uses", "max_uses_per_customer", "used_count", "active", "created_at", "created_at"
FROM "discount_codes"
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO "promotion_redemptions" ("order_id", "promotion_id", "customer", "created_at")
SELECT r."order_id", 'prm_' || substr(md5(r."code"), 1, 20), r."customer", r."created_at"
FROM "discount_redemptions" r
ON CONFLICT DO NOTHING;
--> statement-breakpoint
UPDATE "orders" SET "promotions" = jsonb_build_array(jsonb_build_object(
	'id', 'prm_' || substr(md5("discount_code"), 1, 20), 'code', "discount_code", 'name', "discount_code", 'amount_minor', "discount_minor"))
WHERE "discount_code" IS NOT NULL AND "promotions" = '[]'::jsonb;
