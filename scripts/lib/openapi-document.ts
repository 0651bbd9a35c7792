import path from "node:path";
import { unstable_startWorker } from "wrangler";
import { projectRoot } from "./wrangler-dev.ts";

/**
 * The OpenAPI document exactly as the Worker serves it at /openapi.json. The
 * Worker's modules import `cloudflare:workers`, so plain Node cannot load the
 * app; this boots it locally in workerd (wrangler's `startWorker`, no port
 * opened to the network, no database: the route touches none) and asks it.
 */
export async function fetchOpenApiDocument(): Promise<unknown> {
	// Miniflare would otherwise ask Cloudflare for a `request.cf` sample: nothing here may need the network.
	process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
	const worker = await unstable_startWorker({
		config: path.join(projectRoot, "wrangler.toml"),
		dev: {
			server: { hostname: "127.0.0.1", port: 0 },
			// The URL the Worker sees, as in production: https, so `servers` names an https origin.
			origin: { secure: true, hostname: "api.localhost" },
			inspector: false,
			logLevel: "error",
			watch: false,
		},
	});
	try {
		await worker.ready;
		const response = await worker.fetch("http://127.0.0.1/openapi.json");
		if (!response.ok) throw new Error(`GET /openapi.json answered ${response.status}: ${await response.text()}`);
		return await response.json();
	} finally {
		await worker.dispose();
	}
}
