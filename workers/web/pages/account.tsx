import { z } from "@hono/zod-openapi";
import { desc, eq, sql } from "drizzle-orm";
import type { Context } from "hono";
import { accountContext } from "../../api/lib/request.ts";
import type { AppEnv } from "../../api/types.ts";
import { authenticate, registerAccount } from "../../auth/accounts.ts";
import { startSession } from "../../auth/sessions.ts";
import { orders, users } from "../../db/schema.ts";
import { DomainError } from "../../domain/errors.ts";
import { Alert } from "../components/alert.tsx";
import { type FieldErrors, formText, TextField } from "../components/form.tsx";
import { OrderTable, shortOrderId } from "../components/order.tsx";
import { Layout, PERSONAL_PAGE_CACHE } from "../layout.tsx";
import { adoptGuestCart, clearCartCookie, endSession, findCart, setSession } from "../session.ts";
import { catalogCategories } from "./catalog-data.ts";

/** How many orders the account page lists (newest first). */
const HISTORY_SIZE = 50;

/**
 * Where to go after signing in: a path on this site only. Anything else (an
 * absolute URL, `//host`, a backslash trick) falls back to the account page,
 * so the sign-in form cannot be used to bounce shoppers to another site.
 */
export function safeNext(next: string | undefined, fallback = "/account"): string {
	if (!next?.startsWith("/")) return fallback;
	try {
		// The URL parser reads "/\\host" and "/\t/host" as another host, exactly as a browser would.
		const base = "https://shop.invalid";
		const url = new URL(next, base);
		const path = `${url.pathname}${url.search}`;
		return url.origin === base && !path.startsWith("//") ? path : fallback;
	} catch {
		return fallback;
	}
}

/** Items in the browser's cart, for the header. */
export async function cartCount(c: Context<AppEnv>): Promise<number> {
	return (await findCart(c))?.state.lines.reduce((n, line) => n + line.quantity, 0) ?? 0;
}

interface AuthFormState {
	email?: string;
	name?: string;
	next?: string;
	alert?: string | undefined;
	/** A success message (the password was just reset). */
	notice?: string | undefined;
	errors?: FieldErrors;
}

async function renderSignin(c: Context<AppEnv>, state: AuthFormState = {}, status: 200 | 401 | 422 | 429 | 503 = 200): Promise<Response> {
	const categories = await catalogCategories(c);
	const next = safeNext(state.next);
	c.header("cache-control", PERSONAL_PAGE_CACHE);
	return c.html(
		<Layout title="Sign in" categories={categories} cartCount={await cartCount(c)} current="signin">
			<section class="card narrow auth-card" aria-labelledby="signin-heading">
				<h1 id="signin-heading">Sign in</h1>
				{state.notice ? <Alert kind="ok">{state.notice}</Alert> : null}
				{state.alert ? <Alert kind="error">{state.alert}</Alert> : null}
				<form action="/signin" method="post">
					<input type="hidden" name="next" value={next} />
					<TextField name="email" label="Email" type="email" value={state.email} autocomplete="email" required errors={state.errors} />
					<TextField name="password" label="Password" type="password" autocomplete="current-password" required errors={state.errors} />
					<button type="submit" class="wide">
						Sign in
					</button>
				</form>
				<p class="muted">
					<a href="/forgot-password">Forgot your password?</a>
				</p>
				<p class="muted">
					New here? <a href={`/register${next === "/account" ? "" : `?next=${encodeURIComponent(next)}`}`}>Create an account</a>
				</p>
				<p class="hint">Items already in your cart are kept when you sign in.</p>
			</section>
		</Layout>,
		status,
	);
}

/** GET /signin (already signed in: straight on to `next`). */
export function signinPage(c: Context<AppEnv>): Promise<Response> | Response {
	const next = c.req.query("next");
	if (c.get("viewer")) return c.redirect(safeNext(next), 303);
	const notice = c.req.query("reset") === "done" ? "Your password was changed. Sign in with the new one." : undefined;
	return renderSignin(c, { next: next ?? "/account", notice });
}

/** Shoppers' words for a refused sign-in or registration. */
function authProblem(err: DomainError): { text: string; status: 401 | 422 | 429 | 503 } | undefined {
	switch (err.code) {
		case "invalid_credentials":
			return { text: "The e-mail address or the password is wrong.", status: 401 };
		case "rate_limited":
			return { text: "Too many attempts. Please wait a minute and try again.", status: 429 };
		case "email_taken":
			return { text: "An account with this e-mail address already exists. Sign in instead.", status: 422 };
		case "auth_unavailable":
			return { text: "Signing in is not possible right now. Please try again later.", status: 503 };
		default:
			return undefined;
	}
}

/**
 * POST /signin: authenticates (rate limits and timing as the API), merges the
 * guest cart into the user's cart, starts the session and goes to `next`.
 * The merge comes before the session, as in the API: a fault in it fails the
 * sign-in cleanly rather than leaving a half-signed-in browser.
 */
export async function signin(c: Context<AppEnv>): Promise<Response> {
	const body = await c.req.parseBody();
	const email = formText(body, "email");
	const password = typeof body.password === "string" ? body.password : "";
	const next = formText(body, "next");
	if (!email || !password) {
		const errors: FieldErrors = {};
		if (!email) errors.email = "Enter your e-mail address.";
		if (!password) errors.password = "Enter your password.";
		return renderSignin(c, { email, next, errors, alert: "Enter your e-mail address and password." }, 422);
	}
	try {
		const user = await authenticate(accountContext(c), email, password.slice(0, 1024));
		await adoptGuestCart(c, user.id);
		setSession(c, await startSession(c.get("database").primary, c.env, user));
		return c.redirect(safeNext(next), 303);
	} catch (err) {
		const problem = err instanceof DomainError ? authProblem(err) : undefined;
		if (!problem) throw err;
		return renderSignin(c, { email, next, alert: problem.text }, problem.status);
	}
}

async function renderRegister(c: Context<AppEnv>, state: AuthFormState = {}, status: 200 | 401 | 422 | 429 | 503 = 200): Promise<Response> {
	const categories = await catalogCategories(c);
	const next = safeNext(state.next);
	c.header("cache-control", PERSONAL_PAGE_CACHE);
	return c.html(
		<Layout title="Create an account" categories={categories} cartCount={await cartCount(c)} current="signin">
			<section class="card narrow auth-card" aria-labelledby="register-heading">
				<h1 id="register-heading">Create an account</h1>
				{state.alert ? <Alert kind="error">{state.alert}</Alert> : null}
				<form action="/register" method="post" novalidate>
					<input type="hidden" name="next" value={next} />
					<TextField name="name" label="Name" value={state.name} autocomplete="name" required maxlength={100} errors={state.errors} />
					<TextField name="email" label="Email" type="email" value={state.email} autocomplete="email" required errors={state.errors} />
					<TextField
						name="password"
						label="Password"
						type="password"
						autocomplete="new-password"
						required
						hint="At least 8 characters. A few unrelated words make a strong one."
						errors={state.errors}
					/>
					<button type="submit" class="wide">
						Create account
					</button>
				</form>
				<p class="muted">
					Already have an account? <a href={`/signin${next === "/account" ? "" : `?next=${encodeURIComponent(next)}`}`}>Sign in</a>
				</p>
			</section>
		</Layout>,
		status,
	);
}

/** GET /register. */
export function registerPage(c: Context<AppEnv>): Promise<Response> | Response {
	const next = c.req.query("next");
	if (c.get("viewer")) return c.redirect(safeNext(next), 303);
	return renderRegister(c, { next: next ?? "/account" });
}

/** The API's registration rules, with messages for shoppers. */
const RegisterForm = z.object({
	name: z.string().trim().min(1, "Enter your name.").max(100, "Keep your name under 100 characters."),
	email: z.email("Enter an e-mail address, like name@example.com.").max(254, "This e-mail address is too long."),
	password: z.string().min(8, "Use at least 8 characters.").max(128, "Use at most 128 characters."),
});

/**
 * POST /register: creates the account (the API's rules: verification e-mail
 * queued in the same transaction), signs in, and keeps the guest cart.
 */
export async function register(c: Context<AppEnv>): Promise<Response> {
	const body = await c.req.parseBody();
	const input = {
		name: formText(body, "name"),
		email: formText(body, "email"),
		password: typeof body.password === "string" ? body.password : "",
	};
	const next = formText(body, "next");
	const parsed = RegisterForm.safeParse(input);
	if (!parsed.success) {
		const errors: FieldErrors = {};
		for (const issue of parsed.error.issues) errors[String(issue.path[0])] ??= issue.message;
		return renderRegister(c, { name: input.name, email: input.email, next, errors, alert: "Please correct the fields marked below." }, 422);
	}
	try {
		const user = await registerAccount(accountContext(c), parsed.data, async (_tx, created) => created);
		await adoptGuestCart(c, user.id);
		setSession(c, await startSession(c.get("database").primary, c.env, user));
		return c.redirect(safeNext(next), 303);
	} catch (err) {
		const problem = err instanceof DomainError ? authProblem(err) : undefined;
		if (!problem) throw err;
		return renderRegister(c, { name: input.name, email: input.email, next, alert: problem.text }, problem.status);
	}
}

/** POST /signout: ends the session (its refresh family is revoked) and forgets the user's cart in this browser. */
export async function signout(c: Context<AppEnv>): Promise<Response> {
	await endSession(c);
	clearCartCookie(c);
	return c.redirect("/", 303);
}

/**
 * GET /account: who is signed in, their orders (newest first) and the
 * abandoned-cart reminder preference. Signed out: to the sign-in page.
 */
export async function accountPage(c: Context<AppEnv>): Promise<Response> {
	const viewer = c.get("viewer");
	if (!viewer) return c.redirect("/signin?next=/account", 303);
	const db = c.get("database").primary;
	const [[user], history, categories, count] = await Promise.all([
		db.select().from(users).where(eq(users.id, viewer.userId)),
		db
			.select({
				id: orders.id,
				status: orders.status,
				total: orders.totalMinor,
				currency: orders.currency,
				createdAt: orders.createdAt,
			})
			.from(orders)
			.where(eq(orders.userId, viewer.userId))
			.orderBy(desc(orders.createdAt), desc(orders.id))
			.limit(HISTORY_SIZE),
		catalogCategories(c),
		cartCount(c),
	]);
	if (!user) {
		// The account was deleted while the session lived: sign out for good.
		await endSession(c);
		return c.redirect("/signin?next=/account", 303);
	}
	const saved = c.req.query("saved") === "1";
	const date = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeZone: "UTC" });
	c.header("cache-control", PERSONAL_PAGE_CACHE);
	return c.html(
		<Layout title="Your account" viewer={viewer} categories={categories} cartCount={count} current="account">
			<div class="section-head">
				<h1>Your account</h1>
				<form action="/signout" method="post">
					<button type="submit" class="secondary">
						Sign out
					</button>
				</form>
			</div>
			<p>
				Signed in as <strong>{user.email}</strong>
			</p>
			{saved ? <Alert kind="ok">Your preferences were saved.</Alert> : null}
			<section class="section" aria-labelledby="orders-heading">
				<h2 id="orders-heading">Your orders</h2>
				{history.length === 0 ? (
					<p class="muted">
						You have no orders yet. <a href="/search">Start shopping</a>
					</p>
				) : (
					<div class="table-wrap card flush">
						<OrderTable
							caption="Your orders, newest first"
							rows={history.map((order) => ({
								id: order.id,
								href: `/orders/${order.id}`,
								label: `Order ${shortOrderId(order.id)}`,
								placed: date.format(order.createdAt),
								status: order.status,
								total: { amount: order.total, currency: order.currency },
							}))}
						/>
					</div>
				)}
			</section>
			<section class="section card" aria-labelledby="prefs-heading">
				<h2 id="prefs-heading">E-mail preferences</h2>
				<form action="/account/preferences" method="post">
					<div class="field checkbox">
						<input id="pref-abandoned" type="checkbox" name="abandoned_cart_emails" value="1" checked={user.abandonedCartEmails} />
						<label for="pref-abandoned">Send me reminders about items left in my cart</label>
					</div>
					<button type="submit">Save</button>
				</form>
			</section>
		</Layout>,
	);
}

/** POST /account/preferences: the abandoned-cart reminder switch (users.abandoned_cart_emails). */
export async function savePreferences(c: Context<AppEnv>): Promise<Response> {
	const viewer = c.get("viewer");
	if (!viewer) return c.redirect("/signin?next=/account", 303);
	const body = await c.req.parseBody();
	await c
		.get("database")
		.primary.update(users)
		.set({ abandonedCartEmails: formText(body, "abandoned_cart_emails") === "1", updatedAt: sql`now()` })
		.where(eq(users.id, viewer.userId));
	return c.redirect("/account?saved=1", 303);
}
