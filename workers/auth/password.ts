/**
 * Password hashing in the Worker: the runtime-independent code is in
 * password-core.ts; here the Argon2 WebAssembly module arrives compiled, as
 * wrangler and the Vitest plugin bundle `.wasm` imports.
 */
import argon2Module from "@phi-ag/argon2/argon2.wasm";
import { provideArgon2Module } from "./password-core.ts";

provideArgon2Module(argon2Module);

export { ARGON2ID_PARAMS, hashPassword, PBKDF2_ITERATIONS, verifyDummy, verifyPassword } from "./password-core.ts";
