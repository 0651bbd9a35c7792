import { describe, expect, it } from "vitest";
import { Admission, AdmissionTimeoutError } from "../workers/db/admission.ts";
import { connectTimeoutMs, HOLDER_PATIENCE, isDatabaseUnavailable } from "../workers/db/client.ts";

describe("database admission control", () => {
	it("lets at most `limit` holders in at once; the others wait for a release", async () => {
		const admission = new Admission(3, 5_000);
		let inside = 0;
		let peak = 0;
		await Promise.all(
			Array.from({ length: 20 }, async () => {
				await admission.acquire();
				inside++;
				peak = Math.max(peak, inside);
				await new Promise((resolve) => setTimeout(resolve, 5));
				inside--;
				admission.release();
			}),
		);
		expect(peak).toBe(3);
		expect(admission.active).toBe(0);
	});

	it("a waiter that gets no slot in time fails as 'database unavailable' (a 503), and holds nothing", async () => {
		const admission = new Admission(1, 50);
		await admission.acquire();
		const waited = admission.acquire();
		await expect(waited).rejects.toBeInstanceOf(AdmissionTimeoutError);
		expect(isDatabaseUnavailable(await waited.catch((err) => err))).toBe(true);
		admission.release();
		expect(admission.active).toBe(0);
		await admission.acquire();
		expect(admission.active).toBe(1);
	});

	it("a waiter may bring its own patience: one that holds stock outwaits the usual timeout", async () => {
		const admission = new Admission(1, 30);
		await admission.acquire();
		const usual = admission.acquire();
		const patient = admission.acquire(5_000);
		await expect(usual).rejects.toBeInstanceOf(AdmissionTimeoutError);
		await new Promise((resolve) => setTimeout(resolve, 60));
		admission.release();
		await patient;
		expect(admission.active).toBe(1);
		expect(admission.waiting).toBe(0);
	});

	it("admits waiters in arrival order: a newcomer does not overtake anyone already waiting", async () => {
		const admission = new Admission(2, 5_000);
		await admission.acquire();
		await admission.acquire();
		const order: number[] = [];
		const waiters = Array.from({ length: 6 }, (_, i) => admission.acquire().then(() => order.push(i)));
		expect(admission.waiting).toBe(6);
		// A slot freed while others wait goes to the oldest waiter, not to a request that arrives now.
		admission.release();
		const late = admission.acquire().then(() => order.push(99));
		expect(admission.waiting).toBe(7);
		// One slot free at a time: the next is freed only once the last was taken. (Two freed at once
		// admit the first two waiters in whichever order they poll, which is not what this checks.)
		for (let admitted = 1; admitted <= 7; admitted++) {
			while (order.length < admitted) await new Promise((resolve) => setTimeout(resolve, 5));
			admission.release();
		}
		await Promise.all([...waiters, late]);
		expect(order).toEqual([0, 1, 2, 3, 4, 5, 99]);
		expect(admission.waiting).toBe(0);
	});

	it("a waiter that times out leaves the queue, so those behind it move up", async () => {
		const admission = new Admission(1, 40);
		await admission.acquire();
		const first = admission.acquire();
		await expect(first).rejects.toBeInstanceOf(AdmissionTimeoutError);
		expect(admission.waiting).toBe(0);
		admission.release();
		await admission.acquire();
		expect(admission.active).toBe(1);
	});

	it("a stock holder's slot and connection share one budget; other requests wait for each apart", () => {
		const usual = { admissionMs: 10_000, connectMs: 5_000 };
		expect(connectTimeoutMs(usual, 0)).toBe(5_000);
		expect(connectTimeoutMs(usual, 9_000)).toBe(5_000);
		// Admitted at once, a holder may take its whole budget to connect; admitted late, what is left.
		expect(connectTimeoutMs(HOLDER_PATIENCE, 0)).toBe(45_000);
		expect(connectTimeoutMs(HOLDER_PATIENCE, 4_000)).toBe(41_000);
		expect(connectTimeoutMs(HOLDER_PATIENCE, 44_900)).toBe(1_000);
		expect(connectTimeoutMs({ admissionMs: 45_000, connectMs: 15_000, totalMs: 45_000 }, 0)).toBe(15_000);
		// Never more than a client's usual minute in all.
		expect(HOLDER_PATIENCE.totalMs).toBeLessThanOrEqual(60_000);
	});
});
