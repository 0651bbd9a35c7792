import { createRouter } from "../app.ts";
import {
	addItemHandler,
	createCartHandler,
	getCartHandler,
	holdCartHandler,
	mergeCartHandler,
	releaseHoldHandler,
	removeItemHandler,
	setItemQuantityHandler,
} from "./carts.handlers.ts";
import { addItem, createCart, getCart, holdCart, mergeCart, releaseHold, removeItem, setItemQuantity } from "./carts.routes.ts";

export const cartsRouter = createRouter()
	.openapi(createCart, createCartHandler)
	.openapi(getCart, getCartHandler)
	.openapi(addItem, addItemHandler)
	.openapi(setItemQuantity, setItemQuantityHandler)
	.openapi(removeItem, removeItemHandler)
	.openapi(mergeCart, mergeCartHandler)
	.openapi(holdCart, holdCartHandler)
	.openapi(releaseHold, releaseHoldHandler);
