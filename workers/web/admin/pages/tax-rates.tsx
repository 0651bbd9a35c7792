import type { Context } from "hono";
import type { AppEnv } from "../../../api/types.ts";
import { notFound } from "../../../domain/errors.ts";
import { PutTaxRatesBody, TAX_CLASSES, type TaxClass, type TaxRate } from "../../../markets/admin.schemas.ts";
import { deleteTaxRate, listTaxRates, upsertTaxRates } from "../../../markets/tax-rates.ts";
import { field, readForm } from "../actions.ts";
import { invalidForm, issuesOf } from "../forms.tsx";
import { AdminLayout } from "../layout.tsx";
import { actorOf, formAction, parsePercent, percentText, type RefusedForm, TAX_CLASS_TEXT } from "../markets-forms.ts";
import { messagesOf } from "../messages.ts";

const COUNTRY = /^[A-Z]{2}$/;

const LABELS: Record<string, string> = { country: "Country", region: "Region", tax_class: "Tax class", rate_bp: "Rate" };

interface NewRateValues {
	country: string;
	region: string;
	tax_class: string;
	rate: string;
}

const EMPTY_RATE: NewRateValues = { country: "", region: "", tax_class: "standard", rate: "" };

/** The rates of each country, in the list's order (country, region '' first, class). */
function byCountry(rates: TaxRate[]): [string, TaxRate[]][] {
	const grouped = new Map<string, TaxRate[]>();
	for (const rate of rates) grouped.set(rate.country, [...(grouped.get(rate.country) ?? []), rate]);
	return [...grouped];
}

const rateKeyPath = (rate: { country: string; tax_class: string }) => `/admin/tax-rates/${rate.country}/${rate.tax_class}`;

/** `GET /admin/tax-rates`: every rate, grouped by country, each editable, and the form for a new one. */
export async function taxRatesPage(c: Context<AppEnv>, state: RefusedForm<NewRateValues> = {}): Promise<Response> {
	const rates = await listTaxRates(c.get("database").primary);
	const values = state.values ?? EMPTY_RATE;
	return c.html(
		<AdminLayout
			title="Tax rates"
			current="tax-rates"
			messages={state.messages ?? messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") })}
		>
			<div class="page-head">
				<h1>Tax rates</h1>
				<a class="button secondary" href="#new-rate">
					New rate
				</a>
			</div>
			<p class="hint">
				A product is taxed at its country's rate for the product's tax class; a region's rate (a US state's) wins over the country's. A
				country without a rate for a class charges no tax on it.
			</p>
			{rates.length === 0 ? <p class="panel">No tax rates yet.</p> : null}
			{byCountry(rates).map(([country, rows]) => (
				<section class="panel" aria-labelledby={`tax-${country}`}>
					<h2 id={`tax-${country}`}>{country}</h2>
					<div class="table-wrap">
						<table class="cards">
							<caption class="visually-hidden">Tax rates of {country}</caption>
							<thead>
								<tr>
									<th scope="col">Region</th>
									<th scope="col">Class</th>
									<th scope="col">Rate</th>
									<th scope="col">Actions</th>
								</tr>
							</thead>
							<tbody>
								{rows.map((rate) => {
									const id = `rate-${rate.country}-${rate.region || "all"}-${rate.tax_class}`;
									return (
										<tr>
											<td data-label="Region">{rate.region || <span class="muted">Whole country</span>}</td>
											<td data-label="Class">{TAX_CLASS_TEXT[rate.tax_class]}</td>
											<td data-label="Rate">
												<form method="post" action={rateKeyPath(rate)} class="inline-form">
													<input type="hidden" name="region" value={rate.region} />
													<label for={id} class="visually-hidden">
														{TAX_CLASS_TEXT[rate.tax_class]} rate of {rate.country}
														{rate.region ? `-${rate.region}` : ""} in per cent
													</label>
													<input id={id} name="rate" required inputmode="decimal" size={6} value={percentText(rate.rate_bp)} /> %
													<button type="submit" class="secondary">
														Save
														<span class="visually-hidden">
															{" "}
															{rate.tax_class} rate of {rate.country}
															{rate.region ? `-${rate.region}` : ""}
														</span>
													</button>
												</form>
											</td>
											<td>
												<form
													method="post"
													action={`${rateKeyPath(rate)}/delete`}
													data-confirm={`Delete the ${rate.tax_class} rate of ${rate.country}${rate.region ? `-${rate.region}` : ""}?`}
												>
													<input type="hidden" name="region" value={rate.region} />
													<button type="submit" class="secondary">
														Delete
														<span class="visually-hidden">
															{" "}
															{rate.tax_class} rate of {rate.country}
															{rate.region ? `-${rate.region}` : ""}
														</span>
													</button>
												</form>
											</td>
										</tr>
									);
								})}
							</tbody>
						</table>
					</div>
				</section>
			))}
			<section class="panel" id="new-rate" aria-labelledby="new-rate-heading">
				<h2 id="new-rate-heading">New rate</h2>
				<form method="post" action="/admin/tax-rates">
					<div class="field-row">
						<div class="field">
							<label for="new-rate-country">Country</label>
							<input
								id="new-rate-country"
								name="country"
								required
								maxlength={2}
								value={values.country}
								placeholder="DE"
								autocomplete="off"
								aria-describedby="new-rate-country-hint"
							/>
							<p class="hint" id="new-rate-country-hint">
								Two-letter code.
							</p>
						</div>
						<div class="field">
							<label for="new-rate-region">Region</label>
							<input
								id="new-rate-region"
								name="region"
								maxlength={3}
								value={values.region}
								placeholder="Whole country"
								autocomplete="off"
								aria-describedby="new-rate-region-hint"
							/>
							<p class="hint" id="new-rate-region-hint">
								Optional: the subdivision code, CA for US-CA.
							</p>
						</div>
						<div class="field">
							<label for="new-rate-class">Tax class</label>
							<select id="new-rate-class" name="tax_class">
								{TAX_CLASSES.map((taxClass) => (
									<option value={taxClass} selected={taxClass === values.tax_class}>
										{TAX_CLASS_TEXT[taxClass]}
									</option>
								))}
							</select>
						</div>
						<div class="field">
							<label for="new-rate-rate">Rate (%)</label>
							<input id="new-rate-rate" name="rate" required inputmode="decimal" value={values.rate} placeholder="19" />
						</div>
					</div>
					<p class="hint">A rate that exists for the country, region and class is replaced.</p>
					<button type="submit">Save rate</button>
				</form>
			</section>
		</AdminLayout>,
		state.status ?? 200,
	);
}

/** Upserts one rate from the form's fields, the console's own refusals (a rate it cannot read) first. */
async function saveRate(c: Context<AppEnv>, values: NewRateValues): Promise<void> {
	const rate = parsePercent(values.rate);
	if (rate === undefined) throw invalidForm(["Rate: write a percentage from 0 to 100, e.g. 19 or 5.5."]);
	const parsed = PutTaxRatesBody.safeParse({
		rates: [{ country: values.country, region: values.region, tax_class: values.tax_class, rate_bp: rate }],
	});
	if (!parsed.success) throw invalidForm(issuesOf(parsed.error, LABELS));
	await upsertTaxRates(c.env, c.get("database").primary, parsed.data, actorOf(c));
}

/** `POST /admin/tax-rates`: a new rate (or a new value for an existing one). */
export async function createTaxRateAction(c: Context<AppEnv>): Promise<Response> {
	const { fields } = await readForm(c);
	const values: NewRateValues = {
		country: (fields.get("country") ?? "").trim().toUpperCase(),
		region: (fields.get("region") ?? "").trim().toUpperCase(),
		tax_class: fields.get("tax_class") ?? "",
		rate: fields.get("rate") ?? "",
	};
	return formAction(c, {
		back: "/admin/tax-rates",
		notice: "tax_rate_saved",
		values,
		render: (state) => taxRatesPage(c, state),
		run: () => saveRate(c, values),
	});
}

function rateKeyOf(c: Context<AppEnv>, fields: URLSearchParams): { country: string; taxClass: TaxClass; region: string } {
	const country = c.req.param("country") ?? "";
	const taxClass = TAX_CLASSES.find((value) => value === c.req.param("class"));
	const region = (field(fields, "region") ?? "").toUpperCase();
	if (!COUNTRY.test(country) || !taxClass || !/^[A-Z0-9]{0,3}$/.test(region)) throw notFound("No such tax rate.");
	return { country, taxClass, region };
}

/** `POST /admin/tax-rates/{country}/{class}`: a rate's new value (the region comes with the form). */
export async function saveTaxRateAction(c: Context<AppEnv>): Promise<Response> {
	const { fields } = await readForm(c);
	const key = rateKeyOf(c, fields);
	return formAction(c, {
		back: "/admin/tax-rates",
		notice: "tax_rate_saved",
		render: (state) => taxRatesPage(c, state),
		run: () => saveRate(c, { country: key.country, region: key.region, tax_class: key.taxClass, rate: fields.get("rate") ?? "" }),
	});
}

/** `POST /admin/tax-rates/{country}/{class}/delete`: removes the rate. */
export async function deleteTaxRateAction(c: Context<AppEnv>): Promise<Response> {
	const { fields } = await readForm(c);
	const key = rateKeyOf(c, fields);
	return formAction(c, {
		back: "/admin/tax-rates",
		notice: "tax_rate_deleted",
		render: (state) => taxRatesPage(c, state),
		run: () => deleteTaxRate(c.env, c.get("database").primary, key, actorOf(c)),
	});
}
