/**
 * The one version guard for the TensorFlow.js internals that `lib/backend`
 * touches: tfjs-backend-wasm's heap (`backend.wasm.asm.memory`) and
 * allocator (`_malloc`, `_free`), the memory flag byte of its module, the
 * private fields of tfjs's Adam and Adamax optimizers, and tfjs-layers'
 * `BatchNormalization.prototype.call` and fields. Each accessor checks what
 * it reads and throws a {@linkcode TfjsInternalsError} naming the internal,
 * the tfjs versions found and the version the backend was checked against,
 * instead of silently falling back to slower kernels.
 *
 * @example
 * ```ts
 * import { TFJS_CHECKED_VERSION, tfjsVersions } from "./tfjs_internals.ts";
 * console.log(TFJS_CHECKED_VERSION, tfjsVersions());
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";

/** The tfjs version every internal used here was checked against. */
export const TFJS_CHECKED_VERSION = "4.22.0";

/** An internal of tfjs that `lib/backend` needs is missing or changed. */
export class TfjsInternalsError extends Error {
  /** The internal, e.g. "backend.wasm.asm.memory". */
  readonly internal: string;
  /**
   * An error naming the internal, what was found, and the tfjs versions.
   *
   * @param internal the internal, e.g. "backend.wasm.asm.memory"
   * @param problem what was found instead
   */
  constructor(internal: string, problem: string) {
    const found = Object.entries(tfjsVersions())
      .map(([name, version]) => `${name} ${version}`).join(", ");
    super(
      `lib/backend needs the tfjs internal ${internal}, but ${problem} ` +
        `(found ${found}; checked against ${TFJS_CHECKED_VERSION}). Use ` +
        `tfjs ${TFJS_CHECKED_VERSION} (deno.json), or update lib/backend ` +
        "for this version and its manifest's checked version.",
    );
    this.name = "TfjsInternalsError";
    this.internal = internal;
  }
}

/** The version in an npm specifier such as `npm:/@tensorflow/x@4.22.0`. */
function _resolvedVersion(pkg: string): string {
  try {
    const url = decodeURIComponent(import.meta.resolve(pkg));
    const name = pkg.slice(pkg.lastIndexOf("/") + 1);
    return new RegExp(`${name}@(\\d+\\.\\d+\\.\\d+[\\w.-]*)`).exec(url)
      ?.[1] ?? "unknown";
  } catch {
    return "not installed";
  }
}

/**
 * The versions of the tfjs packages in use: tfjs-core's and tfjs-layers'
 * as they report them, tfjs-backend-wasm's from the import map (reading it
 * does not load the package).
 *
 * @example
 * ```ts
 * import { tfjsVersions } from "./tfjs_internals.ts";
 * console.log(tfjsVersions()["tfjs-core"]);
 * ```
 */
export function tfjsVersions(): Record<string, string> {
  return {
    "tfjs-core": tf.version_core,
    "tfjs-layers": tf.version_layers,
    "tfjs-backend-wasm": _resolvedVersion("@tensorflow/tfjs-backend-wasm"),
  };
}

/** What `lib/backend` uses of tfjs-backend-wasm's Emscripten module. */
export interface WasmInternals {
  /** The backend's heap (shared where `shared_heap.ts` made it so). */
  memory: WebAssembly.Memory;
  /** Emscripten's allocator: a block of `bytes` bytes in the heap. */
  malloc(bytes: number): number;
  /** Frees a block from {@linkcode WasmInternals.malloc}. */
  free(address: number): void;
}

/**
 * The heap and allocator of a started wasm backend (`backend.wasm`, whose
 * typings leave them out); throws a {@linkcode TfjsInternalsError} when one
 * of them is missing.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { wasmInternals } from "./tfjs_internals.ts";
 * const { memory } = wasmInternals(tf.findBackend("wasm"));
 * ```
 */
export function wasmInternals(backend: object | null): WasmInternals {
  const module = (backend as { wasm?: unknown } | null)?.wasm as {
    asm?: { memory?: unknown };
    _malloc?: unknown;
    _free?: unknown;
  } | undefined;
  if (module === undefined || module === null) {
    throw new TfjsInternalsError(
      "backend.wasm",
      "the wasm backend has no Emscripten module (is it started?)",
    );
  }
  const memory = module.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new TfjsInternalsError(
      "backend.wasm.asm.memory",
      `it is ${memory === undefined ? "missing" : typeof memory}`,
    );
  }
  const { _malloc: malloc, _free: free } = module;
  if (typeof malloc !== "function" || typeof free !== "function") {
    throw new TfjsInternalsError(
      "backend.wasm._malloc and _free",
      "they are missing",
    );
  }
  return {
    memory,
    malloc: (bytes) => malloc.call(module, bytes) as number,
    free: (address) => void free.call(module, address),
  };
}

/**
 * Checks that `value` (an instance of tfjs's class `owner`) has each of
 * `fields` with the given `typeof`; throws a
 * {@linkcode TfjsInternalsError} naming the first missing one.
 *
 * @example
 * ```ts
 * import { requireFields } from "./tfjs_internals.ts";
 * requireFields({ beta1: 0.9 }, "AdamOptimizer", { beta1: "number" });
 * ```
 */
export function requireFields(
  value: object,
  owner: string,
  fields: Record<string, string>,
): void {
  for (const [field, type] of Object.entries(fields)) {
    const actual = typeof (value as Record<string, unknown>)[field];
    if (actual !== type) {
      throw new TfjsInternalsError(
        `${owner}.${field}`,
        actual === "undefined"
          ? "it is missing"
          : `it is a ${actual}, not a ${type}`,
      );
    }
  }
}

/**
 * The memory section flag byte of tfjs-backend-wasm's module could not be
 * flipped to "shared" (`shared_heap.ts`): throws the guard's error.
 *
 * @example
 * ```ts
 * import { memoryFlagError } from "./tfjs_internals.ts";
 * console.log(memoryFlagError("no defined memory with a maximum").message);
 * ```
 */
export function memoryFlagError(problem: string): TfjsInternalsError {
  return new TfjsInternalsError(
    "the memory flag byte of tfjs-backend-wasm's module",
    problem,
  );
}
