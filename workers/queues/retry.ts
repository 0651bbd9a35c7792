const BASE_DELAY_SECONDS = 5;
const MAX_DELAY_SECONDS = 15 * 60;

/**
 * Exponential backoff with full jitter for a message that failed `attempts`
 * times (1 on its first delivery): 5 s, 10 s, 20 s … capped at 15 minutes.
 */
export function retryDelaySeconds(attempts: number, random: () => number = Math.random): number {
	const exponent = Math.max(0, attempts - 1);
	const ceiling = Math.min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** exponent);
	return Math.max(1, Math.round(ceiling * (0.5 + random() / 2)));
}
