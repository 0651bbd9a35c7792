import { DurableObject } from "cloudflare:workers";

/**
 * One instance per cart: its lines, its owner and its expiry. Storage is
 * SQLite; the schema is created before any request is let in. Line handling,
 * ownership and merging are added by the carts work.
 */
export class Cart extends DurableObject<Env> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.blockConcurrencyWhile(async () => {
			ctx.storage.sql.exec(`
				CREATE TABLE IF NOT EXISTS lines (
					sku TEXT PRIMARY KEY,
					quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99)
				);
			`);
		});
	}

	/** Number of distinct lines in the cart. */
	lineCount(): number {
		return this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM lines").one().n;
	}
}
