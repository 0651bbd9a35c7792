import type { Context } from "hono";
import type { AppEnv } from "../../../api/types.ts";
import { DomainError, notFound } from "../../../domain/errors.ts";
import {
	type AdminMarket,
	CreateMarketBody,
	MARKET_ID,
	PatchMarketBody,
	PutPricesBody,
	TAX_MODES,
} from "../../../markets/admin.schemas.ts";
import { createMarket, deleteMarket, listAdminMarkets, readMarket, updateMarket } from "../../../markets/admin.ts";
import { deleteMarketPrice, listMarketPrices, upsertMarketPrices } from "../../../markets/prices.ts";
import { money } from "../../layout.tsx";
import { field, readForm } from "../actions.ts";
import { CURRENCIES, CurrencyOptions, invalidForm, issuesOf, parsePrice, priceInput } from "../forms.tsx";
import { AdminLayout, listUrl, NextPage } from "../layout.tsx";
import { actorOf, formAction, parseCountries, parsePriceLines, parseRate, type RefusedForm, rateInput } from "../markets-forms.ts";
import { messagesOf } from "../messages.ts";

const PAGE_SIZE = 50;
const SKU = /^[A-Z0-9]+(?:-[A-Z0-9]+)*$/;

const TAX_MODE_TEXT: Record<(typeof TAX_MODES)[number], string> = {
	inclusive: "Tax included in prices",
	exclusive: "Tax added at checkout",
};

/** How the forms name each field of the API's market body, for error messages. */
const LABELS: Record<string, string> = {
	id: "Id",
	name: "Name",
	currency: "Currency",
	tax_mode: "Prices",
	convert_from: "Convert from",
	rate_micros: "Rate",
	countries: "Countries",
	position: "Position",
	prices: "Prices",
	amount_minor: "Amount",
	sku: "SKU",
};

/** What was typed into a market's settings form (new or existing), kept when it comes back refused. */
interface MarketValues {
	id: string;
	name: string;
	currency: string;
	tax_mode: string;
	convert_from: string;
	rate: string;
	countries: string;
	position: string;
	is_default: boolean;
}

const EMPTY_MARKET: MarketValues = {
	id: "",
	name: "",
	currency: "EUR",
	tax_mode: "inclusive",
	convert_from: "",
	rate: "",
	countries: "",
	position: "",
	is_default: false,
};

function valuesOf(market: AdminMarket): MarketValues {
	return {
		id: market.id,
		name: market.name,
		currency: market.currency,
		tax_mode: market.tax_mode,
		convert_from: market.convert_from ?? "",
		rate: rateInput(market.rate_micros),
		countries: market.countries.join(", "),
		position: String(market.position),
		is_default: market.is_default,
	};
}

function typedValues(fields: URLSearchParams): MarketValues {
	return {
		id: (fields.get("id") ?? "").trim(),
		name: fields.get("name") ?? "",
		currency: (fields.get("currency") ?? "").trim().toUpperCase(),
		tax_mode: fields.get("tax_mode") ?? "",
		convert_from: (fields.get("convert_from") ?? "").trim().toUpperCase(),
		rate: fields.get("rate") ?? "",
		countries: fields.get("countries") ?? "",
		position: fields.get("position") ?? "",
		is_default: fields.get("is_default") === "on",
	};
}

/** The settings a form sends, as the API's body fields; the console's own refusals (a rate it cannot read) first. */
function settingsBody(values: MarketValues): Record<string, unknown> {
	const problems: string[] = [];
	let rate: number | null = null;
	if (values.convert_from) {
		rate = parseRate(values.rate) ?? null;
		if (rate === null) problems.push("Rate: write how many units of the market's currency one unit buys, e.g. 0.86.");
	}
	const position = values.position.trim() === "" ? undefined : Number(values.position.trim());
	if (position !== undefined && !Number.isInteger(position)) problems.push("Position: write a whole number.");
	if (problems.length > 0) throw invalidForm(problems);
	return {
		name: values.name,
		currency: values.currency,
		tax_mode: values.tax_mode,
		convert_from: values.convert_from || null,
		rate_micros: rate,
		countries: parseCountries(values.countries),
		...(position === undefined ? {} : { position }),
	};
}

const ConversionFields = ({ values, prefix }: { values: MarketValues; prefix: string }) => (
	<div class="field-row">
		<div class="field">
			<label for={`${prefix}-convert-from`}>Convert base prices from</label>
			<select id={`${prefix}-convert-from`} name="convert_from" aria-describedby={`${prefix}-convert-hint`}>
				<option value="">No conversion</option>
				{[...new Set([values.convert_from, ...CURRENCIES].filter(Boolean))].map((code) => (
					<option value={code} selected={code === values.convert_from}>
						{code}
					</option>
				))}
			</select>
			<p class="hint" id={`${prefix}-convert-hint`}>
				Variants priced in this currency, without a list price here, are converted at the rate.
			</p>
		</div>
		<div class="field">
			<label for={`${prefix}-rate`}>Rate</label>
			<input
				id={`${prefix}-rate`}
				name="rate"
				inputmode="decimal"
				value={values.rate}
				placeholder="0.86"
				aria-describedby={`${prefix}-rate-hint`}
			/>
			<p class="hint" id={`${prefix}-rate-hint`}>
				Units of the market's currency per unit of the other, up to six decimals.
			</p>
		</div>
	</div>
);

const SettingsFields = ({ values, prefix }: { values: MarketValues; prefix: string }) => (
	<>
		<div class="field-row">
			<div class="field">
				<label for={`${prefix}-name`}>Name</label>
				<input id={`${prefix}-name`} name="name" required maxlength={200} value={values.name} />
			</div>
			<div class="field">
				<label for={`${prefix}-currency`}>Currency</label>
				<select id={`${prefix}-currency`} name="currency">
					<CurrencyOptions selected={values.currency || "EUR"} />
				</select>
			</div>
			<div class="field">
				<label for={`${prefix}-tax-mode`}>Prices</label>
				<select id={`${prefix}-tax-mode`} name="tax_mode">
					{TAX_MODES.map((mode) => (
						<option value={mode} selected={mode === values.tax_mode}>
							{TAX_MODE_TEXT[mode]}
						</option>
					))}
				</select>
			</div>
		</div>
		<ConversionFields values={values} prefix={prefix} />
		<div class="field-row">
			<div class="field grow">
				<label for={`${prefix}-countries`}>Countries</label>
				<input
					id={`${prefix}-countries`}
					name="countries"
					value={values.countries}
					placeholder="DE, AT, FR"
					autocomplete="off"
					aria-describedby={`${prefix}-countries-hint`}
				/>
				<p class="hint" id={`${prefix}-countries-hint`}>
					Two-letter codes, separated by commas. A country belongs to one market only.
				</p>
			</div>
			<div class="field">
				<label for={`${prefix}-position`}>Position</label>
				<input id={`${prefix}-position`} name="position" inputmode="numeric" value={values.position} placeholder="After the last" />
			</div>
		</div>
	</>
);

/** `GET /admin/markets`: every market, and the form for a new one. */
export async function marketsPage(c: Context<AppEnv>, state: RefusedForm<MarketValues> = {}): Promise<Response> {
	const list = await listAdminMarkets(c.get("database").primary);
	const values = state.values ?? EMPTY_MARKET;
	return c.html(
		<AdminLayout
			title="Markets"
			current="markets"
			messages={state.messages ?? messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") })}
		>
			<div class="page-head">
				<h1>Markets</h1>
				<a class="button secondary" href="#new-market">
					New market
				</a>
			</div>
			<div class="table-wrap">
				<table class="cards">
					<caption class="visually-hidden">Markets, the default first</caption>
					<thead>
						<tr>
							<th scope="col">Market</th>
							<th scope="col">Currency</th>
							<th scope="col">Prices</th>
							<th scope="col">Countries</th>
							<th scope="col" class="num">
								Zones
							</th>
						</tr>
					</thead>
					<tbody>
						{list.map((market) => (
							<tr>
								<td>
									<a href={`/admin/markets/${market.id}`}>{market.name}</a>{" "}
									{market.is_default ? <span class="badge ok">Default</span> : null}
									<div class="hint">
										<code>{market.id}</code>
									</div>
								</td>
								<td data-label="Currency">
									{market.currency}
									{market.convert_from ? (
										<div class="hint">
											from {market.convert_from} at {rateInput(market.rate_micros)}
										</div>
									) : null}
								</td>
								<td data-label="Prices">{TAX_MODE_TEXT[market.tax_mode]}</td>
								<td data-label="Countries">{market.countries.join(", ") || <span class="muted">None</span>}</td>
								<td class="num" data-label="Zones">
									{market.zone_count}
								</td>
							</tr>
						))}
					</tbody>
				</table>
			</div>
			<section class="panel" id="new-market" aria-labelledby="new-market-heading">
				<h2 id="new-market-heading">New market</h2>
				<form method="post" action="/admin/markets">
					<div class="field">
						<label for="new-market-id">Id</label>
						<input
							id="new-market-id"
							name="id"
							required
							maxlength={32}
							pattern="[a-z][a-z0-9\-]{0,31}"
							value={values.id}
							autocomplete="off"
							aria-describedby="new-market-id-hint"
						/>
						<p class="hint" id="new-market-id-hint">
							Lower-case letters, digits and dashes, e.g. ch. It cannot be changed later.
						</p>
					</div>
					<SettingsFields values={values} prefix="new-market" />
					<div class="field checkbox">
						<label>
							<input type="checkbox" name="is_default" checked={values.is_default} /> Make it the default market
						</label>
					</div>
					<button type="submit">Create market</button>
				</form>
			</section>
		</AdminLayout>,
		state.status ?? 200,
	);
}

/** `POST /admin/markets`: creates the market, then opens it. */
export async function createMarketAction(c: Context<AppEnv>): Promise<Response> {
	const { fields } = await readForm(c);
	const values = typedValues(fields);
	let created: AdminMarket | undefined;
	return formAction(c, {
		back: () => `/admin/markets/${created?.id}`,
		notice: "market_created",
		values,
		render: (state) => marketsPage(c, state),
		run: async () => {
			const parsed = CreateMarketBody.safeParse({ id: values.id, ...settingsBody(values), is_default: values.is_default });
			if (!parsed.success) throw invalidForm(issuesOf(parsed.error, LABELS));
			created = await createMarket(c.env, c.get("database").primary, parsed.data, actorOf(c));
		},
	});
}

function marketIdOf(c: Context<AppEnv>): string {
	const id = c.req.param("id") ?? "";
	if (!MARKET_ID.test(id)) throw notFound("No such market.");
	return id;
}

async function marketOf(c: Context<AppEnv>): Promise<AdminMarket> {
	const id = marketIdOf(c);
	const market = await readMarket(c.get("database").primary, id);
	if (!market) throw notFound(`No market with id ${id}.`);
	return market;
}

/** What was typed into the bulk price form, kept when it comes back refused. */
interface MarketPageValues {
	settings?: MarketValues;
	bulk?: string;
}

/** `GET /admin/markets/{id}?q=&cursor=`: the market's settings and its price list. */
export async function marketPage(c: Context<AppEnv>, state: RefusedForm<MarketPageValues> = {}): Promise<Response> {
	const market = await marketOf(c);
	const db = c.get("database").primary;
	const q = c.req.query("q")?.trim().slice(0, 200) || undefined;
	const cursor = c.req.method === "GET" ? c.req.query("cursor") || undefined : undefined;
	let messages = state.messages ?? messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") });
	let page: Awaited<ReturnType<typeof listMarketPrices>>;
	try {
		page = await listMarketPrices(db, market.id, { q, limit: PAGE_SIZE, cursor });
	} catch (err) {
		if (!(err instanceof DomainError) || err.code !== "invalid_cursor") throw err;
		messages = { error: "That page link is no longer valid; showing the first page." };
		page = await listMarketPrices(db, market.id, { q, limit: PAGE_SIZE });
	}
	const values = state.values?.settings ?? valuesOf(market);
	const base = `/admin/markets/${market.id}`;
	return c.html(
		<AdminLayout title={market.name} current="markets" messages={messages}>
			<p>
				<a href="/admin/markets">← All markets</a>
			</p>
			<div class="page-head">
				<h1>{market.name}</h1>
				<p class="row">
					{market.is_default ? <span class="badge ok">Default market</span> : null}
					<span>
						{market.currency} · {TAX_MODE_TEXT[market.tax_mode]}
					</span>
					<a href={listUrl("/admin/shipping", { market: market.id })}>Shipping zones ({market.zone_count})</a>
				</p>
			</div>
			<section class="panel" aria-labelledby="settings-heading">
				<h2 id="settings-heading">Settings</h2>
				<form method="post" action={base}>
					<SettingsFields values={values} prefix="market" />
					<button type="submit">Save market</button>
				</form>
				{market.is_default ? (
					<p class="hint">
						The default market prices visitors from countries no market lists. Make another market the default to delete this one.
					</p>
				) : (
					<div class="row">
						<form method="post" action={`${base}/default`}>
							<button type="submit" class="secondary">
								Make default
							</button>
						</form>
						<form
							method="post"
							action={`${base}/delete`}
							data-confirm={`Delete the market ${market.name} with its price list and shipping zones?`}
						>
							<button type="submit" class="danger">
								Delete market
							</button>
						</form>
					</div>
				)}
			</section>
			<section class="panel" aria-labelledby="prices-heading">
				<h2 id="prices-heading">Price list</h2>
				<p class="hint">
					Prices in {market.currency}
					{market.tax_mode === "inclusive" ? ", tax included" : ", before tax"}. Without a list price a variant sells at its base price
					{market.convert_from ? `, converted from ${market.convert_from} at ${rateInput(market.rate_micros)}` : ""} when it can.
				</p>
				<form class="filters" method="get" action={base} aria-label="Search the price list">
					<div class="field grow">
						<label for="price-q">Search</label>
						<input id="price-q" type="search" name="q" value={q ?? ""} placeholder="SKU or product title" />
					</div>
					<button type="submit">Search</button>
				</form>
				{page.data.length === 0 ? (
					<p>{q ? "No variants match." : "No variants yet."}</p>
				) : (
					<div class="table-wrap">
						<table class="cards">
							<caption class="visually-hidden">Variants by SKU with their prices in this market</caption>
							<thead>
								<tr>
									<th scope="col">SKU</th>
									<th scope="col">Base price</th>
									<th scope="col">List price</th>
									<th scope="col">Sells at</th>
								</tr>
							</thead>
							<tbody>
								{page.data.map((row) => (
									<tr>
										<td>
											<code>{row.sku}</code>
											<div class="hint">
												<a href={`/admin/products/${row.product_id}`}>{row.product_title}</a>
												{row.variant_title ? ` · ${row.variant_title}` : ""}
											</div>
										</td>
										<td class="nowrap" data-label="Base price">
											{money(row.base_price_minor, row.base_currency)}
										</td>
										<td data-label="List price">
											<form method="post" action={`${base}/prices/${row.sku}`} class="inline-form">
												<input type="hidden" name="q" value={q ?? ""} />
												<label for={`price-${row.sku}`} class="visually-hidden">
													List price of {row.sku} in {market.currency}
												</label>
												<input
													id={`price-${row.sku}`}
													name="amount"
													required
													inputmode="decimal"
													size={8}
													value={row.list_price_minor === null ? "" : priceInput(row.list_price_minor, market.currency)}
													placeholder="None"
												/>
												<button type="submit" class="secondary">
													Save<span class="visually-hidden"> list price of {row.sku}</span>
												</button>
											</form>
											{row.list_price_minor === null ? null : (
												<form method="post" action={`${base}/prices/${row.sku}/delete`} class="inline-form">
													<input type="hidden" name="q" value={q ?? ""} />
													<button type="submit" class="secondary">
														Remove<span class="visually-hidden"> list price of {row.sku}</span>
													</button>
												</form>
											)}
										</td>
										<td class="nowrap" data-label="Sells at">
											{row.price_minor === null ? <span class="muted">Not sold here</span> : money(row.price_minor, market.currency)}
										</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
				<NextPage href={page.next_cursor ? listUrl(base, { q, cursor: page.next_cursor }) : null} />
				<form method="post" action={`${base}/prices`}>
					<div class="field">
						<label for="bulk-prices">Paste prices</label>
						<textarea
							id="bulk-prices"
							name="prices"
							rows={6}
							placeholder={"TEE-NAV-M,19.90\nTEE-NAV-L,21.90"}
							aria-describedby="bulk-prices-hint"
						>
							{state.values?.bulk ?? ""}
						</textarea>
						<p class="hint" id="bulk-prices-hint">
							One SKU,amount per line, up to 500, in {market.currency}. All are saved, or none when a SKU is unknown.
						</p>
					</div>
					<button type="submit">Save prices</button>
				</form>
			</section>
		</AdminLayout>,
		state.status ?? 200,
	);
}

/** `POST /admin/markets/{id}`: the market's settings and countries. */
export async function saveMarketAction(c: Context<AppEnv>): Promise<Response> {
	const market = await marketOf(c);
	const { fields } = await readForm(c);
	const values = { ...typedValues(fields), id: market.id, is_default: market.is_default };
	return formAction(c, {
		back: `/admin/markets/${market.id}`,
		notice: "market_saved",
		values: { settings: values },
		render: (state) => marketPage(c, state),
		run: async () => {
			const parsed = PatchMarketBody.safeParse(settingsBody(values));
			if (!parsed.success) throw invalidForm(issuesOf(parsed.error, LABELS));
			await updateMarket(c.env, c.get("database").primary, market.id, parsed.data, actorOf(c));
		},
	});
}

/** `POST /admin/markets/{id}/default`: makes it the default market (the previous one stops being it). */
export async function makeDefaultAction(c: Context<AppEnv>): Promise<Response> {
	const market = await marketOf(c);
	return formAction(c, {
		back: `/admin/markets/${market.id}`,
		notice: "market_default",
		render: (state) => marketPage(c, state),
		run: async () => {
			await updateMarket(c.env, c.get("database").primary, market.id, { is_default: true }, actorOf(c));
		},
	});
}

/** `POST /admin/markets/{id}/delete`: deletes the market (not the default, not one with orders). */
export async function deleteMarketAction(c: Context<AppEnv>): Promise<Response> {
	const market = await marketOf(c);
	return formAction(c, {
		back: "/admin/markets",
		notice: "market_deleted",
		render: (state) => marketPage(c, state),
		run: () => deleteMarket(c.env, c.get("database").primary, market.id, actorOf(c)),
	});
}

/** Back to the price list the form was on. */
const priceListUrl = (marketId: string, fields: URLSearchParams) => listUrl(`/admin/markets/${marketId}`, { q: field(fields, "q") });

function skuOf(c: Context<AppEnv>): string {
	const sku = c.req.param("sku") ?? "";
	if (!SKU.test(sku)) throw notFound("No such SKU.");
	return sku;
}

/** `POST /admin/markets/{id}/prices/{sku}`: one SKU's list price. */
export async function savePriceAction(c: Context<AppEnv>): Promise<Response> {
	const market = await marketOf(c);
	const sku = skuOf(c);
	const { fields } = await readForm(c);
	return formAction(c, {
		back: priceListUrl(market.id, fields),
		notice: "price_saved",
		render: (state) => marketPage(c, state),
		run: async () => {
			const amount = parsePrice(field(fields, "amount"), market.currency);
			if (amount === undefined) throw invalidForm([`List price of ${sku}: write an amount such as 19.90.`]);
			await upsertMarketPrices(c.env, c.get("database").primary, market.id, { prices: [{ sku, amount_minor: amount }] }, actorOf(c));
		},
	});
}

/** `POST /admin/markets/{id}/prices/{sku}/delete`: back to the base price. */
export async function removePriceAction(c: Context<AppEnv>): Promise<Response> {
	const market = await marketOf(c);
	const sku = skuOf(c);
	const { fields } = await readForm(c);
	return formAction(c, {
		back: priceListUrl(market.id, fields),
		notice: "price_removed",
		render: (state) => marketPage(c, state),
		run: () => deleteMarketPrice(c.env, c.get("database").primary, market.id, sku, actorOf(c)),
	});
}

/** `POST /admin/markets/{id}/prices`: pasted "SKU,amount" lines, all saved or none. */
export async function bulkPricesAction(c: Context<AppEnv>): Promise<Response> {
	const market = await marketOf(c);
	const { fields } = await readForm(c);
	const text = fields.get("prices") ?? "";
	return formAction(c, {
		back: `/admin/markets/${market.id}`,
		notice: "prices_saved",
		values: { bulk: text },
		render: (state) => marketPage(c, state),
		run: async () => {
			const rows = parsePriceLines(text, market.currency);
			const seen = new Set<string>();
			const repeated = rows.filter((row) => seen.size === seen.add(row.sku).size).map((row) => row.sku);
			if (repeated.length > 0) throw invalidForm([`Prices: ${[...new Set(repeated)].join(", ")} appear more than once.`]);
			const parsed = PutPricesBody.safeParse({ prices: rows });
			if (!parsed.success) throw invalidForm(issuesOf(parsed.error, LABELS));
			await upsertMarketPrices(c.env, c.get("database").primary, market.id, parsed.data, actorOf(c));
		},
	});
}
