import { createRequire } from "node:module";
import net from "node:net";
import type * as WsModule from "ws";

// Loaded through Node's own resolver: when this file runs inside Vitest's
// global setup, Vite would otherwise pick ws's browser stub.
const { WebSocketServer } = createRequire(import.meta.url)("ws") as typeof WsModule;

export interface WsProxy {
	/** host:port to put in the Worker's DATABASE_WS_PROXY. */
	readonly address: string;
	stop(): Promise<void>;
}

/**
 * A WebSocket-to-TCP relay that lets `@neondatabase/serverless` reach a plain
 * Postgres (its `neonConfig.wsProxy` protocol: `/v1?address=host:port`, raw
 * Postgres wire bytes in binary frames). It only relays to the one database it
 * was started for, so it cannot be used to reach anything else on the host.
 */
export async function startWsProxy(options: { port: number; target: { host: string; port: number } }): Promise<WsProxy> {
	const allowed = new Set([`${options.target.host}:${options.target.port}`]);
	if (options.target.host === "localhost") allowed.add(`127.0.0.1:${options.target.port}`);
	const wss = new WebSocketServer({ host: "127.0.0.1", port: options.port, perMessageDeflate: false });

	wss.on("connection", (ws, req) => {
		const address = new URL(req.url ?? "/", "http://proxy").searchParams.get("address") ?? "";
		if (!allowed.has(address)) {
			ws.close(1008, "address not allowed");
			return;
		}
		const socket = net.connect({ host: options.target.host, port: options.target.port });
		socket.setNoDelay(true);
		ws.on("message", (data: Buffer) => socket.write(data));
		ws.on("close", () => socket.destroy());
		ws.on("error", () => socket.destroy());
		socket.on("data", (chunk) => ws.send(chunk));
		socket.on("close", () => ws.close());
		socket.on("error", () => ws.terminate());
	});

	await new Promise<void>((resolve, reject) => {
		wss.once("listening", resolve);
		wss.once("error", reject);
	});
	const bound = wss.address();
	const port = typeof bound === "object" && bound ? bound.port : options.port;
	return {
		address: `127.0.0.1:${port}`,
		stop: () =>
			new Promise<void>((resolve) => {
				for (const client of wss.clients) client.terminate();
				wss.close(() => resolve());
			}),
	};
}
