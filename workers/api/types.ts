import type { AccessClaims } from "../auth/tokens.ts";
import type { Database } from "../db/client.ts";

/** Hono generics shared by every router: the Worker's bindings and per-request variables. */
export interface AppEnv {
	Bindings: Env;
	Variables: {
		requestId: string;
		database: Database;
		/** Set by `requireUser()`/`requireAdmin()`: the verified bearer of the access token. */
		auth: AccessClaims;
	};
}
