import type { Context } from "hono";
import type { FC } from "hono/jsx";
import { statusOf } from "../../../api/lib/problem.ts";
import type { AppEnv } from "../../../api/types.ts";
import { type CategoryNode, categoryTree } from "../../../catalog/queries.ts";
import { DomainError } from "../../../domain/errors.ts";
import {
	CreatePromotionBody,
	FULL_BP,
	PatchPromotionBody,
	PROMOTION_KINDS,
	PROMOTION_TARGETS,
	type PromotionKind,
	type PromotionTarget,
} from "../../../orders/promotions-admin.schemas.ts";
import {
	type AdminPromotion,
	createPromotion,
	deactivatePromotion,
	deletePromotion,
	getPromotion,
	listPromotions,
	type PromotionActor,
	promotionNotFound,
	updatePromotion,
} from "../../../orders/promotions-admin.ts";
import { money } from "../../layout.tsx";
import { action, readForm, seeOther, withOutcome } from "../actions.ts";
import { CURRENCIES, invalidForm, issuesOf, messagesForError, parsePrice, priceInput } from "../forms.tsx";
import { AdminLayout, listUrl, NextPage, StatusBadge, Time } from "../layout.tsx";
import { type Messages, messagesOf } from "../messages.ts";
import { parsePercent, percentInput } from "./affiliates.tsx";

/**
 * The console's Promotions screen: discount codes and automatic promotions,
 * made and changed through the same service as `/v1/admin/promotions`
 * (orders/promotions-admin.ts), so the same rules refuse the same input.
 * Percentages are typed as per cent ("12.5"), amounts in major units
 * ("5.00"), times as UTC.
 */

const PROMOTION_ID = /^prm_[0-9a-z]{20}$/;
const PAGE_SIZE = 25;

const KIND_TEXT: Record<PromotionKind, string> = {
	percentage: "Percentage off",
	fixed: "Fixed amount off",
	free_shipping: "Free shipping",
	buy_x_get_y: "Buy X get Y",
};

const TARGET_TEXT: Record<PromotionTarget, string> = {
	order: "The whole order",
	products: "Some products",
	categories: "Some categories (and their sub-categories)",
};

/** How the form names each field of the API's promotion body, for error messages. */
const LABELS: Record<string, string> = {
	code: "Code",
	name: "Name",
	kind: "Kind",
	value: "Value",
	currency: "Currency",
	target: "Applies to",
	target_ids: "Products or categories",
	buy_quantity: "Buy",
	get_quantity: "Get",
	min_subtotal_minor: "Minimum subtotal",
	starts_at: "Starts",
	ends_at: "Ends",
	max_uses: "Uses in all",
	max_uses_per_customer: "Uses per customer",
	active: "Active",
};

const actorOf = (c: Context<AppEnv>): PromotionActor => ({ userId: c.get("auth").userId, requestId: c.get("requestId") });

/** The stacking rule of orders/promotions.ts, in the operator's words. */
const StackingRule: FC = () => (
	<section class="panel" aria-labelledby="stacking-heading">
		<h2 id="stacking-heading">How promotions combine</h2>
		<p>An order gets at most one promotion of each class, the one that saves the most (the older one on a tie):</p>
		<ol>
			<li>
				<strong>Product promotions</strong> (a percentage or amount off products or categories, and buy X get Y): each line takes the
				largest saving any one of them gives it; savings on one line never add up.
			</li>
			<li>
				<strong>Order promotions</strong> (a percentage or amount off the order): the one saving the most on what is left after product
				promotions.
			</li>
			<li>
				<strong>Free shipping</strong>: the chosen shipping method costs nothing.
			</li>
		</ol>
		<p class="hint">
			A code competes in its class like an automatic promotion: when another promotion saves the shopper more, the code is not used and the
			cart says so. A promotion applies only inside its window, with uses left, from its minimum subtotal (before discounts), and when it
			names a currency only to orders in it.
		</p>
	</section>
);

/** Running, or why not: what the operator needs to know at a glance. */
function stateOf(promotion: AdminPromotion, now = Date.now()): { label: string; tone: string } {
	if (!promotion.active) return { label: "Inactive", tone: "" };
	if (promotion.starts_at && Date.parse(promotion.starts_at) > now) return { label: "Scheduled", tone: "info" };
	if (promotion.ends_at && Date.parse(promotion.ends_at) <= now) return { label: "Ended", tone: "" };
	if (promotion.max_uses !== null && promotion.used_count >= promotion.max_uses) return { label: "Used up", tone: "warn" };
	return { label: "Running", tone: "ok" };
}

const StateBadge: FC<{ promotion: AdminPromotion }> = ({ promotion }) => {
	const state = stateOf(promotion);
	return <span class={`badge ${state.tone}`.trim()}>{state.label}</span>;
};

/** Each category's name with the names above it ("Clothing › Shirts"), by id. */
function categoryLabels(tree: CategoryNode[]): Map<string, string> {
	const labels = new Map<string, string>();
	const walk = (nodes: CategoryNode[], prefix: string) => {
		for (const node of nodes) {
			labels.set(node.id, `${prefix}${node.name}`);
			walk(node.children, `${prefix}${node.name} › `);
		}
	};
	walk(tree, "");
	return labels;
}

/** What a promotion takes off, in a phrase: "12.5 % off 2 products", "Buy 2, get 1 free". */
function describe(promotion: AdminPromotion, categories: Map<string, string>): string {
	const count = promotion.target_ids.length;
	const what =
		promotion.target === "order"
			? "the order"
			: promotion.target === "products"
				? `${count} product${count === 1 ? "" : "s"}`
				: promotion.target_ids.map((id) => categories.get(id) ?? id).join(", ");
	switch (promotion.kind) {
		case "percentage":
			return `${percentInput(promotion.value)} % off ${what}`;
		case "fixed":
			return `${money(promotion.value, promotion.currency ?? "EUR")} off ${promotion.target === "order" ? what : `each unit of ${what}`}`;
		case "free_shipping":
			return "Free shipping";
		case "buy_x_get_y": {
			const off = promotion.value === FULL_BP ? "free" : `${percentInput(promotion.value)} % off`;
			return `Buy ${promotion.buy_quantity}, get ${promotion.get_quantity} ${off}${promotion.target === "order" ? "" : ` (${what})`}`;
		}
	}
}

/** What the operator typed into a promotion form, kept when it comes back with an error. */
interface PromotionValues {
	name: string;
	code: string;
	kind: string;
	value: string;
	currency: string;
	target: string;
	product_ids: string;
	category_ids: string[];
	buy_quantity: string;
	get_quantity: string;
	min_subtotal: string;
	starts_at: string;
	ends_at: string;
	max_uses: string;
	max_uses_per_customer: string;
	active: boolean;
}

const EMPTY: PromotionValues = {
	name: "",
	code: "",
	kind: "percentage",
	value: "",
	currency: "",
	target: "order",
	product_ids: "",
	category_ids: [],
	buy_quantity: "",
	get_quantity: "",
	min_subtotal: "",
	starts_at: "",
	ends_at: "",
	max_uses: "",
	max_uses_per_customer: "",
	active: true,
};

/** An instant as a datetime-local field shows it, in UTC. */
const localInput = (iso: string | null) => (iso ? new Date(iso).toISOString().slice(0, 16) : "");

function valuesOf(promotion: AdminPromotion): PromotionValues {
	const currency = promotion.currency ?? "EUR";
	return {
		name: promotion.name,
		code: promotion.code ?? "",
		kind: promotion.kind,
		value:
			promotion.kind === "fixed"
				? priceInput(promotion.value, currency)
				: promotion.kind === "free_shipping"
					? ""
					: percentInput(promotion.value),
		currency: promotion.currency ?? "",
		target: promotion.target,
		product_ids: promotion.target === "products" ? promotion.target_ids.join("\n") : "",
		category_ids: promotion.target === "categories" ? promotion.target_ids : [],
		buy_quantity: promotion.buy_quantity === null ? "" : String(promotion.buy_quantity),
		get_quantity: promotion.get_quantity === null ? "" : String(promotion.get_quantity),
		min_subtotal: promotion.min_subtotal_minor === 0 ? "" : priceInput(promotion.min_subtotal_minor, currency),
		starts_at: localInput(promotion.starts_at),
		ends_at: localInput(promotion.ends_at),
		max_uses: promotion.max_uses === null ? "" : String(promotion.max_uses),
		max_uses_per_customer: promotion.max_uses_per_customer === null ? "" : String(promotion.max_uses_per_customer),
		active: promotion.active,
	};
}

function readValues(fields: URLSearchParams): PromotionValues {
	const text = (name: string) => fields.get(name) ?? "";
	return {
		name: text("name"),
		code: text("code"),
		kind: text("kind"),
		value: text("value"),
		currency: text("currency"),
		target: text("target"),
		product_ids: text("product_ids"),
		category_ids: fields.getAll("category_ids").filter(Boolean),
		buy_quantity: text("buy_quantity"),
		get_quantity: text("get_quantity"),
		min_subtotal: text("min_subtotal"),
		starts_at: text("starts_at"),
		ends_at: text("ends_at"),
		max_uses: text("max_uses"),
		max_uses_per_customer: text("max_uses_per_customer"),
		active: fields.get("active") === "on",
	};
}

/** A datetime-local value (UTC) as an instant; null for none, undefined when it is not one. */
function parseLocal(text: string): string | null | undefined {
	const value = text.trim();
	if (!value) return null;
	const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2})?$/.exec(value);
	if (!match) return undefined;
	const iso = `${match[1]}${match[2] ?? ":00"}Z`;
	return Number.isNaN(Date.parse(iso)) ? undefined : iso;
}

/** A whole number of the form, or null when left empty; undefined when it is not one. */
function parseCount(text: string): number | null | undefined {
	const value = text.trim();
	if (!value) return null;
	return /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}

/**
 * The API body a promotion form describes, every field set (an edit sends
 * them all). Fields that do not apply to the kind or target chosen are
 * left out of it rather than refused: the form shows them all.
 */
function bodyOf(values: PromotionValues): Record<string, unknown> {
	const problems: string[] = [];
	const kind = PROMOTION_KINDS.find((candidate) => candidate === values.kind);
	const target = PROMOTION_TARGETS.find((candidate) => candidate === values.target);
	if (!kind) problems.push("Kind: choose one.");
	if (!target) problems.push("Applies to: choose one.");
	const currency = values.currency.trim().toUpperCase() || null;
	// Amounts are read in the currency's digits; without one, the rules below ask for it.
	const digitsOf = currency ?? "EUR";

	let value: number | undefined = 0;
	if (kind === "percentage" || kind === "buy_x_get_y") {
		value = parsePercent(values.value);
		if (value === undefined) problems.push("Value: write a percentage such as 10 or 12.5.");
	} else if (kind === "fixed") {
		value = parsePrice(values.value, digitsOf);
		if (value === undefined) problems.push("Value: write an amount such as 5.00.");
	}
	const minSubtotal = values.min_subtotal.trim() ? parsePrice(values.min_subtotal, digitsOf) : 0;
	if (minSubtotal === undefined) problems.push("Minimum subtotal: write an amount such as 50.00, or leave it empty.");

	const bxgy = kind === "buy_x_get_y";
	const buy = bxgy ? parseCount(values.buy_quantity) : null;
	const get = bxgy ? parseCount(values.get_quantity) : null;
	if (buy === undefined) problems.push("Buy: write a whole number of units, e.g. 2.");
	if (get === undefined) problems.push("Get: write a whole number of units, e.g. 1.");
	const startsAt = parseLocal(values.starts_at);
	const endsAt = parseLocal(values.ends_at);
	if (startsAt === undefined) problems.push("Starts: pick a date and time, or leave it empty.");
	if (endsAt === undefined) problems.push("Ends: pick a date and time, or leave it empty.");
	const maxUses = parseCount(values.max_uses);
	const perCustomer = parseCount(values.max_uses_per_customer);
	if (maxUses === undefined) problems.push("Uses in all: write a whole number, or leave it empty for no limit.");
	if (perCustomer === undefined) problems.push("Uses per customer: write a whole number, or leave it empty for no limit.");
	if (problems.length > 0) throw invalidForm(problems);

	const targetIds =
		target === "products"
			? values.product_ids.split(/[\s,]+/).filter(Boolean)
			: target === "categories"
				? [...new Set(values.category_ids)]
				: [];
	return {
		code: values.code.trim() || null,
		name: values.name,
		kind,
		value,
		currency,
		target,
		target_ids: targetIds,
		buy_quantity: buy,
		get_quantity: get,
		min_subtotal_minor: minSubtotal,
		starts_at: startsAt,
		ends_at: endsAt,
		max_uses: maxUses,
		max_uses_per_customer: perCustomer,
		active: values.active,
	};
}

/** What the page shows for a refusal: the rules' complaints labelled with the form's field names. */
function messagesFor(err: DomainError): Messages {
	const errors = err.extensions.errors;
	if ((err.code === "invalid_promotion" || err.code === "unknown_promotion_target") && Array.isArray(errors)) {
		return {
			error: err.code === "invalid_promotion" ? "These promotion settings do not fit together." : (err.detail ?? err.title),
			details: errors.map((error: { path?: unknown; message?: unknown }) => {
				const field = String(error.path ?? "").split(".")[1] ?? "";
				return `${LABELS[field] ?? "Form"}: ${String(error.message)}`;
			}),
		};
	}
	return messagesForError(err);
}

function formStatus(err: DomainError): 400 | 409 | 422 {
	return statusOf(err) === 409 ? 409 : statusOf(err) === 422 ? 422 : 400;
}

/** The fields of a promotion, for the new-promotion form and the edit form alike. */
const PromotionFields: FC<{ prefix: string; values: PromotionValues; categories: CategoryNode[]; usedCount?: number }> = ({
	prefix,
	values,
	categories,
	usedCount,
}) => {
	const id = (name: string) => `${prefix}-${name}`;
	const labels = categoryLabels(categories);
	return (
		<>
			<div class="field-row">
				<div class="field">
					<label for={id("name")}>Name</label>
					<input id={id("name")} name="name" required maxlength={200} value={values.name} placeholder="e.g. Summer sale" />
				</div>
				<div class="field">
					<label for={id("code")}>Code</label>
					<input
						id={id("code")}
						name="code"
						maxlength={64}
						value={values.code}
						autocomplete="off"
						pattern="[A-Za-z0-9][A-Za-z0-9_\-]{1,63}"
						aria-describedby={id("code-hint")}
					/>
					<p class="hint" id={id("code-hint")}>
						What shoppers type at checkout, e.g. SUMMER10. Leave it empty for an automatic promotion, applied to every order it fits.
					</p>
				</div>
			</div>
			<div class="field-row">
				<div class="field">
					<label for={id("kind")}>Kind</label>
					<select id={id("kind")} name="kind">
						{PROMOTION_KINDS.map((kind) => (
							<option value={kind} selected={kind === values.kind}>
								{KIND_TEXT[kind]}
							</option>
						))}
					</select>
				</div>
				<div class="field">
					<label for={id("value")}>Value</label>
					<input id={id("value")} name="value" inputmode="decimal" value={values.value} aria-describedby={id("value-hint")} />
					<p class="hint" id={id("value-hint")}>
						Per cent off for a percentage or buy X get Y (10 or 12.5; 100 makes the Y units free), an amount for a fixed amount (5.00). Not
						used for free shipping.
					</p>
				</div>
				<div class="field">
					<label for={id("currency")}>Currency</label>
					<select id={id("currency")} name="currency" aria-describedby={id("currency-hint")}>
						<option value="" selected={values.currency === ""}>
							Any currency
						</option>
						{[...new Set([...(values.currency ? [values.currency] : []), ...CURRENCIES])].map((code) => (
							<option value={code} selected={code === values.currency}>
								{code}
							</option>
						))}
					</select>
					<p class="hint" id={id("currency-hint")}>
						Needed for a fixed amount or a minimum subtotal; then only orders in it qualify.
					</p>
				</div>
			</div>
			<fieldset>
				<legend>Applies to</legend>
				<div class="field-row">
					<div class="field">
						<label for={id("target")}>Applies to</label>
						<select id={id("target")} name="target">
							{PROMOTION_TARGETS.map((target) => (
								<option value={target} selected={target === values.target}>
									{TARGET_TEXT[target]}
								</option>
							))}
						</select>
					</div>
					<div class="field">
						<label for={id("product-ids")}>Product ids</label>
						<textarea id={id("product-ids")} name="product_ids" rows={3} maxlength={20000} aria-describedby={id("product-ids-hint")}>
							{values.product_ids}
						</textarea>
						<p class="hint" id={id("product-ids-hint")}>
							For "Some products": ids such as prod_…, separated by spaces, commas or lines (a product's page shows its id).
						</p>
					</div>
					<div class="field">
						<label for={id("category-ids")}>Categories</label>
						<select id={id("category-ids")} name="category_ids" multiple size={6} aria-describedby={id("category-ids-hint")}>
							{[...labels].map(([categoryId, label]) => (
								<option value={categoryId} selected={values.category_ids.includes(categoryId)}>
									{label}
								</option>
							))}
						</select>
						<p class="hint" id={id("category-ids-hint")}>
							For "Some categories": each includes its sub-categories. Hold Ctrl or ⌘ to pick several.
						</p>
					</div>
				</div>
				<div class="field-row">
					<div class="field">
						<label for={id("buy")}>Buy (units)</label>
						<input id={id("buy")} name="buy_quantity" inputmode="numeric" size={4} value={values.buy_quantity} />
					</div>
					<div class="field">
						<label for={id("get")}>Get (units)</label>
						<input
							id={id("get")}
							name="get_quantity"
							inputmode="numeric"
							size={4}
							value={values.get_quantity}
							aria-describedby={id("get-hint")}
						/>
						<p class="hint" id={id("get-hint")}>
							Buy X get Y only: of every X + Y targeted units, the cheapest Y get the value off.
						</p>
					</div>
				</div>
			</fieldset>
			<fieldset>
				<legend>Conditions and limits</legend>
				<div class="field-row">
					<div class="field">
						<label for={id("min-subtotal")}>Minimum subtotal</label>
						<input id={id("min-subtotal")} name="min_subtotal" inputmode="decimal" value={values.min_subtotal} placeholder="None" />
					</div>
					<div class="field">
						<label for={id("starts")}>Starts (UTC)</label>
						<input id={id("starts")} type="datetime-local" name="starts_at" value={values.starts_at} />
					</div>
					<div class="field">
						<label for={id("ends")}>Ends (UTC)</label>
						<input id={id("ends")} type="datetime-local" name="ends_at" value={values.ends_at} />
					</div>
				</div>
				<div class="field-row">
					<div class="field">
						<label for={id("max-uses")}>Uses in all</label>
						<input
							id={id("max-uses")}
							name="max_uses"
							inputmode="numeric"
							value={values.max_uses}
							placeholder="No limit"
							aria-describedby={id("max-uses-hint")}
						/>
						<p class="hint" id={id("max-uses-hint")}>
							{usedCount ? `Used ${usedCount} time${usedCount === 1 ? "" : "s"} so far: the limit cannot be lower.` : "Orders in all."}
						</p>
					</div>
					<div class="field">
						<label for={id("per-customer")}>Uses per customer</label>
						<input
							id={id("per-customer")}
							name="max_uses_per_customer"
							inputmode="numeric"
							value={values.max_uses_per_customer}
							placeholder="No limit"
						/>
					</div>
				</div>
				<div class="field">
					<label>
						<input type="checkbox" name="active" value="on" checked={values.active} /> Active: checkout applies it inside its window
					</label>
				</div>
			</fieldset>
		</>
	);
};

/** `GET /admin/promotions?q=&active=&kind=&cursor=`: every promotion, the stacking rule, and the new-promotion form. */
export async function promotionsPage(
	c: Context<AppEnv>,
	state: { status?: 200 | 400 | 409 | 422; messages?: Messages; values?: PromotionValues } = {},
): Promise<Response> {
	const db = c.get("database").primary;
	const q = c.req.query("q")?.trim().slice(0, 200) || undefined;
	const activeParam = c.req.query("active");
	const active = activeParam === "true" ? true : activeParam === "false" ? false : undefined;
	const kindParam = c.req.query("kind");
	const kind = PROMOTION_KINDS.find((value) => value === kindParam);
	const cursor = c.req.method === "GET" ? c.req.query("cursor") || undefined : undefined;
	let messages = state.messages ?? messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") });
	let page: Awaited<ReturnType<typeof listPromotions>>;
	try {
		page = await listPromotions(db, { q, active, kind, limit: PAGE_SIZE, cursor });
	} catch (err) {
		if (!(err instanceof DomainError) || err.code !== "invalid_cursor") throw err;
		messages = { error: "That page link is no longer valid; showing the newest promotions." };
		page = await listPromotions(db, { q, active, kind, limit: PAGE_SIZE });
	}
	const categories = await categoryTree(db);
	const labels = categoryLabels(categories);
	const filtered = q !== undefined || active !== undefined || kind !== undefined;
	return c.html(
		<AdminLayout title="Promotions" current="promotions" messages={messages}>
			<div class="page-head">
				<h1>Promotions</h1>
				<a class="button secondary" href="#new-promotion">
					New promotion
				</a>
			</div>
			<form class="filters panel" method="get" action="/admin/promotions" aria-label="Search promotions">
				<div class="field grow">
					<label for="promotion-q">Search</label>
					<input id="promotion-q" type="search" name="q" value={q ?? ""} placeholder="Code or name" />
				</div>
				<div class="field">
					<label for="promotion-active">State</label>
					<select id="promotion-active" name="active">
						<option value="">Active and inactive</option>
						<option value="true" selected={active === true}>
							Active
						</option>
						<option value="false" selected={active === false}>
							Inactive
						</option>
					</select>
				</div>
				<div class="field">
					<label for="promotion-kind">Kind</label>
					<select id="promotion-kind" name="kind">
						<option value="">Any kind</option>
						{PROMOTION_KINDS.map((value) => (
							<option value={value} selected={value === kind}>
								{KIND_TEXT[value]}
							</option>
						))}
					</select>
				</div>
				<button type="submit">Search</button>
			</form>
			{page.data.length === 0 ? (
				<p class="panel">{filtered ? "No promotions match." : "No promotions yet."}</p>
			) : (
				<div class="table-wrap">
					<table class="cards">
						<caption class="visually-hidden">Promotions, newest first</caption>
						<thead>
							<tr>
								<th scope="col">Promotion</th>
								<th scope="col">Discount</th>
								<th scope="col">State</th>
								<th scope="col">Window</th>
								<th scope="col" class="num">
									Uses
								</th>
							</tr>
						</thead>
						<tbody>
							{page.data.map((promotion) => (
								<tr data-promotion={promotion.id}>
									<td>
										<a href={`/admin/promotions/${promotion.id}`}>{promotion.name}</a>
										<div class="hint">{promotion.code ? <code>{promotion.code}</code> : "Automatic"}</div>
									</td>
									<td data-label="Discount">{describe(promotion, labels)}</td>
									<td data-label="State">
										<StateBadge promotion={promotion} />
									</td>
									<td class="nowrap" data-label="Window">
										{promotion.starts_at || promotion.ends_at ? (
											<>
												<Time at={promotion.starts_at} /> – <Time at={promotion.ends_at} />
											</>
										) : (
											"Always"
										)}
									</td>
									<td class="num nowrap" data-label="Uses">
										{promotion.used_count}
										{promotion.max_uses === null ? "" : ` / ${promotion.max_uses}`}
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
			<NextPage href={page.next_cursor ? listUrl("/admin/promotions", { q, active: activeParam, kind, cursor: page.next_cursor }) : null} />
			<StackingRule />
			<section class="panel" id="new-promotion" aria-labelledby="new-promotion-heading">
				<h2 id="new-promotion-heading">New promotion</h2>
				<form method="post" action="/admin/promotions">
					<PromotionFields prefix="new" values={state.values ?? EMPTY} categories={categories} />
					<button type="submit">Create promotion</button>
				</form>
			</section>
		</AdminLayout>,
		state.status ?? 200,
	);
}

/** `POST /admin/promotions`: creates the promotion, then opens it. */
export async function createPromotionAction(c: Context<AppEnv>): Promise<Response> {
	const { fields } = await readForm(c);
	const values = readValues(fields);
	try {
		const parsed = CreatePromotionBody.safeParse(bodyOf(values));
		if (!parsed.success) throw invalidForm(issuesOf(parsed.error, LABELS));
		const promotion = await createPromotion(c.env, c.get("database").primary, parsed.data, actorOf(c));
		return seeOther(c, withOutcome(`/admin/promotions/${promotion.id}`, { notice: "promotion_created" }));
	} catch (err) {
		if (err instanceof DomainError && statusOf(err) < 500) {
			return promotionsPage(c, { status: formStatus(err), messages: messagesFor(err), values });
		}
		throw err;
	}
}

function promotionIdOf(c: Context<AppEnv>): string {
	const id = c.req.param("id") ?? "";
	if (!PROMOTION_ID.test(id)) throw promotionNotFound();
	return id;
}

/** `GET /admin/promotions/{id}`: the promotion to edit, its uses and the latest orders that used it, and how to stop it. */
export async function promotionPage(
	c: Context<AppEnv>,
	state: { status?: 200 | 400 | 409 | 422; messages?: Messages; values?: PromotionValues } = {},
): Promise<Response> {
	const id = promotionIdOf(c);
	const db = c.get("database").primary;
	const [promotion, categories] = await Promise.all([getPromotion(db, id), categoryTree(db)]);
	const messages = state.messages ?? messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") });
	const base = `/admin/promotions/${promotion.id}`;
	const used = promotion.used_count > 0 || promotion.redemptions.count > 0;
	return c.html(
		<AdminLayout title={promotion.name} current="promotions" messages={messages}>
			<p>
				<a href="/admin/promotions">← All promotions</a>
			</p>
			<div class="page-head">
				<h1>{promotion.name}</h1>
				<p class="row">
					{promotion.code ? <code>{promotion.code}</code> : <span class="muted">Automatic</span>}
					<StateBadge promotion={promotion} />
				</p>
			</div>
			<p>{describe(promotion, categoryLabels(categories))}.</p>
			<section class="panel" aria-labelledby="details-heading">
				<h2 id="details-heading">Details</h2>
				<form method="post" action={base}>
					<PromotionFields
						prefix="edit"
						values={state.values ?? valuesOf(promotion)}
						categories={categories}
						usedCount={promotion.used_count}
					/>
					<p class="hint">
						Created <Time at={promotion.created_at} />, last changed <Time at={promotion.updated_at} />. Orders already placed keep the
						discount they got.
					</p>
					<button type="submit">Save promotion</button>
				</form>
			</section>
			<section class="panel" aria-labelledby="uses-heading">
				<h2 id="uses-heading">Uses</h2>
				<p id="promotion-uses">
					Used by {promotion.redemptions.count} order{promotion.redemptions.count === 1 ? "" : "s"}
					{promotion.max_uses === null ? " (no limit)" : ` of ${promotion.max_uses} allowed`}
					{promotion.max_uses_per_customer === null ? "" : `, at most ${promotion.max_uses_per_customer} per customer`}. An unpaid order
					that is cancelled gives its use back.
				</p>
				{promotion.redemptions.recent.length === 0 ? null : (
					<div class="table-wrap">
						<table class="cards">
							<caption class="visually-hidden">The latest orders that used this promotion</caption>
							<thead>
								<tr>
									<th scope="col">Order</th>
									<th scope="col">Customer</th>
									<th scope="col">Status</th>
									<th scope="col" class="num">
										Total
									</th>
									<th scope="col">Used</th>
								</tr>
							</thead>
							<tbody>
								{promotion.redemptions.recent.map((use) => (
									<tr>
										<td>
											<a href={`/admin/orders/${use.order_id}`}>
												<code>{use.order_id}</code>
											</a>
										</td>
										<td data-label="Customer">{use.customer.replace(/^(user|email):/, "")}</td>
										<td data-label="Status">
											<StatusBadge status={use.status} />
										</td>
										<td class="num nowrap" data-label="Total">
											{money(use.total_minor, use.currency)}
										</td>
										<td class="nowrap" data-label="Used">
											<Time at={use.used_at} />
										</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
			</section>
			<section class="panel" aria-labelledby="stop-heading">
				<h2 id="stop-heading">Stop or delete</h2>
				{promotion.active ? (
					<form method="post" action={`${base}/deactivate`} class="row-actions compact" data-confirm="Deactivate this promotion?">
						<span class="hint">Checkout stops applying it at once; orders that used it keep their discount.</span>
						<button type="submit" class="secondary">
							Deactivate
						</button>
					</form>
				) : (
					<p class="hint">Inactive: tick Active above and save to resume it.</p>
				)}
				{used ? (
					<p class="hint">Orders used this promotion, so it is kept for their history and cannot be deleted.</p>
				) : (
					<form method="post" action={`${base}/delete`} class="row-actions compact" data-confirm="Delete this promotion?">
						<span class="hint">No order used it yet, so it can be deleted.</span>
						<button type="submit" class="danger">
							Delete
						</button>
					</form>
				)}
			</section>
			<StackingRule />
		</AdminLayout>,
		state.status ?? 200,
	);
}

/** `POST /admin/promotions/{id}`: every field of the form; a refusal shows the page again with what was typed. */
export async function savePromotionAction(c: Context<AppEnv>): Promise<Response> {
	const id = promotionIdOf(c);
	const { fields } = await readForm(c);
	const values = readValues(fields);
	try {
		const parsed = PatchPromotionBody.safeParse(bodyOf(values));
		if (!parsed.success) throw invalidForm(issuesOf(parsed.error, LABELS));
		await updatePromotion(c.env, c.get("database").primary, id, parsed.data, actorOf(c));
		return seeOther(c, withOutcome(`/admin/promotions/${id}`, { notice: "promotion_saved" }));
	} catch (err) {
		if (err instanceof DomainError && statusOf(err) < 500 && err.code !== "not_found") {
			return promotionPage(c, { status: formStatus(err), messages: messagesFor(err), values });
		}
		throw err;
	}
}

/** `POST /admin/promotions/{id}/deactivate`: stops it at once. */
export async function deactivatePromotionAction(c: Context<AppEnv>): Promise<Response> {
	const id = promotionIdOf(c);
	return action(c, `/admin/promotions/${id}`, async () => {
		await deactivatePromotion(c.env, c.get("database").primary, id, actorOf(c));
		return "promotion_deactivated";
	});
}

/** `POST /admin/promotions/{id}/delete`: only a promotion no order used; back to the list. */
export async function deletePromotionAction(c: Context<AppEnv>): Promise<Response> {
	const id = promotionIdOf(c);
	try {
		await deletePromotion(c.env, c.get("database").primary, id, actorOf(c));
		return seeOther(c, withOutcome("/admin/promotions", { notice: "promotion_deleted" }));
	} catch (err) {
		if (err instanceof DomainError && err.code !== "not_found" && statusOf(err) < 500) {
			return seeOther(c, withOutcome(`/admin/promotions/${id}`, { error: err.code }));
		}
		throw err;
	}
}
