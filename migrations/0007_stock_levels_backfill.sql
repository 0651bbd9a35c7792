-- Stock levels for SKUs the inventory ledger already knows, so catalog reads
-- keep showing them in stock after the switch to stock_levels. The ledger
-- sums on-hand stock only; seq 0 is older than any InventoryItem event, so
-- each SKU's next event (a hold, a sale, an adjustment) replaces the figure
-- with the object's own.
INSERT INTO "stock_levels" ("sku", "available", "seq", "updated_at")
SELECT "sku", greatest(sum("delta"), 0), 0, max("occurred_at")
FROM "inventory_ledger"
GROUP BY "sku"
ON CONFLICT ("sku") DO NOTHING;
