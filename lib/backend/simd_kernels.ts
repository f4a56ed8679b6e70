/**
 * The project's own SIMD kernels (`kernels/kernels.c`, built into the
 * committed `kernels/kernels.wasm` by `deno task build-kernels`), run inside
 * tfjs-backend-wasm's heap: the module imports the backend's
 * `WebAssembly.Memory`, so a kernel reads and writes tensors in place, by
 * their heap addresses.
 *
 * {@linkcode loadSimdKernels} compiles the module once (`initBackend` does
 * it); {@linkcode simdKernelsFor} then gives the kernels bound to one wasm
 * backend's memory, or `undefined` when the module is not loaded or
 * `CNN_SIMD_KERNELS=off` asks for the JavaScript loops instead.
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

/**
 * The kernels' entry points; pointers are byte addresses in the backend's
 * heap, the geometry follows the pointers as plain integers (see
 * `kernels/kernels.c`).
 */
export interface SimdKernels {
  /** Filter gradient of a convolution for units [u0, u1) (unit = tap * ceil(ci / 4) + 4-channel block; all: the whole gradient): x, dy, dw, then n, h, w, ci, oh, ow, co, fh, fw, sh, sw, dh, dw, pt, pl, u0, u1. */
  conv2d_filter_grad_units(...args: number[]): void;
  /** Partial filter gradients of a one-channel, stride-1 convolution, one per chunk of output rows, for chunks [c0, c1): xp, dy, dyt (scratch: dy transposed per row), partial, then n, oh, ow, ow4, hp, wp, co, fh, fw, chunk rows, c0, c1. */
  conv2d_filter_grad_one_channel(...args: number[]): void;
  /** conv2d_direct_rows for one input channel, stride 1, no dilation, ow >= 8: the same arguments. */
  conv2d_one_channel_rows(...args: number[]): void;
  /** Convolution over a padded input for output rows (image * oh + y) [r0, r1): xp, filter, out, bias (0: none), relu, then n, hp, wp, ci, oh, ow, co, fh, fw, sh, sw, dh, dw, r0, r1. */
  conv2d_direct_rows(...args: number[]): void;
  /** Rows [r0, r1) of C = A · B (+ bias per column), ReLU where relu: a, b, c, bias (0: none), relu, rows of A, columns of B, shared length k, r0, r1. */
  matmul_nn_rows(...args: number[]): void;
  /** Columns [n0, n1) of C = A · Bᵀ: a, b, c, then rows of A, rows of B, shared length k, n0, n1. */
  matmul_nt_cols(...args: number[]): void;
  /** The input gradient for images [b0, b1) only: conv2d_input_grad's arguments, then b0, b1. */
  conv2d_input_grad_images(...args: number[]): void;
  /** Max-pool input gradient: x, dy, dx, then n, h, w, c, oh, ow, fh, fw, sh, sw, dh, dw, pt, pl. */
  max_pool_grad(...args: number[]): void;
  /** The same for output rows (image * oh + r) [r0, r1), windows not overlapping: its arguments, then r0, r1. */
  max_pool_grad_rows(...args: number[]): void;
  /** Depthwise filter gradient (multiplier 1): x, dy, dw, then n, h, w, c, oh, ow, fh, fw, sh, sw, dh, dw, pt, pl. */
  depthwise_filter_grad(...args: number[]): void;
  /** Depthwise input gradient (multiplier 1): filter, dy, dx, then the same geometry. */
  depthwise_input_grad(...args: number[]): void;
  /** One Adam step: value, grad, m, v, then their three outputs, size, scalars. */
  adam_update(...args: number[]): void;
  /** Column sums: x, out, rows, cols. */
  sum_rows(...args: number[]): void;
  /** LeakyRelu over elements [i0, i1): x, out, alpha's float32 bits (an int32), i0, i1. */
  leaky_relu_range(...args: number[]): void;
  /** LeakyRelu's gradient: x, dy, dx, size, alpha. */
  leaky_relu_grad(...args: number[]): void;
  /** out = x op y with y one value per column: x, y, out, rows, cols, op (0 add, 1 sub, 2 mul, 3 div), swap (y op x). */
  column_op(...args: number[]): void;
  /** Zero-padded copy: x, out, then n, h, w, c, top, bottom, left, right padding. */
  pad_nhwc(...args: number[]): void;
  /** ClipByValue's gradient: x, dy, dx, size, min, max. */
  clip_grad(...args: number[]): void;
  /** Relu's gradient: x, dy, dx, size. */
  relu_grad(...args: number[]): void;
  /** Batch-norm moments per channel: x, mean, variance, invstd, rows, cols, eps. */
  bn_moments(...args: number[]): void;
  /** Batch-norm forward: x, mean, invstd, gamma, beta, out, rows, cols. */
  bn_forward(...args: number[]): void;
  /** Batch-norm gradients: x, dy, mean, invstd, gamma, dx, dgamma, dbeta, rows, cols. */
  bn_backward(...args: number[]): void;
  /** Input gradient of a convolution: dy, filter, dx, wt and cols scratch, then n, h, w, ci, oh, ow, co, fh, fw, sh, sw, dh, dw, pt, pl. */
  conv2d_input_grad(...args: number[]): void;
  /** One Adamax step: value, grad, m, u, then their three outputs, size, scalars. */
  adamax_update(...args: number[]): void;
}

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
 * result). Resolves to `false`, never throws, where it cannot load (no
 * WebAssembly SIMD, the file unreadable): the JavaScript kernels are used
 * then.
 *
 * @example
 * ```ts
 * import { loadSimdKernels } from "./simd_kernels.ts";
 * if (!(await loadSimdKernels())) console.log("using the JS loops");
 * ```
 */
export function loadSimdKernels(): Promise<boolean> {
  _loading ??= (async () => {
    try {
      _module = await WebAssembly.compile(
        await readWasmModule(SIMD_KERNELS_URL) as BufferSource,
      );
    } catch {
      return false;
    }
    try {
      if (typeof SharedArrayBuffer === "function") {
        _sharedModule = await WebAssembly.compile(
          await readWasmModule(SHARED_KERNELS_URL) as BufferSource,
        );
      }
      return true;
    } catch {
      return true; // a shared heap then runs the JavaScript loops
    }
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

function _enabled(): boolean {
  try {
    return Deno.env.get("CNN_SIMD_KERNELS") !== "off";
  } catch {
    return true; // no env permission: the default
  }
}

/**
 * The `WebAssembly.Memory` that is `backend`'s heap (its buffer a
 * `SharedArrayBuffer` where `shared_heap.ts` made it shared), or
 * `undefined` where tfjs does not expose it.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { wasmHeap } from "./simd_kernels.ts";
 * const heap = wasmHeap(tf.backend() as BackendWasm);
 * console.log(heap?.buffer instanceof SharedArrayBuffer);
 * ```
 */
export function wasmHeap(backend: BackendWasm): WebAssembly.Memory | undefined {
  const memory = (backend.wasm as unknown as {
    asm?: { memory?: WebAssembly.Memory };
  } | undefined)?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

/**
 * The SIMD kernels bound to `backend`'s heap, or `undefined` when they are
 * not loaded (see {@linkcode loadSimdKernels}) or `CNN_SIMD_KERNELS=off`.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { simdKernelsFor } from "./simd_kernels.ts";
 * const kernels = simdKernelsFor(tf.backend() as BackendWasm);
 * ```
 */
export function simdKernelsFor(backend: BackendWasm): SimdKernels | undefined {
  if (_module === undefined || !_enabled()) return undefined;
  const memory = wasmHeap(backend);
  if (memory === undefined) return undefined;
  let kernels = _instances.get(memory);
  if (kernels === undefined) {
    // A shared heap (shared_heap.ts) links only to the shared build.
    const module = memory.buffer instanceof SharedArrayBuffer
      ? _sharedModule
      : _module;
    if (module === undefined) return undefined;
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    kernels = instance.exports as unknown as SimdKernels;
    _instances.set(memory, kernels);
  }
  return kernels;
}
