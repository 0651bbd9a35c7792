import { createRouter } from "../app.ts";
import { requireUser } from "../middleware/auth.ts";
import {
	createAddressHandler,
	deleteAddressHandler,
	getMeHandler,
	getMyCartHandler,
	listAddressesHandler,
	patchMeHandler,
	updateAddressHandler,
} from "./me.handlers.ts";
import { createAddress, deleteAddress, getMe, getMyCart, listAddresses, patchMe, updateAddress } from "./me.routes.ts";

const me = createRouter();
me.use("/me", requireUser());
me.use("/me/*", requireUser());

export const meRouter = me
	.openapi(getMe, getMeHandler)
	.openapi(patchMe, patchMeHandler)
	.openapi(listAddresses, listAddressesHandler)
	.openapi(createAddress, createAddressHandler)
	.openapi(updateAddress, updateAddressHandler)
	.openapi(deleteAddress, deleteAddressHandler)
	.openapi(getMyCart, getMyCartHandler);
