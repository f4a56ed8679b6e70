/**
 * measureSimdCeiling (lib/backend/simd_ceiling.ts): the SIMD kernels'
 * multiply-add ceiling that the bench sets each recipe beside. The kernel
 * checks its own sums, so a ceiling is only reported when the arithmetic
 * ran; here: on the kernel thread and on one thread, and a clear error
 * elsewhere.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import {
  initBackend,
  kernelThreads,
  measureSimdCeiling,
  withoutKernelThreads,
} from "../lib/backend/mod.ts";

Deno.test("measureSimdCeiling: a positive rate on the threads the kernels use", async () => {
  await initBackend({ backend: "wasm", verbose: false });
  const before = tf.memory().numTensors;
  const ceiling = measureSimdCeiling({ durationMs: 20 });
  assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  assert.equal(ceiling.threads, kernelThreads()?.threads ?? 1);
  assert.ok(ceiling.calls >= 1);
  // 32 multiply-adds per step, 2^23 steps per call: a rate below 0.01
  // GMAC/s would mean seconds per call; above 10,000 the timing is broken.
  assert.ok(
    ceiling.gmacsPerS > 0.01 && ceiling.gmacsPerS < 10_000,
    `${ceiling.gmacsPerS} GMAC/s`,
  );
  const single = await withoutKernelThreads(() =>
    Promise.resolve(measureSimdCeiling({ durationMs: 0 }))
  );
  assert.equal(single.threads, 1);
  assert.equal(single.calls, 1);
});

Deno.test("measureSimdCeiling: clear errors off the wasm backend and for a bad duration", async () => {
  await initBackend({ backend: "wasm", verbose: false });
  assert.throws(
    () => measureSimdCeiling({ durationMs: -1 }),
    /durationMs must be >= 0, got -1/,
  );
  await initBackend({ backend: "cpu", verbose: false });
  try {
    assert.throws(
      () => measureSimdCeiling(),
      /the wasm backend must be running, not cpu; call initBackend/,
    );
  } finally {
    await initBackend({ backend: "wasm", verbose: false });
  }
});
