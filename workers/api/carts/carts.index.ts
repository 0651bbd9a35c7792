import { createRouter } from "../app.ts";
import {
	addItemHandler,
	createCartHandler,
	getCartHandler,
	holdCartHandler,
	listShippingMethodsHandler,
	mergeCartHandler,
	releaseHoldHandler,
	removeItemHandler,
	setCartMarketHandler,
	setItemQuantityHandler,
} from "./carts.handlers.ts";
import {
	addItem,
	createCart,
	getCart,
	holdCart,
	listShippingMethods,
	mergeCart,
	releaseHold,
	removeItem,
	setCartMarket,
	setItemQuantity,
} from "./carts.routes.ts";

export const cartsRouter = createRouter()
	.openapi(createCart, createCartHandler)
	.openapi(getCart, getCartHandler)
	.openapi(setCartMarket, setCartMarketHandler)
	.openapi(listShippingMethods, listShippingMethodsHandler)
	.openapi(addItem, addItemHandler)
	.openapi(setItemQuantity, setItemQuantityHandler)
	.openapi(removeItem, removeItemHandler)
	.openapi(mergeCart, mergeCartHandler)
	.openapi(holdCart, holdCartHandler)
	.openapi(releaseHold, releaseHoldHandler);
