import { createRouter } from "../app.ts";
import { requireUser } from "../middleware/auth.ts";
import { idempotent } from "../middleware/idempotency.ts";
import { reserveBeforeClaim } from "./checkout-gate.ts";
import {
	adminListOrdersHandler,
	cancelOrderHandler,
	checkoutHandler,
	confirmTestPaymentHandler,
	fulfilOrderHandler,
	getOrderHandler,
	listOrdersHandler,
	paymentWebhookHandler,
	refundOrderHandler,
	shipOrderHandler,
	shopperScope,
} from "./orders.handlers.ts";
import {
	adminListOrders,
	cancelOrder,
	checkoutRoute,
	confirmTestPayment,
	fulfilOrder,
	getOrder,
	listOrders,
	paymentWebhook,
	refundOrderRoute,
	shipOrder,
} from "./orders.routes.ts";

const router = createRouter();
// Stock first, then the key: a sold-out answer needs no database (see checkout-gate.ts).
router.use("/checkout", reserveBeforeClaim());
router.use(
	"/checkout",
	idempotent((c) => shopperScope(c, "x-cart-token")),
);
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
	.openapi(refundOrderRoute, refundOrderHandler);
