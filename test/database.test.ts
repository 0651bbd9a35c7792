import { eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { deadLetters } from "../workers/db/schema.ts";
import { withDb } from "./helpers.ts";

describe("the database under concurrent requests", () => {
	it("keeps concurrent statements apart: each request reads back exactly its own rows", async () => {
		const run = crypto.randomUUID();
		const seen = await Promise.all(
			Array.from({ length: 30 }, (_, i) =>
				withDb(async (db) => {
					await db.primary.insert(deadLetters).values({ queue: "isolation", messageId: `${run}-${i}`, body: { i }, attempts: i + 1 });
					const rows = await db.primary
						.select({ body: deadLetters.body, attempts: deadLetters.attempts })
						.from(deadLetters)
						.where(eq(deadLetters.messageId, `${run}-${i}`));
					return rows.map((r) => [(r.body as { i: number }).i, r.attempts]);
				}),
			),
		);
		expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => [[i, i + 1]]));
	});

	it("rolls back a failed transaction while others commit", async () => {
		const run = crypto.randomUUID();
		const outcomes = await Promise.allSettled(
			Array.from({ length: 10 }, (_, i) =>
				withDb((db) =>
					db.primary.transaction(async (tx) => {
						await tx.insert(deadLetters).values({ queue: "isolation", messageId: `${run}-${i}`, body: { i }, attempts: 1 });
						if (i % 2) throw new Error("abort");
					}),
				),
			),
		);
		expect(outcomes.filter((o) => o.status === "rejected")).toHaveLength(5);
		const rows = await withDb((db) =>
			db.primary
				.select({ id: deadLetters.messageId })
				.from(deadLetters)
				.where(like(deadLetters.messageId, `${run}-%`)),
		);
		expect(rows.map((r) => Number(r.id.split("-").pop())).sort((a, b) => a - b)).toEqual([0, 2, 4, 6, 8]);
	});
});
