-- The markets every shop starts with (issue 17), replacing the SHIPPING_RATES and TAX_RATES variables:
-- EU in euros with VAT included in shelf prices (the default market), the UK in pounds with VAT
-- included, the US in dollars with sales tax added at checkout. The UK and US have no price lists
-- of their own yet: they convert euro base prices at the rate set here (admins edit it, or add
-- prices). Rates and zones are a starting point that admins change; an existing row is never
-- overwritten, so this migration is safe on a database where they were already edited.
INSERT INTO "markets" ("id", "name", "currency", "tax_mode", "convert_from", "rate_micros", "is_default", "position") VALUES
	('eu', 'European Union', 'EUR', 'inclusive', NULL, NULL, true, 0),
	('uk', 'United Kingdom', 'GBP', 'inclusive', 'EUR', 860000, false, 1),
	('us', 'United States', 'USD', 'exclusive', 'EUR', 1080000, false, 2)
ON CONFLICT ("id") DO NOTHING;
--> statement-breakpoint
INSERT INTO "market_countries" ("country", "market_id") VALUES
	('AT', 'eu'), ('BE', 'eu'), ('DE', 'eu'), ('ES', 'eu'), ('FI', 'eu'), ('FR', 'eu'), ('IE', 'eu'),
	('IT', 'eu'), ('LU', 'eu'), ('NL', 'eu'), ('PT', 'eu'),
	('GB', 'uk'),
	('US', 'us')
ON CONFLICT ("country") DO NOTHING;
--> statement-breakpoint
-- VAT (standard, reduced, zero) per country; US sales tax per state (standard class only: a state
-- without a row for a class charges no tax on it).
INSERT INTO "tax_rates" ("country", "region", "tax_class", "rate_bp") VALUES
	('AT', '', 'standard', 2000), ('AT', '', 'reduced', 1000), ('AT', '', 'zero', 0),
	('BE', '', 'standard', 2100), ('BE', '', 'reduced', 600), ('BE', '', 'zero', 0),
	('DE', '', 'standard', 1900), ('DE', '', 'reduced', 700), ('DE', '', 'zero', 0),
	('ES', '', 'standard', 2100), ('ES', '', 'reduced', 1000), ('ES', '', 'zero', 0),
	('FI', '', 'standard', 2550), ('FI', '', 'reduced', 1400), ('FI', '', 'zero', 0),
	('FR', '', 'standard', 2000), ('FR', '', 'reduced', 550), ('FR', '', 'zero', 0),
	('IE', '', 'standard', 2300), ('IE', '', 'reduced', 1350), ('IE', '', 'zero', 0),
	('IT', '', 'standard', 2200), ('IT', '', 'reduced', 1000), ('IT', '', 'zero', 0),
	('LU', '', 'standard', 1700), ('LU', '', 'reduced', 800), ('LU', '', 'zero', 0),
	('NL', '', 'standard', 2100), ('NL', '', 'reduced', 900), ('NL', '', 'zero', 0),
	('PT', '', 'standard', 2300), ('PT', '', 'reduced', 600), ('PT', '', 'zero', 0),
	('GB', '', 'standard', 2000), ('GB', '', 'reduced', 500), ('GB', '', 'zero', 0),
	('US', 'CA', 'standard', 725), ('US', 'NY', 'standard', 400), ('US', 'TX', 'standard', 625),
	('US', 'WA', 'standard', 650), ('US', 'FL', 'standard', 600), ('US', 'IL', 'standard', 625)
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO "shipping_zones" ("id", "market_id", "name", "countries") VALUES
	('shz_eu', 'eu', 'European Union', ARRAY['AT', 'BE', 'DE', 'ES', 'FI', 'FR', 'IE', 'IT', 'LU', 'NL', 'PT']),
	('shz_eude', 'eu', 'Germany', ARRAY['DE']),
	('shz_uk', 'uk', 'United Kingdom', ARRAY['GB']),
	('shz_us', 'us', 'United States', ARRAY['US'])
ON CONFLICT ("id") DO NOTHING;
--> statement-breakpoint
-- The EU's standard method keeps the old EUR rule (4.95, free from 50.00); the US's standard
-- rate is by weight, free from 75.00 as before.
INSERT INTO "shipping_methods" ("id", "zone_id", "kind", "name", "rate", "free_from_minor", "position") VALUES
	('shm_eustandard', 'shz_eu', 'standard', 'Standard (3–5 working days)', '{"type":"flat","amount":495}', 5000, 0),
	('shm_euexpress', 'shz_eu', 'express', 'Express (1–2 working days)', '{"type":"flat","amount":1290}', NULL, 1),
	('shm_depickup', 'shz_eude', 'pickup', 'Pick up in Berlin', '{"type":"flat","amount":0}', NULL, 2),
	('shm_ukstandard', 'shz_uk', 'standard', 'Royal Mail Tracked 48', '{"type":"flat","amount":395}', 4500, 0),
	('shm_ukexpress', 'shz_uk', 'express', 'Next working day', '{"type":"flat","amount":895}', NULL, 1),
	('shm_usstandard', 'shz_us', 'standard', 'Ground (5–8 business days)', '{"type":"weight","tiers":[{"up_to_grams":1000,"amount":599},{"up_to_grams":5000,"amount":999},{"up_to_grams":null,"amount":1999}]}', 7500, 0),
	('shm_usexpress', 'shz_us', 'express', 'Two-day air', '{"type":"subtotal","tiers":[{"from":0,"amount":2499},{"from":10000,"amount":1499}]}', NULL, 1)
ON CONFLICT ("id") DO NOTHING;
