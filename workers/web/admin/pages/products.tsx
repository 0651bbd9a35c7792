import type { Context } from "hono";
import type { FC } from "hono/jsx";
import { statusOf } from "../../../api/lib/problem.ts";
import type { AppEnv } from "../../../api/types.ts";
import { CreateProductBody, PatchProductBody, PRODUCT_STATUSES } from "../../../catalog/admin.schemas.ts";
import {
	type AdminActor,
	type AdminProduct,
	createProduct,
	listAdminProducts,
	type PatchProductInput,
	readProduct,
	updateProduct,
} from "../../../catalog/admin.ts";
import { categoryTree } from "../../../catalog/queries.ts";
import { DomainError, notFound } from "../../../domain/errors.ts";
import { TAX_CLASSES } from "../../../markets/admin.schemas.ts";
import {
	attachProductImage,
	checkUploadRequest,
	mediaMaxBytes,
	productExists,
	productImages,
	productNotFound,
	readUploadForm,
} from "../../../media/upload.ts";
import { money } from "../../layout.tsx";
import { action, field, readForm, seeOther, withOutcome } from "../actions.ts";
import {
	CategoryOptions,
	CurrencyOptions,
	invalidForm,
	issuesOf,
	messagesForError,
	optionsInput,
	parseOptions,
	parsePrice,
	priceInput,
} from "../forms.tsx";
import { AdminLayout, listUrl, NextPage, Time } from "../layout.tsx";
import { parseGrams, TAX_CLASS_TEXT } from "../markets-forms.ts";
import { type Messages, messagesOf, type NoticeCode } from "../messages.ts";

type ProductStatus = (typeof PRODUCT_STATUSES)[number];

const PRODUCT_ID = /^[a-z]+_[0-9a-z]{1,40}$/;
const SKU = /^[A-Z0-9]+(?:-[A-Z0-9]+)*$/;
const PAGE_SIZE = 25;

const STATUS_LABEL: Record<ProductStatus, string> = { draft: "Draft", active: "Active", archived: "Archived" };
const STATUS_TONE: Record<ProductStatus, string> = { draft: "warn", active: "ok", archived: "" };

/** How the forms name each field of the API's product body, for error messages. */
const LABELS: Record<string, string> = {
	title: "Title",
	slug: "Slug",
	description: "Description",
	status: "Status",
	category_id: "Category",
	sku: "SKU",
	price_minor: "Price",
	currency: "Currency",
	options: "Options",
	tax_class: "Tax class",
	weight_grams: "Weight",
	"variants.title": "Variant title",
};

const ProductStatusBadge: FC<{ status: ProductStatus }> = ({ status }) => (
	<span class={`badge ${STATUS_TONE[status]}`.trim()}>{STATUS_LABEL[status]}</span>
);

const actorOf = (c: Context<AppEnv>): AdminActor => ({ userId: c.get("auth").userId, requestId: c.get("requestId") });

/** What the operator typed into the new-product form, kept when it comes back with an error. */
interface NewProductValues {
	title: string;
	slug: string;
	description: string;
	status: string;
	category_id: string;
	sku: string;
	variant_title: string;
	price: string;
	currency: string;
}

const EMPTY_PRODUCT: NewProductValues = {
	title: "",
	slug: "",
	description: "",
	status: "draft",
	category_id: "",
	sku: "",
	variant_title: "",
	price: "",
	currency: "EUR",
};

function priceRange(product: AdminProduct): string {
	const live = product.variants.filter((variant) => !variant.archived);
	if (live.length === 0) return "—";
	const prices = live.map((variant) => variant.price_minor);
	const currency = live[0]?.currency ?? "EUR";
	const low = Math.min(...prices);
	const high = Math.max(...prices);
	return low === high ? money(low, currency) : `${money(low, currency)} – ${money(high, currency)}`;
}

/** `GET /admin/products?q=&status=&cursor=`: every product whatever its status, and the new-product form. */
export async function productsPage(
	c: Context<AppEnv>,
	state: { status?: 200 | 400 | 409 | 422; messages?: Messages; values?: NewProductValues } = {},
): Promise<Response> {
	const db = c.get("database").primary;
	const q = c.req.query("q")?.trim().slice(0, 200) || undefined;
	const statusParam = c.req.query("status");
	const status = PRODUCT_STATUSES.find((value) => value === statusParam);
	const cursor = c.req.method === "GET" ? c.req.query("cursor") || undefined : undefined;
	let messages = state.messages ?? messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") });
	let page: Awaited<ReturnType<typeof listAdminProducts>>;
	try {
		page = await listAdminProducts(db, { q, status, limit: PAGE_SIZE, cursor });
	} catch (err) {
		if (!(err instanceof DomainError) || err.code !== "invalid_cursor") throw err;
		messages = { error: "That page link is no longer valid; showing the newest products." };
		page = await listAdminProducts(db, { q, status, limit: PAGE_SIZE });
	}
	const categories = await categoryTree(db);
	const values = state.values ?? EMPTY_PRODUCT;
	return c.html(
		<AdminLayout title="Products" current="products" messages={messages}>
			<div class="page-head">
				<h1>Products</h1>
				<a class="button secondary" href="#new-product">
					New product
				</a>
			</div>
			<form class="filters panel" method="get" action="/admin/products" aria-label="Search products">
				<div class="field grow">
					<label for="product-q">Search</label>
					<input id="product-q" type="search" name="q" value={q ?? ""} placeholder="Title, slug or SKU" />
				</div>
				<div class="field">
					<label for="product-status">Status</label>
					<select id="product-status" name="status">
						<option value="">Any status</option>
						{PRODUCT_STATUSES.map((value) => (
							<option value={value} selected={value === status}>
								{STATUS_LABEL[value]}
							</option>
						))}
					</select>
				</div>
				<button type="submit">Search</button>
			</form>
			{page.data.length === 0 ? (
				<p class="panel">{q || status ? "No products match." : "No products yet."}</p>
			) : (
				<div class="table-wrap">
					<table class="cards">
						<caption class="visually-hidden">Products, newest first</caption>
						<thead>
							<tr>
								<th scope="col">Product</th>
								<th scope="col">Status</th>
								<th scope="col" class="num">
									Variants
								</th>
								<th scope="col">Price</th>
								<th scope="col">Updated</th>
							</tr>
						</thead>
						<tbody>
							{page.data.map((product) => (
								<tr>
									<td>
										<a href={`/admin/products/${product.id}`}>{product.title}</a>
										<div class="hint">{product.slug}</div>
									</td>
									<td data-label="Status">
										<ProductStatusBadge status={product.status} />
									</td>
									<td class="num" data-label="Variants">
										{product.variants.filter((variant) => !variant.archived).length}
									</td>
									<td class="nowrap" data-label="Price">
										{priceRange(product)}
									</td>
									<td class="nowrap" data-label="Updated">
										<Time at={product.updated_at} />
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
			<NextPage href={page.next_cursor ? listUrl("/admin/products", { q, status, cursor: page.next_cursor }) : null} />

			<section class="panel" id="new-product" aria-labelledby="new-product-heading">
				<h2 id="new-product-heading">New product</h2>
				<form method="post" action="/admin/products">
					<div class="field-row">
						<div class="field">
							<label for="new-title">Title</label>
							<input id="new-title" name="title" required maxlength={200} value={values.title} />
						</div>
						<div class="field">
							<label for="new-slug">Slug</label>
							<input id="new-slug" name="slug" maxlength={120} value={values.slug} aria-describedby="new-slug-hint" />
							<p class="hint" id="new-slug-hint">
								Optional: made from the title when empty.
							</p>
						</div>
					</div>
					<div class="field">
						<label for="new-description">Description</label>
						<textarea id="new-description" name="description" maxlength={10000}>
							{values.description}
						</textarea>
					</div>
					<div class="field-row">
						<div class="field">
							<label for="new-status">Status</label>
							<select id="new-status" name="status">
								<option value="draft" selected={values.status !== "active"}>
									Draft (not in the shop)
								</option>
								<option value="active" selected={values.status === "active"}>
									Active (on sale)
								</option>
							</select>
						</div>
						<div class="field">
							<label for="new-category">Category</label>
							<select id="new-category" name="category_id">
								<CategoryOptions tree={categories} selected={values.category_id} />
							</select>
						</div>
					</div>
					<fieldset>
						<legend>First variant</legend>
						<div class="field-row">
							<div class="field">
								<label for="new-sku">SKU</label>
								<input
									id="new-sku"
									name="sku"
									required
									maxlength={64}
									value={values.sku}
									autocomplete="off"
									pattern="[A-Z0-9]+(-[A-Z0-9]+)*"
									aria-describedby="new-sku-hint"
								/>
								<p class="hint" id="new-sku-hint">
									Capitals, digits and dashes, e.g. TEE-NAV-M.
								</p>
							</div>
							<div class="field">
								<label for="new-variant-title">Variant title</label>
								<input
									id="new-variant-title"
									name="variant_title"
									required
									maxlength={200}
									value={values.variant_title}
									placeholder="e.g. Navy, M"
								/>
							</div>
							<div class="field">
								<label for="new-price">Price</label>
								<input id="new-price" name="price" required inputmode="decimal" value={values.price} placeholder="19.90" />
							</div>
							<div class="field">
								<label for="new-currency">Currency</label>
								<select id="new-currency" name="currency">
									<CurrencyOptions selected={values.currency || "EUR"} />
								</select>
							</div>
						</div>
					</fieldset>
					<button type="submit">Create product</button>
				</form>
			</section>
		</AdminLayout>,
		state.status ?? 200,
	);
}

/** `POST /admin/products`: creates the product with its first variant, then opens it for editing. */
export async function createProductAction(c: Context<AppEnv>): Promise<Response> {
	const { fields } = await readForm(c);
	const values: NewProductValues = {
		title: fields.get("title") ?? "",
		slug: fields.get("slug") ?? "",
		description: fields.get("description") ?? "",
		status: fields.get("status") ?? "draft",
		category_id: fields.get("category_id") ?? "",
		sku: fields.get("sku") ?? "",
		variant_title: fields.get("variant_title") ?? "",
		price: fields.get("price") ?? "",
		currency: fields.get("currency") ?? "EUR",
	};
	try {
		const currency = values.currency.trim().toUpperCase();
		const price = parsePrice(values.price, currency);
		if (price === undefined) throw invalidForm([`Price: write an amount such as 19.90.`]);
		const parsed = CreateProductBody.safeParse({
			title: values.title,
			...(values.slug.trim() ? { slug: values.slug.trim() } : {}),
			description: values.description,
			status: values.status,
			category_id: values.category_id || null,
			variants: [{ sku: values.sku.trim().toUpperCase(), title: values.variant_title, price_minor: price, currency }],
		});
		if (!parsed.success) throw invalidForm(issuesOf(parsed.error, LABELS));
		const product = await createProduct(c.env, c.get("database").primary, parsed.data, actorOf(c));
		return seeOther(c, withOutcome(`/admin/products/${product.id}`, { notice: "product_created" }));
	} catch (err) {
		if (err instanceof DomainError && statusOf(err) < 500) {
			return productsPage(c, { status: formStatus(err), messages: messagesForError(err), values });
		}
		throw err;
	}
}

function formStatus(err: DomainError): 400 | 409 | 422 {
	return statusOf(err) === 409 ? 409 : statusOf(err) === 422 ? 422 : 400;
}

/** The typed values of the product form, kept when it comes back with an error. */
interface ProductValues {
	title: string;
	slug: string;
	description: string;
	status: string;
	category_id: string;
	tax_class?: string;
}

function productIdOf(c: Context<AppEnv>): string {
	const id = c.req.param("id") ?? "";
	if (!PRODUCT_ID.test(id)) throw productNotFound();
	return id;
}

/** The currency the product's variants share (the first live one's; EUR for none). */
function currencyOf(product: AdminProduct): string {
	return (product.variants.find((variant) => !variant.archived) ?? product.variants[0])?.currency ?? "EUR";
}

/** `GET /admin/products/{id}`: the product's fields, its variants, and its images. */
export async function productPage(
	c: Context<AppEnv>,
	state: { status?: 200 | 400 | 409 | 422; messages?: Messages; values?: ProductValues } = {},
): Promise<Response> {
	const id = productIdOf(c);
	const db = c.get("database").primary;
	const product = await readProduct(db, id);
	if (!product) throw productNotFound();
	const [images, categories] = await Promise.all([productImages(db, id), categoryTree(db)]);
	const values: ProductValues = state.values ?? {
		title: product.title,
		slug: product.slug,
		description: product.description,
		status: product.status,
		category_id: product.category_id ?? "",
		tax_class: product.tax_class,
	};
	const currency = currencyOf(product);
	const messages = state.messages ?? messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") });
	const base = `/admin/products/${product.id}`;
	return c.html(
		<AdminLayout title={product.title} current="products" messages={messages}>
			<p>
				<a href="/admin/products">← All products</a>
			</p>
			<div class="page-head">
				<h1>{product.title}</h1>
				<p class="row">
					<ProductStatusBadge status={product.status} />
					{product.status === "active" ? <a href={`/p/${product.slug}`}>View in shop</a> : null}
					<a href={listUrl("/admin/inventory", { product: product.id })}>Stock levels</a>
				</p>
			</div>
			<div class="two-col">
				<section class="panel" aria-labelledby="details-heading">
					<h2 id="details-heading">Details</h2>
					<form method="post" action={base}>
						<div class="field">
							<label for="title">Title</label>
							<input id="title" name="title" required maxlength={200} value={values.title} />
						</div>
						<div class="field">
							<label for="slug">Slug</label>
							<input id="slug" name="slug" required maxlength={120} value={values.slug} aria-describedby="slug-hint" />
							<p class="hint" id="slug-hint">
								The product's address in the shop: /p/{values.slug || "…"}
							</p>
						</div>
						<div class="field">
							<label for="description">Description</label>
							<textarea id="description" name="description" maxlength={10000}>
								{values.description}
							</textarea>
						</div>
						<div class="field-row">
							<div class="field">
								<label for="status">Status</label>
								<select id="status" name="status">
									{PRODUCT_STATUSES.map((value) => (
										<option value={value} selected={value === values.status}>
											{STATUS_LABEL[value]}
										</option>
									))}
								</select>
							</div>
							<div class="field">
								<label for="category">Category</label>
								<select id="category" name="category_id">
									<CategoryOptions tree={categories} selected={values.category_id} />
								</select>
							</div>
							<div class="field">
								<label for="tax-class">Tax class</label>
								<select id="tax-class" name="tax_class">
									{TAX_CLASSES.map((value) => (
										<option value={value} selected={value === (values.tax_class ?? product.tax_class)}>
											{TAX_CLASS_TEXT[value]}
										</option>
									))}
								</select>
							</div>
						</div>
						<p class="hint">
							Created <Time at={product.created_at} />, last changed <Time at={product.updated_at} />.
						</p>
						<button type="submit">Save product</button>
					</form>
				</section>
				<section class="panel" aria-labelledby="images-heading">
					<h2 id="images-heading">Images</h2>
					{images.length === 0 ? (
						<p class="muted">No images yet.</p>
					) : (
						<ul class="images">
							{images.map((image) => (
								<li>
									<figure>
										<img src={image.url} alt={image.alt} loading="lazy" width="160" height="160" />
										<figcaption>{image.alt || "No alt text"}</figcaption>
									</figure>
								</li>
							))}
						</ul>
					)}
					<form method="post" action={`${base}/media`} enctype="multipart/form-data">
						<div class="field">
							<label for="image-file">Image</label>
							<input
								id="image-file"
								type="file"
								name="file"
								required
								accept="image/jpeg,image/png,image/webp,image/avif"
								aria-describedby="image-hint"
							/>
							<p class="hint" id="image-hint">
								JPEG, PNG, WebP or AVIF, up to {Math.floor(mediaMaxBytes(c.env) / (1024 * 1024))} MB.
							</p>
						</div>
						<div class="field">
							<label for="image-alt">Alt text</label>
							<input id="image-alt" name="alt" maxlength={300} placeholder="What the image shows, for people who cannot see it" />
						</div>
						<button type="submit">Upload image</button>
					</form>
				</section>
			</div>
			<section class="panel" aria-labelledby="variants-heading">
				<h2 id="variants-heading">Variants</h2>
				<div class="variant-list">
					{product.variants.map((variant) => (
						<fieldset class={variant.archived ? "archived" : undefined}>
							<legend>
								{variant.sku} {variant.archived ? <span class="badge">Archived</span> : null}
							</legend>
							<form method="post" action={`${base}/variants/${variant.sku}`} class="compact">
								<div class="variant-edit">
									<div class="field">
										<label for={`v-${variant.sku}-title`}>Variant title</label>
										<input id={`v-${variant.sku}-title`} name="title" required maxlength={200} value={variant.title} />
									</div>
									<div class="field">
										<label for={`v-${variant.sku}-price`}>Price ({variant.currency})</label>
										<input
											id={`v-${variant.sku}-price`}
											name="price"
											required
											inputmode="decimal"
											value={priceInput(variant.price_minor, variant.currency)}
										/>
									</div>
									<div class="field">
										<label for={`v-${variant.sku}-options`}>Options</label>
										<input
											id={`v-${variant.sku}-options`}
											name="options"
											value={optionsInput(variant.options)}
											placeholder="Colour: Navy, Size: M"
										/>
									</div>
									<div class="field">
										<label for={`v-${variant.sku}-weight`}>Weight (g)</label>
										<input id={`v-${variant.sku}-weight`} name="weight" inputmode="numeric" size={6} value={String(variant.weight_grams)} />
									</div>
									<button type="submit">
										Save<span class="visually-hidden"> variant {variant.sku}</span>
									</button>
								</div>
							</form>
							<form
								method="post"
								action={`${base}/variants/${variant.sku}/${variant.archived ? "restore" : "archive"}`}
								class="row-actions compact"
							>
								<span class="hint">
									{variant.archived ? "Not sold; kept for order history." : "On sale while the product is active."}{" "}
									<a href={listUrl("/admin/inventory", { sku: variant.sku })}>Stock</a>
								</span>
								<button type="submit" class="secondary">
									{variant.archived ? "Restore" : "Archive"}
									<span class="visually-hidden"> {variant.sku}</span>
								</button>
							</form>
						</fieldset>
					))}
				</div>
				<form method="post" action={`${base}/variants`} class="compact">
					<fieldset>
						<legend>Add a variant</legend>
						<div class="field-row">
							<div class="field">
								<label for="add-sku">SKU</label>
								<input id="add-sku" name="sku" required maxlength={64} autocomplete="off" pattern="[A-Z0-9]+(-[A-Z0-9]+)*" />
							</div>
							<div class="field">
								<label for="add-title">Variant title</label>
								<input id="add-title" name="title" required maxlength={200} />
							</div>
							<div class="field">
								<label for="add-price">Price ({currency})</label>
								<input id="add-price" name="price" required inputmode="decimal" placeholder="19.90" />
							</div>
							<div class="field">
								<label for="add-options">Options</label>
								<input id="add-options" name="options" placeholder="Colour: Navy, Size: M" />
							</div>
							<div class="field">
								<label for="add-weight">Weight (g)</label>
								<input id="add-weight" name="weight" inputmode="numeric" placeholder="0" />
							</div>
						</div>
						<input type="hidden" name="currency" value={currency} />
						<button type="submit">Add variant</button>
					</fieldset>
				</form>
			</section>
		</AdminLayout>,
		state.status ?? 200,
	);
}

/**
 * Applies a change to the product and answers 303 back to it with `notice`;
 * a refusal (bad value, slug or SKU taken …) shows the page again with the
 * reason, keeping what was typed into the details form.
 */
async function edit(
	c: Context<AppEnv>,
	id: string,
	change: () => Promise<PatchProductInput>,
	notice: NoticeCode,
	values?: ProductValues,
): Promise<Response> {
	try {
		const body = await change();
		await updateProduct(c.env, c.get("database").primary, id, body, actorOf(c));
		return seeOther(c, withOutcome(`/admin/products/${id}`, { notice }));
	} catch (err) {
		if (err instanceof DomainError && statusOf(err) < 500 && err.code !== "not_found") {
			return productPage(c, { status: formStatus(err), messages: messagesForError(err), ...(values ? { values } : {}) });
		}
		throw err;
	}
}

function patch(body: unknown): PatchProductInput {
	const parsed = PatchProductBody.safeParse(body);
	if (!parsed.success) throw invalidForm(issuesOf(parsed.error, LABELS));
	return parsed.data;
}

/** `POST /admin/products/{id}`: the product's own fields. */
export async function saveProductAction(c: Context<AppEnv>): Promise<Response> {
	const id = productIdOf(c);
	const { fields } = await readForm(c);
	const values: ProductValues = {
		title: fields.get("title") ?? "",
		slug: fields.get("slug") ?? "",
		description: fields.get("description") ?? "",
		status: fields.get("status") ?? "",
		category_id: fields.get("category_id") ?? "",
		tax_class: fields.get("tax_class") ?? undefined,
	};
	return edit(
		c,
		id,
		async () =>
			patch({
				title: values.title,
				slug: values.slug.trim(),
				description: values.description,
				status: values.status,
				category_id: values.category_id || null,
				...(values.tax_class ? { tax_class: values.tax_class } : {}),
			}),
		"product_saved",
		values,
	);
}

/** The SKU in the path, or 404. */
function skuOf(c: Context<AppEnv>): string {
	const sku = c.req.param("sku") ?? "";
	if (!SKU.test(sku)) throw notFound("No such variant.");
	return sku;
}

/** Reads the product for a variant change: 404 when it is gone, and its variant with `sku` if any. */
async function productFor(c: Context<AppEnv>, id: string): Promise<AdminProduct> {
	const product = await readProduct(c.get("database").primary, id);
	if (!product) throw productNotFound();
	return product;
}

/** `POST /admin/products/{id}/variants`: a new SKU for the product. */
export async function addVariantAction(c: Context<AppEnv>): Promise<Response> {
	const id = productIdOf(c);
	const { fields } = await readForm(c);
	const product = await productFor(c, id);
	return edit(
		c,
		id,
		async () => {
			const sku = (field(fields, "sku") ?? "").toUpperCase();
			if (product.variants.some((variant) => variant.sku === sku)) {
				throw invalidForm([`SKU: this product already has ${sku}; change it in its own form above.`]);
			}
			const currency = (field(fields, "currency") ?? currencyOf(product)).toUpperCase();
			const price = parsePrice(field(fields, "price"), currency);
			const options = parseOptions(field(fields, "options"));
			const weight = parseGrams(field(fields, "weight"));
			const problems = [
				...(price === undefined ? ["Price: write an amount such as 19.90."] : []),
				...(options === undefined ? ["Options: write name: value pairs separated by commas, e.g. Colour: Navy, Size: M."] : []),
				...(weight === null ? ["Weight: write whole grams, e.g. 350."] : []),
			];
			if (problems.length > 0) throw invalidForm(problems);
			const weighed = weight === undefined ? {} : { weight_grams: weight };
			return patch({ variants: [{ sku, title: fields.get("title") ?? "", price_minor: price, currency, options, ...weighed }] });
		},
		"variant_added",
	);
}

/** `POST /admin/products/{id}/variants/{sku}`: a variant's title, price and options. */
export async function saveVariantAction(c: Context<AppEnv>): Promise<Response> {
	const id = productIdOf(c);
	const sku = skuOf(c);
	const { fields } = await readForm(c);
	const product = await productFor(c, id);
	const variant = product.variants.find((candidate) => candidate.sku === sku);
	if (!variant) throw notFound("No such variant.");
	return edit(
		c,
		id,
		async () => {
			const price = parsePrice(field(fields, "price"), variant.currency);
			const options = parseOptions(field(fields, "options"));
			const weight = parseGrams(field(fields, "weight"));
			const problems = [
				...(price === undefined ? [`Price of ${sku}: write an amount such as 19.90.`] : []),
				...(options === undefined ? [`Options of ${sku}: write name: value pairs separated by commas.`] : []),
				...(weight === null ? [`Weight of ${sku}: write whole grams, e.g. 350.`] : []),
			];
			if (problems.length > 0) throw invalidForm(problems);
			const weighed = weight === undefined ? {} : { weight_grams: weight };
			return patch({ variants: [{ sku, title: fields.get("title") ?? "", price_minor: price, options, ...weighed }] });
		},
		"variant_saved",
	);
}

/** `POST /admin/products/{id}/variants/{sku}/archive` and `…/restore`: stop or resume selling a SKU (kept for order history). */
export function archiveVariantAction(archived: boolean) {
	return async (c: Context<AppEnv>): Promise<Response> => {
		const id = productIdOf(c);
		const sku = skuOf(c);
		const product = await productFor(c, id);
		if (!product.variants.some((variant) => variant.sku === sku)) throw notFound("No such variant.");
		return edit(c, id, async () => patch({ variants: [{ sku, archived }] }), archived ? "variant_archived" : "variant_restored");
	};
}

/**
 * `POST /admin/products/{id}/media`: a multipart upload, checked and stored
 * exactly as the API's (size cap, sniffed type, content-addressed key).
 */
export async function uploadImageAction(c: Context<AppEnv>): Promise<Response> {
	const id = productIdOf(c);
	const db = c.get("database").primary;
	return action(c, `/admin/products/${id}`, async () => {
		const max = mediaMaxBytes(c.env);
		const contentType = checkUploadRequest(c.req.raw, max);
		if (!(await productExists(db, id))) throw productNotFound();
		const upload = await readUploadForm(c.req.raw, contentType, max);
		const { created } = await attachProductImage(c.env, db, id, upload, actorOf(c));
		return created ? "image_uploaded" : "image_exists";
	});
}
