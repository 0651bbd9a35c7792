// Written by `npm run assets` (scripts/build-assets.ts); do not edit.
/** Public URL of each static file in web/, under its content-hashed name. */
export const assets = {
	"favicon.svg": "/assets/favicon.6269d6ce0e.svg",
	"logo.svg": "/assets/logo.6269d6ce0e.svg",
	"admin.js": "/assets/admin.94b9481898.js",
	"app.js": "/assets/app.f1fe1b4b31.js",
	"stripe-payment.js": "/assets/stripe-payment.a96a480896.js",
	"admin.css": "/assets/admin.570eff5e4d.css",
	"app.css": "/assets/app.a07f9218ef.css"
} as const;

export type AssetName = keyof typeof assets;
