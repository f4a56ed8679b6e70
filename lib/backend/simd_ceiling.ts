/**
 * The multiply-add ceiling of the project's SIMD kernels on this machine:
 * `multiply_add_peak` (`kernels/peak.c`) runs the register block of the
 * convolution kernels over data that stays in L1 cache, on every thread the
 * kernels use, so nothing but the CPU's 128-bit SIMD arithmetic limits it.
 * No convolution written in WebAssembly's 128-bit SIMD this way can exceed
 * it; the bench (`deno task bench`) sets each recipe's sustained rate, ours
 * and PyTorch's, beside it.
 *
 * @example
 * ```ts
 * import { initBackend, measureSimdCeiling } from "./mod.ts";
 * await initBackend({ backend: "wasm", verbose: false });
 * const ceiling = measureSimdCeiling({ durationMs: 50 });
 * console.log(`${ceiling.gmacsPerS.toFixed(1)} GMAC/s on ${ceiling.threads} threads`);
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { simdKernelsFor } from "./simd_kernels.ts";
import { kernelThreads } from "./kernel_threads.ts";
import { address, rangeCall } from "./wasm/_common.ts";

/** Options of {@linkcode measureSimdCeiling}. */
export interface SimdCeilingOptions {
  /** How long to measure, in milliseconds, after one warm-up call. Default: 300. */
  durationMs?: number;
}

/** What {@linkcode measureSimdCeiling} found. */
export interface SimdCeiling {
  /** Billions of multiply-adds a second, all threads together: the best call. */
  gmacsPerS: number;
  /** Threads that computed: 2 where the kernel thread runs, else 1. */
  threads: number;
  /** Calls timed (after the warm-up). */
  calls: number;
}

/** Multiply-adds per step of `multiply_add_peak`. */
const _MACS_PER_STEP = 32;
/** Steps per unit: ~2 ms of work, and exact sums (below 2^21). */
const _STEPS = 1 << 20;
/** Units per call: 8 chunks, so that both threads share a call. */
const _UNITS = 8;

/**
 * Measures the multiply-add ceiling of the SIMD kernels on the running
 * wasm backend: the best of repeated calls of `multiply_add_peak` over
 * `durationMs`. Throws where the backend is not wasm or its SIMD kernels
 * are off, and if a unit's sum is wrong (the arithmetic did not run).
 *
 * @example
 * ```ts
 * import { initBackend, measureSimdCeiling } from "./mod.ts";
 * await initBackend({ backend: "wasm", verbose: false });
 * console.log(measureSimdCeiling({ durationMs: 50 }).gmacsPerS > 0); // true
 * ```
 */
export function measureSimdCeiling(
  options: SimdCeilingOptions = {},
): SimdCeiling {
  const { durationMs = 300 } = options;
  if (!(durationMs >= 0)) {
    throw new RangeError(
      `measureSimdCeiling: durationMs must be >= 0, got ${durationMs}`,
    );
  }
  if (tf.getBackend() !== "wasm") {
    throw new Error(
      `measureSimdCeiling: the wasm backend must be running, not ${tf.getBackend()}; ` +
        'call initBackend({ backend: "wasm" }) first.',
    );
  }
  const backend = tf.backend() as BackendWasm;
  const simd = simdKernelsFor(backend);
  if (simd === undefined) {
    throw new Error(
      "measureSimdCeiling: the SIMD kernels are off (CNN_SIMD_KERNELS=off, " +
        "or no WebAssembly SIMD); there is no ceiling to measure.",
    );
  }
  const x = tf.fill([64], 0.5);
  const out = backend.makeOutput([_UNITS], "float32");
  try {
    const call = () => {
      // Addresses at each call: they stay valid only until the heap grows.
      rangeCall(
        simd,
        "multiply_add_peak",
        [address(backend, x), address(backend, out), _STEPS],
        _UNITS,
        _UNITS * _STEPS * _MACS_PER_STEP,
        _UNITS,
      );
    };
    call();
    const sums = backend.readSync(out.dataId) as Float32Array;
    const expected = 8 * _STEPS;
    if (!sums.every((s) => s === expected)) {
      throw new Error(
        `measureSimdCeiling: multiply_add_peak summed [${sums}], not ${expected} per unit`,
      );
    }
    let best = Infinity;
    let calls = 0;
    const end = performance.now() + durationMs;
    do {
      const start = performance.now();
      call();
      best = Math.min(best, performance.now() - start);
      calls++;
    } while (performance.now() < end);
    return {
      gmacsPerS: (_UNITS * _STEPS * _MACS_PER_STEP) / (best * 1e6),
      threads: kernelThreads()?.threads ?? 1,
      calls,
    };
  } finally {
    x.dispose();
    backend.disposeData(out.dataId);
  }
}
