import { DurableObject } from "cloudflare:workers";
import { envelope } from "../workers/queues/envelope.ts";
import { currentBookmark, type RestoreRefusal, type RestoreTarget, restoreTo } from "./pitr.ts";

/** What reserve() answers: the reservation held, or how many units are short. */
export type ReserveResult =
	| { ok: true; reservationId: string; quantity: number; expiresAt: number; available: number }
	| { ok: false; reason: "insufficient"; available: number; short: number }
	| { ok: false; reason: "conflict" | "committed" };

export type CommitResult = { ok: true; quantity: number; alreadyCommitted: boolean } | { ok: false; reason: "not_found" | "expired" };

/** Where an InventoryItem's storage stands, for point-in-time recovery (pitrState). */
export interface InventoryPitrState {
	bookmark: string;
	seq: number;
	onHand: number;
	available: number;
	/** The last restore this object resumed from (pitrResume), if any. */
	lastRestore: { undoBookmark: string; resumedAt: number; onHandDelta: number } | null;
}

/** What pitrResume answers: the object's figures after the restore, and the on-hand change it recorded. */
export interface InventoryResumeResult {
	onHand: number;
	available: number;
	seq: number;
	onHandDelta: number;
	replayed: boolean;
}

export type AdjustResult =
	| { ok: true; onHand: number; available: number; replayed: boolean }
	| { ok: false; reason: "below_reserved"; onHand: number; reserved: number }
	| { ok: false; reason: "key_reused" };

/** What figures() answers: the object's counts and its event sequence, read in one step. */
export interface StockFigures {
	sku: string;
	onHand: number;
	reserved: number;
	available: number;
	/** Units of every committed sale (a restock is an adjustment of on hand, so a sale is never undone). */
	sold: number;
	/** Events recorded so far; the ledger and stock_levels name theirs by it. */
	seq: number;
}

const DEFAULT_LOW_STOCK_THRESHOLD = 5;

interface StockRow {
	sku: string;
	on_hand: number;
	/** Units held by live reservations. */
	reserved: number;
	low_threshold: number;
	low_alerted: number;
	seq: number;
	[key: string]: SqlStorageValue;
}

/**
 * One instance per SKU: the only authority on that SKU's availability.
 *
 * Model: `on_hand` counts sellable units; live reservations hold some of them
 * (available = on_hand − reserved); committing a reservation turns it into a
 * sale and takes its units off `on_hand`. So on_hand never goes below what is
 * reserved, and an adjustment that would is refused.
 *
 * Every method reads and writes SQLite synchronously, with no network call in
 * between, so each is one atomic step however many requests arrive. Each change
 * also writes its ledger event into an outbox table in the same step; the
 * outbox is sent to the `orders` queue afterwards and retried by the alarm if
 * the queue refuses, so no event is lost and none is sent before its change.
 */
export class InventoryItem extends DurableObject<Env> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.blockConcurrencyWhile(async () => {
			ctx.storage.sql.exec(`
				CREATE TABLE IF NOT EXISTS stock (
					id INTEGER PRIMARY KEY CHECK (id = 1),
					sku TEXT NOT NULL DEFAULT '',
					on_hand INTEGER NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
					low_threshold INTEGER NOT NULL DEFAULT ${DEFAULT_LOW_STOCK_THRESHOLD},
					low_alerted INTEGER NOT NULL DEFAULT 0,
					seq INTEGER NOT NULL DEFAULT 0
				);
				INSERT OR IGNORE INTO stock (id) VALUES (1);
				CREATE TABLE IF NOT EXISTS reservations (
					id TEXT PRIMARY KEY,
					quantity INTEGER NOT NULL CHECK (quantity > 0),
					expires_at INTEGER NOT NULL
				);
				CREATE TABLE IF NOT EXISTS sales (
					reservation_id TEXT PRIMARY KEY,
					quantity INTEGER NOT NULL,
					committed_at INTEGER NOT NULL
				);
				CREATE TABLE IF NOT EXISTS adjustments (
					idempotency_key TEXT PRIMARY KEY,
					delta INTEGER NOT NULL,
					reason TEXT NOT NULL,
					result TEXT NOT NULL
				);
				CREATE TABLE IF NOT EXISTS outbox (
					id INTEGER PRIMARY KEY AUTOINCREMENT,
					queue TEXT NOT NULL,
					body TEXT NOT NULL
				);
			`);
		});
	}

	/**
	 * The stock row and what live reservations hold, in one statement: every
	 * statement is a call into the storage layer, and the hot SKU of a sale
	 * runs these for every shopper, one after another.
	 */
	#stock(): StockRow {
		return this.ctx.storage.sql
			.exec<StockRow>(
				"SELECT sku, on_hand, (SELECT coalesce(sum(quantity), 0) FROM reservations) AS reserved, low_threshold, low_alerted, seq FROM stock WHERE id = 1",
			)
			.one();
	}

	/** Whether the SKU is written down (it is after the first call of this instance). */
	#bound = false;
	/**
	 * No reservation expires before this (ms), or undefined when not known: a
	 * lower bound kept in memory, so most calls skip looking for expired
	 * reservations. Lowered by every new reservation, recomputed after a sweep.
	 */
	#nextExpiry: number | undefined;

	/** The SKU this object serves; set on first use so events can name it. */
	#bind(sku: string): void {
		if (this.#bound) return;
		this.ctx.storage.sql.exec("UPDATE stock SET sku = ? WHERE id = 1 AND sku = ''", sku);
		this.#bound = true;
	}

	/** Releases reservations past their expiry, each with its own event; answers how many it released. */
	#expire(now: number): number {
		if (this.#nextExpiry !== undefined && now < this.#nextExpiry) return 0;
		const expired = this.ctx.storage.sql
			.exec<{ id: string; quantity: number }>("SELECT id, quantity FROM reservations WHERE expires_at <= ?", now)
			.toArray();
		for (const reservation of expired) {
			this.ctx.storage.sql.exec("DELETE FROM reservations WHERE id = ?", reservation.id);
			this.#record("reservation.expired", { reservation_id: reservation.id, quantity: reservation.quantity, on_hand_delta: 0 });
		}
		this.#nextExpiry = this.#earliestExpiry() ?? Number.POSITIVE_INFINITY;
		return expired.length;
	}

	/** Writes an event to the outbox (same step as the change) and tracks low-stock crossings. */
	#record(type: string, data: Record<string, unknown>): void {
		const stock = this.#stock();
		const seq = stock.seq + 1;
		const available = stock.on_hand - stock.reserved;
		this.ctx.storage.sql.exec("UPDATE stock SET seq = ? WHERE id = 1", seq);
		const event = envelope(`inv:${stock.sku}:${seq}`, `inventory.${type}`, {
			sku: stock.sku,
			seq,
			on_hand: stock.on_hand,
			available,
			...data,
		});
		this.ctx.storage.sql.exec("INSERT INTO outbox (queue, body) VALUES ('orders', ?)", JSON.stringify(event));
		if (available < stock.low_threshold && !stock.low_alerted) {
			this.ctx.storage.sql.exec("UPDATE stock SET low_alerted = 1 WHERE id = 1");
			const alert = envelope(`inv:${stock.sku}:${seq}:low`, "inventory.low_stock", {
				sku: stock.sku,
				available,
				threshold: stock.low_threshold,
			});
			this.ctx.storage.sql.exec("INSERT INTO outbox (queue, body) VALUES ('notifications', ?)", JSON.stringify(alert));
		} else if (available >= stock.low_threshold && stock.low_alerted) {
			this.ctx.storage.sql.exec("UPDATE stock SET low_alerted = 0 WHERE id = 1");
		}
		this.#broadcast(stock.sku, available);
	}

	/** What a live subscriber is sent: `{ sku, available }`. */
	#level(): string {
		const stock = this.#stock();
		return JSON.stringify({ sku: stock.sku, available: stock.on_hand - stock.reserved });
	}

	/** Pushes the new availability to every live subscriber (hibernating WebSockets). */
	#broadcast(sku: string, available: number): void {
		const message = JSON.stringify({ sku, available });
		for (const socket of this.ctx.getWebSockets()) {
			try {
				socket.send(message);
			} catch {
				// A closing socket; its close handler cleans up.
			}
		}
	}

	#flushing = false;

	/**
	 * Sends pending events in order; what the queue refuses stays for the alarm
	 * to retry. One sender at a time (a concurrent caller's events are picked up
	 * by the running loop), so an event is not sent twice by two requests.
	 */
	async #flush(): Promise<void> {
		if (this.#flushing) return;
		this.#flushing = true;
		try {
			for (;;) {
				const row = this.ctx.storage.sql
					.exec<{ id: number; queue: string; body: string }>("SELECT id, queue, body FROM outbox ORDER BY id LIMIT 1")
					.toArray()[0];
				if (!row) return;
				const queue = row.queue === "notifications" ? this.env.NOTIFICATIONS_QUEUE : this.env.ORDERS_QUEUE;
				try {
					await queue.send(JSON.parse(row.body), { contentType: "json" });
				} catch {
					await this.#schedule(Date.now() + 5000);
					return;
				}
				this.ctx.storage.sql.exec("DELETE FROM outbox WHERE id = ?", row.id);
			}
		} finally {
			this.#flushing = false;
		}
	}

	#earliestExpiry(): number | undefined {
		return this.ctx.storage.sql.exec<{ t: number | null }>("SELECT min(expires_at) AS t FROM reservations").one().t ?? undefined;
	}

	/** Sets the alarm to the earliest of `at` and the next reservation expiry. */
	async #schedule(at?: number): Promise<void> {
		const next = this.#earliestExpiry();
		const candidates = [at, next].filter((t): t is number => typeof t === "number");
		if (candidates.length === 0) return;
		const earliest = Math.min(...candidates);
		const current = await this.ctx.storage.getAlarm();
		if (current === null || earliest < current) await this.ctx.storage.setAlarm(earliest);
	}

	/**
	 * Holds `quantity` units for `ttlMs`. Idempotent per reservation id: the
	 * same id again returns the same hold (or `conflict` with another quantity).
	 *
	 * The answer is decided and written in one synchronous step and returned
	 * without waiting for the queue: this is the hottest call in a flash sale,
	 * where every shopper's checkout passes through this one object. A refusal
	 * changes nothing, so it awaits nothing at all; a new hold sets the expiry
	 * alarm, and its ledger event leaves the outbox in the background (the
	 * alarm retries it if that send fails or the object is evicted first).
	 */
	async reserve(sku: string, reservationId: string, quantity: number, ttlMs: number): Promise<ReserveResult> {
		const now = Date.now();
		this.#bind(sku);
		let changed = this.#expire(now) > 0;
		const known = this.ctx.storage.sql
			.exec<{ quantity: number | null; expires_at: number | null; sold: number }>(
				`SELECT (SELECT quantity FROM reservations WHERE id = ?) AS quantity,
					(SELECT expires_at FROM reservations WHERE id = ?) AS expires_at,
					EXISTS (SELECT 1 FROM sales WHERE reservation_id = ?) AS sold`,
				reservationId,
				reservationId,
				reservationId,
			)
			.one();
		const stock = this.#stock();
		const available = stock.on_hand - stock.reserved;
		let result: ReserveResult;
		if (known.quantity !== null && known.expires_at !== null) {
			result =
				known.quantity === quantity
					? { ok: true, reservationId, quantity, expiresAt: known.expires_at, available }
					: { ok: false, reason: "conflict" };
		} else if (known.sold) {
			result = { ok: false, reason: "committed" };
		} else if (available < quantity) {
			result = { ok: false, reason: "insufficient", available, short: quantity - available };
		} else {
			const expiresAt = now + ttlMs;
			this.ctx.storage.sql.exec("INSERT INTO reservations (id, quantity, expires_at) VALUES (?, ?, ?)", reservationId, quantity, expiresAt);
			if (this.#nextExpiry !== undefined) this.#nextExpiry = Math.min(this.#nextExpiry, expiresAt);
			this.#record("reserved", { reservation_id: reservationId, quantity, on_hand_delta: 0 });
			result = { ok: true, reservationId, quantity, expiresAt, available: available - quantity };
			changed = true;
		}
		if (changed) {
			await this.#schedule();
			this.ctx.waitUntil(this.#flush());
		}
		return result;
	}

	/** Gives a reservation's units back; unknown or already released ids are a no-op. */
	async release(sku: string, reservationId: string): Promise<{ released: boolean }> {
		this.#bind(sku);
		this.#expire(Date.now());
		const row = this.ctx.storage.sql
			.exec<{ quantity: number }>("SELECT quantity FROM reservations WHERE id = ?", reservationId)
			.toArray()[0];
		if (row) {
			this.ctx.storage.sql.exec("DELETE FROM reservations WHERE id = ?", reservationId);
			this.#record("released", { reservation_id: reservationId, quantity: row.quantity, on_hand_delta: 0 });
		}
		await this.#flush();
		return { released: Boolean(row) };
	}

	/** Turns a live reservation into a sale. Idempotent: committing twice sells once. */
	async commit(sku: string, reservationId: string): Promise<CommitResult> {
		this.#bind(sku);
		const now = Date.now();
		const sold = this.ctx.storage.sql
			.exec<{ quantity: number }>("SELECT quantity FROM sales WHERE reservation_id = ?", reservationId)
			.toArray()[0];
		if (sold) return { ok: true, quantity: sold.quantity, alreadyCommitted: true };
		const row = this.ctx.storage.sql
			.exec<{ quantity: number; expires_at: number }>("SELECT quantity, expires_at FROM reservations WHERE id = ?", reservationId)
			.toArray()[0];
		this.#expire(now);
		if (!row) return { ok: false, reason: "not_found" };
		if (row.expires_at <= now) {
			await this.#flush();
			return { ok: false, reason: "expired" };
		}
		this.ctx.storage.sql.exec("DELETE FROM reservations WHERE id = ?", reservationId);
		this.ctx.storage.sql.exec(
			"INSERT INTO sales (reservation_id, quantity, committed_at) VALUES (?, ?, ?)",
			reservationId,
			row.quantity,
			now,
		);
		this.ctx.storage.sql.exec("UPDATE stock SET on_hand = on_hand - ? WHERE id = 1", row.quantity);
		this.#record("committed", { reservation_id: reservationId, quantity: row.quantity, on_hand_delta: -row.quantity });
		await this.#flush();
		return { ok: true, quantity: row.quantity, alreadyCommitted: false };
	}

	/**
	 * Changes on-hand stock by `delta` (receiving goods, counting, damage).
	 * Refused when it would leave fewer units than are reserved. Idempotent per
	 * key: a repeated key returns the first result and changes nothing.
	 */
	async adjust(sku: string, delta: number, reason: string, idempotencyKey: string): Promise<AdjustResult> {
		this.#bind(sku);
		this.#expire(Date.now());
		const previous = this.ctx.storage.sql
			.exec<{ delta: number; reason: string; result: string }>(
				"SELECT delta, reason, result FROM adjustments WHERE idempotency_key = ?",
				idempotencyKey,
			)
			.toArray()[0];
		if (previous) {
			await this.#flush();
			// The same key with another request is a client bug, not a replay.
			if (previous.delta !== delta || previous.reason !== reason) return { ok: false, reason: "key_reused" };
			return { ...(JSON.parse(previous.result) as AdjustResult), replayed: true } as AdjustResult;
		}
		const stock = this.#stock();
		const reserved = stock.reserved;
		let result: AdjustResult;
		if (stock.on_hand + delta < reserved) {
			result = { ok: false, reason: "below_reserved", onHand: stock.on_hand, reserved };
		} else {
			this.ctx.storage.sql.exec("UPDATE stock SET on_hand = on_hand + ? WHERE id = 1", delta);
			this.#record("adjusted", { quantity: delta, reason, on_hand_delta: delta, idempotency_key: idempotencyKey });
			result = { ok: true, onHand: stock.on_hand + delta, available: stock.on_hand + delta - reserved, replayed: false };
		}
		this.ctx.storage.sql.exec(
			"INSERT INTO adjustments (idempotency_key, delta, reason, result) VALUES (?, ?, ?, ?)",
			idempotencyKey,
			delta,
			reason,
			JSON.stringify(result),
		);
		await this.#flush();
		return result;
	}

	/** Units that can be reserved now. */
	async available(sku: string): Promise<{ sku: string; available: number; onHand: number; reserved: number }> {
		this.#bind(sku);
		this.#expire(Date.now());
		await this.#flush();
		const { on_hand: onHand, reserved } = this.#stock();
		return { sku, available: onHand - reserved, onHand, reserved };
	}

	/** Units on hand for this SKU. */
	onHand(): number {
		return this.#stock().on_hand;
	}

	/**
	 * The figures stock reconciliation compares (workers/inventory/reconcile.ts),
	 * read synchronously in one step and changing nothing: no expiry sweep, no
	 * send. A hold past its expiry still counts as reserved until its release
	 * is recorded, exactly as the last event left it.
	 */
	figures(): StockFigures {
		const stock = this.#stock();
		const sold = this.ctx.storage.sql.exec<{ n: number }>("SELECT coalesce(sum(quantity), 0) AS n FROM sales").one().n;
		return {
			sku: stock.sku,
			onHand: stock.on_hand,
			reserved: stock.reserved,
			available: stock.on_hand - stock.reserved,
			sold,
			seq: stock.seq,
		};
	}

	// Maintenance: point-in-time recovery (durable-objects/pitr.ts), for the admin routes of ops/restore.ts.

	/** A bookmark of the current state, and the figures a restore moves. */
	async pitrState(): Promise<InventoryPitrState> {
		const bookmark = await currentBookmark(this.ctx);
		const stock = this.#stock();
		// Read only, like the rest of this method: a CREATE TABLE, even of a table that exists, is a write.
		const hasRestores =
			this.ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'restores'").toArray().length > 0;
		const last = hasRestores
			? this.ctx.storage.sql
					.exec<{ undo_bookmark: string; resumed_at: number; on_hand_delta: number }>(
						"SELECT undo_bookmark, resumed_at, on_hand_delta FROM restores ORDER BY resumed_at DESC LIMIT 1",
					)
					.toArray()[0]
			: undefined;
		return {
			bookmark,
			seq: stock.seq,
			onHand: stock.on_hand,
			available: stock.on_hand - stock.reserved,
			lastRestore: last ? { undoBookmark: last.undo_bookmark, resumedAt: last.resumed_at, onHandDelta: last.on_hand_delta } : null,
		};
	}

	/**
	 * Restores this object's storage to `target` and restarts it (pitr.ts), if
	 * it has recorded no event since the caller read `expectedSeq`: pitrResume
	 * moves the counter back to that figure, so it must be the last one.
	 */
	async pitrRestore(target: RestoreTarget, expectedSeq: number): Promise<RestoreRefusal> {
		return restoreTo(this.ctx, target, () => {
			const { seq } = this.#stock();
			return seq === expectedSeq
				? undefined
				: `The object recorded ${seq - expectedSeq} event(s) since it was read; nothing was restored. Try again.`;
		});
	}

	/**
	 * After a restore, once per undo bookmark (a repeat answers the first result):
	 * moves the event counter back to where it was before the restore, since
	 * ledger rows are keyed by `inv:<sku>:<seq>` and stock levels follow the
	 * highest seq, so events of a rewound counter would be dropped as already
	 * seen; then records what the restore did to on-hand stock as one
	 * `adjusted` event (reason `point_in_time_restore`), so the ledger and
	 * stock_levels follow the restored figures.
	 */
	async pitrResume(sku: string, before: { undoBookmark: string; seq: number; onHand: number }): Promise<InventoryResumeResult> {
		this.#bind(sku);
		const restores = this.#restores();
		const done = restores.exec<{ result: string }>("SELECT result FROM restores WHERE undo_bookmark = ?", before.undoBookmark).toArray()[0];
		if (done) return { ...(JSON.parse(done.result) as InventoryResumeResult), replayed: true };
		const restored = this.#stock();
		if (restored.seq < before.seq) this.ctx.storage.sql.exec("UPDATE stock SET seq = ? WHERE id = 1", before.seq);
		const delta = restored.on_hand - before.onHand;
		this.#record("adjusted", {
			quantity: delta,
			reason: "point_in_time_restore",
			on_hand_delta: delta,
			undo_bookmark: before.undoBookmark,
		});
		const stock = this.#stock();
		const result: InventoryResumeResult = {
			onHand: stock.on_hand,
			available: stock.on_hand - stock.reserved,
			seq: stock.seq,
			onHandDelta: delta,
			replayed: false,
		};
		restores.exec(
			"INSERT INTO restores (undo_bookmark, resumed_at, on_hand_delta, result) VALUES (?, ?, ?, ?)",
			before.undoBookmark,
			Date.now(),
			delta,
			JSON.stringify(result),
		);
		this.#nextExpiry = undefined;
		await this.#schedule();
		await this.#flush();
		return result;
	}

	/** The restores this object resumed from; made on first use (most objects never need it). */
	#restores(): SqlStorage {
		this.ctx.storage.sql.exec(
			"CREATE TABLE IF NOT EXISTS restores (undo_bookmark TEXT PRIMARY KEY, resumed_at INTEGER NOT NULL, on_hand_delta INTEGER NOT NULL, result TEXT NOT NULL)",
		);
		return this.ctx.storage.sql;
	}

	/** Releases expired reservations and retries unsent events; reschedules itself while any remain. */
	override async alarm(): Promise<void> {
		this.#expire(Date.now());
		await this.#flush();
		const pending = this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
		await this.#schedule(pending > 0 ? Date.now() + 5000 : undefined);
	}

	/**
	 * Live stock: upgrades to a hibernatable WebSocket and sends the current
	 * availability at once. At most MAX_LIVE_SOCKETS_PER_SKU listen at a time
	 * (each costs memory here and a send per change); past that, 503: the page
	 * keeps the badge it was rendered with.
	 */
	override async fetch(request: Request): Promise<Response> {
		if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
		const max = Number(this.env.MAX_LIVE_SOCKETS_PER_SKU);
		if (this.ctx.getWebSockets().length >= (Number.isInteger(max) && max > 0 ? max : 500)) {
			return new Response("too many live listeners", { status: 503 });
		}
		const sku = new URL(request.url).searchParams.get("sku") ?? "";
		if (sku) this.#bind(sku);
		this.#expire(Date.now());
		const pair = new WebSocketPair();
		this.ctx.acceptWebSocket(pair[1]);
		pair[1].send(this.#level());
		return new Response(null, { status: 101, webSocket: pair[0] });
	}

	override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
		// Subscribers only listen; "ping" gets the current figure, anything else is ignored.
		if (message === "ping") socket.send(this.#level());
	}

	override async webSocketClose(socket: WebSocket, code: number): Promise<void> {
		socket.close(code === 1005 ? 1000 : code, "closing");
	}
}
