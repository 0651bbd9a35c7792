import type { Context } from "hono";
import type { AppEnv } from "../../../api/types.ts";
import type { ShippingRate } from "../../../db/schema.ts";
import { notFound } from "../../../domain/errors.ts";
import {
	type AdminMarket,
	CreateMethodBody,
	CreateZoneBody,
	MARKET_ID,
	PatchMethodBody,
	PatchZoneBody,
	RATE_TYPES,
	SHIPPING_KINDS,
	type ShippingMethod,
	type ShippingZone,
	TAX_CLASSES,
} from "../../../markets/admin.schemas.ts";
import { listAdminMarkets, readMarket } from "../../../markets/admin.ts";
import {
	createMethod,
	createZone,
	deleteMethod,
	deleteZone,
	listShippingZones,
	readMethod,
	readZone,
	updateMethod,
	updateZone,
} from "../../../markets/shipping-zones.ts";
import { money } from "../../layout.tsx";
import { field, readForm } from "../actions.ts";
import { invalidForm, issuesOf, parsePrice, priceInput } from "../forms.tsx";
import { AdminLayout, listUrl } from "../layout.tsx";
import { actorOf, formAction, parseCountries, parseRateFields, type RefusedForm, TAX_CLASS_TEXT, tiersInput } from "../markets-forms.ts";
import { messagesOf } from "../messages.ts";

const ZONE_ID = /^shz_[0-9a-z]{1,40}$/;
const METHOD_ID = /^shm_[0-9a-z]{1,40}$/;

const KIND_TEXT: Record<(typeof SHIPPING_KINDS)[number], string> = { standard: "Standard", express: "Express", pickup: "Pickup" };
const RATE_TEXT: Record<(typeof RATE_TYPES)[number], string> = { flat: "Flat", weight: "By weight", subtotal: "By subtotal" };

const LABELS: Record<string, string> = {
	market_id: "Market",
	name: "Name",
	countries: "Countries",
	kind: "Kind",
	rate: "Rate",
	amount: "Amount",
	tiers: "Tiers",
	free_from_minor: "Free from",
	tax_class: "Tax class",
	position: "Position",
};

/** A rate for people: "€4.95", "up to 1000 g: $5.99 · heavier: $19.99", "from $100.00: $14.99". */
export function rateText(rate: ShippingRate, currency: string): string {
	if (rate.type === "flat") return money(rate.amount, currency);
	if (rate.type === "weight") {
		return rate.tiers
			.map((tier) => `${tier.up_to_grams === null ? "heavier" : `up to ${tier.up_to_grams} g`}: ${money(tier.amount, currency)}`)
			.join(" · ");
	}
	return rate.tiers.map((tier) => `from ${money(tier.from, currency)}: ${money(tier.amount, currency)}`).join(" · ");
}

/** What a method form shows: a saved method's values, or the new-method form's blanks. */
interface MethodValues {
	kind: string;
	name: string;
	rate_type: string;
	amount: string;
	tiers: string;
	free_from: string;
	tax_class: string;
	active: boolean;
	position: string;
}

const EMPTY_METHOD: MethodValues = {
	kind: "standard",
	name: "",
	rate_type: "flat",
	amount: "",
	tiers: "",
	free_from: "",
	tax_class: "standard",
	active: true,
	position: "",
};

function methodValues(method: ShippingMethod, currency: string): MethodValues {
	return {
		kind: method.kind,
		name: method.name,
		rate_type: method.rate.type,
		amount: method.rate.type === "flat" ? priceInput(method.rate.amount ?? 0, currency) : "",
		tiers: tiersInput(method.rate as ShippingRate, currency),
		free_from: method.free_from_minor === null ? "" : priceInput(method.free_from_minor, currency),
		tax_class: method.tax_class,
		active: method.active,
		position: String(method.position),
	};
}

const MethodFields = ({ values, prefix, currency }: { values: MethodValues; prefix: string; currency: string }) => (
	<>
		<div class="field-row">
			<div class="field">
				<label for={`${prefix}-name`}>Name</label>
				<input id={`${prefix}-name`} name="name" required maxlength={200} value={values.name} />
			</div>
			<div class="field">
				<label for={`${prefix}-kind`}>Kind</label>
				<select id={`${prefix}-kind`} name="kind">
					{SHIPPING_KINDS.map((kind) => (
						<option value={kind} selected={kind === values.kind}>
							{KIND_TEXT[kind]}
						</option>
					))}
				</select>
			</div>
			<div class="field">
				<label for={`${prefix}-tax-class`}>Tax class</label>
				<select id={`${prefix}-tax-class`} name="tax_class">
					{TAX_CLASSES.map((taxClass) => (
						<option value={taxClass} selected={taxClass === values.tax_class}>
							{TAX_CLASS_TEXT[taxClass]}
						</option>
					))}
				</select>
			</div>
			<div class="field">
				<label for={`${prefix}-position`}>Position</label>
				<input id={`${prefix}-position`} name="position" inputmode="numeric" size={4} value={values.position} placeholder="Last" />
			</div>
		</div>
		<div class="field-row">
			<div class="field">
				<label for={`${prefix}-rate-type`}>Rate</label>
				<select id={`${prefix}-rate-type`} name="rate_type">
					{RATE_TYPES.map((type) => (
						<option value={type} selected={type === values.rate_type}>
							{RATE_TEXT[type]}
						</option>
					))}
				</select>
			</div>
			<div class="field">
				<label for={`${prefix}-amount`}>Flat amount ({currency})</label>
				<input id={`${prefix}-amount`} name="amount" inputmode="decimal" value={values.amount} placeholder="4.95" />
			</div>
			<div class="field grow">
				<label for={`${prefix}-tiers`}>Tiers</label>
				<textarea id={`${prefix}-tiers`} name="tiers" rows={3} aria-describedby={`${prefix}-tiers-hint`}>
					{values.tiers}
				</textarea>
				<p class="hint" id={`${prefix}-tiers-hint`}>
					One tier per line. By weight: up_to_grams:amount, with * for everything heavier (1000:5.99, *:19.99). By subtotal: from:amount
					(0:4.95, 50.00:0).
				</p>
			</div>
			<div class="field">
				<label for={`${prefix}-free-from`}>Free from ({currency})</label>
				<input id={`${prefix}-free-from`} name="free_from" inputmode="decimal" value={values.free_from} placeholder="Never" />
			</div>
		</div>
		<div class="field checkbox">
			<label>
				<input type="checkbox" name="active" checked={values.active} /> Offered at checkout
			</label>
		</div>
	</>
);

/** `GET /admin/shipping?market=`: every market's zones with their methods, each editable, and the forms for new ones. */
export async function shippingPage(c: Context<AppEnv>, state: RefusedForm = {}): Promise<Response> {
	const db = c.get("database").primary;
	const marketParam = c.req.query("market");
	const only = marketParam && MARKET_ID.test(marketParam) ? marketParam : undefined;
	const [marketList, zones] = await Promise.all([listAdminMarkets(db), listShippingZones(db, { market: only })]);
	const shown = only ? marketList.filter((market) => market.id === only) : marketList;
	return c.html(
		<AdminLayout
			title="Shipping"
			current="shipping"
			messages={state.messages ?? messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") })}
		>
			<div class="page-head">
				<h1>Shipping</h1>
				<a class="button secondary" href="#new-zone">
					New zone
				</a>
			</div>
			{only ? (
				<p>
					<a href="/admin/shipping">← Every market</a>
				</p>
			) : null}
			{shown.map((market) => (
				<MarketZones market={market} zones={zones.filter((zone) => zone.market_id === market.id)} />
			))}
			<section class="panel" id="new-zone" aria-labelledby="new-zone-heading">
				<h2 id="new-zone-heading">New zone</h2>
				<form method="post" action="/admin/shipping/zones">
					<div class="field-row">
						<div class="field">
							<label for="new-zone-market">Market</label>
							<select id="new-zone-market" name="market_id">
								{marketList.map((market) => (
									<option value={market.id} selected={market.id === only}>
										{market.name}
									</option>
								))}
							</select>
						</div>
						<div class="field">
							<label for="new-zone-name">Name</label>
							<input id="new-zone-name" name="name" required maxlength={200} />
						</div>
						<div class="field grow">
							<label for="new-zone-countries">Countries</label>
							<input
								id="new-zone-countries"
								name="countries"
								required
								placeholder="DE, AT"
								autocomplete="off"
								aria-describedby="new-zone-countries-hint"
							/>
							<p class="hint" id="new-zone-countries-hint">
								Countries of the market, separated by commas.
							</p>
						</div>
					</div>
					<button type="submit">Create zone</button>
				</form>
			</section>
		</AdminLayout>,
		state.status ?? 200,
	);
}

const MarketZones = ({ market, zones }: { market: AdminMarket; zones: ShippingZone[] }) => (
	<section class="panel" aria-labelledby={`market-${market.id}`}>
		<h2 id={`market-${market.id}`}>
			<a href={`/admin/markets/${market.id}`}>{market.name}</a> <span class="muted">{market.currency}</span>
		</h2>
		<p class="hint">Sells to {market.countries.join(", ") || "no countries yet"}.</p>
		{zones.length === 0 ? <p class="muted">No shipping zones: nothing can be shipped in this market.</p> : null}
		{zones.map((zone) => (
			<ZonePanel zone={zone} currency={market.currency} />
		))}
	</section>
);

const ZonePanel = ({ zone, currency }: { zone: ShippingZone; currency: string }) => (
	<fieldset>
		<legend>
			{zone.name} <span class="muted">({zone.countries.join(", ")})</span>
		</legend>
		<form method="post" action={`/admin/shipping/zones/${zone.id}`} class="compact">
			<div class="field-row">
				<div class="field">
					<label for={`${zone.id}-name`}>Zone name</label>
					<input id={`${zone.id}-name`} name="name" required maxlength={200} value={zone.name} />
				</div>
				<div class="field grow">
					<label for={`${zone.id}-countries`}>Countries</label>
					<input id={`${zone.id}-countries`} name="countries" required value={zone.countries.join(", ")} autocomplete="off" />
				</div>
			</div>
			<button type="submit" class="secondary">
				Save zone<span class="visually-hidden"> {zone.name}</span>
			</button>
		</form>
		<form
			method="post"
			action={`/admin/shipping/zones/${zone.id}/delete`}
			class="compact"
			data-confirm={`Delete the zone ${zone.name} and its methods?`}
		>
			<button type="submit" class="secondary">
				Delete zone<span class="visually-hidden"> {zone.name}</span>
			</button>
		</form>
		<div class="table-wrap">
			<table class="cards">
				<caption>Methods of {zone.name}</caption>
				<thead>
					<tr>
						<th scope="col">Method</th>
						<th scope="col">Rate</th>
						<th scope="col">Free from</th>
						<th scope="col">Tax class</th>
						<th scope="col">State</th>
					</tr>
				</thead>
				<tbody>
					{zone.methods.map((method) => (
						<tr>
							<td>
								{method.name}
								<div class="hint">{KIND_TEXT[method.kind]}</div>
							</td>
							<td data-label="Rate">{rateText(method.rate as ShippingRate, currency)}</td>
							<td class="nowrap" data-label="Free from">
								{method.free_from_minor === null ? <span class="muted">Never</span> : money(method.free_from_minor, currency)}
							</td>
							<td data-label="Tax class">{TAX_CLASS_TEXT[method.tax_class]}</td>
							<td data-label="State">{method.active ? <span class="badge ok">Offered</span> : <span class="badge">Inactive</span>}</td>
						</tr>
					))}
				</tbody>
			</table>
		</div>
		{zone.methods.map((method) => (
			<details>
				<summary>Edit {method.name}</summary>
				<form method="post" action={`/admin/shipping/methods/${method.id}`} class="compact">
					<MethodFields values={methodValues(method, currency)} prefix={method.id} currency={currency} />
					<button type="submit">
						Save method<span class="visually-hidden"> {method.name}</span>
					</button>
				</form>
				<form
					method="post"
					action={`/admin/shipping/methods/${method.id}/delete`}
					class="compact"
					data-confirm={`Delete the method ${method.name}?`}
				>
					<button type="submit" class="secondary">
						Delete method<span class="visually-hidden"> {method.name}</span>
					</button>
				</form>
			</details>
		))}
		<details>
			<summary>Add a method to {zone.name}</summary>
			<form method="post" action={`/admin/shipping/zones/${zone.id}/methods`} class="compact">
				<MethodFields values={EMPTY_METHOD} prefix={`new-${zone.id}`} currency={currency} />
				<button type="submit">Add method</button>
			</form>
		</details>
	</fieldset>
);

function zoneIdOf(c: Context<AppEnv>): string {
	const id = c.req.param("id") ?? "";
	if (!ZONE_ID.test(id)) throw notFound("No such shipping zone.");
	return id;
}

function methodIdOf(c: Context<AppEnv>): string {
	const id = c.req.param("id") ?? "";
	if (!METHOD_ID.test(id)) throw notFound("No such shipping method.");
	return id;
}

/** Back to the shipping page, on the zone's market. */
const backTo = (marketId: string) => listUrl("/admin/shipping", { market: marketId });

/** `POST /admin/shipping/zones`: a new zone of a market. */
export async function createZoneAction(c: Context<AppEnv>): Promise<Response> {
	const { fields } = await readForm(c);
	const marketId = field(fields, "market_id") ?? "";
	return formAction(c, {
		back: backTo(marketId),
		notice: "zone_created",
		render: (state) => shippingPage(c, state),
		run: async () => {
			const parsed = CreateZoneBody.safeParse({
				market_id: marketId,
				name: fields.get("name") ?? "",
				countries: parseCountries(field(fields, "countries")),
			});
			if (!parsed.success) throw invalidForm(issuesOf(parsed.error, LABELS));
			await createZone(c.env, c.get("database").primary, parsed.data, actorOf(c));
		},
	});
}

async function zoneOf(c: Context<AppEnv>): Promise<ShippingZone> {
	const zone = await readZone(c.get("database").primary, zoneIdOf(c));
	if (!zone) throw notFound("No such shipping zone.");
	return zone;
}

/** `POST /admin/shipping/zones/{id}`: the zone's name and countries. */
export async function saveZoneAction(c: Context<AppEnv>): Promise<Response> {
	const zone = await zoneOf(c);
	const { fields } = await readForm(c);
	return formAction(c, {
		back: backTo(zone.market_id),
		notice: "zone_saved",
		render: (state) => shippingPage(c, state),
		run: async () => {
			const parsed = PatchZoneBody.safeParse({ name: fields.get("name") ?? "", countries: parseCountries(field(fields, "countries")) });
			if (!parsed.success) throw invalidForm(issuesOf(parsed.error, LABELS));
			await updateZone(c.env, c.get("database").primary, zone.id, parsed.data, actorOf(c));
		},
	});
}

/** `POST /admin/shipping/zones/{id}/delete`: the zone and its methods. */
export async function deleteZoneAction(c: Context<AppEnv>): Promise<Response> {
	const zone = await zoneOf(c);
	return formAction(c, {
		back: backTo(zone.market_id),
		notice: "zone_deleted",
		render: (state) => shippingPage(c, state),
		run: () => deleteZone(c.env, c.get("database").primary, zone.id, actorOf(c)),
	});
}

/** The currency of a zone's market: the one its methods' amounts are in. */
async function currencyOfZone(c: Context<AppEnv>, zone: ShippingZone): Promise<string> {
	const market = await readMarket(c.get("database").primary, zone.market_id);
	if (!market) throw notFound("No such market.");
	return market.currency;
}

/** A method form's fields as the API's body; the console's own refusals (an amount it cannot read) first. */
function methodBody(fields: URLSearchParams, currency: string): Record<string, unknown> {
	const rate = parseRateFields(
		{ type: fields.get("rate_type") ?? "", amount: fields.get("amount") ?? "", tiers: fields.get("tiers") ?? "" },
		currency,
	);
	const freeFromText = field(fields, "free_from");
	const freeFrom = freeFromText === undefined ? null : parsePrice(freeFromText, currency);
	const positionText = field(fields, "position");
	const position = positionText === undefined ? undefined : Number(positionText);
	const problems = [
		...(freeFrom === undefined ? ["Free from: write an amount such as 50.00, or leave it empty."] : []),
		...(position !== undefined && !Number.isInteger(position) ? ["Position: write a whole number."] : []),
	];
	if (problems.length > 0) throw invalidForm(problems);
	return {
		kind: fields.get("kind") ?? "",
		name: fields.get("name") ?? "",
		rate,
		free_from_minor: freeFrom,
		tax_class: fields.get("tax_class") ?? "",
		active: fields.get("active") === "on",
		...(position === undefined ? {} : { position }),
	};
}

/** `POST /admin/shipping/zones/{id}/methods`: a new method of the zone. */
export async function createMethodAction(c: Context<AppEnv>): Promise<Response> {
	const zone = await zoneOf(c);
	const currency = await currencyOfZone(c, zone);
	const { fields } = await readForm(c);
	return formAction(c, {
		back: backTo(zone.market_id),
		notice: "method_created",
		render: (state) => shippingPage(c, state),
		run: async () => {
			const parsed = CreateMethodBody.safeParse(methodBody(fields, currency));
			if (!parsed.success) throw invalidForm(issuesOf(parsed.error, LABELS));
			await createMethod(c.env, c.get("database").primary, zone.id, parsed.data, actorOf(c));
		},
	});
}

/** The zone of a method, or 404. */
async function zoneOfMethod(c: Context<AppEnv>, methodId: string): Promise<ShippingZone> {
	const db = c.get("database").primary;
	const method = await readMethod(db, methodId);
	const zone = method ? await readZone(db, method.zone_id) : undefined;
	if (!zone) throw notFound("No such shipping method.");
	return zone;
}

/** `POST /admin/shipping/methods/{id}`: every field of the method. */
export async function saveMethodAction(c: Context<AppEnv>): Promise<Response> {
	const id = methodIdOf(c);
	const zone = await zoneOfMethod(c, id);
	const currency = await currencyOfZone(c, zone);
	const { fields } = await readForm(c);
	return formAction(c, {
		back: backTo(zone.market_id),
		notice: "method_saved",
		render: (state) => shippingPage(c, state),
		run: async () => {
			const parsed = PatchMethodBody.safeParse(methodBody(fields, currency));
			if (!parsed.success) throw invalidForm(issuesOf(parsed.error, LABELS));
			await updateMethod(c.env, c.get("database").primary, id, parsed.data, actorOf(c));
		},
	});
}

/** `POST /admin/shipping/methods/{id}/delete`: removes the method. */
export async function deleteMethodAction(c: Context<AppEnv>): Promise<Response> {
	const id = methodIdOf(c);
	const zone = await zoneOfMethod(c, id);
	return formAction(c, {
		back: backTo(zone.market_id),
		notice: "method_deleted",
		render: (state) => shippingPage(c, state),
		run: () => deleteMethod(c.env, c.get("database").primary, id, actorOf(c)),
	});
}
