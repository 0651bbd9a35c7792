import { Buffer } from "node:buffer";
import net from "node:net";
import type { PGlite } from "@electric-sql/pglite";

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const TERMINATE = 0x58; // 'X'
const READY_FOR_QUERY = 0x5a; // 'Z'
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]); // 'S'
const IDLE = 0x49; // 'I': ReadyForQuery outside a transaction

/**
 * Splits a byte stream into Postgres messages: the first one (startup, SSL or
 * cancel request) has no type byte, every later one is type + length.
 */
class MessageReader {
	#buffer: Buffer = Buffer.alloc(0);
	#startup = true;

	push(chunk: Buffer): Buffer[] {
		this.#buffer = this.#buffer.length > 0 ? Buffer.concat([this.#buffer, chunk]) : chunk;
		const messages: Buffer[] = [];
		for (;;) {
			const headerSize = this.#startup ? 0 : 1;
			if (this.#buffer.length < headerSize + 4) break;
			const size = headerSize + this.#buffer.readInt32BE(headerSize);
			if (size < headerSize + 4 || this.#buffer.length < size) break;
			const message = Buffer.from(this.#buffer.subarray(0, size));
			this.#buffer = this.#buffer.subarray(size);
			if (this.#startup) {
				const code = message.length >= 8 ? message.readInt32BE(4) : 0;
				// SSL and GSS requests precede the real startup message.
				if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) this.#startup = false;
			}
			messages.push(message);
		}
		return messages;
	}
}

/** Follows the server's messages to know the transaction status of the last ReadyForQuery. */
class ReadyScanner {
	#pending: Buffer = Buffer.alloc(0);
	status: number | undefined;

	push(chunk: Uint8Array): void {
		let buffer = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : Buffer.from(chunk);
		while (buffer.length >= 5) {
			const size = 1 + buffer.readInt32BE(1);
			if (buffer.length < size) break;
			if (buffer[0] === READY_FOR_QUERY && size >= 6) this.status = buffer[5];
			buffer = buffer.subarray(size);
		}
		this.#pending = Buffer.from(buffer);
	}
}

interface Client {
	socket: net.Socket;
	reader: MessageReader;
	queue: Buffer[];
	closed: boolean;
	/** True from the first message of a statement until ReadyForQuery says the session is idle again. */
	busy: boolean;
	inTransaction: boolean;
}

export interface PgliteServer {
	readonly port: number;
	stop(): Promise<void>;
}

/**
 * Serves one PGlite database to many Postgres clients over TCP. PGlite has a
 * single session, so each client gets it exclusively from its first message
 * until the server reports the session idle (ReadyForQuery 'I'): a whole
 * extended-protocol batch (Parse … Sync) or a whole transaction runs without
 * another client's messages in between. pglite-socket's server interleaves at
 * message granularity, which mixes concurrent clients' unnamed statements and
 * portals (SQLSTATE 34000, wrong results); this one does not.
 */
export async function servePglite(db: PGlite, options: { host: string; port: number; maxConnections: number }): Promise<PgliteServer> {
	let owner: Client | undefined;
	let pumping = false;
	const waiting: Client[] = [];
	const clients = new Set<Client>();

	async function execute(client: Client, message: Buffer): Promise<void> {
		if (message.length === 8 && message.readInt32BE(4) === SSL_REQUEST) {
			client.socket.write("N");
			return;
		}
		if (message[0] === TERMINATE && message.length === 5) {
			client.socket.end();
			return;
		}
		client.busy = true;
		const scanner = new ReadyScanner();
		await db.runExclusive(() =>
			db.execProtocolRawStream(new Uint8Array(message), {
				onRawData: (data) => {
					scanner.push(data);
					if (!client.closed && data.length > 0) client.socket.write(data);
				},
			}),
		);
		if (scanner.status !== undefined) {
			client.inTransaction = scanner.status !== IDLE;
			client.busy = client.inTransaction;
		}
	}

	/** Leaves the session clean when its owner goes away mid-statement or mid-transaction. */
	async function release(client: Client): Promise<void> {
		try {
			if (client.busy) {
				await db.runExclusive(() => db.execProtocolRawStream(new Uint8Array(SYNC), { onRawData: () => {} }));
				if (client.inTransaction) await db.exec("ROLLBACK");
			}
		} catch {
			// The session is reset by the next client's statements either way.
		}
		client.busy = false;
		client.inTransaction = false;
	}

	/**
	 * The one loop that talks to PGlite: runs the owner's messages in order,
	 * keeps the session for it while it is busy, then hands it to the next
	 * client that has work.
	 */
	async function pump(): Promise<void> {
		if (pumping) return;
		pumping = true;
		try {
			for (;;) {
				if (!owner) {
					owner = waiting.shift();
					if (!owner) return;
				}
				const client = owner;
				if (client.closed) {
					await release(client);
					owner = undefined;
					continue;
				}
				const message = client.queue.shift();
				if (!message) {
					if (client.busy) return; // mid-statement or transaction: wait for the owner's next message
					owner = undefined;
					continue;
				}
				try {
					await execute(client, message);
				} catch {
					client.socket.destroy();
					client.closed = true;
				}
			}
		} finally {
			pumping = false;
		}
	}

	function schedule(client: Client): void {
		if (owner !== client && !waiting.includes(client)) waiting.push(client);
		void pump();
	}

	const server = net.createServer((socket) => {
		if (clients.size >= options.maxConnections) {
			socket.end();
			return;
		}
		socket.setNoDelay(true);
		const client: Client = { socket, reader: new MessageReader(), queue: [], closed: false, busy: false, inTransaction: false };
		clients.add(client);
		socket.on("data", (chunk: Buffer) => {
			const messages = client.reader.push(chunk);
			for (const message of messages) {
				if (message.length >= 8 && message.readInt32BE(4) === CANCEL_REQUEST) {
					socket.end();
					return;
				}
			}
			client.queue.push(...messages);
			if (messages.length > 0) schedule(client);
		});
		const close = () => {
			client.closed = true;
			clients.delete(client);
			const index = waiting.indexOf(client);
			if (index >= 0) waiting.splice(index, 1);
			void pump();
		};
		socket.on("close", close);
		socket.on("error", close);
	});

	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(options.port, options.host, () => resolve());
	});
	const address = server.address();
	return {
		port: typeof address === "object" && address ? address.port : options.port,
		stop: () =>
			new Promise<void>((resolve) => {
				for (const client of clients) client.socket.destroy();
				server.close(() => resolve());
			}),
	};
}
