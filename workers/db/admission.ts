/**
 * Admission control for Postgres connections, per isolate.
 *
 * A Worker cannot keep connections between requests, so every request that
 * touches Postgres opens its own. An isolate serving a burst (a flash sale:
 * hundreds of checkouts at once) would otherwise open hundreds of connections
 * at the same moment, and the server refuses those past its limit ("too many
 * connections", a 503 for the shopper) even though each request needs a
 * connection for only a few milliseconds. Here the requests of one isolate
 * take turns instead: at most `limit` hold connections, the rest wait in
 * order, and one that waits longer than `timeoutMs` gives up with a 503.
 */
export class Admission {
	readonly limit: number;
	readonly timeoutMs: number;
	#active = 0;
	#nextTicket = 0;
	/** Tickets of the waiters, oldest first. */
	readonly #waiting: number[] = [];

	constructor(limit: number, timeoutMs: number) {
		this.limit = limit;
		this.timeoutMs = timeoutMs;
	}

	get active(): number {
		return this.#active;
	}

	get waiting(): number {
		return this.#waiting.length;
	}

	/**
	 * Takes a slot, waiting for one if all are taken. Waiters go in arrival
	 * order: a newcomer never takes a freed slot ahead of someone already
	 * waiting, so under a burst the oldest requests are served first and the
	 * longest wait stays bounded by the queue ahead, not by luck. A waiter
	 * polls (a few milliseconds apart, jittered) rather than being woken by the
	 * request that frees a slot: in workerd one request must not resolve a
	 * promise or clear a timer that belongs to another, so every wait stays in
	 * its own request.
	 */
	async acquire(timeoutMs = this.timeoutMs): Promise<void> {
		if (this.#active < this.limit && this.#waiting.length === 0) {
			this.#active++;
			return;
		}
		const ticket = this.#nextTicket++;
		this.#waiting.push(ticket);
		const deadline = Date.now() + timeoutMs;
		let pause = 1;
		for (;;) {
			const position = this.#waiting.indexOf(ticket);
			// The first (limit − active) waiters may go: several slots freed at once admit several.
			if (position < this.limit - this.#active) {
				this.#waiting.splice(position, 1);
				this.#active++;
				return;
			}
			if (Date.now() >= deadline) {
				this.#waiting.splice(position, 1);
				throw new AdmissionTimeoutError(`no database connection slot within ${timeoutMs} ms`);
			}
			await new Promise((resolve) => setTimeout(resolve, pause + Math.random() * pause));
			pause = Math.min(pause * 2, 20);
		}
	}

	release(): void {
		this.#active = Math.max(0, this.#active - 1);
	}
}

export class AdmissionTimeoutError extends Error {
	override name = "AdmissionTimeoutError";
}

/**
 * Requests of one isolate holding Postgres connections at once (each request's
 * pool opens at most two). Sized to stay well under a small server's
 * connection limit (PGlite here: 64; a default PostgreSQL: 100) while an
 * isolate's requests rarely wait; Neon's pooler accepts far more, across
 * all isolates.
 */
export const databaseAdmission = new Admission(24, 10_000);
