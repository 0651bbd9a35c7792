import { z } from "@hono/zod-openapi";

/** One failed field of a validation error, with its JSON path. */
export interface FieldError {
	path: string;
	message: string;
}

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

/**
 * A failure the client can act on, or an outage it should retry later.
 * Services throw these; the app's one error handler turns them into problem+json.
 */
export class AppError extends Error {
	readonly status: number;
	readonly code: string;
	readonly title: string;
	readonly detail: string | undefined;
	readonly extensions: Record<string, unknown>;
	readonly headers: Record<string, string>;

	constructor(
		status: number,
		code: string,
		title: string,
		options: { detail?: string; extensions?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
	) {
		super(options.detail ?? title, options.cause === undefined ? undefined : { cause: options.cause });
		this.name = "AppError";
		this.status = status;
		this.code = code;
		this.title = title;
		this.detail = options.detail;
		this.extensions = options.extensions ?? {};
		this.headers = options.headers ?? {};
	}

	toProblem(requestId: string | undefined): Problem {
		return makeProblem(this.status, this.code, this.title, {
			detail: this.detail,
			requestId,
			extensions: this.extensions,
		});
	}
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

/** Turns zod issues into field errors with dotted paths (`lines.0.quantity`). */
export function fieldErrors(issues: readonly z.core.$ZodIssue[], prefix?: string): FieldError[] {
	return issues.map((issue) => {
		const parts = issue.path.map(String);
		const path = [prefix, ...parts].filter(Boolean).join(".");
		if (issue.code === "unrecognized_keys") {
			return { path: path || "(root)", message: `Unknown field(s): ${issue.keys.join(", ")}` };
		}
		return { path: path || "(root)", message: issue.message };
	});
}
