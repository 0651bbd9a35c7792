import type { z } from "@hono/zod-openapi";
import { problemResponse } from "./problem.ts";

/** A required JSON request body. */
export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
	return { required: true, description, content: { "application/json": { schema } } };
}

/** A JSON response. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
	return { description, content: { "application/json": { schema } } };
}

/** The problem answers every authenticated route can give. */
export const authProblems = {
	401: problemResponse("Missing, invalid or expired access token"),
};

/** The refusals every JSON-body route can give. */
export const bodyProblems = {
	400: problemResponse("Malformed JSON or validation failed (`errors[]` lists field paths)"),
	413: problemResponse("Body too large"),
	415: problemResponse("Body is not JSON"),
};

export const bearerAuth = [{ bearerAuth: [] }];
