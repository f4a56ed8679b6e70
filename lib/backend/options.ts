/**
 * The backend's settings, read in one place: {@linkcode backendOptions}
 * gives them as a typed object, from what {@linkcode configureBackend} set
 * (a run configuration passes them in) and otherwise from the environment
 * (`CNN_BACKEND`, `CNN_SIMD_KERNELS`, `CNN_KERNEL_THREADS`), read when
 * asked so that a change takes effect at the next kernel call. No other
 * module of `lib/backend` reads the environment.
 *
 * @example
 * ```ts
 * import { backendOptions, configureBackend } from "./options.ts";
 * configureBackend({ kernelThreads: 1 });
 * console.log(backendOptions().kernelThreads); // 1
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
 * import { parseBackendName } from "./options.ts";
 * console.log(parseBackendName("WASM", "--backend")); // "wasm"
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
 * import { parseKernelThreads } from "./options.ts";
 * console.log(parseKernelThreads("2", "--threads")); // 2
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

function _env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no env permission: the default
  }
}

const _FROM_ENV: { [K in keyof BackendOptions]: () => BackendOptions[K] } = {
  backend: () =>
    parseBackendName(
      _env(BACKEND_ENV.backend)?.trim() || "auto",
      BACKEND_ENV.backend,
    ),
  simdKernels: () => _env(BACKEND_ENV.simdKernels) !== "off",
  kernelThreads: () =>
    parseKernelThreads(
      _env(BACKEND_ENV.kernelThreads) ?? "",
      BACKEND_ENV.kernelThreads,
    ),
};

/**
 * The settings as the environment gives them, each variable checked (a
 * malformed `CNN_BACKEND` or `CNN_KERNEL_THREADS` is an error naming it).
 *
 * @example
 * ```ts
 * import { backendOptionsFromEnv } from "./options.ts";
 * console.log(backendOptionsFromEnv().simdKernels);
 * ```
 */
export function backendOptionsFromEnv(): BackendOptions {
  return {
    backend: _FROM_ENV.backend(),
    simdKernels: _FROM_ENV.simdKernels(),
    kernelThreads: _FROM_ENV.kernelThreads(),
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
  return _configured[key] ?? _FROM_ENV[key]();
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
