import type { FC } from "hono/jsx";

/** At or below this many units a badge says "Only n left" (app.js uses the same threshold and texts). */
export const LOW_STOCK = 5;

/** The badge text for `available` units, exactly as app.js renders live updates. */
export function stockText(available: number): string {
	if (available <= 0) return "Out of stock";
	return available <= LOW_STOCK ? `Only ${available} left` : `${available} in stock`;
}

export function stockLevel(available: number): "out" | "low" | "ok" {
	return available <= 0 ? "out" : available <= LOW_STOCK ? "low" : "ok";
}

/**
 * A stock badge rendered from the InventoryItem's figure and kept live by
 * app.js through `data-live-sku` (the SKU's WebSocket pushes every change).
 */
export const StockBadge: FC<{ sku: string; available: number }> = ({ sku, available }) => (
	<span class="badge stock-badge" data-live-sku={sku} data-available={String(available)} data-level={stockLevel(available)}>
		{stockText(available)}
	</span>
);
