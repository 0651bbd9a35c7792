import type { Child, FC } from "hono/jsx";

/**
 * A status message. Success and information are announced politely
 * (`role="status"`); errors interrupt (`role="alert"`), so a screen reader
 * hears why a form came back.
 */
export const Alert: FC<{ kind: "ok" | "error" | "info"; children?: Child }> = ({ kind, children }) => (
	<div class={`alert ${kind}`} role={kind === "error" ? "alert" : "status"}>
		{children}
	</div>
);
