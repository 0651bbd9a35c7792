import { z } from "@hono/zod-openapi";
import { AFFILIATE_CODE, MAX_AFFILIATE_PAGE } from "../../affiliates/affiliates.ts";
import { MAX_REPORT_ROWS } from "../../affiliates/report.ts";
import { ORDER_STATUSES } from "../../orders/state.ts";
import { Money } from "../carts/carts.schemas.ts";
import { count, currencyCode, email, integer, text, timestamp } from "../lib/openapi.ts";
import { Cursor, idPattern, OrderId, pageLimit, prefixedId } from "../lib/params.ts";

export const AffiliateId = prefixedId(idPattern("aff"), "aff_0123456789abcdefghjk");

export const AffiliateCode = z
	.string()
	.min(2)
	.max(32)
	.regex(AFFILIATE_CODE, "2 to 32 capitals, digits, dashes or underscores, starting with a capital or a digit.")
	.openapi({ example: "ANA-BLOG" });

const name = z.string().trim().min(1).max(200).openapi({ example: "Ana's travel blog" });
const contact = email().nullable().openapi({ description: "Where to reach the affiliate; null for none" });
const rate = integer(0, 10_000).openapi({
	description:
		"Commission in basis points of what an attributed order sold (its lines after discounts, without tax or shipping): 1000 = 10 %",
	example: 1000,
});

export const CreateAffiliateBody = z
	.object({
		code: AffiliateCode.openapi({ description: "What the referral link carries (`?ref=CODE`); fixed once created" }),
		name,
		email: contact.optional(),
		commission_bp: rate,
		active: z.boolean().optional().openapi({ description: "Default: true" }),
	})
	.strict()
	.openapi("AdminCreateAffiliateRequest");

export const PatchAffiliateBody = z
	.object({
		name: name.optional(),
		email: contact.optional(),
		commission_bp: rate.optional(),
		active: z.boolean().optional().openapi({ description: "false stops new attributions through the code; true resumes them" }),
	})
	.strict()
	.refine((body) => Object.keys(body).length > 0, "Send at least one field to change.")
	.openapi("AdminPatchAffiliateRequest");

export const AffiliateSchema = z
	.object({
		id: AffiliateId,
		code: AffiliateCode,
		name: text(200),
		email: email().nullable(),
		commission_bp: rate,
		active: z.boolean(),
		referral_url: z.string().max(300).openapi({ format: "uri", description: "The link to hand the affiliate: the shop with `?ref=CODE`" }),
		created_at: timestamp(),
		updated_at: timestamp(),
	})
	.openapi("AdminAffiliate");

export const AffiliatePageSchema = z
	.object({ data: z.array(AffiliateSchema).max(MAX_AFFILIATE_PAGE), next_cursor: Cursor.nullable() })
	.openapi("AdminAffiliatePage");

export const AffiliateListQuery = z
	.object({
		active: z.enum(["true", "false"]).optional().openapi({ description: "Only active (`true`) or inactive (`false`) affiliates" }),
		limit: pageLimit(MAX_AFFILIATE_PAGE, 50),
		cursor: Cursor.optional(),
	})
	.strict();

const day = (description: string) => z.iso.date().max(10).optional().openapi({ description, example: "2026-11-01" });

export const AffiliateReportQuery = z
	.object({
		from: day("First day (UTC) of the orders paid, inclusive; absent: from the first"),
		to: day("Last day (UTC) of the orders paid, inclusive; absent: up to now"),
	})
	.strict()
	.refine((range) => !range.from || !range.to || range.from <= range.to, {
		message: "`from` must not be after `to`.",
		path: ["from"],
	});

export const AffiliateReportSchema = z
	.object({
		from: z.iso.date().max(10).nullable(),
		to: z.iso.date().max(10).nullable(),
		data: z
			.array(
				z.object({
					affiliate_id: AffiliateId,
					code: AffiliateCode,
					name: text(200),
					currency: currencyCode(),
					orders: count().openapi({ description: "Attributed orders paid in the range (cancelled ones left out)" }),
					sold: Money,
					commission: Money,
					reversed: Money,
					net: Money,
				}),
			)
			.max(MAX_REPORT_ROWS)
			.openapi({
				description:
					"One row per affiliate and currency, by code. `sold`: what the orders sold (lines after discounts, without tax or shipping); `commission`: what they earned; `reversed`: what refunds took back of it, to date; `net`: commission − reversed.",
			}),
	})
	.openapi("AdminAffiliateReport");

export const AffiliateOrdersQuery = z
	.object({
		limit: pageLimit(100, 20),
		cursor: Cursor.optional(),
	})
	.strict();

export const AffiliateOrderPageSchema = z
	.object({
		data: z
			.array(
				z.object({
					order_id: OrderId,
					status: z.enum(ORDER_STATUSES),
					placed_at: timestamp(),
					paid_at: timestamp().openapi({ description: "When the order was paid and its commission accrued" }),
					total: Money,
					rate_bp: rate,
					sold: Money,
					commission: Money,
					reversed: Money,
					net: Money,
				}),
			)
			.max(100),
		next_cursor: Cursor.nullable(),
	})
	.openapi("AdminAffiliateOrderPage");
