import { DurableObject } from "cloudflare:workers";

/**
 * One instance per SKU: the only authority on that SKU's availability.
 * Storage is SQLite; the schema is created before any request is let in.
 * Reservations, sales and live subscribers are added by the inventory work.
 */
export class InventoryItem extends DurableObject<Env> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.blockConcurrencyWhile(async () => {
			ctx.storage.sql.exec(`
				CREATE TABLE IF NOT EXISTS stock (
					id INTEGER PRIMARY KEY CHECK (id = 1),
					on_hand INTEGER NOT NULL DEFAULT 0 CHECK (on_hand >= 0)
				);
				INSERT OR IGNORE INTO stock (id, on_hand) VALUES (1, 0);
			`);
		});
	}

	/** Units on hand for this SKU. */
	onHand(): number {
		const row = this.ctx.storage.sql.exec<{ on_hand: number }>("SELECT on_hand FROM stock WHERE id = 1").one();
		return row.on_hand;
	}
}
