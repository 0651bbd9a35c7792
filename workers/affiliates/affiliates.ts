import { and, asc, eq, gt, sql } from "drizzle-orm";
import { recordAudit } from "../catalog/audit.ts";
import type { Db, Executor } from "../db/client.ts";
import { isUniqueViolation } from "../db/client.ts";
import { affiliates } from "../db/schema.ts";
import { decodeCursor, encodeCursor, invalidCursor } from "../domain/cursor.ts";
import { DomainError, notFound } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";

/**
 * Affiliates: partners whose referral links (`<shop>/?ref=CODE`) bring
 * shoppers. The storefront keeps the code of the last link a shopper followed
 * in a first-party cookie; checkout turns it into the order's affiliate
 * (`attributedAffiliate`). The commission an attributed order earns, and what
 * refunds take back of it, are in commissions.ts; the admin report in
 * report.ts. Admin writes are audited in the write's transaction, as every
 * admin write is (catalog/audit.ts).
 */

/** The shape of a code, as the `affiliates_code_format` constraint has it: upper case, 2 to 32 characters. */
export const AFFILIATE_CODE = /^[A-Z0-9][A-Z0-9_-]{1,31}$/;

/** Most affiliates one admin list page shows. */
export const MAX_AFFILIATE_PAGE = 100;

export type AffiliateRow = typeof affiliates.$inferSelect;

/** An affiliate as admins see it, with the link to hand them. */
export interface AffiliateView {
	id: string;
	code: string;
	name: string;
	email: string | null;
	commission_bp: number;
	active: boolean;
	referral_url: string;
	created_at: string;
	updated_at: string;
}

export interface NewAffiliate {
	code: string;
	name: string;
	email?: string | null | undefined;
	commission_bp: number;
	active?: boolean | undefined;
}

/** What an admin may change. The code is fixed: links carrying it are out in the world. */
export interface AffiliateChange {
	name?: string | undefined;
	email?: string | null | undefined;
	commission_bp?: number | undefined;
	active?: boolean | undefined;
}

/** Who is making an admin change, for the audit log. */
export interface AffiliateActor {
	userId: string;
	requestId?: string | undefined;
}

/** Where referral links point: the storefront's address (`PUBLIC_BASE_URL`). */
type SiteEnv = { PUBLIC_BASE_URL: string };

/**
 * A code as links and cookies carry it, in the one spelling codes are stored
 * in (links are typed by people, so letter case does not matter); null when
 * it cannot be a code at all.
 */
export function normalizeAffiliateCode(text: string | null | undefined): string | null {
	const code = (text ?? "").trim().toUpperCase();
	return AFFILIATE_CODE.test(code) ? code : null;
}

/** The referral link of a code: the shop's home page with `?ref=`. */
export function referralUrl(env: SiteEnv, code: string): string {
	const site = env.PUBLIC_BASE_URL.replace(/\/+$/, "");
	return `${site}/?ref=${encodeURIComponent(code)}`;
}

export function affiliateView(env: SiteEnv, row: AffiliateRow): AffiliateView {
	return {
		id: row.id,
		code: row.code,
		name: row.name,
		email: row.email,
		commission_bp: row.commissionBp,
		active: row.active,
		referral_url: referralUrl(env, row.code),
		created_at: row.createdAt.toISOString(),
		updated_at: row.updatedAt.toISOString(),
	};
}

export const affiliateNotFound = () => notFound("No affiliate with this id.");

const codeTaken = (code: string) =>
	new DomainError("affiliate_code_taken", {
		detail: `The code ${code} belongs to another affiliate; choose another.`,
		extensions: { code },
	});

/** The active affiliate with this code, or null (unknown, inactive, or not a code). */
export async function activeAffiliate(db: Executor, text: string | null | undefined): Promise<AffiliateRow | null> {
	const code = normalizeAffiliateCode(text);
	if (!code) return null;
	const [row] = await db
		.select()
		.from(affiliates)
		.where(and(eq(affiliates.code, code), eq(affiliates.active, true)));
	return row ?? null;
}

/**
 * The affiliate an order is attributed to: the active one with the code the
 * shopper arrived with, else null. Never an error: attribution must not stand
 * between a shopper and a sale.
 */
export async function attributedAffiliate(db: Executor, code: string | null | undefined): Promise<string | null> {
	return (await activeAffiliate(db, code))?.id ?? null;
}

export async function readAffiliate(db: Executor, id: string, { lock = false } = {}): Promise<AffiliateRow | undefined> {
	const query = db.select().from(affiliates).where(eq(affiliates.id, id));
	const [row] = lock ? await query.for("update") : await query;
	return row;
}

/** One affiliate, or 404. */
export async function getAffiliate(env: SiteEnv, db: Db, id: string): Promise<AffiliateView> {
	const row = await readAffiliate(db, id);
	if (!row) throw affiliateNotFound();
	return affiliateView(env, row);
}

export interface AffiliateQuery {
	active?: boolean | undefined;
	limit: number;
	cursor?: string | undefined;
}

/** A page of affiliates in code order; the cursor is the last code shown. */
export async function listAffiliates(
	env: SiteEnv,
	db: Db,
	query: AffiliateQuery,
): Promise<{ data: AffiliateView[]; next_cursor: string | null }> {
	let after: string | undefined;
	if (query.cursor) {
		const value = decodeCursor(query.cursor);
		if (typeof value !== "string" || !AFFILIATE_CODE.test(value)) throw invalidCursor();
		after = value;
	}
	const rows = await db
		.select()
		.from(affiliates)
		.where(
			and(query.active === undefined ? undefined : eq(affiliates.active, query.active), after ? gt(affiliates.code, after) : undefined),
		)
		.orderBy(asc(affiliates.code))
		.limit(query.limit + 1);
	const page = rows.slice(0, query.limit);
	const last = page.at(-1);
	return {
		data: page.map((row) => affiliateView(env, row)),
		next_cursor: rows.length > query.limit && last ? encodeCursor(last.code) : null,
	};
}

/** The unique index is the one check of a code's uniqueness: two admins creating the same code race only there. */
async function mapCodeTaken<T>(write: Promise<T>, code: string): Promise<T> {
	try {
		return await write;
	} catch (err) {
		if (isUniqueViolation(err)) throw codeTaken(code);
		throw err;
	}
}

/** Creates an affiliate (active unless told otherwise), audited. */
export async function createAffiliate(env: SiteEnv, db: Db, input: NewAffiliate, actor: AffiliateActor): Promise<AffiliateView> {
	const code = normalizeAffiliateCode(input.code);
	if (!code) {
		throw new DomainError("validation_failed", {
			detail: "The request body is invalid.",
			extensions: { errors: [{ path: "body.code", message: "2 to 32 capitals, digits, dashes or underscores." }] },
		});
	}
	const row = await mapCodeTaken(
		db.transaction(async (tx) => {
			const [created] = await tx
				.insert(affiliates)
				.values({
					id: newId("aff"),
					code,
					name: input.name,
					email: input.email ?? null,
					commissionBp: input.commission_bp,
					active: input.active ?? true,
				})
				.returning();
			if (!created) throw new Error("the affiliate insert returned no row");
			await recordAudit(tx, {
				actorId: actor.userId,
				action: "affiliate.create",
				entityType: "affiliate",
				entityId: created.id,
				before: null,
				after: affiliateView(env, created),
				requestId: actor.requestId,
			});
			return created;
		}),
		code,
	);
	return affiliateView(env, row);
}

/**
 * Changes an affiliate, audited with the row before and after. Deactivating
 * (`active: false`) stops new attributions: links and cookies with the code
 * attribute nothing from then on; orders already attributed keep their
 * affiliate and earn when paid. A rate change applies to orders paid from
 * then on (the commission row keeps the rate it was computed with).
 */
export async function updateAffiliate(
	env: SiteEnv,
	db: Db,
	id: string,
	change: AffiliateChange,
	actor: AffiliateActor,
): Promise<AffiliateView> {
	const row = await db.transaction(async (tx) => {
		const before = await readAffiliate(tx, id, { lock: true });
		if (!before) throw affiliateNotFound();
		const [after] = await tx
			.update(affiliates)
			.set({
				...(change.name !== undefined ? { name: change.name } : {}),
				...(change.email !== undefined ? { email: change.email } : {}),
				...(change.commission_bp !== undefined ? { commissionBp: change.commission_bp } : {}),
				...(change.active !== undefined ? { active: change.active } : {}),
				updatedAt: sql`now()`,
			})
			.where(eq(affiliates.id, id))
			.returning();
		if (!after) throw affiliateNotFound();
		await recordAudit(tx, {
			actorId: actor.userId,
			action: "affiliate.update",
			entityType: "affiliate",
			entityId: id,
			before: affiliateView(env, before),
			after: affiliateView(env, after),
			requestId: actor.requestId,
		});
		return after;
	});
	return affiliateView(env, row);
}
