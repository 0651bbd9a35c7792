import { describe, expect, it } from "vitest";
import { Admission, AdmissionTimeoutError } from "../workers/db/admission.ts";
import { isDatabaseUnavailable } from "../workers/db/client.ts";

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
});
