/**
 * wasm's Conv2DBackpropInput for many-channel convolutions whose input has
 * at least twice the output's pixels (`colsInputGradPays`: products per
 * output pixel scattered onto the input instead of a convolution over the
 * padded output gradient): equal to the cpu kernel within float rounding,
 * and the same bits on one and two kernel threads.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import "@tensorflow/tfjs-backend-cpu";
import { initBackend } from "../lib/backend/init.ts";
import { colsInputGradPays } from "../lib/backend/wasm/policy.ts";

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

type Case = {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: "valid" | "same";
  cols: boolean;
};

const CASES: Case[] = [
  // The wide Fashion LeNet's second layer (batch cut to 3).
  {
    name: "12x12x32 -> 8x8x64",
    x: [3, 12, 12, 32],
    filter: [5, 5, 32, 64],
    strides: 1,
    pad: "valid",
    cols: true,
  },
  // lenet5-1998's C5: a 1x1 output.
  {
    name: "5x5x16 -> 1x1x120",
    x: [4, 5, 5, 16],
    filter: [5, 5, 16, 120],
    strides: 1,
    pad: "valid",
    cols: true,
  },
  // Odd channel count, stride 2.
  {
    name: "9x9x13 stride 2 -> 4x4x11",
    x: [3, 9, 9, 13],
    filter: [3, 3, 13, 11],
    strides: 2,
    pad: "valid",
    cols: true,
  },
  // 'same': stays a convolution.
  {
    name: "'same' 6x6x12",
    x: [2, 6, 6, 12],
    filter: [3, 3, 12, 10],
    strides: 1,
    pad: "same",
    cols: false,
  },
];

async function inputGrad(c: Case): Promise<Float32Array> {
  const info = tf.backend_util.computeConv2DInfo(
    c.x,
    c.filter,
    c.strides,
    1,
    c.pad,
  );
  const dy = tf.tensor4d(values(tf.util.sizeFromShape(info.outShape), 3), [
    ...info.outShape,
  ]);
  const filter = tf.tensor4d(
    values(tf.util.sizeFromShape(c.filter), 4),
    c.filter,
  );
  const dx = tf.engine().runKernel("Conv2DBackpropInput", { dy, filter }, {
    strides: c.strides,
    pad: c.pad,
    inputShape: c.x,
    dataFormat: "NHWC",
    dilations: 1,
  }) as tf.Tensor;
  const out = Float32Array.from(await dx.data());
  tf.dispose([dy, filter, dx]);
  return out;
}

Deno.test("colsInputGradPays: inputs with at least twice the output's pixels", () => {
  for (const c of CASES) {
    const info = tf.backend_util.computeConv2DInfo(
      c.x,
      c.filter,
      c.strides,
      1,
      c.pad,
    );
    assert.equal(colsInputGradPays(info), c.cols, c.name);
  }
});

Deno.test("wasm Conv2DBackpropInput on inputs larger than the output matches the cpu kernel, and one thread equals two bit for bit", async () => {
  for (const c of CASES) {
    await initBackend({ backend: "cpu", verbose: false });
    const expected = await inputGrad(c);
    const scale = Math.max(...expected.map(Math.abs));
    const got: Float32Array[] = [];
    for (const threads of ["1", "2"]) {
      Deno.env.set("CNN_KERNEL_THREADS", threads);
      try {
        await initBackend({ backend: "wasm", verbose: false });
        got.push(await inputGrad(c));
      } finally {
        Deno.env.delete("CNN_KERNEL_THREADS");
      }
    }
    for (let i = 0; i < expected.length; i++) {
      assert.ok(
        Math.abs(got[0][i] - expected[i]) <= 1e-5 * scale,
        `${c.name}, element ${i}: ${got[0][i]}, expected ${expected[i]}`,
      );
      assert.ok(
        Object.is(got[0][i], got[1][i]),
        `${c.name}, element ${i}: threads differ`,
      );
    }
  }
});
