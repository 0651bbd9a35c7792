import { z } from "@hono/zod-openapi";
import { MAX_PRICE_MINOR } from "../catalog/admin.schemas.ts";
import { ORDER_STATUSES } from "./state.ts";

/**
 * Request and answer shapes of the promotions admin (`/v1/admin/promotions…`
 * and the console's Promotions screen). Bodies are strict: an unknown field
 * is a 400, never ignored. Each field is checked on its own here (400);
 * how the fields of a promotion fit together — the `promotions` CHECK
 * constraints of db/schema.ts — is `PromotionRules`, applied by the service
 * to the promotion as it would be stored (422 `invalid_promotion`), so a
 * constraint never answers 500.
 */

export const PROMOTION_KINDS = ["percentage", "fixed", "free_shipping", "buy_x_get_y"] as const;
export const PROMOTION_TARGETS = ["order", "products", "categories"] as const;
export type PromotionKind = (typeof PROMOTION_KINDS)[number];
export type PromotionTarget = (typeof PROMOTION_TARGETS)[number];

/** A code as stored: what the `promotions_code_upper` check and checkout's `normalizeCode` agree on. */
export const PROMOTION_CODE = /^[A-Z0-9][A-Z0-9_-]{1,63}$/;
/** The most products or categories one promotion targets. */
export const MAX_TARGET_IDS = 500;
export const MAX_PROMOTION_PAGE = 100;
/** How many of the latest orders that used a promotion its detail lists. */
export const RECENT_REDEMPTIONS = 20;
/** 100 %, in basis points. */
export const FULL_BP = 10_000;

const INT32_MAX = 2 ** 31 - 1;
const int32 = (min: number, max: number) => z.number().int().min(min).max(max).openapi({ format: "int32" });

const code = z
	.string()
	.trim()
	.toUpperCase()
	.regex(PROMOTION_CODE, "2 to 64 letters, digits, dashes or underscores, starting with a letter or a digit.")
	// The pattern fixes the length; maxLength says so to readers of the OpenAPI document.
	.openapi({ example: "WELCOME10", maxLength: 64, description: "Any letter case; stored and matched in upper case" });
const name = z.string().trim().min(1).max(200).openapi({ example: "Welcome: 10 % off" });
const kind = z.enum(PROMOTION_KINDS).openapi({
	description:
		"`percentage`: `value` basis points off; `fixed`: `value` minor units of `currency` off (the order, or each targeted unit); `free_shipping`: the chosen method costs nothing; `buy_x_get_y`: of every `buy_quantity` + `get_quantity` targeted units, the cheapest `get_quantity` get `value` basis points off (10000: free)",
});
const value = int32(0, MAX_PRICE_MINOR).openapi({
	description:
		"Basis points for `percentage` and `buy_x_get_y` (1 to 10000: 1000 = 10 %), minor units of `currency` for `fixed` (more than 0), 0 for `free_shipping`",
	example: 1000,
});
const currency = z
	.string()
	.regex(/^[A-Z]{3}$/, "Use an ISO 4217 code in capitals, e.g. EUR.")
	.openapi({ example: "EUR", maxLength: 3 });
const target = z.enum(PROMOTION_TARGETS).openapi({
	description:
		"What the discount applies to: the whole order, the lines of `target_ids` products, or of `target_ids` categories and their sub-categories",
});
const targetId = z
	.string()
	.max(64)
	.regex(/^(?:prod|cat)_[0-9a-z]{1,40}$/, "Not a product or category id.")
	.openapi({ example: "prod_9q0x7v3b6n1c5d4f8k2m" });
const targetIds = z
	.array(targetId)
	.max(MAX_TARGET_IDS)
	.superRefine((ids, ctx) => {
		const seen = new Set<string>();
		ids.forEach((id, index) => {
			if (seen.has(id)) ctx.addIssue({ code: "custom", path: [index], message: `${id} appears more than once.` });
			seen.add(id);
		});
	})
	.openapi({ description: "Product ids (`target: products`) or category ids (`target: categories`); empty for `target: order`" });
const quantity = int32(1, 99);
const minSubtotal = int32(0, MAX_PRICE_MINOR).openapi({
	description: "Minor units of `currency`: the order's subtotal before discounts must reach it; 0 for none",
});
const instant = z.iso.datetime({ offset: true }).max(35).openapi({ example: "2026-11-01T09:00:00Z" });
const uses = int32(1, INT32_MAX);

/** The fields of a promotion an admin sets: every one but `id` and `used_count`, which checkout keeps. */
const editable = {
	code: code.nullable().openapi({ description: "What shoppers type at checkout; null (or absent) for an automatic promotion" }),
	name,
	kind,
	value,
	currency: currency.nullable().openapi({
		description:
			"Required for `fixed` and for a minimum subtotal; for a percentage, limits the promotion to orders in it. null: any currency",
	}),
	target,
	target_ids: targetIds,
	buy_quantity: quantity.nullable().openapi({ description: "`buy_x_get_y` only: units bought at full price per group" }),
	get_quantity: quantity.nullable().openapi({ description: "`buy_x_get_y` only: units discounted per group" }),
	min_subtotal_minor: minSubtotal,
	starts_at: instant.nullable().openapi({ description: "From when it applies; null: at once" }),
	ends_at: instant.nullable().openapi({ description: "Until when it applies (exclusive); null: no end" }),
	max_uses: uses.nullable().openapi({ description: "Orders in all that may use it; null: no limit" }),
	max_uses_per_customer: uses.nullable().openapi({
		description: "Orders per customer (a signed-in user, else an e-mail address); null: no limit",
	}),
	active: z.boolean().openapi({ description: "false stops it at once; orders that used it keep their discount" }),
};

export const CreatePromotionBody = z
	.object({
		code: editable.code.optional(),
		name,
		kind,
		value: value
			.optional()
			.openapi({ description: "Required for `percentage` and `fixed`; default 10000 for `buy_x_get_y`, 0 for `free_shipping`" }),
		currency: editable.currency.optional(),
		target: target.optional().openapi({ description: "Default: order" }),
		target_ids: targetIds.optional(),
		buy_quantity: editable.buy_quantity.optional(),
		get_quantity: editable.get_quantity.optional(),
		min_subtotal_minor: minSubtotal.optional(),
		starts_at: editable.starts_at.optional(),
		ends_at: editable.ends_at.optional(),
		max_uses: editable.max_uses.optional(),
		max_uses_per_customer: editable.max_uses_per_customer.optional(),
		active: editable.active.optional().openapi({ description: "Default: true" }),
	})
	.strict()
	.openapi("AdminCreatePromotionRequest");

export const PatchPromotionBody = z
	.object(
		Object.fromEntries(Object.entries(editable).map(([key, schema]) => [key, schema.optional()])) as {
			[K in keyof typeof editable]: z.ZodOptional<(typeof editable)[K]>;
		},
	)
	.strict()
	.refine((body) => Object.keys(body).length > 0, "Send at least one field to change.")
	.openapi("AdminPatchPromotionRequest");

/** A promotion whole, as it would be stored. */
export interface PromotionFields {
	code: string | null;
	name: string;
	kind: PromotionKind;
	value: number;
	currency: string | null;
	target: PromotionTarget;
	target_ids: string[];
	buy_quantity: number | null;
	get_quantity: number | null;
	min_subtotal_minor: number;
	starts_at: string | null;
	ends_at: string | null;
	max_uses: number | null;
	max_uses_per_customer: number | null;
	active: boolean;
}

/**
 * How a promotion's fields fit together: the CHECK constraints of the
 * `promotions` table, plus free shipping applying to whole orders (checkout
 * ignores a free-shipping target). Issue paths are body field names.
 */
export const PromotionRules = z.custom<PromotionFields>().superRefine((p, ctx) => {
	const issue = (path: keyof PromotionFields, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
	if ((p.kind === "percentage" || p.kind === "buy_x_get_y") && (p.value < 1 || p.value > FULL_BP)) {
		issue("value", `A ${p.kind === "percentage" ? "percentage" : "buy X get Y"} takes 1 to 10000 basis points off (0.01 % to 100 %).`);
	}
	if (p.kind === "fixed") {
		if (p.value < 1) issue("value", "A fixed amount takes more than 0 minor units off.");
		if (p.currency === null) issue("currency", "A fixed amount needs the currency it is in.");
	}
	if (p.kind === "free_shipping") {
		if (p.value !== 0) issue("value", "Free shipping has no value: send 0.");
		if (p.target !== "order") issue("target", "Free shipping applies to the whole order: use target order.");
	}
	if (p.min_subtotal_minor > 0 && p.currency === null) issue("currency", "A minimum subtotal needs the currency it is in.");
	if (p.kind === "buy_x_get_y") {
		if (p.buy_quantity === null) issue("buy_quantity", "Buy X get Y needs how many units are bought (1 to 99).");
		if (p.get_quantity === null) issue("get_quantity", "Buy X get Y needs how many units are discounted (1 to 99).");
	} else {
		if (p.buy_quantity !== null) issue("buy_quantity", "Only buy X get Y takes a buy quantity: send null.");
		if (p.get_quantity !== null) issue("get_quantity", "Only buy X get Y takes a get quantity: send null.");
	}
	if (p.target === "order" && p.target_ids.length > 0) issue("target_ids", "A promotion on the whole order targets no ids: send [].");
	if (p.target !== "order" && p.target_ids.length === 0) issue("target_ids", `Name at least one of the ${p.target} it applies to.`);
	if (p.starts_at !== null && p.ends_at !== null && Date.parse(p.ends_at) <= Date.parse(p.starts_at)) {
		issue("ends_at", "The end must come after the start.");
	}
});

// Answers are documented with the limits the requests above enforce.
const timestamp = z.iso.datetime().max(30).openapi({ example: "2026-11-01T09:00:00.000Z" });
const count = int32(0, INT32_MAX);
export const PromotionIdSchema = z
	.string()
	.max(64)
	.regex(/^prm_[0-9a-z]{20}$/)
	.openapi({ example: "prm_0123456789abcdefghjk" });
const cursor = z
	.string()
	.max(500)
	.regex(/^[A-Za-z0-9_-]+$/, "Use the next_cursor of a previous page.");

export const AdminPromotionSchema = z
	.object({
		id: PromotionIdSchema,
		code: code.nullable().openapi({ description: "null: an automatic promotion, applied without a code" }),
		name: z.string().max(200),
		kind,
		value,
		currency: currency.nullable(),
		target,
		target_ids: z.array(targetId).max(MAX_TARGET_IDS),
		buy_quantity: quantity.nullable(),
		get_quantity: quantity.nullable(),
		min_subtotal_minor: minSubtotal,
		starts_at: timestamp.nullable(),
		ends_at: timestamp.nullable(),
		max_uses: uses.nullable(),
		max_uses_per_customer: uses.nullable(),
		used_count: count.openapi({ description: "Orders using it now (an unpaid order that is cancelled gives its use back)" }),
		active: z.boolean(),
		created_at: timestamp,
		updated_at: timestamp,
	})
	.openapi("AdminPromotion");

export const AdminPromotionDetailSchema = AdminPromotionSchema.extend({
	redemptions: z.object({
		count: count.openapi({ description: "Orders holding a use of it" }),
		recent: z
			.array(
				z.object({
					order_id: z
						.string()
						.max(64)
						.regex(/^ord_[0-9a-z]{20}$/)
						.openapi({ example: "ord_0123456789abcdefghjk" }),
					customer: z.string().max(300).openapi({ description: "Whom the use counts against: `user:<id>`, else `email:<address>`" }),
					status: z.enum(ORDER_STATUSES),
					total_minor: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).openapi({ format: "int64" }),
					currency,
					used_at: timestamp,
				}),
			)
			.max(RECENT_REDEMPTIONS)
			.openapi({ description: `The latest ${RECENT_REDEMPTIONS} orders that used it, newest first` }),
	}),
}).openapi("AdminPromotionDetail");

export const AdminPromotionPageSchema = z
	.object({ data: z.array(AdminPromotionSchema).max(MAX_PROMOTION_PAGE), next_cursor: cursor.nullable() })
	.openapi("AdminPromotionPage");

export const AdminPromotionListQuery = z
	.object({
		active: z.enum(["true", "false"]).optional().openapi({ description: "Only active (`true`) or inactive (`false`) promotions" }),
		kind: kind.optional(),
		q: z.string().trim().min(1).max(200).optional().openapi({ description: "Substring of the code or the name (case-insensitive)" }),
		limit: z.coerce.number().int().min(1).max(MAX_PROMOTION_PAGE).default(50).openapi({ format: "int32" }),
		cursor: cursor.optional().openapi({ description: "`next_cursor` of the previous page" }),
	})
	.strict();
