/**
 * The fused Sigmoid and Tanh gradients of lib/backend/fused_kernels.ts:
 * on wasm they give tfjs-backend-cpu's bits (NaN, infinities and saturated
 * values included), with one kernel call instead of tfjs's three or four,
 * on one kernel thread and on two; without the SIMD module the wasm path
 * keeps tfjs's formula.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { registerWasmTrainingKernels } from "../lib/backend/mod.ts";
import {
  FUSED_GRAD_KERNELS,
  registerFusedKernels,
} from "../lib/backend/fused_kernels.ts";
import {
  loadSimdKernels,
  simdKernelsFor,
} from "../lib/backend/simd_kernels.ts";
import { initBackend } from "../lib/backend/init.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

assert.ok(await loadSimdKernels(), "kernels.wasm did not load");

/** Deterministic values in [-scale, scale) (a tiny LCG). */
function values(size: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 31 - 1) * scale;
  }
  return out;
}

const SHAPE = [3, 5, 7, 3]; // 315 elements: not a multiple of 4
const SIZE = 315;
const X = values(SIZE, 7, 12); // sigmoid saturates, tanh too
X.set([0, -0, NaN, Infinity, -Infinity, 40, -40], 0);
const W = values(SIZE, 8, 1);

const ACTIVATIONS: [string, (a: tf.Tensor) => tf.Tensor][] = [
  ["sigmoid", (a) => tf.sigmoid(a)],
  ["tanh", (a) => tf.tanh(a)],
  // lenet5-1998's ScaledTanh: A * tanh(S * x)
  ["scaled tanh", (a) => tf.mul(tf.tanh(tf.mul(a, 2 / 3)), 1.7159)],
  // a chain: the gradient of one feeds the next
  ["sigmoid of tanh", (a) => tf.sigmoid(tf.tanh(a))],
];

/** The gradient of sum(f(x) * w) for every activation, and kernel calls seen. */
async function grads(): Promise<{ data: Float32Array[]; fusedCalls: number }> {
  const data: Float32Array[] = [];
  let fusedCalls = 0;
  for (const [, f] of ACTIVATIONS) {
    const [x, w] = [tf.tensor(X, SHAPE), tf.tensor(W, SHAPE)];
    const before = tf.memory().numTensors;
    const profile = await tf.profile(() => {
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), w)))(x);
      return g;
    });
    fusedCalls += profile.kernels.filter((k) =>
      k.name === FUSED_GRAD_KERNELS.sigmoid ||
      k.name === FUSED_GRAD_KERNELS.tanh
    ).length;
    const g = profile.result as tf.Tensor;
    data.push(Float32Array.from(await g.data()));
    g.dispose();
    assert.equal(tf.memory().numTensors, before, "leaked tensors");
    tf.dispose([x, w]);
  }
  return { data, fusedCalls };
}

function assertSameBits(
  actual: Float32Array[],
  expected: Float32Array[],
  what: string,
) {
  ACTIVATIONS.forEach(([name], k) => {
    for (let i = 0; i < SIZE; i++) {
      assert.ok(
        Object.is(actual[k][i], expected[k][i]),
        `${what}, ${name}, element ${i} (x = ${X[i]}): ${actual[k][i]}, ` +
          `expected ${expected[k][i]}`,
      );
    }
  });
}

/** Relative difference within float rounding of a few operations. */
function assertClose(
  actual: Float32Array[],
  expected: Float32Array[],
  what: string,
) {
  ACTIVATIONS.forEach(([name], k) => {
    for (let i = 0; i < SIZE; i++) {
      const [a, e] = [actual[k][i], expected[k][i]];
      if (Number.isNaN(e)) {
        assert.ok(Number.isNaN(a), `${what}, ${name}, element ${i}: ${a}`);
        continue;
      }
      assert.ok(
        Math.abs(a - e) <= 1e-5 * Math.max(Math.abs(e), 1e-3),
        `${what}, ${name}, element ${i} (x = ${X[i]}): ${a}, expected ${e}`,
      );
    }
  });
}

/** tfjs's own formulas on wasm: the SIMD module off. */
async function unfusedWasm() {
  Deno.env.set("CNN_SIMD_KERNELS", "off");
  try {
    await tf.setBackend("wasm");
    registerWasmTrainingKernels();
    registerFusedKernels(); // idempotent
    assert.equal(simdKernelsFor(tf.backend() as BackendWasm), undefined);
    return await grads();
  } finally {
    Deno.env.delete("CNN_SIMD_KERNELS");
  }
}

Deno.test("fused Sigmoid and Tanh gradients on wasm: tfjs's formula to the bit, on one and two kernel threads, in one call each", async () => {
  const expected = await unfusedWasm();
  assert.equal(expected.fusedCalls, 0);
  for (const threads of ["1", "2"]) {
    Deno.env.set("CNN_KERNEL_THREADS", threads);
    try {
      await initBackend({ backend: "wasm", verbose: false });
      const actual = await grads();
      // sigmoid 1, tanh 1, scaled tanh 1, sigmoid of tanh 2
      assert.equal(actual.fusedCalls, 5, `${threads} thread(s)`);
      assertSameBits(actual.data, expected.data, `${threads} thread(s)`);
    } finally {
      Deno.env.delete("CNN_KERNEL_THREADS");
    }
  }
});

Deno.test("fused Sigmoid and Tanh gradients on wasm match the cpu backend within float rounding", async () => {
  await tf.setBackend("cpu");
  const expected = await grads();
  await initBackend({ backend: "wasm", verbose: false });
  const actual = await grads();
  assert.equal(actual.fusedCalls, 5);
  // wasm's Sigmoid and Tanh forward kernels round differently from cpu's.
  assertClose(actual.data, expected.data, "wasm vs cpu");
});
