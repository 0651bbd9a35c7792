import { z } from "@hono/zod-openapi";
import { PROBLEM_CONTENT_TYPE } from "./problem.ts";

/** A required JSON request body. */
export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
	return { required: true, description, content: { "application/json": { schema } } };
}

/** A JSON response. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
	return { description, content: { "application/json": { schema } } };
}

const INT32_MAX = 2 ** 31 - 1;

/** An integer in [min, max], documented as int32 when the range fits in one, else int64. */
export function integer(min: number, max: number) {
	const format = min >= -INT32_MAX - 1 && max <= INT32_MAX ? "int32" : "int64";
	return z.number().int().min(min).max(max).openapi({ format });
}

/** A count of things (attempts, units, rows): never negative, never past int32. */
export const count = () => integer(0, INT32_MAX);

/** An amount of money in minor units (cents): JSON numbers stay exact up to 2^53 − 1. */
export const minorUnits = () => integer(0, Number.MAX_SAFE_INTEGER);

/** Free text of at most `max` characters. */
export const text = (max: number) => z.string().max(max);

/** An instant as the API prints it: ISO 8601 in UTC (`Date.prototype.toISOString`). */
export const timestamp = () => z.iso.datetime().max(30).openapi({ example: "2026-11-01T09:00:00.000Z" });

export const email = () => z.email().max(254).openapi({ example: "ana@example.com" });

/** An ISO 4217 currency code. */
export const currencyCode = () =>
	z
		.string()
		.length(3)
		.regex(/^[A-Z]{3}$/)
		.openapi({ example: "EUR" });

/**
 * RFC 9457 problem details as the API sends them (see problem.ts). Field
 * errors list every failing path of a request, so their number follows the
 * request, not the API; `maxItems` bounds what a client must be ready for.
 */
const ProblemDocument = z
	.object({
		type: z.url().max(200).openapi({ example: "https://edge-commerce.dev/problems/validation_failed" }),
		title: text(200).openapi({ example: "Request validation failed" }),
		status: integer(400, 599).openapi({ example: 400 }),
		detail: text(2000).optional(),
		code: z
			.string()
			.max(64)
			.regex(/^[a-z0-9_]+$/)
			.openapi({ example: "validation_failed" }),
		request_id: z
			.string()
			.max(64)
			.regex(/^[\w-]+$/)
			.optional()
			.openapi({ description: "The X-Request-Id of the answer: quote it when reporting a problem" }),
		errors: z
			.array(z.object({ path: text(500), message: text(1000) }))
			.max(100)
			.optional()
			.openapi({ description: "Validation failures: each names the field path (`body.email`, `param.id`) and what is wrong" }),
	})
	.catchall(z.unknown())
	.openapi("Problem", { description: "Members beyond these carry the problem's facts (for example the short `lines` of `out_of_stock`)." });

/** Documents a problem+json answer for a route's `responses`. */
export function problem(description: string) {
	return { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemDocument } } };
}

/**
 * What any operation may answer, whatever its route: a URL the shared
 * middleware refuses (a control character in the path or query) or a
 * parameter out of shape, and an unexpected failure.
 */
export const baseProblems = {
	400: problem("`validation_failed`: a path or query parameter is malformed (`errors[]` lists which)"),
	500: problem("`internal_error`: an unexpected failure; nothing is promised about what happened. Quote the request id."),
};

/** `baseProblems`, and the 503 of an operation that reads or writes Postgres. */
export const databaseProblems = {
	...baseProblems,
	503: problem("`database_unavailable`: Postgres cannot be reached right now; retry after the Retry-After seconds"),
};

/** The problem answers every authenticated route can give. */
export const authProblems = {
	401: problem("`unauthorized`: missing, invalid or expired access token"),
};

/** `authProblems`, and the refusal of a signed-in customer on an admin route. */
export const adminProblems = {
	...authProblems,
	403: problem("`forbidden`: the access token's user is not an admin (the role is re-read from the database)"),
};

/** The refusals every JSON-body route can give. */
export const bodyProblems = {
	400: problem("Malformed JSON or validation failed (`errors[]` lists field paths)"),
	413: problem("Body too large"),
	415: problem("Body is not JSON"),
};

/** A customer's access token. */
export const bearerAuth = [{ bearerAuth: [] }];

/** An admin's access token: a scheme of its own, so admin routes never share a requirement with customer routes. */
export const adminAuth = [{ adminBearerAuth: [] }];

/** Anyone may call the operation; what protects it (a signature, a token in the body) is in its description. */
export const publicAccess = [{}];
