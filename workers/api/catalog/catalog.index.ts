import { createRouter } from "../app.ts";
import {
	getProductHandler,
	listCategoriesHandler,
	listMarketsHandler,
	listProductsHandler,
	suggestProductsHandler,
} from "./catalog.handlers.ts";
import { getProduct, listCategories, listMarkets, listProducts, suggestProducts } from "./catalog.routes.ts";

export const catalog = createRouter()
	.openapi(listProducts, listProductsHandler)
	.openapi(getProduct, getProductHandler)
	.openapi(listCategories, listCategoriesHandler)
	.openapi(listMarkets, listMarketsHandler)
	.openapi(suggestProducts, suggestProductsHandler);
