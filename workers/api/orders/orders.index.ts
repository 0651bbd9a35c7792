import { requireIdempotencyKey } from "../../idempotency/store.ts";
import { createRouter } from "../app.ts";
import { requireUser } from "../middleware/auth.ts";
import { idempotent } from "../middleware/idempotency.ts";
import {
	acceptPaymentHandler,
	adminListOrdersHandler,
	cancelOrderHandler,
	checkoutHandler,
	confirmTestPaymentHandler,
	deliverOrderHandler,
	fulfilOrderHandler,
	getOrderHandler,
	listOrdersHandler,
	paymentWebhookHandler,
	refundOrderHandler,
	shipOrderHandler,
	shopperScope,
} from "./orders.handlers.ts";
import {
	acceptPaymentRoute,
	adminListOrders,
	cancelOrder,
	checkoutRoute,
	confirmTestPayment,
	deliverOrder,
	fulfilOrder,
	getOrder,
	listOrders,
	paymentWebhook,
	refundOrderRoute,
	shipOrder,
} from "./orders.routes.ts";

const router = createRouter();
// The key is checked before the body: checkout claims it itself (see orders/place-order.ts), stock first.
router.use("/checkout", async (c, next) => {
	requireIdempotencyKey(c.req.header("idempotency-key"));
	await next();
});
router.use(
	"/orders/:id/cancel",
	idempotent((c) => shopperScope(c, "x-order-token")),
);
router.on("GET", "/orders", requireUser());

export const ordersRouter = router
	.openapi(checkoutRoute, checkoutHandler)
	.openapi(listOrders, listOrdersHandler)
	.openapi(getOrder, getOrderHandler)
	.openapi(cancelOrder, cancelOrderHandler)
	.openapi(paymentWebhook, paymentWebhookHandler)
	.openapi(confirmTestPayment, confirmTestPaymentHandler);

const admin = createRouter();
const adminScope = idempotent(async (c) => `user:${c.get("auth").userId}`);
admin.use("/admin/orders/:id/*", adminScope);

/** Mounted inside the admin router, behind its requireAdmin() guard. */
export const adminOrdersRouter = admin
	.openapi(adminListOrders, adminListOrdersHandler)
	.openapi(fulfilOrder, fulfilOrderHandler)
	.openapi(shipOrder, shipOrderHandler)
	.openapi(deliverOrder, deliverOrderHandler)
	.openapi(acceptPaymentRoute, acceptPaymentHandler)
	.openapi(refundOrderRoute, refundOrderHandler);
