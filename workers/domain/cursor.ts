import { DomainError } from "./errors.ts";

/** A timestamp as the list queries print it for keysets: UTC with microseconds. */
export const CURSOR_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function invalidCursor(detail = "Use the next_cursor of a previous page of the same query."): DomainError {
	return new DomainError("invalid_cursor", { detail });
}

/** Opaque page cursor: base64url of the JSON value. */
export function encodeCursor(value: unknown): string {
	return btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * The JSON value inside a cursor, or a 400 `invalid_cursor`. Callers still
 * check its shape: a cursor is client input and reaches SQL as parameters.
 */
export function decodeCursor(text: string): unknown {
	try {
		return JSON.parse(atob(text.replaceAll("-", "+").replaceAll("_", "/")));
	} catch {
		throw invalidCursor();
	}
}
