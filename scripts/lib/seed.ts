/**
 * The demo catalog that `npm run dev` and `npm run db:seed` load: a small but
 * believable shop (category tree, ~50 products, ~190 variants with opening
 * stock) so every catalog, cart and checkout route has something to show.
 *
 * Everything is derived from the tables below without randomness, so ids,
 * timestamps and stock levels are identical on every machine and every run;
 * tests can rely on them and re-seeding never duplicates anything.
 */
import { createHash } from "node:crypto";
import { inArray } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "../../workers/db/schema.ts";

const { categories, products, variants } = schema;

/** What the demo dataset contains; counts describe the dataset, not the rows this call inserted. */
export interface SeedResult {
	/** False only when mode "if-empty" found products and left the database alone. */
	seeded: boolean;
	categories: number;
	products: number;
	variants: number;
}

type ProductStatus = (typeof schema.productStatus.enumValues)[number];
type CategoryRow = typeof categories.$inferInsert & { id: string };
type ProductRow = typeof products.$inferInsert & { id: string; categoryId: string };
type VariantRow = typeof variants.$inferInsert & { id: string };

type OptionValue = { label: string; code: string; priceDelta: number };
type OptionAxis = { name: string; values: OptionValue[] };

interface ProductSpec {
	code: string;
	title: string;
	categorySlug: string;
	basePrice: number;
	axes: OptionAxis[];
	attributes: Record<string, string>;
	status: ProductStatus;
	description: string;
}

const CURRENCY = "EUR";
const DAY_MS = 86_400_000;
/**
 * Shipping weight per leaf category, so weight-tier rates (the US market's
 * ground shipping) price the demo's parcels believably: a tee is light, a
 * cast-iron pot is not.
 */
const SHIPPING_GRAMS: Record<string, number> = {
	"t-shirts": 220,
	knitwear: 450,
	outerwear: 900,
	cookware: 2600,
	tableware: 1800,
	"home-textiles": 700,
	camping: 2200,
	hiking: 600,
	"bottles-flasks": 450,
	charging: 180,
	audio: 260,
	"cases-sleeves": 300,
};

/** A fixed "now" for the dataset: timestamps must not depend on when the seed runs. */
const BASE_DATE = Date.parse("2026-11-01T09:00:00Z");

const CATEGORY_TREE: ReadonlyArray<readonly [string, readonly string[]]> = [
	["Apparel", ["T-Shirts", "Knitwear", "Outerwear"]],
	["Home & Kitchen", ["Cookware", "Tableware", "Home Textiles"]],
	["Outdoor", ["Camping", "Hiking", "Bottles & Flasks"]],
	["Electronics Accessories", ["Charging", "Audio", "Cases & Sleeves"]],
];

/** Codes for option labels whose first three letters would read badly (BLA) or collide (GRE for Grey and Green). */
const OPTION_CODES = new Map(
	"Black=BLK White=WHT Grey=GRY Green=GRN Sage=SGE Sand=SND Charcoal=CHR Forest=FST Navy=NVY Cream=CRM Camel=CML Rust=RST Mustard=MST Slate=SLT Olive=OLV Stone=STN Graphite=GPH Clear=CLR Smoke=SMK Emerald=EMR Indigo=IND Terracotta=TRC Natural=NAT Orange=ORG Walnut=WAL Ocean=OCN Ecru=ECR"
		.split(" ")
		.map((pair) => pair.split("=") as [string, string]),
);

/** A handful of sold-out variants so storefront and cart code meet the zero-stock case. */
const SOLD_OUT = new Set(["TEE-ORG-WHT-S", "KNT-CAR-CRM-L", "CMP-TNT-SND", "BTL-INS-1L-SGE", "AUD-ANC-NVY"]);

/*
 * One product per header line, grouped under "## <leaf category slug>":
 *   CODE | Title | base price (EUR cents) | options | attributes [| status]
 * Options are "axis: Label[/CODE][+cents], …; axis: …" ("-" for none); each
 * combination becomes a variant with SKU CODE-<value codes>. Indented lines
 * below a header are its description. Status defaults to active.
 */
const CATALOG = `
## t-shirts
TEE-ORG | Organic Cotton Crew Tee | 2900 | colour: Black, White; size: S, M, L | brand=Nordkind; material=Organic cotton; fit=Regular
	Heavyweight crew-neck tee knitted from GOTS-certified organic cotton and garment-dyed for a soft, lived-in hand. Pre-shrunk, with a taped neckline that keeps its shape wash after wash.
TEE-LIN | Linen Blend Pocket Tee | 3900 | colour: Sand, Sage; size: M, L | brand=Atelier Lune; material=Linen and cotton; fit=Relaxed
	Breathable slub linen blended with cotton for an easy summer tee with a patch pocket. Boxy silhouette with dropped shoulders; the gentle creases are part of its charm.
TEE-MER | Merino Base Layer Tee | 5900 | colour: Charcoal, Forest; size: S, M, L | brand=Fjellmark; material=Merino wool; weight=150 gsm
	Featherweight merino jersey that regulates temperature and resists odour on multi-day treks. Flatlock seams prevent chafing under backpack straps.
TEE-STR | Breton Stripe Long Sleeve Top | 3400 | colour: Navy & Ecru/NVE, Red & Ecru/RDE; size: S, M, L | brand=Atelier Lune; material=Cotton interlock
	Classic nautical stripes on dense cotton interlock with a wide boat neckline. Inspired by the jerseys of Brittany fishermen and cut slightly longer at the hem.
TEE-KID | Kids Dinosaur Graphic Tee | 1499 | size: 4Y, 6Y, 8Y, 10Y | brand=Nordkind; material=Organic cotton | draft
	Playful stegosaurus and triceratops artwork printed with water-based inks that survive muddy playgrounds. Roomy cut leaves space to grow.
## knitwear
KNT-CRW | Lambswool Crewneck Sweater | 8900 | colour: Oat, Navy, Forest; size: M, L | brand=Halden; material=Lambswool; origin=Scotland
	Brushed Scottish lambswool spun into a warm, airy crewneck with ribbed cuffs and hem. A timeless layering piece that softens further with every wear.
KNT-CAR | Chunky Fisherman Cardigan | 12900 | colour: Cream, Charcoal; size: S, M, L | brand=Halden; material=Wool; origin=Portugal
	Hand-framed cable knit in a chunky gauge with horn buttons and deep patch pockets. Modelled on traditional Aran island garments and built to last for decades.
KNT-BEA | Ribbed Cashmere Beanie | 4900 | colour: Camel, Grey, Rust | brand=Halden; material=Cashmere
	Pure Mongolian cashmere in a snug double-layer rib that folds into a neat cuff. Featherlight warmth for frosty mornings and blustery commutes.
KNT-SCF | Alpaca Blend Scarf | 5900 | colour: Mustard, Slate | brand=Fjellmark; material=Baby alpaca and merino
	Baby alpaca and merino knitted into a lofty herringbone scarf with fringed ends. The hollow alpaca fibre insulates like down yet feels gentle on sensitive skin.
KNT-VST | Waffle Knit Sweater Vest | 6900 | colour: Ecru; size: S, M, L | brand=Atelier Lune; material=Mercerised cotton | archived
	Sleeveless V-neck vest in a textured waffle stitch of lustrous mercerised cotton. A preppy transitional layer over oxford shirts.
## outerwear
OUT-RAI | Packable Rain Shell | 14900 | colour: Black, Ocean; size: S, M, L | brand=Fjellmark; material=Recycled nylon; waterproofing=10k/10k
	Seam-taped 2.5-layer shell with a waterproof, breathable membrane that stows into its own chest pocket. The adjustable hood has a laminated brim that keeps downpours off your face.
OUT-DWN | Recycled Down Puffer Jacket | 22900 | colour: Black, Olive; size: M, L, XL | brand=Fjellmark; material=Recycled down; fill=700 fill power
	Box-quilted puffer insulated with reclaimed goose down under a PFC-free water-repellent finish. Compresses into a stuff sack for travel yet handles sub-zero winters.
OUT-CHR | Waxed Cotton Chore Coat | 18900 | colour: Tan, Olive; size: M, L | brand=Kestrel & Co; material=Waxed canvas
	Boxy workwear jacket in British waxed canvas with four utility pockets and a corduroy collar. Re-proof it every autumn and it develops a handsome patina.
OUT-FLC | Sherpa Fleece Zip Jacket | 8900 | colour: Cream, Forest; size: S, M, L | brand=Nordkind; material=Recycled polyester
	Cosy high-pile sherpa made from recycled bottles, with a ripstop yoke and zippered hand pockets. The stand collar blocks the chill around evening campfires.
## cookware
CKW-CIS | Cast Iron Skillet | 3900 | size: 20 cm/20, 26 cm/26+1500, 30 cm/30+2500 | brand=Ferrum; material=Cast iron; seasoning=Flaxseed oil
	Pre-seasoned skillet that sears steaks, bakes cornbread and moves from hob to oven to campfire. The heavy base holds heat evenly and grows more non-stick with every use.
CKW-DUT | Enamelled Dutch Oven | 11900 | colour: Red, Sage, Cream; capacity: 4.2 L/42, 6.7 L/67+4000 | brand=Ferrum; material=Enamelled cast iron
	Vitreous enamel over cast iron for slow braises, stews and crusty sourdough loaves. A tight lid with self-basting studs returns condensation to the pot.
CKW-WOK | Carbon Steel Wok | 4900 | size: 30 cm/30, 36 cm/36+1000 | brand=Ferrum; material=Carbon steel
	Hand-hammered wok with a beech handle and helper grip for restaurant-style stir-fries. Thin walls heat fast enough to chase real wok hei on a home burner.
CKW-SAU | Tri-Ply Stainless Saucepan | 5900 | capacity: 1.5 L/15, 2.5 L/25+1000 | brand=Ferrum; material=Stainless steel; induction=Yes
	Fully clad tri-ply construction with an aluminium core spreads heat without hotspots. Induction-ready, dishwasher-safe and shaped with a drip-free pouring rim.
CKW-KNF | Damascus Chef's Knife | 12900 | blade: 18 cm/18, 21 cm/21+2000 | brand=Kaito; material=VG-10 Damascus steel; handle=Walnut
	Sixty-seven layers of folded steel around a hard VG-10 core hold a razor edge for julienne and chiffonade. The octagonal walnut handle is balanced for a pinch grip.
## tableware
TBL-PLT | Stoneware Dinner Plate Set | 5900 | colour: Speckled White/SPW, Slate, Terracotta | brand=Mossgrove; material=Stoneware; pieces=4
	Four reactive-glaze plates, wheel-thrown in a small Alentejo pottery. Each one varies slightly; all are microwave and dishwasher safe.
TBL-MUG | Hand-Thrown Ceramic Mug | 1899 | colour: Sage, Speckled White/SPW, Ink, Terracotta | brand=Mossgrove; material=Stoneware; capacity=350 ml
	A generous mug with a thumb rest and an unglazed foot that shows the raw clay. Sized for a proper flat white or a big pot of breakfast tea.
TBL-GLS | Recycled Glass Tumbler Set | 2400 | colour: Clear, Aqua | brand=Brisa; material=Recycled glass; pieces=6
	Mouth-blown from recycled bottle glass, so tiny bubbles and a faint sea tint are part of the design. Stackable and sturdy enough for everyday lemonade.
TBL-BRD | Olive Wood Serving Board | 3400 | size: Medium/M, Large/L+1200 | brand=Brisa; material=Olive wood
	Cut from sustainably pruned Tuscan olive trees with swirling grain on every board. Ideal for charcuterie, cheeses and rustic bread.
TBL-CUT | Brushed Brass Cutlery Set | 8900 | colour: Brass/BRS, Matte Black/MBK | brand=Mossgrove; material=PVD-coated stainless steel; pieces=24 | draft
	Twenty-four pieces of flatware with a brushed PVD finish that will not tarnish in the dishwasher. Slim, weighty handles for dinner parties.
## home-textiles
TEX-DUV | Stonewashed Linen Duvet Cover | 12900 | colour: Natural, Sage, Terracotta; size: Double/DBL, King/KNG+2000 | brand=Atelier Lune; material=French flax linen
	European flax linen stonewashed for a rumpled, breezy texture that gets softer each night. Hidden button closure and interior corner ties keep the duvet in place.
TEX-TWL | Waffle Weave Towel | 1500 | colour: White, Sand, Slate; size: Hand/HND, Bath/BTH+1400 | brand=Brisa; material=Turkish cotton
	Honeycomb-woven Turkish cotton that dries quickly and stays light even when damp. Absorbent, lint-free and at home in spa-style bathrooms.
TEX-THR | Wool Herringbone Throw | 9900 | colour: Grey, Mustard | brand=Halden; material=Lambswool; origin=Wales
	Woven on traditional Welsh looms in a bold herringbone twill with blanket-stitched edges. Drape it over the sofa for reading nooks and movie nights.
TEX-CUS | Velvet Cushion Cover | 2400 | colour: Emerald, Rust, Navy; size: 45 cm/45, 60 cm/60+600 | brand=Atelier Lune; material=Cotton velvet
	Plush cotton velvet with a concealed zip and piped edges that catches the light. Pairs with the linen bedding for layered, jewel-toned interiors.
TEX-APR | Canvas Kitchen Apron | 3400 | colour: Indigo, Tan | brand=Kestrel & Co; material=Cotton canvas
	Heavy cotton canvas apron with leather straps that cross at the back and relieve the neck. A split chest pocket holds thermometers, pencils and tasting spoons.
## camping
CMP-TNT | Two-Person Backpacking Tent | 24900 | colour: Olive, Sand | brand=Fjellmark; weight=1.4 kg; season=3-season
	Freestanding dome with two doors and two vestibules, pitched in minutes with colour-coded poles. Ultralight silnylon flysheet sheds wind-driven rain.
CMP-BAG | Three-Season Sleeping Bag | 15900 | size: Regular/REG, Long/LNG+2000 | brand=Fjellmark; comfort=-2 °C; fill=Synthetic
	Mummy-shaped bag with a draught collar and anti-snag zip, rated comfortable just below freezing. Synthetic insulation keeps lofting when condensation drips inside the tent.
CMP-MAT | Self-Inflating Sleeping Mat | 7900 | size: Regular/REG, Wide/WDE+1500 | brand=Fjellmark; insulation=R-value 4.2
	Open-cell foam core that inflates itself once you open the valve, topped up with a couple of breaths. The R-value of 4.2 shields you from cold ground in spring and autumn.
CMP-STV | Titanium Camp Stove | 5900 | - | brand=Kestrel & Co; material=Titanium; weight=56 g
	A pocket-sized canister burner with a piezo igniter and folding pot supports. Brings half a litre to a rolling boil in about three minutes.
CMP-LMP | Rechargeable Camp Lantern | 3900 | colour: Forest, Orange | brand=Lumo; battery=5200 mAh; brightness=400 lumens
	Dimmable lantern with warm and daylight modes plus a red night-vision setting. Doubles as a power bank to top up your phone at the campsite.
## hiking
HIK-BPK | Alpine Daypack | 12900 | capacity: 22 L/22, 30 L/30+2000; colour: Black, Rust | brand=Fjellmark; material=Recycled ripstop
	Ventilated mesh back panel, hip-belt pockets and an ice-axe loop for summit days. A hydration sleeve and rain cover are built in.
HIK-POL | Carbon Trekking Poles | 8900 | length: 110-130 cm/S, 120-140 cm/L | brand=Fjellmark; material=Carbon fibre; weight=420 g per pair
	Three-section carbon poles with cork grips and quick flick-lock adjustment. They collapse small enough to strap to a pack on scrambles.
HIK-SOK | Merino Hiking Socks | 1999 | size: 36-38/S, 39-42/M, 43-46/L | brand=Fjellmark; material=Merino wool
	Cushioned terry under the heel and toe with an arch band that stops bunching on long descents. Merino wicks sweat and keeps blisters at bay.
HIK-HDL | Rechargeable Headlamp | 4400 | colour: Black, Orange | brand=Lumo; brightness=450 lumens; waterproofing=IPX4
	USB-C rechargeable headlamp with spot, flood and red modes and a lock-out switch for your rucksack. Lightweight enough for trail running at dawn.
HIK-FAK | Trail First-Aid Kit | 2900 | - | brand=Kestrel & Co; contents=32 items | archived
	Compact kit with plasters, tick tweezers, blister dressings and a foil survival blanket. Packed in a waterproof roll-top pouch.
## bottles-flasks
BTL-INS | Insulated Steel Water Bottle | 2900 | capacity: 500 ml/500, 750 ml/750+400, 1 L/1L+800; colour: Black, Sage | brand=Tidewell; material=Stainless steel
	Double-wall vacuum insulation keeps drinks icy for 24 hours or hot for 12. Powder-coated finish grips well and leaves no metallic taste.
BTL-FLK | Vacuum Coffee Flask | 3400 | capacity: 350 ml/350, 500 ml/500+500; colour: Stone, Ink | brand=Tidewell; material=Stainless steel
	Leakproof flask with a one-handed push-button lid for espresso on the morning commute. Fits in car cup holders and most bike bottle cages.
BTL-FLT | Filter Water Bottle | 4900 | colour: Clear, Smoke | brand=Tidewell; material=Tritan; filter=Hollow fibre
	A built-in hollow-fibre filter removes bacteria and protozoa from streams and taps. Squeeze, sip and refill from any trailside creek.
BTL-HIP | Leather-Wrapped Hip Flask | 3900 | colour: Tan, Black | brand=Kestrel & Co; material=Stainless steel and leather; capacity=180 ml | draft
	Vegetable-tanned leather wrapped around a curved steel flask with a captive screw cap. A dapper companion for whisky at mountain huts.
## charging
CHG-GAN | 65 W GaN USB-C Charger | 4900 | plug: EU, UK, US; colour: White, Black | brand=Volta Labs; output=65 W; ports=2x USB-C
	Gallium nitride charger that fast-charges a laptop and a phone at once from one compact brick. Foldable prongs and smart power sharing.
CHG-CBL | Braided USB-C Cable | 1299 | length: 1 m/1M, 2 m/2M+300; colour: Black, White | brand=Volta Labs; material=Nylon braid; rating=100 W
	Tangle-resistant nylon braided cable rated for 100 W power delivery and USB 2.0 data. Strain relief tested beyond ten thousand bends.
CHG-PWR | Slim Power Bank | 3900 | capacity: 10 000 mAh/10K, 20 000 mAh/20K+2000; colour: Black, Sand | brand=Volta Labs; output=30 W
	Slim power bank with pass-through charging and a battery-level display. Airline carry-on friendly and recharges in under three hours.
CHG-WLS | Wooden Wireless Charging Pad | 4900 | wood: Walnut, Oak | brand=Volta Labs; output=15 W; standard=Qi2
	Solid hardwood Qi2 charging pad with a magnetic alignment ring and a soft status light. Blends into bedside tables and oak desks.
## audio
AUD-ANC | Noise-Cancelling Wireless Headphones | 19900 | colour: Black, Sand, Navy | brand=Sonara; battery=40 h; codec=LDAC
	Hybrid active noise cancellation silences engines and open-plan chatter, while memory foam cushions stay comfortable on long-haul flights. Forty hours of playback.
AUD-EAR | True Wireless Earbuds | 8900 | colour: Black, White, Sage | brand=Sonara; battery=8 h; waterproofing=IPX5
	Pocketable earbuds with a transparency mode, multipoint pairing and a sweatproof build for gym sessions. The case adds three extra charges.
AUD-SPK | Portable Bluetooth Speaker | 6900 | colour: Charcoal, Ocean, Rust | brand=Sonara; battery=16 h; waterproofing=IP67
	Rugged, floating speaker with punchy 360-degree sound for beaches and picnics. Pair two for stereo at garden barbecues.
## cases-sleeves
CAS-LAP | Wool Felt Laptop Sleeve | 3900 | size: 13-inch/13, 14-inch/14+300, 16-inch/16+600; colour: Grey, Charcoal | brand=Kestrel & Co; material=Merino felt
	Thick merino felt cushions your notebook against bumps, with a leather tab closure. An outer slip pocket swallows chargers and a notepad.
CAS-PHN | Leather Phone Case | 3400 | model: iPhone 16/IP16, iPhone 16 Pro/IP16P, Galaxy S25/GS25; colour: Tan, Black | brand=Kestrel & Co; material=Full-grain leather
	Full-grain leather case with microfibre lining and magnetic charging support. Ages into a rich patina that is unique to you.
CAS-TEC | Tech Organiser Pouch | 2900 | colour: Olive, Black | brand=Kestrel & Co; material=Recycled canvas
	Zippered travel pouch with elastic loops and mesh pockets for cables, adapters and memory cards. Opens flat like a book so nothing hides at the bottom.
`;

/** Lowercase, ASCII, hyphen-separated: safe in URLs without encoding. */
function slugify(text: string): string {
	return text
		.normalize("NFKD")
		.replace(/[\u0300-\u036f'’]/g, "")
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, "-")
		.replace(/^-|-$/g, "");
}

/** Ids look random to a shopper but are a pure function of the natural key, so re-runs hit the same rows. */
function stableId(prefix: "cat" | "prod" | "var", key: string): string {
	// 25 hex digits are exactly 100 bits, i.e. 20 base-32 characters with no half-filled leading one.
	const hex = createHash("sha256").update(`demo-catalog:${prefix}:${key}`).digest("hex").slice(0, 25);
	return `${prefix}_${BigInt(`0x${hex}`).toString(32).padStart(20, "0")}`;
}

function openingStock(sku: string): number {
	if (SOLD_OUT.has(sku)) return 0;
	return 3 + (createHash("sha256").update(`demo-catalog:stock:${sku}`).digest().readUInt32BE(0) % 118);
}

function parseOptionValue(text: string): OptionValue {
	const match = /^(.+?)(?:\/([A-Z0-9]+))?(?:\+(\d+))?$/.exec(text.trim());
	if (!match?.[1]) throw new Error(`seed: bad option value "${text}"`);
	const label = match[1];
	const code = match[2] ?? OPTION_CODES.get(label) ?? label.toUpperCase().replace(/\W/g, "").slice(0, 3);
	return { label, code, priceDelta: Number(match[3] ?? 0) };
}

function parseAxes(text: string): OptionAxis[] {
	if (text === "-") return [];
	return text.split(";").map((axis) => {
		const [name, values] = axis.split(":").map((part) => part.trim());
		if (!name || !values) throw new Error(`seed: bad option axis "${axis}"`);
		return { name, values: values.split(",").map(parseOptionValue) };
	});
}

function parseAttribute(pair: string): [string, string] {
	const [key, value] = pair.split("=").map((part) => part.trim());
	if (!key || !value) throw new Error(`seed: bad attribute "${pair}"`);
	return [key, value];
}

function parseCatalog(text: string): ProductSpec[] {
	const specs: ProductSpec[] = [];
	let categorySlug = "";
	for (const line of text.split("\n")) {
		if (!line.trim()) continue;
		if (line.startsWith("## ")) {
			categorySlug = line.slice(3).trim();
		} else if (/^\s/.test(line)) {
			const spec = specs.at(-1);
			if (!spec) throw new Error(`seed: description without a product: "${line.trim()}"`);
			spec.description = `${spec.description} ${line.trim()}`.trim();
		} else {
			const [code, title, price, options, attributes, status = "active"] = line.split("|").map((field) => field.trim());
			if (!code || !title || !price || !options || !attributes || !schema.productStatus.enumValues.includes(status as ProductStatus)) {
				throw new Error(`seed: bad product line "${line}"`);
			}
			specs.push({
				code,
				title,
				categorySlug,
				basePrice: Number(price),
				axes: parseAxes(options),
				attributes: Object.fromEntries(attributes.split(";").map(parseAttribute)),
				status: status as ProductStatus,
				description: "",
			});
		}
	}
	return specs;
}

/** Every combination of one value per axis, first axis outermost, so positions group by colour before size. */
function combinations(axes: OptionAxis[]): OptionValue[][] {
	return axes.reduce<OptionValue[][]>((combos, axis) => combos.flatMap((combo) => axis.values.map((value) => [...combo, value])), [[]]);
}

function assertUnique<T>(kind: string, rows: T[], key: (row: T) => string): void {
	const seen = new Set<string>();
	for (const value of rows.map(key)) {
		if (seen.has(value)) throw new Error(`seed: duplicate ${kind} "${value}"`);
		seen.add(value);
	}
}

/** Expands the tables into rows; throws on a malformed table so mistakes surface at the first run, not in a test. */
function buildDataset() {
	const categoryRows: CategoryRow[] = [];
	const categoryCreatedAt = new Date(BASE_DATE - 180 * DAY_MS);
	CATEGORY_TREE.forEach(([parentName, children], parentPosition) => {
		const parentSlug = slugify(parentName);
		const parentId = stableId("cat", parentSlug);
		const common = { createdAt: categoryCreatedAt, updatedAt: categoryCreatedAt };
		categoryRows.push({ id: parentId, parentId: null, slug: parentSlug, name: parentName, position: parentPosition, ...common });
		children.forEach((name, position) => {
			const slug = slugify(name);
			categoryRows.push({ id: stableId("cat", slug), parentId, slug, name, position, ...common });
		});
	});
	const leafIds = new Map(categoryRows.filter((row) => row.parentId).map((row) => [row.slug, row.id]));

	const specs = parseCatalog(CATALOG);
	const productRows: ProductRow[] = [];
	const variantRows: VariantRow[] = [];
	for (const spec of specs) {
		const categoryId = leafIds.get(spec.categorySlug);
		if (!categoryId) throw new Error(`seed: ${spec.code} is under unknown leaf category "${spec.categorySlug}"`);
		if (spec.description.split(/[.!?](?:\s|$)/).filter((s) => s.trim()).length < 2) {
			throw new Error(`seed: ${spec.code} needs a description of at least two sentences`);
		}
		const slug = slugify(spec.title);
		const productId = stableId("prod", slug);
		productRows.push({
			id: productId,
			slug,
			title: spec.title,
			description: spec.description,
			status: spec.status,
			categoryId,
			attributes: spec.attributes,
		});
		const combos = combinations(spec.axes);
		if (combos.length > 6) throw new Error(`seed: ${spec.code} would have ${combos.length} variants; keep it to 6`);
		combos.forEach((combo, position) => {
			const sku = [spec.code, ...combo.map((value) => value.code)].join("-");
			const priceMinor = spec.basePrice + combo.reduce((sum, value) => sum + value.priceDelta, 0);
			if (!Number.isInteger(priceMinor) || priceMinor < 799 || priceMinor > 24900) {
				throw new Error(`seed: ${sku} costs ${priceMinor}, outside the demo range`);
			}
			variantRows.push({
				id: stableId("var", sku),
				productId,
				sku,
				title: combo.length ? combo.map((value) => value.label).join(" / ") : "Default",
				options: Object.fromEntries(spec.axes.map((axis, i) => [axis.name, combo[i]?.label ?? ""])),
				priceMinor,
				currency: CURRENCY,
				weightGrams: SHIPPING_GRAMS[spec.categorySlug] ?? 500,
				position,
			});
		});
	}

	assertUnique("category slug", categoryRows, (row) => row.slug);
	assertUnique("product slug", productRows, (row) => row.slug);
	assertUnique("SKU", variantRows, (row) => row.sku);
	const skus = new Set(variantRows.map((row) => row.sku));
	for (const sku of SOLD_OUT) if (!skus.has(sku)) throw new Error(`seed: sold-out SKU ${sku} is not in the catalog`);

	// Creation order follows the (random-looking) id rather than the table, so "newest first" mixes categories.
	const byId = [...productRows].sort((a, b) => (a.id < b.id ? -1 : 1));
	byId.forEach((row, rank) => {
		row.createdAt = new Date(BASE_DATE - (rank + 1) * 2 * DAY_MS + ((rank * 7) % 10) * 3_600_000);
		row.updatedAt = row.createdAt;
	});
	const productCreatedAt = new Map(productRows.map((row) => [row.id, row.createdAt]));
	for (const row of variantRows) {
		row.createdAt = productCreatedAt.get(row.productId);
		row.updatedAt = row.createdAt;
	}

	const stockRows = variantRows.map((row) => ({ sku: row.sku, delta: openingStock(row.sku) }));
	return { categoryRows, productRows, variantRows, stockRows };
}

/**
 * Seeds the demo catalog in one transaction.
 *
 * mode "if-empty" (default, what `npm run dev` does): only when the products
 * table has no rows. mode "upsert-missing": inserts any seed row whose id is
 * missing and never overwrites existing rows, so it is idempotent (for tests
 * and re-runs). A seed row that clashes with a foreign row on a unique key
 * (slug, SKU) is skipped together with the seed rows that depend on it.
 */
export async function seedDemoCatalog(databaseUrl: string, options: { mode?: "if-empty" | "upsert-missing" } = {}): Promise<SeedResult> {
	const mode = options.mode ?? "if-empty";
	const data = buildDataset();
	const counts = { categories: data.categoryRows.length, products: data.productRows.length, variants: data.variantRows.length };
	const client = new pg.Client({ connectionString: databaseUrl });
	await client.connect();
	try {
		const db = drizzle({ client, schema });
		const seeded = await db.transaction(async (tx) => {
			if (mode === "if-empty") {
				const existing = await tx.select({ id: products.id }).from(products).limit(1);
				if (existing.length) return false;
			}
			// After ON CONFLICT DO NOTHING we cannot tell "already ours" from "slug taken by someone else", so ask which ids exist.
			const present = async (table: typeof categories | typeof products | typeof variants, wanted: { id: string }[]) => {
				if (!wanted.length) return new Set<string>();
				const ids = wanted.map((row) => row.id);
				const rows = await tx.select({ id: table.id }).from(table).where(inArray(table.id, ids));
				return new Set(rows.map((row) => row.id));
			};

			const parents = data.categoryRows.filter((row) => !row.parentId);
			if (parents.length) await tx.insert(categories).values(parents).onConflictDoNothing();
			const parentIds = await present(categories, parents);
			const children = data.categoryRows.filter((row) => row.parentId && parentIds.has(row.parentId));
			if (children.length) await tx.insert(categories).values(children).onConflictDoNothing();
			const categoryIds = await present(categories, children);
			const productRows = data.productRows.filter((row) => categoryIds.has(row.categoryId));
			if (productRows.length) await tx.insert(products).values(productRows).onConflictDoNothing();
			const productIds = await present(products, productRows);
			const variantRows = data.variantRows.filter((row) => productIds.has(row.productId));
			if (variantRows.length) await tx.insert(variants).values(variantRows).onConflictDoNothing();
			return true;
		});
		return { seeded, ...counts };
	} finally {
		await client.end();
	}
}

/**
 * Opening stock of every demo SKU. Stock belongs to the SKUs' InventoryItem
 * objects, so `npm run dev` sets it through the admin adjust route (see
 * seed-stock.ts), not in Postgres.
 */
export function demoOpeningStock(): { sku: string; quantity: number }[] {
	return buildDataset().stockRows.map((row) => ({ sku: row.sku, quantity: row.delta }));
}
