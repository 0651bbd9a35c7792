const BASE_DELAY_SECONDS = 5;
const MAX_DELAY_SECONDS = 15 * 60;
const DEAD_LETTER_BASE_DELAY_SECONDS = 30;
const DEAD_LETTER_MAX_DELAY_SECONDS = 60 * 60;

/** Exponential backoff with full jitter: `base` doubling per failed attempt (`attempts` is 1 on the first delivery), capped at `cap`. */
function backoff(attempts: number, base: number, cap: number, random: () => number): number {
	const exponent = Math.max(0, attempts - 1);
	const ceiling = Math.min(cap, base * 2 ** exponent);
	return Math.max(1, Math.round(ceiling * (0.5 + random() / 2)));
}

/**
 * Exponential backoff with full jitter for a message that failed `attempts`
 * times (1 on its first delivery): 5 s, 10 s, 20 s … capped at 15 minutes.
 */
export function retryDelaySeconds(attempts: number, random: () => number = Math.random): number {
	return backoff(attempts, BASE_DELAY_SECONDS, MAX_DELAY_SECONDS, random);
}

/**
 * The backoff of a dead letter Postgres could not store: 30 s, 1 min, 2 min …
 * capped at an hour. A dead-letter queue is the last stop (its consumer has
 * no queue behind it), so its retries are spread over the platform's whole
 * allowance: 100 retries (max_retries' ceiling) of up to an hour ride out an
 * outage of two to four days, inside a retention of four days (the default;
 * up to 14), and a letter is stored within the hour once Postgres is back.
 */
export function deadLetterRetryDelaySeconds(attempts: number, random: () => number = Math.random): number {
	return backoff(attempts, DEAD_LETTER_BASE_DELAY_SECONDS, DEAD_LETTER_MAX_DELAY_SECONDS, random);
}
