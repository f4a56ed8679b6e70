/**
 * wasm's Sum over one or two axes that are not the last
 * (`sumInnerAxes` of lib/backend/wasm/elementwise.ts, one pass instead of
 * tfjs's transpose and reduction): the same bits as tfjs-backend-wasm's own
 * Sum (the SIMD module off), the cpu backend's values within float
 * rounding, keepDims or not.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import "@tensorflow/tfjs-backend-cpu";
import { initBackend } from "../lib/backend/init.ts";

/** Deterministic values in [-1, 1) (a tiny LCG). */
function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

const CASES: [number[], number[]][] = [
  [[3, 7, 2, 7, 2, 6], [2, 4]], // lenet5-1998's 2x2 windows
  [[2, 5, 2, 5, 2, 16], [4, 2]], // descending: left to tfjs, same bits
  [[2, 3, 3, 3, 3, 5], [1, 3]], // odd channel count (scalar tail)
  [[4, 6, 9], [1]], // one axis
  [[4, 6, 9], [0, 1]], // adjacent leading axes
  [[3, 4, 5, 7], [0, 2]],
];

async function sums(): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const [shape, axes] of CASES) {
    const x = tf.tensor(values(tf.util.sizeFromShape(shape), 5), shape);
    for (const keepDims of [false, true]) {
      const s = tf.sum(x, axes, keepDims);
      const expectedShape = keepDims
        ? shape.map((d, k) => (axes.includes(k) ? 1 : d))
        : shape.filter((_, k) => !axes.includes(k));
      assert.deepEqual(s.shape, expectedShape, `${shape} over ${axes}`);
      out.push(Float32Array.from(await s.data()));
      s.dispose();
    }
    x.dispose();
  }
  return out;
}

function assertSameBits(a: Float32Array[], e: Float32Array[], what: string) {
  a.forEach((values, k) => {
    for (let i = 0; i < values.length; i++) {
      assert.ok(
        Object.is(values[i], e[k][i]),
        `${what}: case ${k >> 1}, element ${i}: ${values[i]} vs ${e[k][i]}`,
      );
    }
  });
}

Deno.test("wasm Sum over inner axes: tfjs-backend-wasm's bits, and cpu's values within float rounding", async () => {
  await initBackend({ backend: "wasm", verbose: false });
  const fast = await sums();
  Deno.env.set("CNN_SIMD_KERNELS", "off");
  try {
    await tf.setBackend("wasm");
    assertSameBits(fast, await sums(), "vs tfjs-backend-wasm");
  } finally {
    Deno.env.delete("CNN_SIMD_KERNELS");
  }
  // cpu adds in float64, then rounds: within float rounding of it.
  await tf.setBackend("cpu");
  const cpu = await sums();
  fast.forEach((v, k) => {
    for (let i = 0; i < v.length; i++) {
      assert.ok(Math.abs(v[i] - cpu[k][i]) <= 1e-6, `vs cpu: ${k}, ${i}`);
    }
  });
});
