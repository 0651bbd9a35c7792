import { DurableObject } from "cloudflare:workers";

/** The ClientHolds object of one client key (limits/client.ts). */
export function clientHolds(env: Env, client: string): DurableObjectStub<ClientHolds> {
	return env.CLIENT_HOLDS.get(env.CLIENT_HOLDS.idFromName(client));
}

/** What `admit` answers: admitted, or refused with what the client holds already and when the first of it runs out. */
export type HoldAdmission = { ok: true } | { ok: false; held: number; max: number; retryAt: number };

/**
 * One instance per client (an IPv4 address or an IPv6 /64): the units its carts
 * hold and its unpaid orders reserve, one row per cart, each until it runs out.
 *
 * This is the strict count behind MAX_HELD_UNITS_PER_CLIENT. An approximate
 * limiter would let a burst of parallel holds from one client through, each
 * seeing the others not yet counted; here `admit` checks and records in one
 * synchronous step, so concurrent holds are admitted one after the other and
 * their sum never passes the cap.
 *
 * Rows are recorded before the stock is reserved (so a refused client takes
 * nothing) and forgotten when the cart gives its hold back; a row the Worker
 * failed to forget simply runs out with the reservation it stood for. The
 * alarm empties the object once nothing is held, so idle clients cost nothing.
 */
export class ClientHolds extends DurableObject<Env> {
	/** When the alarm is due, as far as this instance set it (0: not known, so the next hold sets it). */
	#alarmAt = 0;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.blockConcurrencyWhile(async () => this.#migrate());
	}

	#migrate(): void {
		this.ctx.storage.sql.exec(`
			CREATE TABLE IF NOT EXISTS holds (
				cart_id TEXT PRIMARY KEY,
				units INTEGER NOT NULL CHECK (units > 0),
				expires_at INTEGER NOT NULL
			)
		`);
	}

	/**
	 * Records that `cartId` holds `units` until `expiresAt`, replacing what the
	 * cart held before, if the client's other live rows leave room under `max`.
	 */
	admit(cartId: string, units: number, expiresAt: number, max: number): HoldAdmission {
		const now = Date.now();
		this.ctx.storage.sql.exec("DELETE FROM holds WHERE expires_at <= ?", now);
		const others = this.ctx.storage.sql
			.exec<{ held: number; first: number | null }>(
				"SELECT COALESCE(SUM(units), 0) AS held, MIN(expires_at) AS first FROM holds WHERE cart_id <> ?",
				cartId,
			)
			.one();
		if (others.held + units > max) {
			return { ok: false, held: others.held, max, retryAt: others.first ?? now };
		}
		this.ctx.storage.sql.exec(
			"INSERT INTO holds (cart_id, units, expires_at) VALUES (?, ?, ?) ON CONFLICT (cart_id) DO UPDATE SET units = excluded.units, expires_at = excluded.expires_at",
			cartId,
			units,
			expiresAt,
		);
		// Only a later expiry moves the alarm: most holds end before the one already scheduled.
		if (expiresAt > this.#alarmAt) {
			this.#alarmAt = expiresAt;
			void this.ctx.storage.setAlarm(expiresAt + 1000);
		}
		return { ok: true };
	}

	/** Forgets what `cartId` held (its stock went back, or became a paid order). */
	release(cartId: string): void {
		this.ctx.storage.sql.exec("DELETE FROM holds WHERE cart_id = ?", cartId);
	}

	override async alarm(): Promise<void> {
		this.ctx.storage.sql.exec("DELETE FROM holds WHERE expires_at <= ?", Date.now());
		const left = this.ctx.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM holds").one().n;
		if (left > 0) return this.#schedule();
		// Nothing held: drop the storage (the object then costs nothing) and be ready for the next hold.
		await this.ctx.storage.deleteAll();
		this.#alarmAt = 0;
		this.#migrate();
	}

	async #schedule(): Promise<void> {
		const last = this.ctx.storage.sql.exec<{ last: number | null }>("SELECT MAX(expires_at) AS last FROM holds").one().last;
		if (last === null) return;
		this.#alarmAt = last;
		await this.ctx.storage.setAlarm(last + 1000);
	}
}
