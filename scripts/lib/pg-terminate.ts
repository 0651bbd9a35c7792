import { Buffer } from "node:buffer";

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const TERMINATE = 0x58;

/**
 * Follows the client's side of the Postgres protocol just far enough to see
 * its Terminate message. A real server hangs up on Terminate; PGlite's socket
 * server does not, and workerd does not close the WebSocket when the driver
 * asks, so without this every finished request would leave a connection open
 * until the embedded server's connection limit is reached.
 */
export class TerminateDetector {
	#pending: Buffer = Buffer.alloc(0);
	#skip = 0;
	#startupDone = false;

	/** Feeds client bytes; true once a Terminate message has been seen. */
	push(chunk: Buffer): boolean {
		let data = chunk;
		if (this.#skip > 0) {
			const skipped = Math.min(this.#skip, data.length);
			this.#skip -= skipped;
			data = data.subarray(skipped);
		}
		let buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, data]) : data;
		for (;;) {
			if (!this.#startupDone) {
				if (buf.length < 8) break;
				const length = buf.readInt32BE(0);
				const code = buf.readInt32BE(4);
				if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) this.#startupDone = true;
				if (buf.length < length) {
					this.#skip = length - buf.length;
					buf = Buffer.alloc(0);
					break;
				}
				buf = buf.subarray(length);
				continue;
			}
			if (buf.length < 5) break;
			if (buf[0] === TERMINATE) return true;
			const size = 1 + buf.readInt32BE(1);
			if (buf.length < size) {
				this.#skip = size - buf.length;
				buf = Buffer.alloc(0);
				break;
			}
			buf = buf.subarray(size);
		}
		this.#pending = Buffer.from(buf);
		return false;
	}
}
