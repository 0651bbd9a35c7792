import { DurableObject } from "cloudflare:workers";
import type { RateLimitState } from "../workers/domain/errors.ts";
import { releaseAll, reserveAll, type ShortLine } from "../workers/inventory/reservations.ts";
import { type LimitPolicy, policyLimits } from "../workers/limits/rate-limits.ts";
import { queueNotification } from "../workers/queues/producers.ts";
import { clientHolds, type HoldAdmission } from "./client-holds.ts";
import { currentBookmark, type RestoreRefusal, type RestoreTarget, restoreTo } from "./pitr.ts";

/** A cart is dropped after this long without a change. */
export const CART_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** A signed-in shopper's cart with items, untouched this long, earns one reminder. */
export const ABANDONED_AFTER_MS = 24 * 60 * 60 * 1000;
/** How soon the alarm retries a reminder the queue refused. */
const OUTBOX_RETRY_MS = 60 * 1000;
/** The table's ceiling on one line; MAX_UNITS_PER_SKU sets the cap shoppers meet, at most this. */
export const MAX_LINE_QUANTITY = 99;
export const MAX_LINES = 50;

/** Units of one SKU a cart may hold: MAX_UNITS_PER_SKU (default 10), within 1..99. */
export function maxUnitsPerSku(env: Env): number {
	return configured(env.MAX_UNITS_PER_SKU, 10, MAX_LINE_QUANTITY);
}

/** Stock one cart may hold in total per HOLD_BUDGET_WINDOW_MS: MAX_CART_HOLD_SECONDS (default 30 minutes). */
export function maxCartHoldMs(env: Env): number {
	return configured(env.MAX_CART_HOLD_SECONDS, 1800, 7 * 24 * 3600) * 1000;
}

/** Units one client may hold across its carts and unpaid orders: MAX_HELD_UNITS_PER_CLIENT (default 20). */
export function maxHeldUnitsPerClient(env: Env): number {
	return configured(env.MAX_HELD_UNITS_PER_CLIENT, 20, 100_000);
}

function configured(raw: string | undefined, fallback: number, ceiling: number): number {
	const n = Number(raw);
	return Number.isInteger(n) && n >= 1 ? Math.min(n, ceiling) : fallback;
}

/** The hold-time budget counts the holds of the last day: a cart cannot keep stock from others day after day. */
export const HOLD_BUDGET_WINDOW_MS = 24 * 60 * 60 * 1000;
/** A hold shorter than this is not worth taking: the cart's budget is spent. */
const MIN_HOLD_MS = 60 * 1000;

/** Who owns a cart: a guest, known only by the SHA-256 hash of its token, or a user. */
export type CartOwner = { kind: "guest"; tokenHash: string } | { kind: "user"; userId: string };

/** What a request can prove about itself; it may hold both a cart token and a session. */
export interface CartCaller {
	userId?: string;
	tokenHash?: string;
}

export interface CartLine {
	sku: string;
	quantity: number;
}

/** The stored cart, without prices: the Worker prices it from Postgres on every read. */
export interface CartState {
	id: string;
	owner: "guest" | "user";
	userId: string | null;
	lines: CartLine[];
	/** The market the cart shops in (catalog/markets.ts); null for a cart from before markets: the default market. */
	market: string | null;
	updatedAt: number;
	expiresAt: number;
}

export interface MergeOutcome {
	/** SKUs whose summed quantity was cut to the per-line cap. */
	capped: string[];
	/** SKUs left out because the cart already had the maximum number of lines. */
	dropped: string[];
	/** True when this guest cart had already been merged here (a retried merge adds nothing). */
	replayed: boolean;
}

export type CartFailure =
	| "not_found"
	| "exists"
	| "line_not_found"
	| "quantity_limit"
	| "line_limit"
	| "changed"
	| "rate_limited"
	| "not_sold_in_market";

/** Who holds stock, for the per-client cap: the client key (limits/client.ts) and its cap. */
export interface Holder {
	client: string;
	maxUnits: number;
}

/**
 * Stock held for a cart's lines (`POST /v1/carts/{id}/hold`): one
 * reservation per SKU under `orderId`, the id the order placed from this cart
 * will have, so checkout adopts the units instead of reserving them again.
 */
export interface CartStockHold {
	orderId: string;
	lines: CartLine[];
	expiresAt: number;
}

export type HoldResult =
	| { ok: true; hold: CartStockHold; created: boolean }
	| { ok: false; reason: "not_found" | "changed" | "empty" }
	| { ok: false; reason: "short"; short: ShortLine[] }
	| { ok: false; reason: "hold_time"; retryAt: number }
	| RateRefusal
	| { ok: false; reason: "client_limit"; admission: Extract<HoldAdmission, { ok: false }> };

/** How long a cart remembers a checkout's idempotency key: as long as the idempotency store replays it. */
export const CHECKOUT_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * What `beginCheckout` answers: a key seen before; the unpaid order this cart
 * already has (placed under `key`, `startedAt`), which a new checkout answers
 * instead of placing a second; or a new checkout with the cart (and the hold it adopts).
 */
export type CheckoutStart =
	| { kind: "seen"; orderId: string; cart: CartState }
	| { kind: "pending"; orderId: string; key: string; startedAt: number; cart: CartState }
	| { kind: "new"; orderId: string; cart: CartState; hold: CartStockHold | null };

/** A hold with less than this left is not adopted by checkout: it is given back and the stock reserved afresh. */
export const HOLD_ADOPTION_MARGIN_MS = 60 * 1000;

/**
 * Every method answers a result object rather than throwing: domain refusals
 * are values the Worker maps to problem+json, and anything thrown across RPC is
 * then a genuine fault (a generic 500).
 */
export type CartResult<T = CartState> =
	| { ok: true; cart: T }
	| { ok: false; reason: CartFailure; quantity?: number; rateLimit?: RateLimitState };

/** What the cart answers when its own count of one policy is spent (see `#admit`). */
type RateRefusal = { ok: false; reason: "rate_limited"; rateLimit: RateLimitState };

interface MetaRow {
	cart_id: string;
	owner_kind: "guest" | "user";
	owner: string;
	updated_at: number;
	expires_at: number;
	abandon_at: number | null;
	[key: string]: SqlStorageValue;
}

/**
 * One instance per cart: its lines, its owner and its expiry.
 *
 * Ownership is checked inside every method, in the same synchronous step as
 * the read or change it guards, so a cart closed or merged between two calls
 * cannot be touched by the second. Methods never await anything before their
 * writes (holdStock alone, which checks again after it), so concurrent
 * requests apply one after the other and none is lost.
 *
 * One alarm serves two deadlines, set to the earlier: inactivity expiry
 * (deletes everything) and, for user carts with items, the abandoned-cart
 * reminder, written to an outbox in the same step that clears its deadline and
 * then sent, so it is queued once per last change however often the alarm runs.
 */
export class Cart extends DurableObject<Env> {
	/** Requests this window per policy (`#admit`); in memory: a cart busy enough to be limited stays loaded. */
	readonly #counts = new Map<LimitPolicy, { window: number; count: number }>();

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.blockConcurrencyWhile(async () => this.#migrate());
	}

	#migrate(): void {
		this.ctx.storage.sql.exec(`
			CREATE TABLE IF NOT EXISTS meta (
				id INTEGER PRIMARY KEY CHECK (id = 1),
				cart_id TEXT NOT NULL,
				owner_kind TEXT NOT NULL CHECK (owner_kind IN ('guest', 'user')),
				owner TEXT NOT NULL,
				created_at INTEGER NOT NULL,
				updated_at INTEGER NOT NULL,
				expires_at INTEGER NOT NULL,
				abandon_at INTEGER
			);
			CREATE TABLE IF NOT EXISTS lines (
				sku TEXT PRIMARY KEY,
				quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99)
			);
			CREATE TABLE IF NOT EXISTS merged (
				guest_cart_id TEXT PRIMARY KEY
			);
			CREATE TABLE IF NOT EXISTS settled (
				order_id TEXT PRIMARY KEY
			);
			CREATE TABLE IF NOT EXISTS outbox (
				id TEXT PRIMARY KEY,
				type TEXT NOT NULL,
				data TEXT NOT NULL
			);
			CREATE TABLE IF NOT EXISTS hold (
				id INTEGER PRIMARY KEY CHECK (id = 1),
				order_id TEXT NOT NULL,
				lines TEXT NOT NULL,
				expires_at INTEGER NOT NULL
			);
			CREATE TABLE IF NOT EXISTS checkouts (
				key TEXT PRIMARY KEY,
				order_id TEXT NOT NULL,
				started_at INTEGER NOT NULL
			);
			CREATE INDEX IF NOT EXISTS checkouts_started ON checkouts (started_at);
			CREATE TABLE IF NOT EXISTS pending_order (
				id INTEGER PRIMARY KEY CHECK (id = 1),
				key TEXT NOT NULL,
				order_id TEXT NOT NULL,
				started_at INTEGER NOT NULL,
				until INTEGER NOT NULL
			);
			CREATE TABLE IF NOT EXISTS hold_budget (
				id INTEGER PRIMARY KEY CHECK (id = 1),
				since INTEGER NOT NULL,
				used_ms INTEGER NOT NULL,
				open_started INTEGER,
				open_until INTEGER
			);
			CREATE TABLE IF NOT EXISTS holder (
				id INTEGER PRIMARY KEY CHECK (id = 1),
				client TEXT NOT NULL
			);
			CREATE TABLE IF NOT EXISTS market (
				id INTEGER PRIMARY KEY CHECK (id = 1),
				market_id TEXT NOT NULL
			);
		`);
	}

	/**
	 * The per-cart request limit (RATE_LIMITS, the same policies the Worker
	 * counts per client): counted here, strictly and without a call of its own,
	 * since every such request reaches this object anyway. Windows are aligned
	 * to the clock like the Rate Limiting binding's.
	 */
	#admit(policy: LimitPolicy): RateRefusal | undefined {
		const { limit, period } = policyLimits(this.env, policy);
		const now = Date.now();
		const window = Math.floor(now / (period * 1000));
		const current = this.#counts.get(policy);
		const count = current?.window === window ? current.count : 0;
		if (count >= limit) {
			const resetSeconds = Math.max(1, Math.ceil(((window + 1) * period * 1000 - now) / 1000));
			return { ok: false, reason: "rate_limited", rateLimit: { policy, limit, period, remaining: 0, resetSeconds } };
		}
		this.#counts.set(policy, { window, count: count + 1 });
		return undefined;
	}

	#hold(): CartStockHold | undefined {
		const row = this.ctx.storage.sql
			.exec<{ order_id: string; lines: string; expires_at: number }>("SELECT order_id, lines, expires_at FROM hold WHERE id = 1")
			.toArray()[0];
		return row ? { orderId: row.order_id, lines: JSON.parse(row.lines) as CartLine[], expiresAt: row.expires_at } : undefined;
	}

	/** The hold, if it still covers exactly the cart's lines and has at least `marginMs` to run. */
	#liveHold(lines: readonly CartLine[], marginMs = 0): CartStockHold | undefined {
		const hold = this.#hold();
		return hold && hold.expiresAt > Date.now() + marginMs && sameLines(hold.lines, lines) ? hold : undefined;
	}

	/**
	 * Forgets the hold and, unless the caller gives its units back itself, does
	 * so in the background (they expire on their own if that fails).
	 */
	#dropHold(release: "here" | "by-caller" = "here", holder: "forget" | "keep" = "forget"): CartStockHold | undefined {
		const hold = this.#hold();
		if (!hold) return undefined;
		this.ctx.storage.sql.exec("DELETE FROM hold WHERE id = 1");
		this.#closeHoldSpan();
		if (holder === "forget") this.#releaseHolder();
		if (release === "here") this.ctx.waitUntil(releaseAll(this.env, hold.orderId, hold.lines).catch(() => {}));
		return hold;
	}

	/**
	 * Stock time this cart has used within the budget window: the closed spans
	 * plus the open one so far. A window older than HOLD_BUDGET_WINDOW_MS
	 * starts afresh.
	 */
	#holdTimeUsed(now: number): number {
		const row = this.ctx.storage.sql
			.exec<{ since: number; used_ms: number; open_started: number | null; open_until: number | null }>(
				"SELECT since, used_ms, open_started, open_until FROM hold_budget WHERE id = 1",
			)
			.toArray()[0];
		if (!row || row.since <= now - HOLD_BUDGET_WINDOW_MS) return 0;
		const open = row.open_started !== null && row.open_until !== null ? Math.max(0, Math.min(now, row.open_until) - row.open_started) : 0;
		return row.used_ms + open;
	}

	/** Starts the span of a new hold (closing any open one), in a fresh window if the last one is over. */
	#openHoldSpan(now: number, until: number): void {
		this.ctx.storage.sql.exec(
			`INSERT INTO hold_budget (id, since, used_ms, open_started, open_until) VALUES (1, ?, ?, ?, ?)
			 ON CONFLICT (id) DO UPDATE SET since = CASE WHEN since <= ? THEN excluded.since ELSE since END,
			   used_ms = excluded.used_ms, open_started = excluded.open_started, open_until = excluded.open_until`,
			now,
			this.#holdTimeUsed(now),
			now,
			until,
			now - HOLD_BUDGET_WINDOW_MS,
		);
	}

	/** Ends the open span now: the hold went back early (or became an order's reservation). */
	#closeHoldSpan(): void {
		const now = Date.now();
		const used = this.#holdTimeUsed(now);
		this.ctx.storage.sql.exec("UPDATE hold_budget SET used_ms = ?, open_started = NULL, open_until = NULL WHERE id = 1", used);
	}

	/** Tells the client's ClientHolds object this cart holds nothing any more (its row would run out anyway). */
	#releaseHolder(): void {
		const holder = this.ctx.storage.sql.exec<{ client: string }>("SELECT client FROM holder WHERE id = 1").toArray()[0];
		if (!holder) return;
		this.ctx.storage.sql.exec("DELETE FROM holder WHERE id = 1");
		const meta = this.#meta();
		if (!meta) return;
		const stub = clientHolds(this.env, holder.client);
		this.ctx.waitUntil(stub.release(meta.cart_id).catch(() => {}));
	}

	#meta(): MetaRow | undefined {
		return this.ctx.storage.sql
			.exec<MetaRow>("SELECT cart_id, owner_kind, owner, updated_at, expires_at, abandon_at FROM meta WHERE id = 1")
			.toArray()[0];
	}

	/** The cart if the caller owns it; a cart that is not theirs looks exactly like one that does not exist. */
	#owned(caller: CartCaller): MetaRow | undefined {
		const meta = this.#meta();
		if (!meta || meta.expires_at <= Date.now()) return undefined;
		const proof = meta.owner_kind === "user" ? caller.userId : caller.tokenHash;
		return proof !== undefined && proof === meta.owner ? meta : undefined;
	}

	#lines(): CartLine[] {
		return this.ctx.storage.sql.exec<{ sku: string; quantity: number }>("SELECT sku, quantity FROM lines ORDER BY rowid").toArray();
	}

	#market(): string | null {
		return this.ctx.storage.sql.exec<{ market_id: string }>("SELECT market_id FROM market WHERE id = 1").toArray()[0]?.market_id ?? null;
	}

	#setMarket(market: string): void {
		this.ctx.storage.sql.exec(
			"INSERT INTO market (id, market_id) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET market_id = excluded.market_id",
			market,
		);
	}

	#state(meta = this.#meta() as MetaRow): CartState {
		return {
			id: meta.cart_id,
			owner: meta.owner_kind,
			userId: meta.owner_kind === "user" ? meta.owner : null,
			lines: this.#lines(),
			market: this.#market(),
			updatedAt: meta.updated_at,
			expiresAt: meta.expires_at,
		};
	}

	/**
	 * Records a change: pushes both deadlines out and points the alarm at the
	 * earlier one. A hold no longer matches changed lines, so it is given back.
	 */
	#touch(): void {
		this.#dropHold();
		const meta = this.#meta() as MetaRow;
		// Strictly increasing, so two changes in one millisecond still name different reminders.
		const now = Math.max(Date.now(), meta.updated_at + 1);
		const hasLines = this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM lines").one().n > 0;
		const abandonAt = meta.owner_kind === "user" && hasLines ? now + ABANDONED_AFTER_MS : null;
		this.ctx.storage.sql.exec(
			"UPDATE meta SET updated_at = ?, expires_at = ?, abandon_at = ? WHERE id = 1",
			now,
			now + CART_TTL_MS,
			abandonAt,
		);
		this.#schedule();
	}

	#schedule(): void {
		const meta = this.#meta();
		if (!meta) return;
		const pending = this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n > 0;
		const deadlines = [meta.expires_at, meta.abandon_at, pending ? Date.now() + OUTBOX_RETRY_MS : null].filter(
			(t): t is number => t !== null,
		);
		this.ctx.storage.setAlarm(Math.min(...deadlines));
	}

	/** Starts the cart in `market`. Called once, by the Worker that chose its id. */
	create(cartId: string, owner: CartOwner, market?: string): CartResult {
		if (this.#meta()) return { ok: false, reason: "exists" };
		if (market !== undefined) this.#setMarket(market);
		const now = Date.now();
		this.ctx.storage.sql.exec(
			"INSERT INTO meta (id, cart_id, owner_kind, owner, created_at, updated_at, expires_at) VALUES (1, ?, ?, ?, ?, ?, ?)",
			cartId,
			owner.kind,
			owner.kind === "user" ? owner.userId : owner.tokenHash,
			now,
			now,
			now + CART_TTL_MS,
		);
		this.#schedule();
		return { ok: true, cart: this.#state() };
	}

	/**
	 * Moves the cart to another market (the shopper chose another country).
	 * Lines stay; the Worker prices them in the new market, and a line not
	 * sold there shows as unavailable. A hold is given back like any change.
	 */
	setMarket(caller: CartCaller, market: string): CartResult {
		const limited = this.#admit("cart_writes");
		if (limited) return limited;
		if (!this.#owned(caller)) return { ok: false, reason: "not_found" };
		if (this.#market() === market) return { ok: true, cart: this.#state() };
		this.#setMarket(market);
		this.#touch();
		return { ok: true, cart: this.#state() };
	}

	/** Whether the caller owns this cart. */
	authorize(caller: CartCaller): boolean {
		return this.#owned(caller) !== undefined;
	}

	snapshot(caller: CartCaller): CartResult {
		const meta = this.#owned(caller);
		if (!meta) return { ok: false, reason: "not_found" };
		return { ok: true, cart: this.#state(meta) };
	}

	/**
	 * Holds stock for the cart's lines under `orderId` for `ttlMs`
	 * (`POST /v1/carts/{id}/hold`). A live hold that covers the lines is
	 * answered as it is (`created` false).
	 *
	 * The one method that awaits before writing: it reserves in the
	 * InventoryItems, during which other requests may change the cart. So it
	 * checks again afterwards, and gives the reservation back if the cart
	 * changed (`changed`), went away, or another request recorded a matching
	 * hold first (that one is answered). A stale hold it replaces is given back.
	 * A fault of the InventoryItems is thrown (the Worker answers 503).
	 *
	 * Two caps come first. The cart's hold time (MAX_CART_HOLD_SECONDS per
	 * day, renewals included) shortens the hold to what is left of it and
	 * refuses once less than a minute is (`hold_time`). The holder's client
	 * must have room for the units under its cap (`client_limit`): its
	 * ClientHolds object records them before any stock is taken, and forgets
	 * them if the stock cannot be had.
	 */
	async holdStock(caller: CartCaller, orderId: string, ttlMs: number, holder: Holder): Promise<HoldResult> {
		const limited = this.#admit("holds");
		if (limited) return limited;
		const meta = this.#owned(caller);
		if (!meta) return { ok: false, reason: "not_found" };
		const lines = this.#lines();
		if (lines.length === 0) return { ok: false, reason: "empty" };
		const live = this.#liveHold(lines);
		if (live) return { ok: true, hold: live, created: false };
		const now = Date.now();
		const budgetLeft = maxCartHoldMs(this.env) - this.#holdTimeUsed(now);
		if (budgetLeft < MIN_HOLD_MS) return { ok: false, reason: "hold_time", retryAt: this.#budgetResetAt(now) };
		const holdMs = Math.min(ttlMs, budgetLeft);
		const units = lines.reduce((sum, line) => sum + line.quantity, 0);
		const admission = await clientHolds(this.env, holder.client).admit(meta.cart_id, units, now + holdMs, holder.maxUnits);
		if (!admission.ok) return { ok: false, reason: "client_limit", admission };
		const forgetAdmission = () => clientHolds(this.env, holder.client).release(meta.cart_id);
		const held = await reserveAll(this.env, orderId, lines, holdMs).catch(async (err) => {
			await forgetAdmission().catch(() => {});
			throw err;
		});
		if (!held.ok) {
			await forgetAdmission();
			return { ok: false, reason: "short", short: held.short };
		}
		const hold: CartStockHold = { orderId, lines, expiresAt: held.expiresAt };
		const giveBack = async () => {
			await releaseAll(this.env, orderId, lines);
			await forgetAdmission();
		};
		if (!this.#owned(caller)) {
			await giveBack();
			return { ok: false, reason: "not_found" };
		}
		if (!sameLines(this.#lines(), lines)) {
			await giveBack();
			return { ok: false, reason: "changed" };
		}
		const previous = this.#hold();
		if (previous && previous.expiresAt > Date.now() && sameLines(previous.lines, lines)) {
			await giveBack();
			return { ok: true, hold: previous, created: false };
		}
		// The stale hold's units go back; the client's count already stands for the new one.
		if (previous) this.#dropHold("here", "keep");
		this.ctx.storage.sql.exec(
			"INSERT INTO hold (id, order_id, lines, expires_at) VALUES (1, ?, ?, ?)",
			hold.orderId,
			JSON.stringify(hold.lines),
			hold.expiresAt,
		);
		this.#recordHolder(holder.client);
		this.#openHoldSpan(Date.now(), hold.expiresAt);
		return { ok: true, hold, created: true };
	}

	/** When the oldest hold time of the budget window stops counting. */
	#budgetResetAt(now: number): number {
		const since = this.ctx.storage.sql.exec<{ since: number }>("SELECT since FROM hold_budget WHERE id = 1").toArray()[0]?.since;
		return (since ?? now) + HOLD_BUDGET_WINDOW_MS;
	}

	/**
	 * Forgets the hold and answers it: the caller gives its units back (so it
	 * answers once they are back); if it fails to, they expire.
	 */
	releaseHold(caller: CartCaller): CartResult<{ released: CartStockHold | null }> {
		const limited = this.#admit("holds");
		if (limited) return limited;
		if (!this.#owned(caller)) return { ok: false, reason: "not_found" };
		return { ok: true, cart: { released: this.#dropHold("by-caller") ?? null } };
	}

	/**
	 * The first step of a checkout with idempotency key `key`. A key this cart
	 * has seen before (within CHECKOUT_KEY_TTL_MS) is answered `seen` with the
	 * order id it was given, and nothing changes: that checkout owns the
	 * stock, and the idempotency store decides what the retry gets (the stored
	 * answer, 409 while it runs, a resumption). A new key is recorded in the
	 * same step with the id its order will have, and answered with the cart
	 * and its hold handed over if the hold covers exactly the lines with a
	 * minute or more to run (its order id then becomes the key's). The hold
	 * leaves the cart in that step, so two checkouts cannot both adopt it;
	 * from then on the checkout owns the units (it releases them if it fails).
	 * A hold that does not fit is given back.
	 */
	beginCheckout(caller: CartCaller, key: string, orderId: string, pendingMs: number, client: string): CartResult<CheckoutStart> {
		const meta = this.#owned(caller);
		if (!meta) return { ok: false, reason: "not_found" };
		const cart = this.#state(meta);
		const now = Date.now();
		const known = this.ctx.storage.sql
			.exec<{ order_id: string }>("SELECT order_id FROM checkouts WHERE key = ? AND started_at > ?", key, now - CHECKOUT_KEY_TTL_MS)
			.toArray()[0];
		if (known) return { ok: true, cart: { kind: "seen", orderId: known.order_id, cart } };
		// Only new keys count against the cart: a retry of a key it has seen is the store's to answer, cheaply.
		const limited = this.#admit("checkouts");
		if (limited) return limited;
		const pending = this.ctx.storage.sql
			.exec<{ key: string; order_id: string; started_at: number }>(
				"SELECT key, order_id, started_at FROM pending_order WHERE id = 1 AND until > ?",
				now,
			)
			.toArray()[0];
		if (pending) {
			return { ok: true, cart: { kind: "pending", orderId: pending.order_id, key: pending.key, startedAt: pending.started_at, cart } };
		}
		const hold = this.#liveHold(cart.lines, HOLD_ADOPTION_MARGIN_MS);
		if (hold) {
			// The units become the order's reservation: they stop counting against the cart's hold time.
			this.ctx.storage.sql.exec("DELETE FROM hold WHERE id = 1");
			this.#closeHoldSpan();
		} else {
			this.#dropHold();
			// The checkout reserves afresh, counted against this client (orders/stock.ts admitCheckoutUnits).
			this.#recordHolder(client);
		}
		const id = hold?.orderId ?? orderId;
		this.ctx.storage.sql.exec("DELETE FROM checkouts WHERE started_at <= ?", now - CHECKOUT_KEY_TTL_MS);
		this.ctx.storage.sql.exec(
			"INSERT INTO checkouts (key, order_id, started_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET order_id = excluded.order_id, started_at = excluded.started_at",
			key,
			id,
			now,
		);
		this.ctx.storage.sql.exec(
			"INSERT INTO pending_order (id, key, order_id, started_at, until) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET key = excluded.key, order_id = excluded.order_id, started_at = excluded.started_at, until = excluded.until",
			key,
			id,
			now,
			now + pendingMs,
		);
		return { ok: true, cart: { kind: "new", orderId: id, cart, hold: hold ?? null } };
	}

	/**
	 * Forgets the cart's unpaid order `orderId`: it was cancelled, expired or
	 * never placed, so the next checkout may place a new one.
	 */
	clearPendingOrder(orderId: string): void {
		this.ctx.storage.sql.exec("DELETE FROM pending_order WHERE order_id = ?", orderId);
	}

	/** Records which client's count holds the cart's units (see `Holder`), so release and payment can free it. */
	#recordHolder(client: string): void {
		this.ctx.storage.sql.exec(
			"INSERT INTO holder (id, client) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET client = excluded.client",
			client,
		);
	}

	/**
	 * Forgets a checkout key that placed nothing and holds nothing (its stock
	 * was short), so a retry with it is a new attempt, answered by the
	 * InventoryItems alone again.
	 */
	forgetCheckout(key: string, orderId: string): void {
		this.ctx.storage.sql.exec("DELETE FROM checkouts WHERE key = ? AND order_id = ?", key, orderId);
		this.clearPendingOrder(orderId);
	}

	/** Adds units to a line (creating it); refuses past MAX_UNITS_PER_SKU units or 50 lines. */
	/**
	 * `soldIn`: the markets the Worker found the SKU priced in (null standing
	 * for the default market, which a cart from before markets shops in); a
	 * SKU not sold in this cart's market is refused. Omitted, nothing is checked.
	 */
	addLine(caller: CartCaller, sku: string, quantity: number, soldIn?: readonly (string | null)[]): CartResult {
		const limited = this.#admit("cart_writes");
		if (limited) return limited;
		if (!this.#owned(caller)) return { ok: false, reason: "not_found" };
		if (soldIn && !soldIn.includes(this.#market())) return { ok: false, reason: "not_sold_in_market" };
		const current = this.#quantity(sku);
		if (current === undefined && this.#lineCount() >= MAX_LINES) return { ok: false, reason: "line_limit" };
		if ((current ?? 0) + quantity > maxUnitsPerSku(this.env)) return { ok: false, reason: "quantity_limit", quantity: current ?? 0 };
		this.ctx.storage.sql.exec(
			"INSERT INTO lines (sku, quantity) VALUES (?, ?) ON CONFLICT (sku) DO UPDATE SET quantity = quantity + excluded.quantity",
			sku,
			quantity,
		);
		this.#touch();
		return { ok: true, cart: this.#state() };
	}

	/** Sets a line's quantity; 0 removes it. Only lines already in the cart can be set. */
	/** `soldIn` as for `addLine`, checked when the quantity is raised above zero. */
	setQuantity(caller: CartCaller, sku: string, quantity: number, soldIn?: readonly (string | null)[]): CartResult {
		const limited = this.#admit("cart_writes");
		if (limited) return limited;
		if (!this.#owned(caller)) return { ok: false, reason: "not_found" };
		if (this.#quantity(sku) === undefined) return { ok: false, reason: "line_not_found" };
		if (quantity > 0 && soldIn && !soldIn.includes(this.#market())) return { ok: false, reason: "not_sold_in_market" };
		if (quantity > maxUnitsPerSku(this.env)) return { ok: false, reason: "quantity_limit" };
		if (quantity <= 0) this.ctx.storage.sql.exec("DELETE FROM lines WHERE sku = ?", sku);
		else this.ctx.storage.sql.exec("UPDATE lines SET quantity = ? WHERE sku = ?", quantity, sku);
		this.#touch();
		return { ok: true, cart: this.#state() };
	}

	/** Removes a line; removing one that is not there changes nothing and succeeds. */
	removeLine(caller: CartCaller, sku: string): CartResult {
		const limited = this.#admit("cart_writes");
		if (limited) return limited;
		if (!this.#owned(caller)) return { ok: false, reason: "not_found" };
		if (this.#quantity(sku) !== undefined) {
			this.ctx.storage.sql.exec("DELETE FROM lines WHERE sku = ?", sku);
			this.#touch();
		}
		return { ok: true, cart: this.#state() };
	}

	/**
	 * Merges a guest cart's lines into this one. The rule: quantities of the
	 * same SKU are summed and capped at MAX_UNITS_PER_SKU; new SKUs are taken in the guest
	 * cart's order while there is room, and those beyond the 50-line cap are
	 * dropped. A guest cart id is merged at most once, so a retry (say, after
	 * the guest cart failed to close) adds nothing twice.
	 */
	mergeFrom(
		caller: CartCaller,
		guestCartId: string,
		lines: readonly CartLine[],
		market?: string | null,
	): CartResult<CartState & MergeOutcome> {
		const limited = this.#admit("cart_writes");
		if (limited) return limited;
		if (!this.#owned(caller)) return { ok: false, reason: "not_found" };
		const outcome: MergeOutcome = { capped: [], dropped: [], replayed: false };
		const seen = this.ctx.storage.sql.exec("SELECT 1 FROM merged WHERE guest_cart_id = ?", guestCartId).toArray().length > 0;
		if (seen) return { ok: true, cart: { ...this.#state(), ...outcome, replayed: true } };
		// An empty cart takes the market the shopper was shopping in as a guest; one with lines keeps its own.
		if (market && this.#lineCount() === 0) this.#setMarket(market);
		const cap = maxUnitsPerSku(this.env);
		for (const line of lines) {
			const current = this.#quantity(line.sku);
			if (current === undefined && this.#lineCount() >= MAX_LINES) {
				outcome.dropped.push(line.sku);
				continue;
			}
			const total = (current ?? 0) + line.quantity;
			if (total > cap) outcome.capped.push(line.sku);
			this.ctx.storage.sql.exec(
				"INSERT INTO lines (sku, quantity) VALUES (?, ?) ON CONFLICT (sku) DO UPDATE SET quantity = excluded.quantity",
				line.sku,
				Math.min(total, cap),
			);
		}
		this.ctx.storage.sql.exec("INSERT INTO merged (guest_cart_id) VALUES (?)", guestCartId);
		this.#touch();
		return { ok: true, cart: { ...this.#state(), ...outcome } };
	}

	/**
	 * Takes a paid order's lines out of the cart. Called by the orders consumer,
	 * not on behalf of a shopper, so it checks no owner. Only the ordered
	 * quantities go: what the shopper added after checking out stays. Once per
	 * order, however often the payment event is delivered.
	 */
	settle(orderId: string, lines: readonly CartLine[]): { settled: boolean } {
		if (!this.#meta()) return { settled: false };
		if (this.ctx.storage.sql.exec("SELECT 1 FROM settled WHERE order_id = ?", orderId).toArray().length > 0) return { settled: false };
		for (const line of lines) {
			this.ctx.storage.sql.exec("DELETE FROM lines WHERE sku = ? AND quantity <= ?", line.sku, line.quantity);
			this.ctx.storage.sql.exec(
				"UPDATE lines SET quantity = quantity - ? WHERE sku = ? AND quantity > ?",
				line.quantity,
				line.sku,
				line.quantity,
			);
		}
		this.ctx.storage.sql.exec("INSERT INTO settled (order_id) VALUES (?)", orderId);
		// Paid: the order is no longer pending, and its units are sold, not held.
		this.clearPendingOrder(orderId);
		this.#releaseHolder();
		this.#touch();
		return { settled: true };
	}

	/** Deletes the cart for good (after a merge, or a completed checkout). */
	async close(caller: CartCaller): Promise<CartResult<null>> {
		if (!this.#owned(caller)) return { ok: false, reason: "not_found" };
		await this.#destroy();
		return { ok: true, cart: null };
	}

	/** Number of distinct lines in the cart. */
	lineCount(): number {
		return this.#lineCount();
	}

	/** Maintenance: this cart's current storage bookmark, for point-in-time recovery (pitr.ts, ops/restore.ts). */
	async pitrState(): Promise<{ bookmark: string }> {
		return { bookmark: await currentBookmark(this.ctx) };
	}

	/** Maintenance: restores this cart's storage to `target` and restarts it (pitr.ts). */
	async pitrRestore(target: RestoreTarget): Promise<RestoreRefusal> {
		return restoreTo(this.ctx, target);
	}

	#lineCount(): number {
		return this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM lines").one().n;
	}

	#quantity(sku: string): number | undefined {
		return this.ctx.storage.sql.exec<{ quantity: number }>("SELECT quantity FROM lines WHERE sku = ?", sku).toArray()[0]?.quantity;
	}

	async #destroy(): Promise<void> {
		this.#dropHold();
		await this.ctx.storage.deleteAlarm();
		await this.ctx.storage.deleteAll();
		// deleteAll drops the tables too; this instance may still be asked (and must answer 404).
		this.#migrate();
	}

	override async alarm(): Promise<void> {
		const meta = this.#meta();
		if (!meta) return;
		const now = Date.now();
		if (meta.expires_at <= now) {
			await this.#destroy();
			return;
		}
		if (meta.abandon_at !== null && meta.abandon_at <= now) {
			const lines = this.#lines();
			if (meta.owner_kind === "user" && lines.length > 0) {
				const id = `cart.abandoned:${meta.cart_id}:${meta.updated_at}`;
				const data = {
					cart_id: meta.cart_id,
					user_id: meta.owner,
					item_count: lines.reduce((n, line) => n + line.quantity, 0),
					lines,
					last_change_at: new Date(meta.updated_at).toISOString(),
				};
				this.ctx.storage.sql.exec(
					"INSERT OR IGNORE INTO outbox (id, type, data) VALUES (?, 'cart.abandoned', ?)",
					id,
					JSON.stringify(data),
				);
			}
			this.ctx.storage.sql.exec("UPDATE meta SET abandon_at = NULL WHERE id = 1");
		}
		await this.#flush();
		this.#schedule();
	}

	/** Sends the pending reminders; what the queue refuses stays for the next alarm. */
	async #flush(): Promise<void> {
		const pending = this.ctx.storage.sql.exec<{ id: string; type: string; data: string }>("SELECT id, type, data FROM outbox").toArray();
		for (const event of pending) {
			try {
				await queueNotification(this.env, event.id, event.type, JSON.parse(event.data));
			} catch {
				return;
			}
			this.ctx.storage.sql.exec("DELETE FROM outbox WHERE id = ?", event.id);
		}
	}
}

/** Whether two sets of lines hold the same SKUs in the same quantities, in any order. */
function sameLines(a: readonly CartLine[], b: readonly CartLine[]): boolean {
	if (a.length !== b.length) return false;
	const quantities = new Map(a.map((line) => [line.sku, line.quantity]));
	return b.every((line) => quantities.get(line.sku) === line.quantity);
}
