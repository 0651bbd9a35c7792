import type { Context } from "hono";
import type { Child } from "hono/jsx";
import { PASSWORD_MAX, PASSWORD_MIN } from "../../api/auth/auth.schemas.ts";
import { statusOf } from "../../api/lib/problem.ts";
import { accountContext } from "../../api/lib/request.ts";
import type { AppEnv } from "../../api/types.ts";
import { normalizeEmail } from "../../auth/email.ts";
import { limitAuthAttempt } from "../../auth/rate-limit.ts";
import { resetPasswordWithToken, sendPasswordResetLater, verifyEmailWithToken } from "../../auth/recovery.ts";
import { DomainError } from "../../domain/errors.ts";
import { Alert } from "../components/alert.tsx";
import { type FieldErrors, formText, TextField } from "../components/form.tsx";
import { Layout, PERSONAL_PAGE_CACHE } from "../layout.tsx";
import { clearCartCookie, endSession } from "../session.ts";
import { cartCount } from "./account.tsx";
import { catalogCategories } from "./catalog-data.ts";

/**
 * The pages the account e-mails link to: `/verify-email?token=…` and
 * `/reset-password?token=…`, plus `/forgot-password`, which sends the reset
 * e-mail. The services are the API's own (auth/recovery.ts). A link only
 * shows a form: the token is used up by the form's POST, never by a GET, so a
 * mail scanner that fetches links does not spend it. The token travels in
 * the page's address and a hidden field only (pages send no Referer), never
 * in a redirect or a log.
 */

/** A token as the e-mails write it (base64url), or "" for anything else. */
function tokenOf(raw: unknown): string {
	return typeof raw === "string" && /^[A-Za-z0-9_-]{16,200}$/.test(raw) ? raw : "";
}

const INVALID_LINK = "This link is invalid, has expired or was already used.";

async function card(c: Context<AppEnv>, title: string, body: Child, status: 200 | 400 | 422 | 429 | 503 = 200): Promise<Response> {
	const [categories, count] = await Promise.all([catalogCategories(c), cartCount(c)]);
	c.header("cache-control", PERSONAL_PAGE_CACHE);
	return c.html(
		<Layout title={title} viewer={c.get("viewer")} categories={categories} cartCount={count} current="signin">
			<section class="card narrow auth-card" aria-labelledby="recovery-heading">
				<h1 id="recovery-heading">{title}</h1>
				{body}
			</section>
		</Layout>,
		status,
	);
}

/** Shoppers' words for a refusal the services share with the API. */
function refusal(err: unknown): { text: string; status: 429 | 503 } | undefined {
	if (!(err instanceof DomainError)) return undefined;
	if (err.code === "rate_limited") return { text: "Too many attempts. Please wait a minute and try again.", status: 429 };
	if (statusOf(err) === 503) return { text: "This is not possible right now. Please try again in a moment.", status: 503 };
	return undefined;
}

function verifyForm(c: Context<AppEnv>, token: string, alert?: Child, status: 200 | 400 | 429 | 503 = 200): Promise<Response> {
	return card(
		c,
		"Verify your e-mail address",
		<>
			{alert}
			<form action="/verify-email" method="post">
				<input type="hidden" name="token" value={token} />
				<p>Confirm that this e-mail address is yours.</p>
				<button type="submit" class="wide">
					Verify e-mail address
				</button>
			</form>
		</>,
		status,
	);
}

/** GET /verify-email?token=…: the confirm button (the POST uses the token up). */
export function verifyEmailPage(c: Context<AppEnv>): Promise<Response> {
	const token = tokenOf(c.req.query("token"));
	if (!token) return invalidLink(c, "Verify your e-mail address");
	return verifyForm(c, token);
}

/** POST /verify-email: uses the token up and says so. */
export async function verifyEmail(c: Context<AppEnv>): Promise<Response> {
	const token = tokenOf(formText(await c.req.parseBody(), "token"));
	if (!token) return invalidLink(c, "Verify your e-mail address");
	try {
		await limitAuthAttempt(accountContext(c), "verify_email");
		if (!(await verifyEmailWithToken(c.get("database").primary, token))) return invalidLink(c, "Verify your e-mail address");
	} catch (err) {
		const problem = refusal(err);
		if (!problem) throw err;
		return verifyForm(c, token, <Alert kind="error">{problem.text}</Alert>, problem.status);
	}
	return card(
		c,
		"E-mail address verified",
		<>
			<Alert kind="ok">Your e-mail address is verified. Thank you.</Alert>
			<p>
				<a href="/account">Go to your account</a> or <a href="/">continue shopping</a>.
			</p>
		</>,
	);
}

function invalidLink(c: Context<AppEnv>, title: string): Promise<Response> {
	return card(
		c,
		title,
		<>
			<Alert kind="error">{INVALID_LINK}</Alert>
			<p>
				<a href="/forgot-password">Request a new password-reset link</a>, or <a href="/signin">sign in</a> to have a new verification e-mail
				sent from your account.
			</p>
		</>,
		400,
	);
}

function forgotForm(
	c: Context<AppEnv>,
	state: { email?: string; errors?: FieldErrors; alert?: Child } = {},
	status: 200 | 422 | 429 = 200,
) {
	return card(
		c,
		"Forgot your password?",
		<>
			{state.alert}
			<form action="/forgot-password" method="post" novalidate>
				<TextField
					name="email"
					label="Email"
					type="email"
					value={state.email}
					autocomplete="email"
					required
					hint="We send a link to set a new password to this address."
					errors={state.errors}
				/>
				<button type="submit" class="wide">
					Send reset link
				</button>
			</form>
			<p class="muted">
				Remembered it? <a href="/signin">Sign in</a>
			</p>
		</>,
		status,
	);
}

/** GET /forgot-password. */
export function forgotPasswordPage(c: Context<AppEnv>): Promise<Response> {
	return forgotForm(c);
}

/**
 * POST /forgot-password: the same answer whether or not the address has an
 * account; the lookup and the e-mail happen after the answer (as the API's
 * `POST /v1/auth/password-reset`), so its timing does not tell either.
 */
export async function forgotPassword(c: Context<AppEnv>): Promise<Response> {
	const raw = formText(await c.req.parseBody(), "email");
	if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(raw) || raw.length > 254) {
		return forgotForm(c, { email: raw, errors: { email: "Enter an e-mail address, like name@example.com." } }, 422);
	}
	const email = normalizeEmail(raw);
	try {
		await limitAuthAttempt(accountContext(c), "password_reset", email);
	} catch (err) {
		const problem = refusal(err);
		if (problem?.status !== 429) throw err;
		return forgotForm(c, { email: raw, alert: <Alert kind="error">{problem.text}</Alert> }, 429);
	}
	sendPasswordResetLater(c.env, c.executionCtx, email, c.get("requestId"));
	return card(
		c,
		"Check your inbox",
		<>
			<Alert kind="ok">
				If an account uses this address, we have sent it a link to set a new password. The link works once, for a limited time.
			</Alert>
			<p>
				<a href="/signin">Back to sign in</a>
			</p>
		</>,
	);
}

const PASSWORD_HINT = `At least ${PASSWORD_MIN} characters. A few unrelated words make a strong one.`;

function resetForm(
	c: Context<AppEnv>,
	token: string,
	state: { errors?: FieldErrors; alert?: Child } = {},
	status: 200 | 422 | 429 | 503 = 200,
) {
	return card(
		c,
		"Set a new password",
		<>
			{state.alert}
			<form action="/reset-password" method="post" novalidate>
				<input type="hidden" name="token" value={token} />
				<TextField
					name="password"
					label="New password"
					type="password"
					autocomplete="new-password"
					required
					maxlength={PASSWORD_MAX}
					hint={PASSWORD_HINT}
					errors={state.errors}
				/>
				<button type="submit" class="wide">
					Set new password
				</button>
			</form>
			<p class="hint">Every device signed in to your account is signed out.</p>
		</>,
		status,
	);
}

/** GET /reset-password?token=…: the new-password form. */
export function resetPasswordPage(c: Context<AppEnv>): Promise<Response> {
	const token = tokenOf(c.req.query("token"));
	if (!token) return invalidLink(c, "Set a new password");
	return resetForm(c, token);
}

/**
 * POST /reset-password: the API's password rules; a refused password keeps
 * the token for another try (it is used up only by a successful reset).
 * Success signs out every session, including this browser's, and leads to
 * sign-in with a notice.
 */
export async function resetPassword(c: Context<AppEnv>): Promise<Response> {
	const body = await c.req.parseBody();
	const token = tokenOf(formText(body, "token"));
	const password = typeof body.password === "string" ? body.password : "";
	if (!token) return invalidLink(c, "Set a new password");
	if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
		const message = password.length < PASSWORD_MIN ? `Use at least ${PASSWORD_MIN} characters.` : `Use at most ${PASSWORD_MAX} characters.`;
		return resetForm(c, token, { errors: { password: message }, alert: <Alert kind="error">Please choose another password.</Alert> }, 422);
	}
	try {
		await limitAuthAttempt(accountContext(c), "password_reset_confirm");
		if (!(await resetPasswordWithToken(c.get("database").primary, c.env, token, password))) return invalidLink(c, "Set a new password");
	} catch (err) {
		const problem = refusal(err);
		if (!problem) throw err;
		return resetForm(c, token, { alert: <Alert kind="error">{problem.text}</Alert> }, problem.status);
	}
	// The refresh tokens are revoked, but this browser's access cookie would stay valid until it expires
	// (and /signin would send it on to /account): sign it out now, as POST /signout does.
	if (c.get("viewer")) {
		await endSession(c);
		clearCartCookie(c);
	}
	return c.redirect("/signin?reset=done", 303);
}
