import { createRoute, z } from "@hono/zod-openapi";
import { CUSTOMER_ORDERS_SHOWN } from "../../customers/admin.ts";
import { ORDER_STATUSES } from "../../orders/state.ts";
import { Money } from "../carts/carts.schemas.ts";
import { adminAuth, adminProblems, count, databaseProblems, email, jsonResponse, problem, text, timestamp } from "../lib/openapi.ts";
import { Cursor, idParam, idPattern, OrderId, pageLimit, prefixedId } from "../lib/params.ts";
import { AddressSchema, MAX_ADDRESSES } from "../me/me.schemas.ts";

const tags = ["Admin"];
const MAX_PAGE = 100;

/** Currencies one customer has paid in: every market's, at most; a generous bound for the document. */
const MAX_CURRENCIES = 50;

const CustomerFields = {
	id: prefixedId(idPattern("usr"), "usr_4f8k2m9q0x7v3b6n1c5d"),
	email: email(),
	name: text(100),
	role: z.enum(["customer", "admin"]),
	email_verified: z.boolean(),
	created_at: timestamp(),
	order_count: count().openapi({
		description:
			"Orders paid and on from there (fulfilled, shipped, delivered, partly refunded); cancelled and fully refunded ones bought nothing",
	}),
	total_spent: z
		.array(Money)
		.max(MAX_CURRENCIES)
		.openapi({ description: "What those orders came to less what was refunded of them, one entry per currency, by currency code" }),
};

export const CustomerSummarySchema = z.object(CustomerFields).openapi("AdminCustomer");

const CustomerOrderSchema = z
	.object({
		id: OrderId,
		status: z.enum(ORDER_STATUSES),
		total: Money,
		refunded: Money,
		items: count().openapi({ description: "Units ordered, all lines together" }),
		created_at: timestamp(),
	})
	.openapi("AdminCustomerOrder");

export const CustomerDetailSchema = z
	.object({
		...CustomerFields,
		abandoned_cart_emails: z.boolean(),
		addresses: z.array(AddressSchema).max(MAX_ADDRESSES),
		orders: z
			.array(CustomerOrderSchema)
			.max(CUSTOMER_ORDERS_SHOWN)
			.openapi({
				description: `The account's ${CUSTOMER_ORDERS_SHOWN} newest orders, whatever their status (guest orders to the same address are not the account's)`,
			}),
		orders_placed: count().openapi({ description: "Every order the account placed, whatever its status" }),
	})
	.openapi("AdminCustomerDetail");

export const listAdminCustomers = createRoute({
	method: "get",
	path: "/admin/customers",
	operationId: "listAdminCustomers",
	tags,
	security: adminAuth,
	summary: "Customer accounts, newest first, searchable by e-mail address or name",
	description:
		"`q` matches part of the e-mail address or of the name, in any letter case. Each account comes with its number of paid orders and what it spent per currency; never a password or token hash.",
	request: {
		query: z
			.object({
				q: z
					.string()
					.trim()
					.min(1)
					.max(200)
					.optional()
					.openapi({ description: "Part of the e-mail address or the name (case-insensitive)" }),
				limit: pageLimit(MAX_PAGE, 50),
				cursor: Cursor.optional(),
			})
			.strict(),
	},
	responses: {
		200: jsonResponse(
			z.object({ data: z.array(CustomerSummarySchema).max(MAX_PAGE), next_cursor: Cursor.nullable() }).openapi("AdminCustomerPage"),
			"A page of customers",
		),
		...databaseProblems,
		400: problem("Invalid query or cursor"),
		...adminProblems,
	},
});

export const getAdminCustomer = createRoute({
	method: "get",
	path: "/admin/customers/{id}",
	operationId: "getAdminCustomer",
	tags,
	security: adminAuth,
	summary: "One customer: profile, saved addresses and newest orders",
	description: `The account's profile, its saved addresses (default first) and its ${CUSTOMER_ORDERS_SHOWN} newest orders with \`orders_placed\` counting all of them.`,
	request: { params: idParam("usr", "usr_4f8k2m9q0x7v3b6n1c5d") },
	responses: {
		200: jsonResponse(CustomerDetailSchema, "The customer"),
		...databaseProblems,
		...adminProblems,
		404: problem("No such customer"),
	},
});
