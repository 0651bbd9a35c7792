import { createRouter } from "../app.ts";
import {
	loginHandler,
	logoutHandler,
	passwordResetConfirmHandler,
	passwordResetHandler,
	refreshHandler,
	registerHandler,
	verifyEmailHandler,
} from "./auth.handlers.ts";
import { login, logout, passwordReset, passwordResetConfirm, refresh, register, verifyEmail } from "./auth.routes.ts";

export const auth = createRouter()
	.openapi(register, registerHandler)
	.openapi(login, loginHandler)
	.openapi(refresh, refreshHandler)
	.openapi(logout, logoutHandler)
	.openapi(verifyEmail, verifyEmailHandler)
	.openapi(passwordReset, passwordResetHandler)
	.openapi(passwordResetConfirm, passwordResetConfirmHandler);
