/**
 * The status messages an action can leave for the page it redirects to. The
 * redirect carries a code (`?notice=` or `?error=`), never text: a link
 * cannot put words of its own on an admin page, and a replayed idempotent
 * answer (a stored 303) still shows its message.
 */

export const NOTICES = {
	product_created: "Product created. Add images and more variants below.",
	product_saved: "Product saved.",
	variant_added: "Variant added.",
	variant_saved: "Variant saved.",
	variant_archived: "Variant archived: it is no longer sold.",
	variant_restored: "Variant restored: it is on sale again.",
	image_uploaded: "Image uploaded.",
	image_exists: "This image was already attached to the product.",
	adjusted: "Stock adjusted.",
	fulfilled: "Order marked fulfilled.",
	shipped: "Order marked shipped. The customer is being notified.",
	delivered: "Order marked delivered.",
	refunded: "Order refunded. The customer is being notified.",
	payment_accepted: "Payment accepted: the stock is committed and the order is paid.",
	return_approved: "Return approved. The customer is being e-mailed the instructions.",
	return_rejected: "Return rejected. The customer is being e-mailed the reason.",
	return_received: "Return marked received. Refund it next.",
	return_refunded: "Return refunded. The customer is being notified of the amount.",
	replayed: "Dead letter put back on its queue.",
	endpoint_created: "Webhook endpoint created.",
	secret_rotated: "Signing secret rotated. The previous secret keeps signing deliveries for 24 hours.",
	endpoint_deactivated: "Endpoint deactivated: it gets no further deliveries.",
	category_created: "Category created. The shop's category menu shows it within seconds.",
	category_saved: "Category saved.",
	category_deleted: "Category deleted.",
	affiliate_created: "Affiliate created. Hand them the referral link below.",
	affiliate_saved: "Affiliate saved.",
	market_created: "Market created. Add its countries, prices and shipping zones.",
	market_saved: "Market saved. Catalog prices follow within seconds.",
	market_default: "This is now the default market.",
	market_deleted: "Market deleted, with its price list and shipping zones.",
	price_saved: "List price saved.",
	prices_saved: "List prices saved.",
	price_removed: "List price removed: the market charges the base price again.",
	tax_rate_saved: "Tax rate saved.",
	tax_rate_deleted: "Tax rate deleted.",
	zone_created: "Shipping zone created. Add its methods below.",
	zone_saved: "Shipping zone saved.",
	zone_deleted: "Shipping zone deleted, with its methods.",
	method_created: "Shipping method added.",
	method_saved: "Shipping method saved.",
	method_deleted: "Shipping method deleted.",
	promotion_created: "Promotion created.",
	promotion_saved: "Promotion saved. Carts and checkout apply the change within seconds.",
	promotion_deactivated: "Promotion deactivated: checkout no longer applies it.",
	promotion_deleted: "Promotion deleted.",
	stock_run_done: "Stock reconciliation ran: its result is the newest run below.",
	drift_accepted: "Drift accepted: stock stays as it is, and this difference is expected from now on.",
	drift_set_from_ledger: "The object's on hand was set to the ledger's figure.",
} as const;

export type NoticeCode = keyof typeof NOTICES;

/** Errors by the `code` of the domain error an action met (see domain/errors.ts), plus the console's own. */
export const ERRORS: Record<string, string> = {
	form_expired: "This form has expired. Reload the page and try again.",
	not_found: "It no longer exists. Reload the page.",
	invalid_transition: "The order's status does not allow this (it may have changed meanwhile). Nothing was done.",
	below_reserved: "Refused: the change would leave fewer units on hand than are reserved for unpaid orders.",
	idempotency_key_reused: "This form was already used for a different change. Reload the page and try again.",
	idempotency_in_progress: "This change is still being processed. Reload the page in a moment.",
	payment_provider_unavailable: "The payment provider did not complete the refund; nothing changed. Try again shortly.",
	queue_unavailable: "The queue did not accept the message; nothing changed. Try again shortly.",
	already_replayed: "This dead letter was already put back on its queue.",
	unknown_queue: "This dead letter names a queue the shop does not produce to; it cannot be replayed.",
	payload_too_large: "The image is larger than the upload limit.",
	unsupported_media_type: "The file is not a JPEG, PNG, WebP or AVIF image.",
	image_too_large: "The image has more than 2048 × 2048 pixels. Scale it down and upload it again.",
	image_unreadable: "The image could not be read; the file may be damaged. Nothing was stored.",
	validation_failed: "Some values are not valid. Check the form and try again.",
	malformed_request: "The form could not be read. Try again.",
	database_unavailable: "The database cannot be reached. Try again shortly.",
	invalid_return_transition: "The return's status does not allow this (it may have changed meanwhile). Nothing was done.",
	refund_refused: "The payment cannot be refunded that far (part of it may have been refunded already). Nothing was done.",
	default_market: "The default market cannot be deleted or unset; make another market the default first.",
	market_in_use: "Orders were placed in this market, so it cannot be deleted.",
	country_taken: "A country belongs to another market; remove it there first.",
	country_in_zone: "A shipping zone of this market still ships to that country; remove it from the zone first.",
	market_currency_locked: "The market has list prices in its currency; delete them before changing the currency.",
	unknown_sku: "No variant has that SKU. Nothing was written.",
	invalid_shipping_rate: "The shipping rate is not valid: tiers must ascend.",
	zone_country_not_in_market: "A zone ships only to countries of its market.",
	promotion_used: "Orders used this promotion, so it stays for their history; deactivate it instead.",
	reconciliation_running: "A stock reconciliation run is in progress. Try again in a minute.",
	drift_resolved: "This drift was already resolved. Reload the page.",
	drift_not_ledger: "Only a ledger drift can set the object from the ledger. Nothing was changed.",
	inventory_unavailable: "The SKU's inventory object did not answer; nothing changed. Try again shortly.",
};

/** The fallback for an error without a message of its own. */
export const GENERIC_ERROR = "The action failed. Nothing was changed; try again.";

/** What a page shows above its content: a success, an error, or both. */
export interface Messages {
	notice?: string | undefined;
	error?: string | undefined;
	/** Field-level details of an error, shown as a list under it. */
	details?: string[] | undefined;
}

/**
 * The texts for a page's `notice` and `error` query parameters. An unknown
 * notice shows nothing; an unknown error code still says that something failed.
 */
export function messagesOf(query: { notice?: string | undefined; error?: string | undefined }): Messages {
	const notice = query.notice && Object.hasOwn(NOTICES, query.notice) ? NOTICES[query.notice as NoticeCode] : undefined;
	const error = query.error ? (Object.hasOwn(ERRORS, query.error) ? ERRORS[query.error] : GENERIC_ERROR) : undefined;
	return { notice, error };
}
