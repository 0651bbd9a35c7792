import { createRouter } from "../app.ts";
import {
	addItemHandler,
	createCartHandler,
	getCartHandler,
	mergeCartHandler,
	removeItemHandler,
	setItemQuantityHandler,
} from "./carts.handlers.ts";
import { addItem, createCart, getCart, mergeCart, removeItem, setItemQuantity } from "./carts.routes.ts";

export const cartsRouter = createRouter()
	.openapi(createCart, createCartHandler)
	.openapi(getCart, getCartHandler)
	.openapi(addItem, addItemHandler)
	.openapi(setItemQuantity, setItemQuantityHandler)
	.openapi(removeItem, removeItemHandler)
	.openapi(mergeCart, mergeCartHandler);
