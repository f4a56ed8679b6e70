/**
 * The project's own SIMD kernels (`kernels/*.c`, built into the
 * committed `kernels/kernels.wasm` by `deno task build-kernels`), run inside
 * tfjs-backend-wasm's heap: the module imports the backend's
 * `WebAssembly.Memory`, so a kernel reads and writes tensors in place, by
 * their heap addresses.
 *
 * {@linkcode loadSimdKernels} compiles the module once (`initBackend` does
 * it); {@linkcode simdKernelsFor} then gives the kernels bound to one wasm
 * backend's memory, or `undefined` when the module is not loaded or
 * `CNN_SIMD_KERNELS=off` asks for the JavaScript loops instead. Each export
 * is typed in `bindings.ts` and checked when the module loads.
 *
 * @example
 * ```ts
 * import { loadSimdKernels } from "./simd_kernels.ts";
 * console.log(await loadSimdKernels()); // true where WebAssembly SIMD works
 * ```
 *
 * @module
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  bindKernels,
  checkKernelExports,
  type SimdKernels,
} from "./bindings.ts";
import { backendOption } from "./options.ts";
import { wasmInternals } from "./tfjs_internals.ts";

export type { SimdKernels } from "./bindings.ts";

/** Where the committed module lies, next to this file. */
export const SIMD_KERNELS_URL: URL = new URL(
  "./kernels/kernels.wasm",
  import.meta.url,
);

/**
 * Where the shared-memory build lies: the same kernels, for a heap made
 * shared (`shared_heap.ts`) and for the kernel thread (`kernel_threads.ts`).
 */
export const SHARED_KERNELS_URL: URL = new URL(
  "./kernels/kernels_shared.wasm",
  import.meta.url,
);

let _module: WebAssembly.Module | undefined;
let _sharedModule: WebAssembly.Module | undefined;
let _loading: Promise<boolean> | undefined;
const _instances = new WeakMap<WebAssembly.Memory, SimdKernels>();

/**
 * The bytes of a WebAssembly module next to the library: read from disk for
 * a `file:` URL, fetched otherwise (the library imported over HTTP).
 *
 * @example
 * ```ts
 * import { readWasmModule, SIMD_KERNELS_URL } from "./simd_kernels.ts";
 * const bytes = await readWasmModule(SIMD_KERNELS_URL);
 * ```
 */
export async function readWasmModule(url: URL): Promise<Uint8Array> {
  if (url.protocol === "file:") return await Deno.readFile(url);
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`fetching ${url} gave HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Compiles the kernels' module once (later calls return the first call's
 * result). Resolves to `false` where it cannot load (no WebAssembly SIMD,
 * the file unreadable): the JavaScript kernels are used then. Rejects when
 * the module's exports do not match their typed bindings (`bindings.ts`).
 *
 * @example
 * ```ts
 * import { loadSimdKernels } from "./simd_kernels.ts";
 * if (!(await loadSimdKernels())) console.log("using the JS loops");
 * ```
 */
export function loadSimdKernels(): Promise<boolean> {
  _loading ??= (async () => {
    let bytes: Uint8Array;
    try {
      bytes = await readWasmModule(SIMD_KERNELS_URL);
    } catch {
      return false;
    }
    checkKernelExports(bytes, "kernels.wasm");
    try {
      _module = await WebAssembly.compile(bytes as BufferSource);
    } catch {
      return false; // no WebAssembly SIMD here
    }
    if (typeof SharedArrayBuffer !== "function") return true;
    let shared: Uint8Array;
    try {
      shared = await readWasmModule(SHARED_KERNELS_URL);
    } catch {
      return true; // a shared heap then runs the JavaScript loops
    }
    checkKernelExports(shared, "kernels_shared.wasm");
    try {
      _sharedModule = await WebAssembly.compile(shared as BufferSource);
    } catch {
      // a shared heap then runs the JavaScript loops
    }
    return true;
  })();
  return _loading;
}

/**
 * The compiled shared-memory build (see {@linkcode SHARED_KERNELS_URL}), once
 * {@linkcode loadSimdKernels} has loaded it; `undefined` before, or where
 * shared memory is unavailable.
 *
 * @example
 * ```ts
 * import { loadSimdKernels, sharedKernelsModule } from "./simd_kernels.ts";
 * await loadSimdKernels();
 * console.log(sharedKernelsModule() !== undefined);
 * ```
 */
export function sharedKernelsModule(): WebAssembly.Module | undefined {
  return _sharedModule;
}

/**
 * The `WebAssembly.Memory` that is `backend`'s heap (its buffer a
 * `SharedArrayBuffer` where `shared_heap.ts` made it shared); throws the
 * version guard's error (`tfjs_internals.ts`) where tfjs does not expose
 * it.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "./init.ts";
 * import { wasmHeap } from "./simd_kernels.ts";
 * await initBackend({ backend: "wasm", kernelThreads: false, verbose: false });
 * const heap = wasmHeap(tf.backend() as BackendWasm);
 * assert.ok(heap instanceof WebAssembly.Memory);
 * console.log(heap.buffer instanceof SharedArrayBuffer);
 * ```
 */
export function wasmHeap(backend: BackendWasm): WebAssembly.Memory {
  return wasmInternals(backend).memory;
}

/**
 * The SIMD kernels bound to `backend`'s heap, or `undefined` when they are
 * not loaded (see {@linkcode loadSimdKernels}) or turned off (the
 * `simdKernels` option, `CNN_SIMD_KERNELS=off`).
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "./init.ts";
 * import { simdKernelsFor } from "./simd_kernels.ts";
 * await initBackend({ backend: "wasm", kernelThreads: false, verbose: false });
 * const kernels = simdKernelsFor(tf.backend() as BackendWasm);
 * ```
 */
export function simdKernelsFor(backend: BackendWasm): SimdKernels | undefined {
  if (_module === undefined || !backendOption("simdKernels")) return undefined;
  const memory = wasmHeap(backend);
  let kernels = _instances.get(memory);
  if (kernels === undefined) {
    // A shared heap (shared_heap.ts) links only to the shared build.
    const module = memory.buffer instanceof SharedArrayBuffer
      ? _sharedModule
      : _module;
    if (module === undefined) return undefined;
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    kernels = bindKernels(instance);
    _instances.set(memory, kernels);
  }
  return kernels;
}
