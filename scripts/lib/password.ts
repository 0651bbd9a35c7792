import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { provideArgon2Module } from "../../workers/auth/password-core.ts";

// Node may compile WebAssembly from bytes; the Worker receives the same file precompiled.
const wasmPath = createRequire(import.meta.url).resolve("@phi-ag/argon2/argon2.wasm");
provideArgon2Module(new WebAssembly.Module(readFileSync(wasmPath)));

/** The Worker's own hashing (same algorithm, parameters and format), for the Node scripts. */
export { hashPassword } from "../../workers/auth/password-core.ts";
