/** A point one side of a test waits at until the other side opens it: ordering by hand, not by the clock. */
export interface Latch {
	/** Settles once `open()` has been called. */
	readonly opened: Promise<void>;
	open(): void;
}

export function latch(): Latch {
	const { promise, resolve } = Promise.withResolvers<void>();
	return { opened: promise, open: () => resolve() };
}
