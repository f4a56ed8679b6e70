/**
 * The backend's names and settings, and the checks of their values: a leaf
 * module (no TensorFlow.js, no environment) shared by the backend's options
 * and the run configuration (`lib/config.ts`), which reads the environment.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { parseBackendName } from "./names.ts";
 * assert.equal(parseBackendName("WASM"), "wasm");
 * ```
 *
 * @module
 */

/** Names of the backends the project knows, fastest first. */
export type BackendName = "tensorflow" | "webgpu" | "wasm" | "cpu";

/** The backends `initBackend` tries for `auto`, in order. */
export const BACKEND_NAMES: readonly BackendName[] = [
  "tensorflow",
  "webgpu",
  "wasm",
  "cpu",
];

/** The settings of `lib/backend`. */
export interface BackendOptions {
  /**
   * The backend `initBackend` starts when not told one, or "auto" for the
   * fastest that works. Environment: `CNN_BACKEND`. Default: "auto".
   */
  backend: BackendName | "auto";
  /**
   * Whether the project's SIMD kernels (`kernels/*.c`) run on `wasm`; false
   * runs their JavaScript fallbacks. Environment: `CNN_SIMD_KERNELS=off`
   * turns them off. Default: true.
   */
  simdKernels: boolean;
  /**
   * Threads the project's kernels compute on: 1, 2 (a worker too), or
   * "auto" (2 where there are two cores or more). Environment:
   * `CNN_KERNEL_THREADS` (1 or 2). Default: "auto".
   */
  kernelThreads: 1 | 2 | "auto";
}

/** The environment variable behind each setting. */
export const BACKEND_ENV: Readonly<Record<keyof BackendOptions, string>> = {
  backend: "CNN_BACKEND",
  simdKernels: "CNN_SIMD_KERNELS",
  kernelThreads: "CNN_KERNEL_THREADS",
};

/**
 * Checks that `value` names a backend (any case) or "auto" and returns it
 * typed; `source` says where the value came from, for the error message.
 * Every CLI flag and `CNN_BACKEND` go through this one check.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { parseBackendName } from "./options.ts";
 * assert.equal(parseBackendName("WASM", "--backend"), "wasm");
 * ```
 */
export function parseBackendName(
  value: string,
  source = "the backend option",
): BackendName | "auto" {
  const name = value.trim().toLowerCase();
  if (name !== "auto" && !BACKEND_NAMES.includes(name as BackendName)) {
    throw new Error(
      `Unknown backend "${value}" (from ${source}): use one of ` +
        `${BACKEND_NAMES.join(", ")} or auto.`,
    );
  }
  return name as BackendName | "auto";
}

/**
 * Checks a kernel thread count (1 or 2; empty means "auto"); `source`
 * names where it came from.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { parseKernelThreads } from "./options.ts";
 * assert.equal(parseKernelThreads("2", "--threads"), 2);
 * ```
 */
export function parseKernelThreads(
  value: string,
  source = "the kernelThreads option",
): 1 | 2 | "auto" {
  if (value === "" || value === "auto") return "auto";
  if (value !== "1" && value !== "2") {
    throw new Error(
      `${
        source === BACKEND_ENV.kernelThreads ? `${source}=${value}` : source
      }: use 1 (one thread) or 2 (a worker too).`,
    );
  }
  return value === "2" ? 2 : 1;
}
