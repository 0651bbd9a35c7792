// Written by `npm run assets` (scripts/build-assets.ts); do not edit.
/** Public URL of each static file in web/, under its content-hashed name. */
export const assets = {
	"favicon.svg": "/assets/favicon.6269d6ce0e.svg",
	"logo.svg": "/assets/logo.6269d6ce0e.svg",
	"app.js": "/assets/app.546cd90166.js",
	"app.css": "/assets/app.c5740fe566.css"
} as const;

export type AssetName = keyof typeof assets;
