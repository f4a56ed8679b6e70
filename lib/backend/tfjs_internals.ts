/**
 * The one version guard for the TensorFlow.js internals that `lib/backend`
 * touches: tfjs-backend-wasm's heap (`backend.wasm.asm.memory`) and
 * allocator (`_malloc`, `_free`), the memory flag byte of its module, the
 * private fields of tfjs's Adam and Adamax optimizers, tfjs-layers'
 * `BatchNormalization.prototype.call` and fields, and tfjs-core's gradient
 * tape (`Engine.addTapeNode`, its tape nodes, the scope name of
 * `tf.fused.conv2d`). Each accessor checks what
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
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "./init.ts";
 * import { wasmInternals } from "./tfjs_internals.ts";
 * await initBackend({ backend: "wasm", kernelThreads: false, verbose: false });
 * const { memory } = wasmInternals(tf.findBackend("wasm"));
 * assert.ok(memory instanceof WebAssembly.Memory);
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

/** A node of tfjs-core's gradient tape, as `unused_input_grads.ts` reads it. */
export interface TapeNode {
  /** The kernel or op scope that recorded it. */
  kernelName: string;
  /** Its inputs by name; on the tape's pruned copy, only those needing a gradient. */
  inputs: Record<string, unknown>;
  /** Its gradients by input name, from the output gradients. */
  gradient?: (dys: unknown[]) => Record<string, () => unknown>;
}

/** What `unused_input_grads.ts` uses of tfjs-core's engine. */
export interface TapeEngine {
  /** Records a kernel or op call on the active tape. */
  addTapeNode(...args: unknown[]): void;
  /** The engine's state: the active tape while gradients are recorded. */
  state: { activeTape?: TapeNode[] | null };
}

/** The scope name tfjs-core's op wrapper gives `tf.fused.conv2d`. */
export const FUSED_CONV2D_SCOPE = "fusedConv2d__op";

/**
 * tfjs-core's engine as a {@linkcode TapeEngine}, after checking that it
 * has `addTapeNode` and `state`, and that `fusedConv2d` (tfjs's
 * `tf.fused.conv2d`) records its tape nodes under
 * {@linkcode FUSED_CONV2D_SCOPE}; throws a {@linkcode TfjsInternalsError}
 * naming the first that is not so.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { tapeEngine } from "./tfjs_internals.ts";
 * const engine = tapeEngine(tf.engine(), tf.fused.conv2d);
 * ```
 */
export function tapeEngine(
  engine: object,
  fusedConv2d: { name: string },
): TapeEngine {
  requireFields(engine, "Engine", { addTapeNode: "function", state: "object" });
  if (fusedConv2d.name !== FUSED_CONV2D_SCOPE) {
    throw new TfjsInternalsError(
      "the scope name of tf.fused.conv2d",
      `it is "${fusedConv2d.name}", not "${FUSED_CONV2D_SCOPE}"`,
    );
  }
  return engine as TapeEngine;
}

/**
 * The tape node that `Engine.addTapeNode` has just recorded for a fused
 * convolution, with its gradient; throws a {@linkcode TfjsInternalsError}
 * where the tape's last node is not that (tfjs records nodes differently).
 *
 * @example
 * ```ts
 * import { FUSED_CONV2D_SCOPE, lastTapeNode } from "./tfjs_internals.ts";
 * const node = { kernelName: FUSED_CONV2D_SCOPE, inputs: {}, gradient: () => ({}) };
 * lastTapeNode({ addTapeNode() {}, state: { activeTape: [node] } });
 * ```
 */
export function lastTapeNode(
  engine: TapeEngine,
): TapeNode & Required<Pick<TapeNode, "gradient">> {
  const tape = engine.state.activeTape;
  const node = tape?.[tape.length - 1];
  if (
    node?.kernelName !== FUSED_CONV2D_SCOPE ||
    typeof node.gradient !== "function" || typeof node.inputs !== "object"
  ) {
    throw new TfjsInternalsError(
      "Engine.state.activeTape",
      "its last node after addTapeNode is not the fused convolution's, " +
        "with inputs and a gradient",
    );
  }
  return node as TapeNode & Required<Pick<TapeNode, "gradient">>;
}
