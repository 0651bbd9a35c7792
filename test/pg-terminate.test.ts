import { Buffer } from "node:buffer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TerminateDetector } from "../scripts/lib/pg-terminate.ts";

function startup(): Buffer {
	const body = Buffer.from("\0\x03\0\0user\0postgres\0database\0test\0\0", "latin1");
	const head = Buffer.alloc(4);
	head.writeInt32BE(body.length + 4);
	return Buffer.concat([head, body]);
}

function message(type: string, payload: Buffer): Buffer {
	const head = Buffer.alloc(5);
	head.write(type, 0, "latin1");
	head.writeInt32BE(payload.length + 4, 1);
	return Buffer.concat([head, payload]);
}

const TERMINATE = message("X", Buffer.alloc(0));

/** Splits a byte stream at the given cut points, as a network would. */
function chunks(bytes: Buffer, cuts: number[]): Buffer[] {
	const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
	const out: Buffer[] = [];
	let from = 0;
	for (const p of [...points, bytes.length]) {
		if (p > from) out.push(bytes.subarray(from, p));
		from = p;
	}
	return out;
}

// Payloads that look like a Terminate message inside other messages must not fool it.
const payload = fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constant(new Uint8Array([0x58, 0, 0, 0, 4]))).map((a) => Buffer.from(a));
const messages = fc.array(
	fc.tuple(fc.constantFrom("Q", "P", "B", "E", "S", "D"), payload).map(([t, p]) => message(t, p)),
	{ maxLength: 8 },
);

describe("the proxy's Terminate detection", () => {
	it("fires exactly when the Terminate message has fully arrived, however the stream is split", () => {
		fc.assert(
			fc.property(messages, fc.array(fc.nat(), { maxLength: 10 }), (msgs, cuts) => {
				const before = Buffer.concat([startup(), ...msgs]);
				const stream = Buffer.concat([before, TERMINATE]);
				const detector = new TerminateDetector();
				let consumed = 0;
				let firedAt: number | undefined;
				for (const chunk of chunks(stream, cuts)) {
					consumed += chunk.length;
					if (detector.push(chunk)) {
						firedAt = consumed;
						break;
					}
				}
				expect(firedAt).toBe(stream.length);
			}),
		);
	});

	it("never fires for a session that does not terminate", () => {
		fc.assert(
			fc.property(messages, fc.array(fc.nat(), { maxLength: 10 }), (msgs, cuts) => {
				const detector = new TerminateDetector();
				for (const chunk of chunks(Buffer.concat([startup(), ...msgs]), cuts)) expect(detector.push(chunk)).toBe(false);
			}),
		);
	});
});
