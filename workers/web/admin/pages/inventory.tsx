import type { Context } from "hono";
import type { FC } from "hono/jsx";
import { AdjustBody } from "../../../api/inventory/inventory.routes.ts";
import type { AppEnv } from "../../../api/types.ts";
import { DomainError, notFound } from "../../../domain/errors.ts";
import { adjustStock, listSkus, type StockLevel, stockLevels } from "../../../inventory/admin.ts";
import { IDEMPOTENCY_FIELD, idempotentAction, newFormKey, readForm } from "../actions.ts";
import { AdminLayout, listUrl, NextPage } from "../layout.tsx";
import { messagesOf } from "../messages.ts";

const SKU = /^[A-Z0-9]+(?:-[A-Z0-9]+)*$/;
const PAGE_SIZE = 25;
/** At or below this many available units a SKU is flagged as running low. */
const LOW_STOCK = 5;

const Available: FC<{ level: StockLevel | undefined }> = ({ level }) => {
	if (!level) return <span class="muted">unavailable</span>;
	const tone = level.available <= 0 ? "danger" : level.available <= LOW_STOCK ? "warn" : "ok";
	return (
		<span class={`badge ${tone}`}>
			{level.available}
			{tone === "danger" ? (
				<span class="visually-hidden"> (out of stock)</span>
			) : tone === "warn" ? (
				<span class="visually-hidden"> (low)</span>
			) : null}
		</span>
	);
};

/**
 * `GET /admin/inventory?q=&sku=&product=&after=`: live levels of catalog SKUs
 * (asked of each SKU's InventoryItem, the only authority on them) with an
 * adjust form per SKU, idempotent per rendering.
 */
export async function inventoryPage(c: Context<AppEnv>): Promise<Response> {
	const q = c.req.query("q")?.trim().slice(0, 100) || undefined;
	const skuParam = c.req.query("sku")?.trim().toUpperCase();
	const sku = skuParam && SKU.test(skuParam) ? skuParam : undefined;
	const productId = c.req.query("product")?.trim().slice(0, 64) || undefined;
	const after = c.req.query("after")?.trim().slice(0, 64) || undefined;
	const { rows, next } = await listSkus(c.get("database").primary, { q, sku, productId, limit: PAGE_SIZE, after });
	const levels = await stockLevels(
		c.env,
		rows.map((row) => row.sku),
	);
	const here = listUrl("/admin/inventory", { q, sku, product: productId, after });
	const scoped = q !== undefined || sku !== undefined || productId !== undefined;
	return c.html(
		<AdminLayout
			title="Inventory"
			current="inventory"
			messages={messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") })}
		>
			<h1>Inventory</h1>
			<form class="filters panel" method="get" action="/admin/inventory" aria-label="Find SKUs">
				<div class="field grow">
					<label for="inventory-q">SKU or product</label>
					<input id="inventory-q" type="search" name="q" value={q ?? sku ?? ""} placeholder="e.g. TEE-NAV or Merino" />
				</div>
				<button type="submit">Find</button>
				{scoped ? (
					<a class="button secondary" href="/admin/inventory">
						All SKUs
					</a>
				) : null}
			</form>
			<p class="hint">
				Available = on hand − reserved. Reserved units are held for unpaid orders and come back when a reservation expires. A change below
				what is reserved is refused.
			</p>
			{rows.length === 0 ? (
				<p class="panel">No SKUs match.</p>
			) : (
				<div class="table-wrap">
					<table class="cards">
						<caption class="visually-hidden">Stock per SKU</caption>
						<thead>
							<tr>
								<th scope="col">SKU</th>
								<th scope="col">Product</th>
								<th scope="col" class="num">
									Available
								</th>
								<th scope="col" class="num">
									On hand
								</th>
								<th scope="col" class="num">
									Reserved
								</th>
								<th scope="col">Adjust</th>
							</tr>
						</thead>
						<tbody>
							{rows.map((row) => {
								const level = levels.get(row.sku);
								const formId = `adjust-${row.sku}`;
								return (
									<tr>
										<th scope="row">
											<a class="sku" href={listUrl("/admin/inventory", { sku: row.sku })}>
												{row.sku}
											</a>
											{row.archived ? (
												<>
													{" "}
													<span class="badge">Archived</span>
												</>
											) : null}
										</th>
										<td data-label="Product">
											<a href={`/admin/products/${row.productId}`}>{row.productTitle}</a>
											{row.variantTitle ? <div class="hint">{row.variantTitle}</div> : null}
										</td>
										<td class="num" data-label="Available">
											<Available level={level} />
										</td>
										<td class="num" data-label="On hand">
											{level?.onHand ?? "—"}
										</td>
										<td class="num" data-label="Reserved">
											{level?.reserved ?? "—"}
										</td>
										<td class="adjust-cell">
											<form
												method="post"
												action={`/admin/inventory/${row.sku}/adjust`}
												class="adjust-form"
												aria-label={`Adjust ${row.sku}`}
											>
												<input type="hidden" name={IDEMPOTENCY_FIELD} value={newFormKey()} />
												<input type="hidden" name="back" value={here} />
												<div class="field delta">
													<label for={`${formId}-delta`}>Change by</label>
													<input
														id={`${formId}-delta`}
														type="number"
														name="delta"
														required
														step="1"
														min="-1000000"
														max="1000000"
														placeholder="+10 or −2"
													/>
												</div>
												<div class="field reason">
													<label for={`${formId}-reason`}>Reason</label>
													<input id={`${formId}-reason`} name="reason" required maxlength={200} placeholder="Delivery received" />
												</div>
												<button type="submit">Adjust</button>
											</form>
										</td>
									</tr>
								);
							})}
						</tbody>
					</table>
				</div>
			)}
			<NextPage href={next ? listUrl("/admin/inventory", { q, sku, product: productId, after: next }) : null} />
		</AdminLayout>,
	);
}

/** Where to go back to after an adjustment: the inventory list the form was on, nowhere else. */
function backOf(fields: URLSearchParams | undefined, sku: string): string {
	const back = fields?.get("back") ?? "";
	return back.startsWith("/admin/inventory") && !back.startsWith("//") ? back : listUrl("/admin/inventory", { sku });
}

/**
 * `POST /admin/inventory/{sku}/adjust`: changes on-hand stock once per form
 * rendering: the key goes to the Postgres idempotency store and, scoped to the
 * admin, to the SKU's object as in the API.
 */
export async function adjustAction(c: Context<AppEnv>): Promise<Response> {
	const sku = c.req.param("sku") ?? "";
	if (!SKU.test(sku)) throw notFound(`No SKU ${sku}.`);
	const back = backOf((await readForm(c)).fields, sku);
	return idempotentAction(c, {
		route: "/admin/inventory/:sku/adjust",
		back,
		run: async (key, fields) => {
			const parsed = AdjustBody.safeParse({ delta: Number(fields.get("delta") ?? "") || 0, reason: fields.get("reason") ?? "" });
			if (!parsed.success) throw new DomainError("validation_failed");
			await adjustStock(c.env, c.get("database").primary, {
				sku,
				...parsed.data,
				key,
				actorId: c.get("auth").userId,
				requestId: c.get("requestId"),
			});
			return "adjusted";
		},
	});
}
