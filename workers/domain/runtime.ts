/** What a service needs of the request's or batch's execution context: work that may finish after the answer. */
export type WaitUntil = Pick<ExecutionContext, "waitUntil">;
