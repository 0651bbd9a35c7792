-- One redemption row for every order that holds a use of its discount code today: all of them but
-- those cancelled (or refunded) before any payment, whose cancellation gave the use back.
INSERT INTO "discount_redemptions" ("order_id", "code", "customer", "created_at")
SELECT "id", "discount_code",
	CASE WHEN "user_id" IS NOT NULL THEN 'user:' || "user_id" ELSE 'email:' || lower("email") END,
	"created_at"
FROM "orders"
WHERE "discount_code" IN (SELECT "code" FROM "discount_codes")
	AND NOT ("paid_at" IS NULL AND "status" IN ('cancelled', 'refunded'))
ON CONFLICT ("order_id") DO NOTHING;
