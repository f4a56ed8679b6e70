/**
 * The backend's settings, read in one place: {@linkcode backendOptions}
 * gives them as a typed object, from what {@linkcode configureBackend} set
 * (a run configuration passes them in) and otherwise from the environment
 * (`CNN_BACKEND`, `CNN_SIMD_KERNELS`, `CNN_KERNEL_THREADS`, read by
 * `lib/config.ts`, the one module that reads it), read when asked so that
 * a change takes effect at the next kernel call.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { backendOptions, configureBackend } from "./options.ts";
 * configureBackend({ kernelThreads: 1 });
 * assert.equal(backendOptions().kernelThreads, 1);
 * ```
 *
 * @module
 */

export {
  BACKEND_ENV,
  BACKEND_NAMES,
  type BackendName,
  type BackendOptions,
  parseBackendName,
  parseKernelThreads,
} from "./names.ts";
import {
  type BackendOptions,
  parseBackendName,
  parseKernelThreads,
} from "./names.ts";
import { backendOptionFromEnv } from "../config.ts";

/**
 * The settings as the environment gives them, each variable checked (a
 * malformed `CNN_BACKEND` or `CNN_KERNEL_THREADS` is an error naming it);
 * `lib/config.ts` reads them.
 *
 * @example
 * ```ts
 * import { backendOptionsFromEnv } from "./options.ts";
 * console.log(backendOptionsFromEnv().simdKernels);
 * ```
 */
export function backendOptionsFromEnv(): BackendOptions {
  return {
    backend: backendOptionFromEnv("backend"),
    simdKernels: backendOptionFromEnv("simdKernels"),
    kernelThreads: backendOptionFromEnv("kernelThreads"),
  };
}

let _configured: Partial<BackendOptions> = {};

/**
 * Sets some of the settings for the rest of the process (fields left out
 * keep following the environment); `{}` clears them. For a run
 * configuration that has parsed its flags: library functions then take
 * these, not the environment.
 *
 * @example
 * ```ts
 * import { configureBackend } from "./options.ts";
 * configureBackend({ simdKernels: false });
 * configureBackend({}); // back to the environment
 * ```
 */
export function configureBackend(options: Partial<BackendOptions>): void {
  if (options.backend !== undefined) parseBackendName(options.backend);
  if (
    options.kernelThreads !== undefined &&
    ![1, 2, "auto"].includes(options.kernelThreads)
  ) {
    parseKernelThreads(String(options.kernelThreads));
  }
  _configured = { ...options };
}

/**
 * One setting now: as set by {@linkcode configureBackend}, else from the
 * environment (only that variable is read and checked).
 *
 * @example
 * ```ts
 * import { backendOption } from "./options.ts";
 * if (!backendOption("simdKernels")) console.log("JavaScript kernels");
 * ```
 */
export function backendOption<K extends keyof BackendOptions>(
  key: K,
): BackendOptions[K] {
  return _configured[key] ?? backendOptionFromEnv(key);
}

/**
 * All settings now: those set by {@linkcode configureBackend}, the
 * environment for the rest.
 *
 * @example
 * ```ts
 * import { backendOptions } from "./options.ts";
 * const { simdKernels, kernelThreads } = backendOptions();
 * ```
 */
export function backendOptions(): BackendOptions {
  return {
    backend: backendOption("backend"),
    simdKernels: backendOption("simdKernels"),
    kernelThreads: backendOption("kernelThreads"),
  };
}
