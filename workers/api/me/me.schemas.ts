import { z } from "@hono/zod-openapi";
import { text, timestamp } from "../lib/openapi.ts";
import { idParam, idPattern, prefixedId } from "../lib/params.ts";

export const MAX_ADDRESSES = 20;

export const UpdateMeBody = z
	.object({
		name: z.string().trim().min(1).max(100).optional(),
		abandoned_cart_emails: z.boolean().optional().openapi({ description: "Opt in or out of abandoned-cart reminders" }),
	})
	.strict()
	.openapi("UpdateMeRequest");

export const addressFields = {
	name: z.string().trim().min(1).max(100),
	line1: z.string().trim().min(1).max(200),
	line2: z.string().trim().max(200).nullable().optional(),
	city: z.string().trim().min(1).max(100),
	region: z.string().trim().max(100).nullable().optional(),
	postal_code: z.string().trim().min(1).max(20),
	country: z
		.string()
		.regex(/^[A-Za-z]{2}$/, "Use an ISO 3166-1 alpha-2 country code.")
		.transform((code) => code.toUpperCase())
		.openapi({ example: "PT", maxLength: 2 }),
	phone: z
		.string()
		.trim()
		.regex(/^\+?[0-9 ()-]{4,30}$/, "Use digits, spaces, brackets and dashes, optionally starting with +.")
		.nullable()
		.optional()
		.openapi({ maxLength: 31 }),
	is_default: z.boolean().optional(),
};

export const AddressBody = z.object(addressFields).strict().openapi("AddressRequest");

export const AddressPatchBody = z
	.object(addressFields)
	.partial()
	.strict()
	.refine((body) => Object.keys(body).length > 0, "Send at least one field to change.")
	.openapi("AddressPatchRequest");

const COUNTRY = /^[A-Z]{2}$/;

export const AddressSchema = z
	.object({
		id: prefixedId(idPattern("addr"), "addr_9q0x7v3b6n1c5d4f8k2m"),
		name: text(100),
		line1: text(200),
		line2: text(200).nullable(),
		city: text(100),
		region: text(100).nullable(),
		postal_code: text(20),
		country: z.string().length(2).regex(COUNTRY).openapi({ example: "PT" }),
		phone: text(31).nullable(),
		is_default: z.boolean(),
		created_at: timestamp(),
		updated_at: timestamp(),
	})
	.openapi("Address");

export const AddressIdParam = idParam("addr", "addr_9q0x7v3b6n1c5d4f8k2m");
