/**
 * The fused Sigmoid and Tanh gradients (lib/backend/wasm/gradients.ts) and
 * the SIMD Tanh (wasm/elementwise.ts): the gradient kernels give tfjs's formulas to the bit (NaN, infinities and saturated
 * values included) on one kernel thread and on two, in one kernel call
 * instead of three; the SIMD Tanh is within 1 ulp of the exact value; whole
 * gradients match the cpu backend within float rounding; without the SIMD
 * module tfjs's kernels and formulas run.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { registerWasmTrainingKernels } from "../lib/backend/mod.ts";
import { FUSED_GRAD_KERNELS } from "../lib/backend/wasm/gradients.ts";
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

Deno.test("fused Sigmoid and Tanh gradient kernels on wasm give tfjs's formulas to the bit, on one and two kernel threads", async () => {
  // y spans the saturated ends, 0, +-1 exactly, NaN and infinities.
  const y = values(SIZE, 9, 1.2);
  y.set([0, -0, 1, -1, NaN, Infinity, -Infinity, 1e-30], 0);
  const dy = values(SIZE, 10, 3);
  for (const threads of ["1", "2"]) {
    Deno.env.set("CNN_KERNEL_THREADS", threads);
    try {
      await initBackend({ backend: "wasm", verbose: false });
      const [yt, dyt] = [tf.tensor(y, SHAPE), tf.tensor(dy, SHAPE)];
      const pairs: [string, tf.Tensor, tf.Tensor][] = [
        [
          "sigmoid",
          tf.engine().runKernel(FUSED_GRAD_KERNELS.sigmoid, {
            y: yt,
            dy: dyt,
          }) as tf.Tensor,
          tf.mul(dyt, tf.mul(yt, tf.sub(tf.scalar(1), yt))),
        ],
        [
          "tanh",
          tf.engine().runKernel(FUSED_GRAD_KERNELS.tanh, {
            y: yt,
            dy: dyt,
          }) as tf.Tensor,
          tf.mul(tf.sub(tf.scalar(1), tf.square(yt)), dyt),
        ],
      ];
      for (const [name, fused, formula] of pairs) {
        const [a, e] = [await fused.data(), await formula.data()];
        for (let i = 0; i < SIZE; i++) {
          assert.ok(
            Object.is(a[i], e[i]),
            `${threads} thread(s), ${name}, element ${i} (y = ${y[i]}, ` +
              `dy = ${dy[i]}): ${a[i]}, expected ${e[i]}`,
          );
        }
        tf.dispose([fused, formula]);
      }
      tf.dispose([yt, dyt]);
    } finally {
      Deno.env.delete("CNN_KERNEL_THREADS");
    }
  }
});

Deno.test("on wasm each Sigmoid or Tanh gradient is one kernel call", async () => {
  await initBackend({ backend: "wasm", verbose: false });
  // sigmoid 1, tanh 1, scaled tanh 1, sigmoid of tanh 2
  assert.equal((await grads()).fusedCalls, 5);
  await tf.setBackend("cpu");
  assert.equal((await grads()).fusedCalls, 0);
});

Deno.test("without the SIMD module, wasm keeps tfjs's Sigmoid and Tanh kernels and gradients", async () => {
  await initBackend({ backend: "wasm", verbose: false });
  Deno.env.set("CNN_SIMD_KERNELS", "off");
  try {
    await tf.setBackend("wasm");
    registerWasmTrainingKernels(); // idempotent
    assert.equal(simdKernelsFor(tf.backend() as BackendWasm), undefined);
    const off = await grads();
    assert.equal(off.fusedCalls, 0);
    await tf.setBackend("cpu");
    assertClose(off.data, (await grads()).data, "SIMD off vs cpu");
  } finally {
    Deno.env.delete("CNN_SIMD_KERNELS");
  }
});

/** float32 values one unit in the last place apart, or fewer. */
function ulps(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  // Map the sign-magnitude bits onto a monotonic integer line.
  const line = (v: number) => (v < 0 ? -2147483648 - v : v);
  return Math.abs(line(i[0]) - line(i[1]));
}

Deno.test("wasm Tanh is within 1 ulp of the exact tanh (cpu's Math.tanh), every length, on one and two kernel threads", async () => {
  // Dense over [-12, 12], small magnitudes, and the specials.
  const xs = new Float32Array(40_003);
  for (let i = 0; i < 30_000; i++) xs[i] = -12 + 24 * i / 30_000;
  for (let i = 0; i < 10_000; i++) xs[30_000 + i] = 2 ** (-40 + i / 250);
  xs.set([0, -0, NaN], 40_000);
  const special = [Infinity, -Infinity, 0.625, -0.625, 9, 10, 20, 1e-45];
  xs.set(special, 30_000 - special.length);
  await tf.setBackend("cpu");
  const cpu = await tf.tanh(tf.tensor1d(xs)).data();
  const outputs: Float32Array[] = [];
  for (const threads of ["1", "2"]) {
    Deno.env.set("CNN_KERNEL_THREADS", threads);
    try {
      await initBackend({ backend: "wasm", verbose: false });
      const t = tf.tensor1d(xs);
      const p = await tf.profile(() => tf.tanh(t));
      const out = p.result as tf.Tensor;
      const wasm = Float32Array.from(await out.data());
      tf.dispose([t, out]);
      for (let i = 0; i < xs.length; i++) {
        const exact = Math.fround(Math.tanh(xs[i]));
        if (Number.isNaN(exact)) {
          assert.ok(Number.isNaN(wasm[i]), `tanh(${xs[i]}) = ${wasm[i]}`);
          continue;
        }
        assert.ok(
          ulps(wasm[i], exact) <= 1 && ulps(wasm[i], cpu[i]) <= 1,
          `tanh(${xs[i]}): wasm ${wasm[i]}, exact ${exact}, cpu ${cpu[i]}`,
        );
      }
      assert.ok(Object.is(wasm[40_001], -0), "tanh(-0) is -0");
      outputs.push(wasm);
      // Short tensors end inside a vector: each length gives the same bits.
      for (let n = 1; n <= 9; n++) {
        const part = tf.tanh(tf.tensor1d(xs.subarray(1000, 1000 + n)));
        const got = await part.data();
        part.dispose();
        for (let i = 0; i < n; i++) {
          assert.ok(Object.is(got[i], wasm[1000 + i]), `length ${n}, ${i}`);
        }
      }
    } finally {
      Deno.env.delete("CNN_KERNEL_THREADS");
    }
  }
  for (let i = 0; i < xs.length; i++) {
    assert.ok(
      Object.is(outputs[0][i], outputs[1][i]),
      `threads differ at ${i}`,
    );
  }
});

Deno.test("fused Sigmoid and Tanh gradients on wasm match the cpu backend within float rounding", async () => {
  await tf.setBackend("cpu");
  const expected = await grads();
  await initBackend({ backend: "wasm", verbose: false });
  const actual = await grads();
  // wasm's Sigmoid (XNNPACK) and Tanh round differently from cpu's.
  assertClose(actual.data, expected.data, "wasm vs cpu");
});
