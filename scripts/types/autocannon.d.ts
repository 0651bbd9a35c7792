/** The part of autocannon's API the bench uses (the published @types lag behind v9). */
declare module "autocannon" {
	interface Options {
		url: string;
		method?: string;
		headers?: Record<string, string> | undefined;
		body?: string | undefined;
		connections?: number;
		pipelining?: number;
		duration?: number;
		requests?: { setupRequest?: (request: { path?: string; headers?: Record<string, string>; body?: string }) => object }[] | undefined;
	}
	interface Result {
		requests: { average: number; total: number };
		latency: { p50: number; p99: number };
		errors: number;
		timeouts: number;
		statusCodeStats: Record<string, { count: number }>;
	}
	function autocannon(options: Options): Promise<Result>;
	export default autocannon;
}
