import type { FC } from "hono/jsx";
import type { Facets } from "../../catalog/search.ts";
import { money } from "../layout.tsx";

/**
 * The facets of a product list as filters inside the page's GET filter form:
 * a checkbox per brand and option value (checked when filtered by it, its
 * count beside it) and a link per price bucket. The shopper ticks and presses
 * "Apply filters": nothing reloads the page while they are still choosing.
 */

/** A price bucket's label: "Under €25.00", "€25.00 – €49.99", "€200.00 and over". */
function bucketLabel(bucket: { min: number; max: number | null }, currency: string): string {
	if (bucket.max === null) return `${money(bucket.min, currency)} and over`;
	if (bucket.min === 0) return `Under ${money(bucket.max + 1, currency)}`;
	return `${money(bucket.min, currency)} – ${money(bucket.max, currency)}`;
}

/** "colour" → "Colour": option names are stored as admins typed them. */
const capitalised = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/** Facet values plus the selected ones the result no longer has (count 0), so they can still be unticked. */
function withSelected(values: readonly { value: string; count: number }[], selected: readonly string[]) {
	const present = new Set(values.map((v) => v.value));
	return [...values, ...selected.filter((value) => !present.has(value)).map((value) => ({ value, count: 0 }))];
}

const Choice: FC<{ id: string; name: string; value: string; label: string; count: number; checked: boolean }> = (props) => (
	<div class="field checkbox">
		<input id={props.id} type="checkbox" name={props.name} value={props.value} checked={props.checked} />
		<label for={props.id}>
			{props.label} <span class="facet-count">({props.count})</span>
		</label>
	</div>
);

/** Price bucket links; each sets the price range and keeps every other filter. */
export const PriceBuckets: FC<{ facets: Facets; href: (min: number, max: number | null) => string }> = ({ facets, href }) =>
	facets.prices.buckets.length > 0 ? (
		<ul class="facet-links" aria-label="Price ranges">
			{facets.prices.buckets.map((bucket) => (
				<li>
					<a href={href(bucket.min, bucket.max)}>
						{bucketLabel(bucket, facets.prices.currency)} <span class="facet-count">({bucket.count})</span>
					</a>
				</li>
			))}
		</ul>
	) : null;

/** A fieldset of checkboxes per brand and per option name. */
export const FacetChoices: FC<{ facets: Facets; brands: readonly string[]; options: readonly string[] }> = ({
	facets,
	brands,
	options,
}) => {
	const brandValues = withSelected(facets.brands, brands);
	const selectedOptions = new Set(options);
	const optionNames = new Set(facets.options.map((option) => option.name));
	// A selected value of an option the result no longer has at all still gets its group, to be unticked.
	const orphans = options.map((pair) => pair.slice(0, pair.indexOf(":"))).filter((name) => !optionNames.has(name));
	const groups = [...facets.options, ...[...new Set(orphans)].map((name) => ({ name, values: [] }))].map((option) => ({
		name: option.name,
		values: withSelected(
			option.values,
			options.filter((pair) => pair.startsWith(`${option.name}:`)).map((pair) => pair.slice(option.name.length + 1)),
		),
	}));
	return (
		<>
			{brandValues.length > 0 ? (
				<fieldset class="facet">
					<legend>Brand</legend>
					{brandValues.map((brand, i) => (
						<Choice
							id={`facet-brand-${i}`}
							name="brand"
							value={brand.value}
							label={brand.value}
							count={brand.count}
							checked={brands.includes(brand.value)}
						/>
					))}
				</fieldset>
			) : null}
			{groups.map((group, g) => (
				<fieldset class="facet">
					<legend>{capitalised(group.name)}</legend>
					{group.values.map((value, i) => (
						<Choice
							id={`facet-option-${g}-${i}`}
							name="option"
							value={`${group.name}:${value.value}`}
							label={value.value}
							count={value.count}
							checked={selectedOptions.has(`${group.name}:${value.value}`)}
						/>
					))}
				</fieldset>
			))}
		</>
	);
};
