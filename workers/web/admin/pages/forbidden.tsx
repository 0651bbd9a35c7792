import type { Context } from "hono";
import type { Child, FC } from "hono/jsx";
import type { AppEnv } from "../../../api/types.ts";
import { assets } from "../../assets.ts";
import { SHOP_NAME } from "../../layout.tsx";

/** A page outside the console's frame: refusals and errors show no admin navigation. */
export const BarePage: FC<{ title: string; children?: Child }> = ({ title, children }) => (
	<html lang="en">
		<head>
			<meta charset="utf-8" />
			<meta name="viewport" content="width=device-width, initial-scale=1" />
			<meta name="robots" content="noindex" />
			<title>{`${title} · ${SHOP_NAME}`}</title>
			<link rel="icon" href={assets["favicon.svg"]} type="image/svg+xml" />
			<link rel="stylesheet" href={assets["app.css"]} />
			<link rel="stylesheet" href={assets["admin.css"]} />
		</head>
		<body>
			<main id="main" class="container narrow">
				{children}
			</main>
		</body>
	</html>
);

/** 403 for a signed-in account without the admin role (or one that just lost it). */
export async function forbiddenPage(c: Context<AppEnv>): Promise<Response> {
	const next = new URL(c.req.url).pathname;
	return c.html(
		<BarePage title="Admins only">
			<h1>Admins only</h1>
			<div class="alert error" role="alert">
				This account does not have access to the admin console.
			</div>
			<p>If you were an admin until recently, your access was withdrawn. Sign in with an admin account to continue.</p>
			<p class="row">
				<a class="button" href={`/signin?next=${encodeURIComponent(next)}`}>
					Sign in as an admin
				</a>
				<a class="button secondary" href="/">
					Back to the shop
				</a>
			</p>
		</BarePage>,
		403,
	);
}
