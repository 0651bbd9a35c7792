import type { InventoryItem, ReserveResult } from "../../durable-objects/inventory-item.ts";

export interface Line {
	sku: string;
	quantity: number;
}

export interface ShortLine {
	sku: string;
	requested: number;
	available: number;
	short: number;
}

/** The InventoryItem for one SKU. */
export function inventoryItem(env: Env, sku: string): DurableObjectStub<InventoryItem> {
	return env.INVENTORY.get(env.INVENTORY.idFromName(sku));
}

/** Quantities of the same SKU summed, so one order never holds two reservations for one item. */
export function mergeLines(lines: readonly Line[]): Line[] {
	const totals = new Map<string, number>();
	for (const line of lines) totals.set(line.sku, (totals.get(line.sku) ?? 0) + line.quantity);
	return [...totals].map(([sku, quantity]) => ({ sku, quantity }));
}

/**
 * Reserves every line, all or nothing, under one reservation id (each SKU's
 * object keeps its own hold for it). If any line is short, what was taken is
 * released and the answer lists exactly the short lines and by how much.
 */
export async function reserveAll(
	env: Env,
	reservationId: string,
	lines: readonly Line[],
	ttlMs: number,
): Promise<{ ok: true; expiresAt: number } | { ok: false; short: ShortLine[] }> {
	const merged = mergeLines(lines);
	const results = await Promise.allSettled(
		merged.map((line) => inventoryItem(env, line.sku).reserve(line.sku, reservationId, line.quantity, ttlMs)),
	);
	const short: ShortLine[] = [];
	let failed = false;
	results.forEach((outcome, i) => {
		const line = merged[i] as Line;
		if (outcome.status === "rejected") {
			failed = true;
			return;
		}
		const result = outcome.value as ReserveResult;
		if (!result.ok) {
			failed = true;
			if (result.reason === "insufficient")
				short.push({ sku: line.sku, requested: line.quantity, available: result.available, short: result.short });
		}
	});
	if (failed) {
		// Only what may have been taken goes back: a line refused as short holds nothing, and in a
		// flash sale the refusals are most calls, all on one object.
		await releaseAll(
			env,
			reservationId,
			merged.filter((_, i) => {
				const outcome = results[i];
				return !(outcome?.status === "fulfilled" && !outcome.value.ok && outcome.value.reason === "insufficient");
			}),
		);
		const fault = results.find((r) => r.status === "rejected");
		if (fault && short.length === 0) throw (fault as PromiseRejectedResult).reason;
		return { ok: false, short };
	}
	const expiries = results.map((r) => ((r as PromiseFulfilledResult<ReserveResult>).value as { expiresAt: number }).expiresAt);
	return { ok: true, expiresAt: Math.min(...expiries) };
}

/** Releases the reservation on every line's SKU; safe to repeat. */
export async function releaseAll(env: Env, reservationId: string, lines: readonly Line[]): Promise<void> {
	await Promise.allSettled(mergeLines(lines).map((line) => inventoryItem(env, line.sku).release(line.sku, reservationId)));
}
