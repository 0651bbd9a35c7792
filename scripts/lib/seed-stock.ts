import { demoOpeningStock } from "./seed.ts";

/**
 * Sets the demo catalog's opening stock through the real admin adjust route,
 * so each SKU's InventoryItem object holds it and its ledger events reach
 * Postgres like any other change. The Idempotency-Key is fixed per SKU, so
 * running `npm run dev` again changes nothing.
 */
export async function seedDemoStock(baseUrl: string, token: string): Promise<{ adjusted: number; failures: string[] }> {
	const lines = demoOpeningStock().filter((line) => line.quantity > 0);
	const failures: string[] = [];
	let adjusted = 0;
	for (let i = 0; i < lines.length; i += 8) {
		await Promise.all(
			lines.slice(i, i + 8).map(async ({ sku, quantity }) => {
				const res = await fetch(`${baseUrl}/v1/admin/inventory/${sku}/adjust`, {
					method: "POST",
					headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "idempotency-key": `demo-opening-stock-${sku}` },
					body: JSON.stringify({ delta: quantity, reason: "opening stock" }),
				});
				if (res.ok) adjusted++;
				else failures.push(`${sku}: ${res.status}`);
			}),
		);
	}
	return { adjusted, failures };
}
