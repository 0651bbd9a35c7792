import { createRouter } from "../app.ts";
import { idempotent } from "../middleware/idempotency.ts";
import { shopperScope } from "../orders/orders.handlers.ts";
import {
	adminGetReturnHandler,
	adminListReturnsHandler,
	approveReturnHandler,
	cancelReturnHandler,
	listOrderReturnsHandler,
	receiveReturnHandler,
	refundReturnHandler,
	rejectReturnHandler,
	requestReturnHandler,
} from "./returns.handlers.ts";
import {
	adminGetReturn,
	adminListReturns,
	approveReturn,
	cancelReturn,
	listOrderReturns,
	receiveReturn,
	refundReturn,
	rejectReturn,
	requestReturn,
} from "./returns.routes.ts";

const router = createRouter();
const shopperKey = idempotent((c) => shopperScope(c, "x-order-token"));
router.on("POST", "/orders/:id/returns", shopperKey);
router.on("POST", "/orders/:id/returns/:return_id/cancel", shopperKey);

export const returnsRouter = router
	.openapi(requestReturn, requestReturnHandler)
	.openapi(listOrderReturns, listOrderReturnsHandler)
	.openapi(cancelReturn, cancelReturnHandler);

const admin = createRouter();
admin.on(
	"POST",
	"/admin/returns/:id/*",
	idempotent(async (c) => `user:${c.get("auth").userId}`),
);

/** Mounted inside the admin router, behind its requireAdmin() guard. */
export const adminReturnsRouter = admin
	.openapi(adminListReturns, adminListReturnsHandler)
	.openapi(adminGetReturn, adminGetReturnHandler)
	.openapi(approveReturn, approveReturnHandler)
	.openapi(rejectReturn, rejectReturnHandler)
	.openapi(receiveReturn, receiveReturnHandler)
	.openapi(refundReturn, refundReturnHandler);
