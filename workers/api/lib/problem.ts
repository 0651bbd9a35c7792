import { z } from "@hono/zod-openapi";
import {
	DomainError,
	type DomainErrorOptions,
	type ErrorCode,
	type ErrorKind,
	type FieldError,
	type RateLimitState,
} from "../../domain/errors.ts";

export type { FieldError };

/** RFC 9457 problem details, plus the stable `code` and `request_id` every answer carries. */
export interface Problem {
	type: string;
	title: string;
	status: number;
	detail?: string;
	code: string;
	request_id?: string;
	errors?: FieldError[];
	[extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export const ProblemSchema = z
	.object({
		type: z.string().openapi({ example: "https://edge-commerce.dev/problems/validation_failed" }),
		title: z.string().openapi({ example: "Request validation failed" }),
		status: z.number().int().openapi({ example: 400 }),
		detail: z.string().optional(),
		code: z.string().openapi({ example: "validation_failed" }),
		request_id: z.string().optional(),
		errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
	})
	.passthrough()
	.openapi("Problem");

/** Documents a problem+json answer for a route's `responses`. */
export function problemResponse(description: string) {
	return { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } } };
}

const PROBLEM_BASE = "https://edge-commerce.dev/problems/";

/** The HTTP status of each kind of domain error: the API's one mapping (the storefront uses it too). */
export const STATUS_OF_KIND: Record<ErrorKind, number> = {
	invalid: 400,
	unauthenticated: 401,
	forbidden: 403,
	not_found: 404,
	conflict: 409,
	too_large: 413,
	unsupported_media: 415,
	unsatisfiable: 416,
	unprocessable: 422,
	upgrade_required: 426,
	rate_limited: 429,
	upstream_failed: 502,
	unavailable: 503,
	not_implemented: 501,
};

/**
 * A domain error raised by the HTTP layer itself that needs a header of its
 * own (`Content-Range` on a 416, `Upgrade` on a 426). Services never use it.
 */
export class HttpError extends DomainError {
	readonly headers: Record<string, string>;

	constructor(code: ErrorCode, options: DomainErrorOptions & { headers: Record<string, string> }) {
		super(code, options);
		this.headers = options.headers;
	}
}

/** The HTTP status a domain error is answered with. */
export function statusOf(err: DomainError): number {
	return STATUS_OF_KIND[err.kind];
}

/** A domain error as problem+json, with the headers its kind calls for. */
export function domainProblem(err: DomainError, requestId: string | undefined, headers: Record<string, string> = {}): Response {
	const extra: Record<string, string> = { ...headers, ...(err instanceof HttpError ? err.headers : {}) };
	if (err.retryAfterSeconds !== undefined) extra["retry-after"] = String(err.retryAfterSeconds);
	if (err.rateLimit) Object.assign(extra, rateLimitHeaders(err.rateLimit));
	if (err.kind === "unauthenticated" && err.code === "unauthorized") extra["www-authenticate"] = 'Bearer error="invalid_token"';
	return problemJson(makeProblem(statusOf(err), err.code, err.title, { detail: err.detail, requestId, extensions: err.extensions }), extra);
}

/**
 * The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers): the
 * policy as quota `q` per window `w` seconds, and the state as `r` requests
 * remaining for `t` seconds, both under the policy's name.
 */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
	return {
		"ratelimit-policy": rateLimitPolicyHeader(state.policy, state.limit, state.period),
		ratelimit: `"${state.policy}";r=${state.remaining};t=${state.resetSeconds}`,
	};
}

export function rateLimitPolicyHeader(policy: string, limit: number, period: number): string {
	return `"${policy}";q=${limit};w=${period}`;
}

export function makeProblem(
	status: number,
	code: string,
	title: string,
	options: {
		detail?: string | undefined;
		requestId?: string | undefined;
		errors?: FieldError[];
		extensions?: Record<string, unknown>;
	} = {},
): Problem {
	return {
		...options.extensions,
		type: `${PROBLEM_BASE}${code}`,
		title,
		status,
		...(options.detail ? { detail: options.detail } : {}),
		code,
		...(options.requestId ? { request_id: options.requestId } : {}),
		...(options.errors ? { errors: options.errors } : {}),
	};
}

export function problemJson(problem: Problem, headers: Record<string, string> = {}): Response {
	return new Response(JSON.stringify(problem), {
		status: problem.status,
		headers: { "content-type": PROBLEM_CONTENT_TYPE, ...headers },
	});
}

export { fieldErrors } from "../../domain/errors.ts";
