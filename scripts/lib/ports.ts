import net from "node:net";

/** Resolves when nothing listens on host:port; rejects with a clear message otherwise. */
export async function assertPortFree(port: number, what: string, host = "127.0.0.1"): Promise<void> {
	await new Promise<void>((resolve, reject) => {
		const server = net.createServer();
		server.once("error", (err: NodeJS.ErrnoException) => {
			reject(
				new Error(
					err.code === "EADDRINUSE"
						? `Port ${port} (${what}) is already in use on ${host}. Stop whatever holds it or choose another port (see README, "Configuration").`
						: `Cannot listen on ${host}:${port} for ${what}: ${err.message}`,
				),
			);
		});
		server.listen(port, host, () => server.close(() => resolve()));
	});
}

/** A TCP port the OS reports free right now. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
	return await new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once("error", reject);
		server.listen(0, host, () => {
			const address = server.address();
			const port = typeof address === "object" && address ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

/** True when something accepts TCP connections on host:port within the timeout. */
export async function isListening(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
	return await new Promise((resolve) => {
		const socket = net.connect({ host, port });
		const done = (ok: boolean) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(timeoutMs, () => done(false));
		socket.once("connect", () => done(true));
		socket.once("error", () => done(false));
	});
}
