/**
 * The kernels of lib/backend against tfjs-backend-cpu's shipped kernels as
 * the reference: every added or replaced wasm kernel, and the cpu filter
 * gradient, across shapes, strides, padding modes and dilations.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import {
  BACKEND_MANIFEST,
  registerCpuTrainingKernels,
  registerWasmTrainingKernels,
} from "../lib/backend/mod.ts";
import {
  conv2dFilterGrad,
  shiftedPatchGrid,
} from "../lib/backend/_conv_loops.ts";
import {
  loadSimdKernels,
  simdKernelsFor,
  wasmHeap,
} from "../lib/backend/simd_kernels.ts";
import {
  kernelThreads,
  startKernelThreads,
} from "../lib/backend/kernel_threads.ts";
import { withSharedWasmHeap } from "../lib/backend/shared_heap.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

assert.ok(await loadSimdKernels(), "kernels.wasm did not load");
// As initBackend starts it where two threads are wanted: the kernel thread
// computes in the backend's heap, which must be shared from the start.
await withSharedWasmHeap(() => tf.setBackend("wasm"));
assert.ok(
  wasmHeap(tf.backend() as BackendWasm)?.buffer instanceof SharedArrayBuffer,
  "the wasm heap is not shared",
);

/**
 * The wasm kernels that have a SIMD version run `check` twice: with the
 * project's SIMD kernels and with the JavaScript loops
 * (`CNN_SIMD_KERNELS=off`).
 */
async function bothPaths(check: (path: string) => Promise<void>) {
  for (const path of ["simd", "js"]) {
    if (path === "js") Deno.env.set("CNN_SIMD_KERNELS", "off");
    try {
      await tf.setBackend("wasm");
      assert.equal(
        simdKernelsFor(tf.backend() as BackendWasm) !== undefined,
        path === "simd",
      );
      await check(path);
    } finally {
      Deno.env.delete("CNN_SIMD_KERNELS");
    }
  }
}

type Pad = "same" | "valid" | number | tf.backend_util.ExplicitPadding;

/** Deterministic values in [-1, 1) (a tiny LCG: no Math.random in tests). */
function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Runs one kernel on `backend` with inputs built from the given values. */
async function run(
  backend: string,
  kernel: string,
  inputs: Record<string, { shape: number[]; data: Float32Array }>,
  attrs: Record<string, unknown>,
): Promise<{ shape: number[]; data: Float32Array }> {
  await tf.setBackend(backend);
  const tensors: tf.NamedTensorMap = {};
  for (const [name, v] of Object.entries(inputs)) {
    tensors[name] = tf.tensor(v.data, v.shape);
  }
  const out = tf.engine().runKernel(
    kernel,
    tensors,
    attrs as tf.NamedAttrMap,
  ) as tf.Tensor;
  const result = { shape: out.shape, data: (await out.data()) as Float32Array };
  tf.dispose([out, ...Object.values(tensors)]);
  return result;
}

function assertClose(
  actual: { shape: number[]; data: Float32Array },
  expected: { shape: number[]; data: Float32Array },
  what: string,
): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  let scale = 1;
  for (const v of expected.data) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < expected.data.length; i++) {
    const diff = Math.abs(actual.data[i] - expected.data[i]);
    assert.ok(
      diff <= 1e-5 * scale * 10,
      `${what}: element ${i} is ${actual.data[i]}, expected ${
        expected.data[i]
      }`,
    );
  }
}

interface ConvCase {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
  dilations?: number | [number, number];
}

const CONV_CASES: ConvCase[] = [
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: "same" },
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: "valid" },
  { x: [2, 8, 9, 2], filter: [3, 2, 2, 5], strides: 2, pad: "same" },
  { x: [1, 9, 8, 2], filter: [3, 3, 2, 3], strides: [2, 3], pad: "valid" },
  { x: [2, 6, 6, 1], filter: [5, 5, 1, 6], strides: 1, pad: "same" },
  { x: [2, 6, 7, 3], filter: [2, 3, 3, 2], strides: 2, pad: 1 },
  {
    x: [2, 7, 6, 2],
    filter: [3, 3, 2, 3],
    strides: [1, 2],
    pad: [[0, 0], [1, 2], [2, 0], [0, 0]],
  },
  // Many input channels, stride 2: the input has over twice the output's
  // pixels, so the input gradient runs in columns (colsInputGradPays).
  { x: [1, 6, 7, 10], filter: [3, 3, 10, 4], strides: 2, pad: "same" },
  // 1x1 (pointwise) convolutions: a product per pixel in the SIMD kernels.
  { x: [2, 5, 6, 7], filter: [1, 1, 7, 5], strides: 1, pad: "same" },
  { x: [3, 4, 4, 9], filter: [1, 1, 9, 14], strides: 1, pad: "valid" },
  { x: [1, 5, 5, 3], filter: [1, 1, 3, 2], strides: 2, pad: "valid" },
];

function convShapes(c: ConvCase, depthwise: boolean) {
  const info = tf.backend_util.computeConv2DInfo(
    c.x,
    c.filter,
    c.strides,
    c.dilations ?? 1,
    c.pad,
    undefined,
    depthwise,
  );
  return { dyShape: info.outShape as number[], info };
}

function label(c: ConvCase): string {
  return `x ${c.x} filter ${c.filter} strides ${c.strides} pad ${
    JSON.stringify(c.pad)
  } dilations ${c.dilations ?? 1}`;
}

registerWasmTrainingKernels();

/**
 * Calls of every wasm kernel and gradient of the manifest that names this
 * file as its test, counted while the tests below run: the last test
 * checks that each was exercised, so a kernel added to the manifest
 * without a differential test here fails.
 */
const exercised = new Map<string, number>();
for (const entry of BACKEND_MANIFEST) {
  if (
    entry.test !== "tests/backend_kernels_test.ts" || entry.backend === "cpu"
  ) {
    continue;
  }
  const key = `${entry.kind} ${entry.name}`;
  exercised.set(key, 0);
  const count = () => exercised.set(key, exercised.get(key)! + 1);
  if (entry.kind === "gradient") {
    const config = tf.getGradient(entry.name)!;
    const inner = config.gradFunc;
    config.gradFunc = (...args) => (count(), inner(...args));
  } else {
    const config = tf.getKernel(entry.name, "wasm")!;
    const inner = config.kernelFunc;
    config.kernelFunc = (args) => (count(), inner(args));
  }
}

/**
 * Shapes for the SIMD filter gradient's blocking: 1 to 4 input channels
 * per block plus remainders, 8- and 4-wide output-channel blocks plus
 * scalar tails, and output rows split into several cache-sized chunks.
 */
const SIMD_FILTER_CASES: ConvCase[] = [
  { x: [2, 9, 9, 5], filter: [3, 3, 5, 13], strides: 1, pad: "same" },
  { x: [1, 10, 11, 7], filter: [2, 3, 7, 16], strides: [1, 2], pad: "valid" },
  { x: [1, 40, 20, 4], filter: [3, 3, 4, 8], strides: 1, pad: "same" },
  { x: [2, 12, 12, 6], filter: [1, 1, 6, 9], strides: 1, pad: "valid" },
  { x: [4, 11, 13, 2], filter: [4, 4, 2, 7], strides: 3, pad: 2 },
  { x: [1, 3, 300, 1], filter: [3, 3, 1, 6], strides: 1, pad: "same" },
  // One channel, stride 1: conv2d_filter_grad_one_channel (an odd channel
  // count, widths not a multiple of 4, filters wider than 5, explicit pads).
  { x: [2, 28, 28, 1], filter: [5, 5, 1, 6], strides: 1, pad: "same" },
  { x: [3, 9, 11, 1], filter: [3, 3, 1, 5], strides: 1, pad: "valid" },
  { x: [2, 10, 7, 1], filter: [2, 7, 1, 3], strides: 1, pad: "same" },
  { x: [2, 6, 9, 1], filter: [3, 2, 1, 1], strides: 1, pad: 2 },
];

Deno.test("wasm Conv2DBackpropFilter matches the cpu kernel", async () => {
  await bothPaths(async (path) => {
    for (const [i, c] of [...CONV_CASES, ...SIMD_FILTER_CASES].entries()) {
      const { dyShape } = convShapes(c, false);
      const inputs = {
        x: { shape: c.x, data: values(tf.util.sizeFromShape(c.x), i + 1) },
        dy: {
          shape: dyShape,
          data: values(tf.util.sizeFromShape(dyShape), i + 50),
        },
      };
      const attrs = {
        strides: c.strides,
        pad: c.pad,
        dataFormat: "NHWC",
        filterShape: c.filter,
      };
      assertClose(
        await run("wasm", "Conv2DBackpropFilter", inputs, attrs),
        await run("cpu", "Conv2DBackpropFilter", inputs, attrs),
        `${path}: ${label(c)}`,
      );
    }
  });
});

/** Geometries where few grid columns are wasted: the shifted-row path. */
const SHIFTED_CASES: ConvCase[] = [
  { x: [2, 12, 16, 1], filter: [3, 3, 1, 4], strides: 1, pad: "same" },
  { x: [2, 12, 12, 3], filter: [3, 3, 3, 2], strides: 1, pad: "valid" },
  {
    x: [1, 20, 20, 2],
    filter: [3, 3, 2, 3],
    strides: 1,
    pad: "same",
    dilations: 2,
  },
  {
    x: [2, 18, 17, 2],
    filter: [2, 3, 2, 3],
    strides: 1,
    pad: [[0, 0], [1, 0], [0, 2], [0, 0]],
    dilations: [2, 1],
  },
  { x: [3, 28, 28, 1], filter: [5, 5, 1, 6], strides: 1, pad: "same" },
];

Deno.test("wasm Conv2DBackpropFilter's shifted-row path matches the cpu kernel", async () => {
  for (const [i, c] of SHIFTED_CASES.entries()) {
    const { dyShape, info } = convShapes(c, false);
    const grid = shiftedPatchGrid(info);
    assert.ok(
      grid.columns <= 1.25 * info.batchSize * info.outHeight * info.outWidth,
      `${label(c)} should take the shifted-row path`,
    );
    const inputs = {
      x: { shape: c.x, data: values(tf.util.sizeFromShape(c.x), i + 70) },
      dy: {
        shape: dyShape,
        data: values(tf.util.sizeFromShape(dyShape), i + 90),
      },
    };
    const attrs = {
      strides: c.strides,
      pad: c.pad,
      dilations: c.dilations ?? 1,
      dataFormat: "NHWC",
      filterShape: c.filter,
    };
    // tfjs's cpu kernel ignores dilations (tfjs-core refuses gradients of
    // dilated convolutions); the project's float64 loop is the reference.
    const expected = c.dilations === undefined
      ? await run("cpu", "Conv2DBackpropFilter", inputs, attrs)
      : {
        shape: [...c.filter],
        data: conv2dFilterGrad(inputs.x.data, inputs.dy.data, info),
      };
    assertClose(
      await run("wasm", "Conv2DBackpropFilter", inputs, attrs),
      expected,
      label(c),
    );
  }
  // Scratch buffers are freed on this path too.
  await tf.setBackend("wasm");
  const dataIds = () =>
    (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
  const x = tf.tensor(values(2 * 12 * 12 * 3, 5), [2, 12, 12, 3]);
  const dy = tf.tensor(values(2 * 10 * 10 * 2, 6), [2, 10, 10, 2]);
  const before = dataIds();
  const grad = tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
    strides: 1,
    pad: "valid",
    dataFormat: "NHWC",
    filterShape: [3, 3, 3, 2],
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
  grad.dispose();
  assert.equal(dataIds(), before);
  tf.dispose([x, dy]);
});

Deno.test("wasm GatherV2 matches the cpu kernel", async () => {
  const cases: [number[], "float32" | "int32", number[], number[], number][] = [
    [[6, 3, 2], "float32", [4], [5, 0, 0, 3], 0],
    [[5, 4], "int32", [2, 3], [4, 1, 2, 0, 0, 3], 0],
    [[7], "float32", [3], [6, 1, 2], 0],
    [[3, 5], "float32", [2], [4, 1], 1], // not the first axis: shipped kernel
  ];
  for (const [i, [shape, dtype, iShape, picks, axis]] of cases.entries()) {
    const results = [];
    for (const backend of ["wasm", "cpu"]) {
      await tf.setBackend(backend);
      const data = values(tf.util.sizeFromShape(shape), i + 30);
      const x = dtype === "int32"
        ? tf.tensor(Int32Array.from(data, (v) => Math.round(v * 1000)), shape)
        : tf.tensor(data, shape);
      const indices = tf.tensor(picks, iShape, "int32");
      const out = tf.gather(x, indices, axis);
      results.push({ shape: out.shape, data: Array.from(await out.data()) });
      tf.dispose([x, indices, out]);
    }
    assert.deepEqual(results[0], results[1], `case ${i}`);
  }
  await tf.setBackend("wasm");
  const x = tf.zeros([3, 2]);
  const bad = tf.tensor([3], [1], "int32");
  assert.throws(() => tf.gather(x, bad), /index value 3 is not in \[0, 2\]/);
  tf.dispose([x, bad]);
});

/** Input gradients on either side of policy.ts's colsInputGradPays. */
const INPUT_GRAD_CASES: ConvCase[] = [
  // Many input channels, as many output pixels: XNNPACK's convolution.
  { x: [2, 6, 6, 12], filter: [3, 3, 12, 5], strides: 1, pad: "same" },
  // 'valid' on a small map (lenet5-1998's C5): columns at 16 channels.
  { x: [3, 5, 5, 16], filter: [5, 5, 16, 12], strides: 1, pad: "valid" },
  { x: [2, 9, 9, 12], filter: [5, 5, 12, 7], strides: 1, pad: "valid" },
];

Deno.test("wasm Conv2DBackpropInput matches the cpu kernel", async () => {
  await bothPaths(async (path) => {
    for (const [i, c] of [...CONV_CASES, ...INPUT_GRAD_CASES].entries()) {
      const { dyShape } = convShapes(c, false);
      const inputs = {
        dy: {
          shape: dyShape,
          data: values(tf.util.sizeFromShape(dyShape), i + 7),
        },
        filter: {
          shape: c.filter,
          data: values(tf.util.sizeFromShape(c.filter), i + 70),
        },
      };
      const attrs = {
        strides: c.strides,
        pad: c.pad,
        dataFormat: "NHWC",
        inputShape: c.x,
      };
      assertClose(
        await run("wasm", "Conv2DBackpropInput", inputs, attrs),
        await run("cpu", "Conv2DBackpropInput", inputs, attrs),
        `${path}: ${label(c)}`,
      );
    }
  });
});

const DEPTHWISE_CASES: ConvCase[] = [
  { x: [2, 6, 7, 6], filter: [3, 3, 6, 1], strides: 2, pad: "same" },
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 1], strides: 1, pad: "same" },
  { x: [2, 8, 7, 2], filter: [3, 3, 2, 2], strides: 2, pad: "same" },
  { x: [1, 9, 9, 3], filter: [3, 2, 3, 1], strides: [2, 1], pad: "valid" },
  {
    x: [2, 9, 9, 2],
    filter: [3, 3, 2, 2],
    strides: 1,
    pad: "same",
    dilations: 2,
  },
  {
    x: [1, 8, 8, 2],
    filter: [2, 2, 2, 1],
    strides: 1,
    pad: "valid",
    dilations: [2, 3],
  },
  {
    x: [1, 6, 6, 2],
    filter: [3, 3, 2, 1],
    strides: 2,
    pad: [[0, 0], [1, 0], [0, 2], [0, 0]],
  },
];

/**
 * tfjs-backend-cpu's depthwise gradients ignore dilations (tfjs only asks
 * for them undilated), so dilated cases are checked against the undilated
 * kernel with the equivalent zero-spread filter of size (k - 1) * d + 1.
 */
function spreadShape(c: ConvCase): [number, number, number, number] {
  const [dh, dw] = typeof c.dilations === "number"
    ? [c.dilations, c.dilations]
    : c.dilations ?? [1, 1];
  const [fh, fw, ci, m] = c.filter;
  return [(fh - 1) * dh + 1, (fw - 1) * dw + 1, ci, m];
}

/** Maps between a filter and its zero-spread equivalent. */
function spread(
  data: Float32Array,
  c: ConvCase,
  toSpread: boolean,
): Float32Array {
  const [dh, dw] = typeof c.dilations === "number"
    ? [c.dilations, c.dilations]
    : c.dilations ?? [1, 1];
  const [fh, fw, ci, m] = c.filter;
  const [, sw] = spreadShape(c);
  const inner = ci * m;
  const out = new Float32Array(
    toSpread ? tf.util.sizeFromShape(spreadShape(c)) : fh * fw * inner,
  );
  for (let kh = 0; kh < fh; kh++) {
    for (let kw = 0; kw < fw; kw++) {
      const small = (kh * fw + kw) * inner;
      const big = (kh * dh * sw + kw * dw) * inner;
      for (let i = 0; i < inner; i++) {
        if (toSpread) out[big + i] = data[small + i];
        else out[small + i] = data[big + i];
      }
    }
  }
  return out;
}

Deno.test("wasm depthwise backprop kernels match the cpu kernels", async () => {
  await bothPaths(async (path) => {
    for (const [i, c] of DEPTHWISE_CASES.entries()) {
      const { dyShape } = convShapes(c, true);
      const dy = {
        shape: dyShape,
        data: values(tf.util.sizeFromShape(dyShape), i + 3),
      };
      const common = {
        strides: c.strides,
        pad: c.pad,
        dilations: c.dilations ?? 1,
      };
      const reference = { strides: c.strides, pad: c.pad, dilations: 1 };
      const filterInputs = {
        x: { shape: c.x, data: values(tf.util.sizeFromShape(c.x), i + 30) },
        dy,
      };
      const expectedFilter = await run(
        "cpu",
        "DepthwiseConv2dNativeBackpropFilter",
        filterInputs,
        { ...reference, filterShape: spreadShape(c) },
      );
      assertClose(
        await run("wasm", "DepthwiseConv2dNativeBackpropFilter", filterInputs, {
          ...common,
          filterShape: c.filter,
        }),
        { shape: c.filter, data: spread(expectedFilter.data, c, false) },
        `${path}: filter grad ${label(c)}`,
      );
      const filter = values(tf.util.sizeFromShape(c.filter), i + 90);
      const inputAttrs = { inputShape: c.x };
      assertClose(
        await run("wasm", "DepthwiseConv2dNativeBackpropInput", {
          dy,
          filter: { shape: c.filter, data: filter },
        }, { ...common, ...inputAttrs }),
        await run("cpu", "DepthwiseConv2dNativeBackpropInput", {
          dy,
          filter: { shape: spreadShape(c), data: spread(filter, c, true) },
        }, { ...reference, ...inputAttrs }),
        `${path}: input grad ${label(c)}`,
      );
    }
  });
});

Deno.test("wasm BatchMatMul with transposes matches the cpu kernel", async () => {
  await bothPaths(async (path) => {
    const cases: [number[], number[], boolean, boolean][] = [
      // SIMD products: row, column and length tails; Aᵀ·B long enough.
      [[1, 7, 13], [1, 9, 13], false, true],
      [[1, 8, 16], [1, 3, 16], false, true],
      [[1, 70, 9], [1, 70, 13], true, false],
      [[1, 64, 5], [1, 64, 8], true, false],
      [[1, 5, 3], [1, 3, 4], false, false],
      [[2, 3, 5], [2, 3, 4], true, false],
      [[1, 5, 3], [1, 4, 3], false, true],
      [[3, 3, 5], [1, 4, 3], true, true],
      [[7, 6], [7, 2], true, false],
      // Rank 2, as dense layers pass them, and mixed ranks.
      [[8, 12], [20, 12], false, true],
      [[70, 8], [70, 5], true, false],
      [[1, 6, 5], [3, 5], false, true],
    ];
    for (
      const [i, [aShape, bShape, transposeA, transposeB]] of cases.entries()
    ) {
      const inputs = {
        a: {
          shape: aShape,
          data: values(tf.util.sizeFromShape(aShape), i + 11),
        },
        b: {
          shape: bShape,
          data: values(tf.util.sizeFromShape(bShape), i + 12),
        },
      };
      const attrs = { transposeA, transposeB };
      assertClose(
        await run("wasm", "BatchMatMul", inputs, attrs),
        await run("cpu", "BatchMatMul", inputs, attrs),
        `${path}: a ${aShape} b ${bShape} tA ${transposeA} tB ${transposeB}`,
      );
    }
  });
});

Deno.test("wasm products on new weights (matmul_nn) match the cpu kernels", async () => {
  await bothPaths(async (path) => {
    const cases: [number[], number[]][] = [
      [[1, 7, 13], [1, 13, 9]], // row and column tails
      [[1, 5, 300], [1, 300, 16]], // several k chunks
      [[1, 70, 9], [1, 9, 20]], // several row chunks
      [[1, 3, 4], [1, 4, 4]],
      [[8, 40], [40, 12]], // rank 2, as dense layers pass them
      [[6, 5], [1, 5, 7]],
      [[2, 3, 5], [2, 5, 4]], // batch 2: the shipped kernel
    ];
    for (const [i, [aShape, bShape]] of cases.entries()) {
      const inputs = {
        a: { shape: aShape, data: values(tf.util.sizeFromShape(aShape), i) },
        b: { shape: bShape, data: values(tf.util.sizeFromShape(bShape), 9) },
      };
      const attrs = { transposeA: false, transposeB: false };
      assertClose(
        await run("wasm", "BatchMatMul", inputs, attrs),
        await run("cpu", "BatchMatMul", inputs, attrs),
        `${path}: a ${aShape} b ${bShape}`,
      );
    }
    const convCases: [string, number[], number[], Record<string, unknown>][] = [
      ["Conv2D", [2, 5, 6, 7], [1, 1, 7, 13], {}],
      ["FusedConv2D", [2, 4, 4, 9], [1, 1, 9, 6], { bias: true }],
      ["FusedConv2D", [1, 3, 5, 4], [1, 1, 4, 8], { activation: "relu" }],
      ["Conv2D", [1, 5, 5, 3], [1, 1, 3, 4], { strides: 2 }],
      ["Conv2D", [1, 5, 5, 2], [3, 3, 2, 4], {}], // 3x3: XNNPACK
    ];
    for (const [i, [kernel, xShape, fShape, extra]] of convCases.entries()) {
      const co = fShape[3];
      const inputs: Record<string, { shape: number[]; data: Float32Array }> = {
        x: { shape: xShape, data: values(tf.util.sizeFromShape(xShape), i) },
        filter: {
          shape: fShape,
          data: values(tf.util.sizeFromShape(fShape), i + 5),
        },
      };
      if (extra.bias) inputs.bias = { shape: [co], data: values(co, i + 6) };
      const attrs = {
        strides: extra.strides ?? 1,
        pad: "same",
        dilations: 1,
        dataFormat: "NHWC",
        activation: extra.activation ?? "linear",
      };
      assertClose(
        await run("wasm", kernel, inputs, attrs),
        await run("cpu", kernel, inputs, attrs),
        `${path}: ${kernel} x ${xShape} filter ${fShape} ${
          JSON.stringify(extra)
        }`,
      );
    }
  });
  // The same weights again: XNNPACK's cached operator, same result.
  await tf.setBackend("wasm");
  const a = tf.tensor(values(6 * 10, 1), [1, 6, 10]);
  const b = tf.tensor(values(10 * 7, 2), [1, 10, 7]);
  const first = tf.matMul(a, b);
  const second = tf.matMul(a, b);
  assertClose(
    { shape: second.shape, data: await second.data() as Float32Array },
    { shape: first.shape, data: await first.data() as Float32Array },
    "the second product on the same weights",
  );
  tf.dispose([a, b, first, second]);
});

Deno.test("wasm Add, Sub, Multiply and RealDiv by a per-channel vector match the cpu kernels exactly", async () => {
  const cases: [number[], number[]][] = [
    [[2, 3, 6], [6]], // a bias: a vector and a 2-wide tail per row
    [[5], [2, 3, 5]], // the vector on the left
    [[2, 3, 8], [1, 1, 8]],
    [[4, 6], [1, 6]],
    [[3, 1], [1]],
    // Columns not a multiple of 4 go as one flat array in periods of
    // lcm(cols, 4) values: whole periods, a tail of rows, only a tail,
    // the vector on the left, and 9 columns (no period: by rows).
    [[3, 5, 6], [6]],
    [[7, 3], [3]],
    [[5, 7], [1, 7]],
    [[4, 10], [10]],
    [[2, 2, 14], [14]],
    [[3, 5], [5]],
    [[6], [3, 4, 6]],
    [[3, 9], [9]],
    // A single value (a scalar, or of rank 1 or 2) as one column.
    [[2, 3, 5], []],
    [[], [4, 3]],
    [[7], [1]],
    [[1], [1, 1]],
    [[2, 3], [2, 3]], // same shapes: the shipped kernels
    [[2, 3], [2, 1]], // not per column: the shipped kernels
  ];
  for (const op of ["add", "sub", "mul", "div"] as const) {
    for (const [i, [aShape, bShape]] of cases.entries()) {
      const results = [];
      for (const backend of ["wasm", "cpu"]) {
        await tf.setBackend(backend);
        const a = tf.tensor(
          values(tf.util.sizeFromShape(aShape), i + 80),
          aShape,
        );
        const b = tf.tensor(
          values(tf.util.sizeFromShape(bShape), i + 90),
          bShape,
        );
        const y = tf[op](a, b);
        results.push({ shape: y.shape, data: Array.from(await y.data()) });
        tf.dispose([a, b, y]);
      }
      assert.deepEqual(results[0], results[1], `${op} ${aShape} ${bShape}`);
    }
  }
});

Deno.test("wasm convolutions over few input channels (conv2d_direct, conv2d_one_channel_rows) match the cpu kernels", async () => {
  await bothPaths(async (path) => {
    const cases: ConvCase[] = [
      { x: [2, 9, 9, 1], filter: [5, 5, 1, 6], strides: 1, pad: "same" },
      { x: [2, 7, 11, 3], filter: [3, 3, 3, 16], strides: 1, pad: "same" },
      { x: [1, 9, 9, 1], filter: [3, 3, 1, 32], strides: 2, pad: "valid" },
      // A numeric pad with a square filter and stride only: otherwise
      // tfjs's output shape and XNNPACK's disagree, and the shipped kernel
      // (the js path) writes past its output.
      { x: [1, 8, 7, 2], filter: [3, 3, 2, 13], strides: 2, pad: 1 },
      { x: [1, 8, 7, 2], filter: [3, 2, 2, 13], strides: [2, 1], pad: "same" },
      {
        x: [1, 9, 9, 3],
        filter: [3, 3, 3, 4],
        strides: 1,
        pad: "same",
        dilations: 2,
      },
      { x: [2, 6, 6, 1], filter: [2, 2, 1, 5], strides: 1, pad: "valid" },
      // One channel, stride 1, 8+ pixels wide: conv2d_one_channel_rows
      // (channel groups of 6 with a tail, a last pixel block that overlaps).
      { x: [2, 12, 13, 1], filter: [3, 3, 1, 32], strides: 1, pad: "same" },
      { x: [1, 10, 17, 1], filter: [5, 5, 1, 4], strides: 1, pad: "valid" },
      { x: [1, 8, 8, 1], filter: [1, 1, 1, 7], strides: 1, pad: "valid" },
      { x: [1, 6, 5, 2], filter: [3, 3, 2, 3], strides: 1, pad: "same" }, // co < 4: XNNPACK
    ];
    for (const [i, c] of cases.entries()) {
      const co = c.filter[3];
      for (const kernel of ["Conv2D", "FusedConv2D"]) {
        const inputs: Record<string, { shape: number[]; data: Float32Array }> =
          {
            x: { shape: c.x, data: values(tf.util.sizeFromShape(c.x), i) },
            filter: {
              shape: c.filter,
              data: values(tf.util.sizeFromShape(c.filter), i + 3),
            },
          };
        const fused = kernel === "FusedConv2D";
        if (fused) inputs.bias = { shape: [co], data: values(co, i + 4) };
        const attrs = {
          strides: c.strides,
          pad: c.pad,
          dilations: c.dilations ?? 1,
          dataFormat: "NHWC",
          activation: fused ? "relu" : "linear",
        };
        assertClose(
          await run("wasm", kernel, inputs, attrs),
          await run("cpu", kernel, inputs, attrs),
          `${path}: ${kernel} ${label(c)}`,
        );
      }
    }
  });
});

/**
 * MaxPoolGrad's inputs: x from `seeds.x`, its max pool computed on the cpu
 * backend, and an output gradient from `seeds.dy`.
 */
async function maxPoolGradInputs(
  shape: number[],
  filterSize: number,
  strides: number,
  pad: Pad,
  seeds: { x: number; dy: number },
  ties = false,
): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
  const x = values(tf.util.sizeFromShape(shape), seeds.x);
  // ReLU outputs repeat 0 (and here a few other values): windows with equal
  // maxima, whose gradient must go to the first.
  if (ties) x.forEach((v, i) => x[i] = Math.max(0, Math.round(2 * v) / 2));
  await tf.setBackend("cpu");
  const output = tf.tidy(() =>
    tf.maxPool(
      tf.tensor4d(x, shape as [number, number, number, number]),
      filterSize,
      strides,
      pad as "same",
    )
  );
  const inputs = {
    input: { shape, data: x },
    output: { shape: output.shape, data: await output.data() as Float32Array },
    dy: { shape: output.shape, data: values(output.size, seeds.dy) },
  };
  output.dispose();
  return inputs;
}

Deno.test("wasm MaxPoolGrad matches the cpu kernel", async () => {
  await bothPaths(async (path) => {
    const cases: [number[], number, number, Pad, boolean?][] = [
      [[2, 6, 6, 9], 3, 2, "same"], // 4-wide channel vectors plus a tail
      [[1, 5, 5, 4], 2, 1, "same"],
      [[2, 8, 8, 3], 2, 2, "valid"], // the 2x2 fast path
      [[2, 7, 9, 2], 2, 2, "valid"], // fast path, odd sizes
      [[2, 8, 8, 6], 2, 2, "valid"], // 2x2 tiles in C: a vector and an overlapping one
      [[3, 6, 10, 4], 2, 2, "same"], // 2x2 tiles ('same' on even sizes pads nothing)
      [[2, 6, 6, 8], 2, 2, "valid", true], // 2x2 tiles, tied maxima
      [[2, 7, 7, 5], 3, 2, "same", true], // tied maxima, overlapping windows
      [[2, 7, 7, 3], 3, 2, "same"],
      [[1, 6, 6, 2], 3, 1, "valid"], // overlapping windows
      [[1, 5, 6, 1], 2, 2, "same"],
    ];
    for (
      const [i, [shape, filterSize, strides, pad, ties]] of cases.entries()
    ) {
      const inputs = await maxPoolGradInputs(shape, filterSize, strides, pad, {
        x: i + 21,
        dy: i + 22,
      }, ties);
      const attrs = { filterSize, strides, pad };
      assertClose(
        await run("wasm", "MaxPoolGrad", inputs, attrs),
        await run("cpu", "MaxPoolGrad", inputs, attrs),
        `${path}: pool ${shape} ${filterSize}/${strides} ${pad}`,
      );
    }
  });
});

Deno.test("wasm MaxPool matches the cpu kernel; a NaN in a 2x2 window gives NaN", async () => {
  const cases: [number[], number, number, Pad][] = [
    [[2, 8, 8, 6], 2, 2, "valid"], // max_pool_2x2_rows: a vector and an overlapping one
    [[2, 7, 9, 5], 2, 2, "valid"], // odd sizes: the last row and column unread
    [[3, 6, 10, 4], 2, 2, "same"], // 'same' on even sizes pads nothing
    [[64, 28, 28, 6], 2, 2, "valid"], // LeNet-5's first pool: two threads
    [[1, 5, 5, 4], 2, 2, "same"], // padding at the bottom: the shipped kernel
    [[2, 8, 8, 3], 2, 2, "valid"], // fewer than 4 channels: the shipped kernel
    [[2, 7, 7, 5], 3, 2, "same"], // overlapping windows: the shipped kernel
  ];
  for (const [i, [shape, filterSize, strides, pad]] of cases.entries()) {
    const inputs = {
      x: { shape, data: values(tf.util.sizeFromShape(shape), i + 41) },
    };
    const attrs = { filterSize, strides, pad };
    const expected = await run("cpu", "MaxPool", inputs, attrs);
    const actual = await run("wasm", "MaxPool", inputs, attrs);
    assert.deepEqual(
      actual,
      expected,
      `pool ${shape} ${filterSize}/${strides}`,
    );
  }
  // NaN at the first window's first tap (channel 0) and second tap
  // (channel 1), and at the last window's last tap (channel 2); the other
  // windows and channels are finite.
  const x = new Float32Array(4 * 4 * 4).map((_, i) => i % 7);
  for (const at of [0, 4 + 1, (3 * 4 + 3) * 4 + 2]) x[at] = NaN;
  const pooled = await run("wasm", "MaxPool", {
    x: { shape: [1, 4, 4, 4], data: x },
  }, { filterSize: 2, strides: 2, pad: "valid" });
  const nan = Array.from(pooled.data, Number.isNaN);
  assert.deepEqual(
    nan.map((v, i) => v ? i : -1).filter((i) => i >= 0),
    [0, 1, 3 * 4 + 2],
  );
});

Deno.test("wasm FusedBatchNorm (inference's batch norm) matches the cpu kernel; large inputs on two threads give one thread's bits", async () => {
  const cases: [number[], number[], boolean][] = [
    [[2, 5, 5, 6], [6], true], // a vector of 4 and a tail of 2
    [[3, 4, 4, 8], [8], false], // no offset or scale: zeros and ones
    [[7, 12], [12], true],
    [[2, 3, 3, 5], [1, 1, 1, 5], true], // statistics of rank 4
    [[2, 3, 4], [3, 4], true], // not per channel: the shipped kernel
  ];
  for (const [i, [shape, statShape, affine]] of cases.entries()) {
    const size = tf.util.sizeFromShape(statShape);
    const inputs: Record<string, { shape: number[]; data: Float32Array }> = {
      x: { shape, data: values(tf.util.sizeFromShape(shape), i + 51) },
      mean: { shape: statShape, data: values(size, i + 52) },
      // Variances in [0.5, 1.5).
      variance: {
        shape: statShape,
        data: values(size, i + 53).map((v) => 1 + v / 2),
      },
      ...(affine
        ? {
          offset: { shape: statShape, data: values(size, i + 54) },
          scale: { shape: statShape, data: values(size, i + 55) },
        }
        : {}),
    };
    const attrs = { varianceEpsilon: 1e-3 };
    assertClose(
      await run("wasm", "FusedBatchNorm", inputs, attrs),
      await run("cpu", "FusedBatchNorm", inputs, attrs),
      `batch norm ${shape} over ${statShape}`,
    );
  }
  const shape = [64, 16, 16, 32]; // 524K values: threaded
  const c = shape[3];
  await assertThreadsAgree(
    "FusedBatchNorm",
    {
      x: { shape, data: values(tf.util.sizeFromShape(shape), 56) },
      mean: { shape: [c], data: values(c, 57) },
      variance: { shape: [c], data: values(c, 58).map((v) => 1 + v / 2) },
      offset: { shape: [c], data: values(c, 59) },
      scale: { shape: [c], data: values(c, 60) },
    },
    { varianceEpsilon: 1e-3 },
    "batch norm on two threads",
  );
});

Deno.test("wasm Slice matches the cpu kernel", async () => {
  const cases: [number[], "float32" | "int32", number[], number[]][] = [
    [[6, 3, 2], "float32", [2, 0, 0], [3, -1, -1]], // whole rows: one copy
    [[6, 3, 2], "float32", [1, 1, 0], [4, 2, 2]],
    [[5, 4], "int32", [1, 1], [3, 2]],
    [[7], "float32", [2], [4]],
    [[2, 3, 4, 5, 2], "float32", [1, 0, 1, 2, 1], [1, 3, 2, 3, 1]],
    [[3, 4], "float32", [1, 0], [0, 4]], // empty
  ];
  for (const [i, [shape, dtype, begin, size]] of cases.entries()) {
    const results = [];
    for (const backend of ["wasm", "cpu"]) {
      await tf.setBackend(backend);
      const data = values(tf.util.sizeFromShape(shape), i + 70);
      const x = dtype === "int32"
        ? tf.tensor(Int32Array.from(data, (v) => Math.round(v * 1000)), shape)
        : tf.tensor(data, shape);
      const y = tf.slice(x, begin, size);
      results.push({ shape: y.shape, data: Array.from(await y.data()) });
      tf.dispose([x, y]);
    }
    assert.deepEqual(results[0], results[1], `slice ${shape} at ${begin}`);
  }
  // No copy of the whole input out of the heap (the shipped kernel's cost).
  await tf.setBackend("wasm");
  const backend = tf.backend() as BackendWasm;
  const x = tf.zeros([64, 10]);
  const readSync = backend.readSync;
  let reads = 0;
  backend.readSync = (...args: Parameters<typeof readSync>) => {
    reads++;
    return readSync.apply(backend, args);
  };
  try {
    tf.slice(x, [8, 2], [4, 3]).dispose();
    tf.slice(x, 8, 4).dispose();
  } finally {
    backend.readSync = readSync;
    x.dispose();
  }
  assert.equal(reads, 0, "Slice read its whole input out of the heap");
});

Deno.test("wasm Tile matches the cpu kernel", async () => {
  const cases: [number[], number[], "float32" | "int32"][] = [
    [[1, 1, 1, 5], [2, 3, 4, 1], "float32"], // the batch-norm gradient's
    [[1, 3], [7, 1], "int32"],
    [[1, 1], [3, 5], "float32"],
    [[2, 3], [2, 2], "float32"], // repeats inside: the shipped kernel
    [[3], [1], "float32"],
    // Broadcasts (repeated axes of size 1) in broadcast_strided: copies
    // and fills innermost, merged axes, int32 bits, lenet5-1998's windows.
    [[3, 1, 2], [1, 4, 1], "float32"],
    [[4, 1], [1, 5], "float32"],
    [[2, 1], [1, 3], "int32"],
    [[2, 1, 1, 3], [1, 2, 3, 1], "float32"],
    [[2, 3, 1, 3, 1, 2], [1, 1, 2, 1, 2, 1], "float32"],
    [[1, 2, 1, 3, 1, 5], [2, 1, 3, 1, 2, 1], "float32"],
  ];
  for (const [i, [shape, reps, dtype]] of cases.entries()) {
    const results = [];
    for (const backend of ["wasm", "cpu"]) {
      await tf.setBackend(backend);
      const data = values(tf.util.sizeFromShape(shape), i + 40).map((v) =>
        dtype === "int32" ? Math.round(v * 100) : v
      );
      const x = tf.tensor(data, shape, dtype);
      const y = tf.tile(x, reps);
      results.push({ shape: y.shape, data: await y.data() });
      tf.dispose([x, y]);
    }
    assert.deepEqual(results[0], results[1], `tile ${shape} by ${reps}`);
  }
});

Deno.test("the Sum gradient on wasm (a broadcast) equals tfjs's formula on cpu bit for bit", async () => {
  const cases: [number[], number | number[], boolean][] = [
    [[2, 3, 2, 3, 2, 5], [2, 4], false], // lenet5-1998's 2x2 window sums
    [[4, 6, 5], -1, false],
    [[4, 6, 5], [0, 2], true], // keepDims
    [[3, 4], [0, 1], false], // everything: a scalar spread out
  ];
  for (const [i, [shape, axis, keepDims]] of cases.entries()) {
    const results = [];
    for (const backend of ["wasm", "cpu"]) {
      await tf.setBackend(backend);
      const x = tf.tensor(values(tf.util.sizeFromShape(shape), i + 61), shape);
      const y = tf.sum(x, axis, keepDims);
      const dy = tf.tensor(values(y.size, i + 62), y.shape);
      const dx = tf.grad((v: tf.Tensor) => tf.sum(v, axis, keepDims))(x, dy);
      results.push({ shape: dx.shape, data: await dx.data() });
      tf.dispose([x, y, dy, dx]);
    }
    assert.deepEqual(results[0], results[1], `sum ${shape} over ${axis}`);
  }
});

Deno.test("wasm Identity shares the buffer and keeps it alive", async () => {
  await tf.setBackend("wasm");
  const dataIds = () =>
    (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
  const before = dataIds();
  const x = tf.tensor([1, 2, 3]);
  const y = tf.engine().runKernel("Identity", { x }) as tf.Tensor;
  assert.equal(dataIds(), before + 1, "Identity copied the buffer");
  x.dispose();
  assert.deepEqual(Array.from(await y.data()), [1, 2, 3]);
  y.dispose();
  assert.equal(dataIds(), before);
});

Deno.test("wasm LeakyRelu gradient matches the cpu one", async () => {
  const x = values(2 * 3 * 5 * 7, 61);
  x[0] = 0; // the boundary: alpha side, as tfjs's greater(x, 0) decides
  const weights = values(x.length, 62);
  const grad = async (backend: string) => {
    await tf.setBackend(backend);
    const [t, w] = [
      tf.tensor(x, [2, 3, 5, 7]),
      tf.tensor(weights, [2, 3, 5, 7]),
    ];
    const g = tf.grad((a: tf.Tensor) =>
      tf.sum(tf.mul(tf.leakyRelu(a, 0.3), w))
    )(t);
    const result = { shape: g.shape, data: (await g.data()) as Float32Array };
    tf.dispose([t, w, g]);
    return result;
  };
  const expected = await grad("cpu");
  await bothPaths(async (path) => {
    assertClose(await grad("wasm"), expected, `${path}: leakyRelu grad`);
  });
});

Deno.test("wasm LeakyRelu matches the cpu one", async () => {
  const x = values(2 * 3 * 5 * 7 + 3, 64); // a 3-element tail
  x[0] = 0;
  x[1] = NaN;
  const inputs = { x: { shape: [x.length], data: x } };
  await bothPaths(async (path) => {
    const got = await run("wasm", "LeakyRelu", inputs, { alpha: 0.2 });
    const want = await run("cpu", "LeakyRelu", inputs, { alpha: 0.2 });
    assert.ok(Number.isNaN(got.data[1]), `${path}: NaN stays NaN`);
    got.data[1] = want.data[1] = 0;
    assertClose(got, want, `${path}: leakyRelu`);
  });
});

Deno.test("wasm Relu and ClipByValue gradients match the cpu ones to the bit", async () => {
  const x = values(2 * 3 * 5 * 7, 63).map((v) => v * 8); // across 0 and 6
  // The boundaries, NaN and a signed zero (dy < 0 where x <= 0 gives -0).
  x.set([0, -0, 6, NaN, Infinity, -Infinity], 0);
  const weights = values(x.length, 64);
  const grads = async (backend: string) => {
    await tf.setBackend(backend);
    const [t, w] = [tf.tensor(x, [2, 3, 5, 7]), tf.tensor(weights, [210])];
    const out = [];
    for (
      const f of [
        (a: tf.Tensor) => tf.relu(a),
        (a: tf.Tensor) => tf.clipByValue(a, 0, 6),
        (a: tf.Tensor) => tf.clipByValue(tf.relu(a), 0, 6), // ReLU6 layers
      ]
    ) {
      const g = tf.grad((a: tf.Tensor) =>
        tf.sum(tf.mul(tf.reshape(f(a), [210]), w))
      )(t);
      out.push(Array.from(await g.data()));
      g.dispose();
    }
    tf.dispose([t, w]);
    return out;
  };
  const expected = await grads("cpu");
  await bothPaths(async (path) => {
    const actual = await grads("wasm");
    for (let k = 0; k < expected.length; k++) {
      for (let i = 0; i < expected[k].length; i++) {
        assert.ok(
          Object.is(actual[k][i], expected[k][i]),
          `${path}: gradient ${k}, element ${i}: ${actual[k][i]}, ` +
            `expected ${expected[k][i]}`,
        );
      }
    }
  });
});

Deno.test("wasm Tanh and the Sigmoid and Tanh gradients match the cpu ones", async () => {
  const x = values(2 * 3 * 5 * 7 + 3, 66).map((v) => v * 6); // saturating
  x.set([0, -0, 0.625, -0.625, 9, -12], 0);
  const inputs = { x: { shape: [x.length], data: x } };
  const weights = values(x.length, 67);
  const grads = async (backend: string) => {
    await tf.setBackend(backend);
    const [t, w] = [tf.tensor(x), tf.tensor(weights)];
    const out = [];
    for (
      const f of [
        (a: tf.Tensor) => tf.sigmoid(a),
        (a: tf.Tensor) => tf.tanh(a),
        (a: tf.Tensor) => tf.mul(tf.tanh(tf.mul(a, 2 / 3)), 1.7159),
      ]
    ) {
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), w)))(t);
      out.push({ shape: g.shape, data: (await g.data()) as Float32Array });
      g.dispose();
    }
    tf.dispose([t, w]);
    return out;
  };
  const expected = await grads("cpu");
  await bothPaths(async (path) => {
    assertClose(
      await run("wasm", "Tanh", inputs, {}),
      await run("cpu", "Tanh", inputs, {}),
      `${path}: tanh`,
    );
    const actual = await grads("wasm");
    actual.forEach((g, k) => assertClose(g, expected[k], `${path}: grad ${k}`));
  });
});

Deno.test("wasm Sum matches the cpu kernel", async () => {
  const cases: [number[], number | number[], boolean][] = [
    [[4, 3, 5, 13], [0, 1, 2], false], // a bias gradient: SIMD column sums
    [[6, 16], 0, true],
    [[2, 3, 4], [1, 0], true],
    [[0, 5], [0], false], // no rows: zeros
    [[4, 3, 5], [0, 2], false], // not the leading axes: the shipped kernel
    [[4, 3], 1, false],
    // One or two inner axes in ascending order: sum_two_axes.
    [[3, 4, 2, 4, 2, 5], [2, 4], false], // lenet5-1998's 2x2 windows
    [[2, 3, 3, 2, 3, 6], [1, 3], true],
    [[4, 6, 9], 1, false],
    [[2, 5, 2, 5, 2, 7], [4, 2], false], // descending: the shipped kernel
  ];
  for (const [i, [shape, axis, keepDims]] of cases.entries()) {
    const x = values(tf.util.sizeFromShape(shape), i + 80);
    const expected = await run("cpu", "Sum", { x: { shape, data: x } }, {
      axis,
      keepDims,
    });
    await bothPaths(async (path) => {
      assertClose(
        await run("wasm", "Sum", { x: { shape, data: x } }, { axis, keepDims }),
        expected,
        `${path}: sum ${shape} over ${axis} keepDims ${keepDims}`,
      );
    });
  }
});

Deno.test("the fast cpu Conv2DBackpropFilter matches the shipped one", async () => {
  for (const [i, c] of CONV_CASES.entries()) {
    const { dyShape } = convShapes(c, false);
    const inputs = {
      x: { shape: c.x, data: values(tf.util.sizeFromShape(c.x), i + 5) },
      dy: {
        shape: dyShape,
        data: values(tf.util.sizeFromShape(dyShape), i + 55),
      },
    };
    const attrs = {
      strides: c.strides,
      pad: c.pad,
      dataFormat: "NHWC",
      filterShape: c.filter,
    };
    const restore = registerCpuTrainingKernels();
    let fast;
    try {
      fast = await run("cpu", "Conv2DBackpropFilter", inputs, attrs);
    } finally {
      restore();
    }
    assertClose(
      fast,
      await run("cpu", "Conv2DBackpropFilter", inputs, attrs),
      label(c),
    );
  }
});

Deno.test("the kernels leak no tensors or wasm memory", async () => {
  await tf.setBackend("wasm");
  const x = tf.tensor(values(2 * 8 * 8 * 3, 1), [2, 8, 8, 3]) as tf.Tensor4D;
  const filter = tf.tensor(values(3 * 3 * 3 * 4, 2), [
    3,
    3,
    3,
    4,
  ]) as tf.Tensor4D;
  const depthwise = tf.tensor(values(3 * 3 * 3 * 2, 3), [
    3,
    3,
    3,
    2,
  ]) as tf.Tensor4D;
  const step = () => {
    const grads = tf.grads((a: tf.Tensor, f: tf.Tensor, d: tf.Tensor) =>
      tf.add(
        tf.sum(
          tf.maxPool(
            tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 2, "same"),
            2,
            2,
            "same",
          ),
        ),
        tf.sum(
          tf.depthwiseConv2d(a as tf.Tensor4D, d as tf.Tensor4D, 1, "same"),
        ),
      )
    )([x, filter, depthwise]);
    tf.dispose(grads);
  };
  const dataIds = () =>
    (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
  step();
  const before = { ...tf.memory(), dataIds: dataIds() };
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, before.numTensors);
  assert.equal(tf.memory().numBytes, before.numBytes);
  // Intermediate heap buffers (patches, rotated filters) are freed too.
  assert.equal(dataIds(), before.dataIds);
  tf.dispose([x, filter, depthwise]);
});

/**
 * Runs `kernel` with the project's kernels on two threads (sharing the
 * chunks, then with the worker doing them all), then on one, and checks
 * that the results are equal bit for bit (and that no tensor leaks).
 */
async function assertThreadsAgree(
  kernel: string,
  inputs: Record<string, { shape: number[]; data: Float32Array }>,
  attrs: Record<string, unknown>,
  what: string,
  { exact = true }: { exact?: boolean } = {},
) {
  Deno.env.set("CNN_KERNEL_THREADS", "2");
  try {
    assert.ok(await startKernelThreads(), "the kernel thread did not start");
    const results: Float32Array[] = [];
    for (const [threads, workerOnly] of [["2", false], ["2", true], ["1"]]) {
      Deno.env.set("CNN_KERNEL_THREADS", threads as string);
      assert.equal(kernelThreads()?.threads ?? 1, Number(threads));
      if (workerOnly) kernelThreads()!.workerOnly = true;
      const before = tf.memory().numTensors;
      try {
        results.push((await run("wasm", kernel, inputs, attrs)).data);
      } finally {
        if (workerOnly) kernelThreads()!.workerOnly = false;
      }
      assert.equal(tf.memory().numTensors, before);
    }
    assert.ok(results[0].some((v) => v !== 0), `${what}: all zeros`);
    assert.deepEqual(results[0], results[1], `${what}: worker only`);
    if (exact) {
      assert.deepEqual(results[0], results[2], `${what}: shared chunks`);
    } else {
      // One thread takes another kernel (XNNPACK): equal up to rounding.
      const cpu = await run("cpu", kernel, inputs, attrs);
      const shape = cpu.shape;
      assertClose({ shape, data: results[0] }, cpu, `${what}: two threads`);
      assertClose({ shape, data: results[2] }, cpu, `${what}: one thread`);
    }
  } finally {
    Deno.env.delete("CNN_KERNEL_THREADS");
  }
}

/** Multiply-adds of a convolution case (from 2^22 on it is threaded). */
function convWork(c: ConvCase): number {
  const { dyShape } = convShapes(c, false);
  return tf.util.sizeFromShape(dyShape) * c.filter[0] * c.filter[1] *
    c.filter[2];
}

/**
 * Filter gradients big enough for the kernel thread (the threads share
 * units of one tap by 4 input channels): LeNet-5's two convolutions, odd tap counts, output
 * channels with 8-, 4-wide and tail blocks, strides and padding.
 */
const THREADED_FILTER_CASES: ConvCase[] = [
  { x: [64, 32, 32, 1], filter: [5, 5, 1, 6], strides: 1, pad: "valid" },
  { x: [64, 14, 14, 6], filter: [5, 5, 6, 16], strides: 1, pad: "valid" },
  { x: [32, 24, 18, 3], filter: [3, 3, 3, 13], strides: 1, pad: "same" },
  { x: [96, 32, 32, 5], filter: [2, 3, 5, 7], strides: [2, 1], pad: 1 },
  { x: [32, 16, 16, 8], filter: [3, 3, 8, 32], strides: 2, pad: "same" },
];

Deno.test("wasm Conv2DBackpropFilter on two kernel threads equals one thread bit for bit", async () => {
  for (const [i, c] of THREADED_FILTER_CASES.entries()) {
    assert.ok(convWork(c) >= 1 << 22, `${label(c)} is too small to thread`);
    const { dyShape } = convShapes(c, false);
    await assertThreadsAgree("Conv2DBackpropFilter", {
      x: { shape: c.x, data: values(tf.util.sizeFromShape(c.x), i + 7) },
      dy: {
        shape: dyShape,
        data: values(tf.util.sizeFromShape(dyShape), i + 70),
      },
    }, {
      strides: c.strides,
      pad: c.pad,
      dataFormat: "NHWC",
      filterShape: c.filter,
    }, label(c));
  }
});

/**
 * Input gradients over few input channels big enough for the kernel
 * thread (the threads share the batch's images): LeNet-5's second
 * convolution, odd batches, strides, padding, dilation.
 */
const THREADED_INPUT_CASES: ConvCase[] = [
  { x: [64, 14, 14, 6], filter: [5, 5, 6, 16], strides: 1, pad: "valid" },
  { x: [15, 20, 20, 3], filter: [3, 3, 3, 32], strides: 1, pad: "same" },
  { x: [80, 24, 22, 8], filter: [3, 2, 8, 12], strides: [2, 1], pad: 1 },
  {
    x: [8, 30, 30, 4],
    filter: [3, 3, 4, 24],
    strides: 1,
    pad: "same",
    dilations: 2,
  },
];

Deno.test("wasm Conv2DBackpropInput on two kernel threads equals one thread bit for bit", async () => {
  for (const [i, c] of THREADED_INPUT_CASES.entries()) {
    assert.ok(convWork(c) >= 1 << 22, `${label(c)} is too small to thread`);
    const { dyShape } = convShapes(c, false);
    await assertThreadsAgree("Conv2DBackpropInput", {
      dy: {
        shape: dyShape,
        data: values(tf.util.sizeFromShape(dyShape), i + 9),
      },
      filter: {
        shape: c.filter,
        data: values(tf.util.sizeFromShape(c.filter), i + 90),
      },
    }, {
      strides: c.strides,
      pad: c.pad,
      dilations: c.dilations ?? 1,
      dataFormat: "NHWC",
      inputShape: c.x,
    }, label(c));
  }
});

/**
 * Convolutions big enough for the kernel thread, which then all run in
 * conv2d_direct (one thread keeps XNNPACK from 4 input channels on): many
 * channels, channel tails, strides, dilation, explicit padding.
 */
const THREADED_FORWARD_CASES: ConvCase[] = [
  { x: [8, 16, 16, 16], filter: [3, 3, 16, 32], strides: 1, pad: "same" },
  { x: [32, 14, 14, 6], filter: [5, 5, 6, 16], strides: 1, pad: "valid" },
  { x: [48, 17, 15, 12], filter: [3, 3, 12, 14], strides: 2, pad: "same" },
  {
    x: [8, 20, 20, 8],
    filter: [3, 3, 8, 20],
    strides: 1,
    pad: "same",
    dilations: 2,
  },
  { x: [8, 16, 16, 8], filter: [3, 3, 8, 40], strides: 1, pad: 1 },
  // 1x1 (MobileNet's pointwise layers on small maps): a product per pixel
  // in matmul_nn; 200 channels leave a tail of 4 and of 8.
  { x: [64, 4, 4, 64], filter: [1, 1, 64, 128], strides: 1, pad: "valid" },
  { x: [256, 2, 2, 96], filter: [1, 1, 96, 200], strides: 1, pad: "same" },
];

Deno.test("wasm Conv2D and FusedConv2D on two kernel threads (conv2d_direct, matmul_nn for 1x1) match one thread and the cpu kernels", async () => {
  for (const [i, c] of THREADED_FORWARD_CASES.entries()) {
    const { dyShape } = convShapes(c, false);
    const work = tf.util.sizeFromShape(dyShape) * c.filter[0] * c.filter[1] *
      c.filter[2];
    assert.ok(work >= 1 << 22, `${label(c)} is too small to thread`);
    for (const kernel of ["Conv2D", "FusedConv2D"]) {
      const co = c.filter[3];
      const fused = kernel === "FusedConv2D";
      await assertThreadsAgree(
        kernel,
        {
          x: { shape: c.x, data: values(tf.util.sizeFromShape(c.x), i + 11) },
          filter: {
            shape: c.filter,
            data: values(tf.util.sizeFromShape(c.filter), i + 12),
          },
          ...(fused ? { bias: { shape: [co], data: values(co, i + 13) } } : {}),
        },
        {
          strides: c.strides,
          pad: c.pad,
          dilations: c.dilations ?? 1,
          dataFormat: "NHWC",
          activation: fused ? "relu" : "linear",
        },
        `${kernel} ${label(c)}`,
        { exact: false },
      );
    }
  }
});

Deno.test("wasm dense-layer products on two kernel threads equal one thread bit for bit", async () => {
  const [m, k, n] = [64, 400, 256]; // LeNet-5-like, 6.5M multiply-adds
  const x = { shape: [m, k], data: values(m * k, 21) };
  const w = { shape: [k, n], data: values(k * n, 22) };
  const dy = { shape: [m, n], data: values(m * n, 23) };
  const bias = { shape: [n], data: values(n, 24) };
  for (const activation of ["linear", "relu"]) {
    await assertThreadsAgree("_FusedMatMul", { a: x, b: w, bias }, {
      transposeA: false,
      transposeB: false,
      activation,
    }, `forward, ${activation}`);
  }
  await assertThreadsAgree("BatchMatMul", { a: x, b: w }, {
    transposeA: false,
    transposeB: false,
  }, "x · W");
  await assertThreadsAgree("BatchMatMul", { a: x, b: dy }, {
    transposeA: true,
    transposeB: false,
  }, "xᵀ · dy (the weight gradient)");
  await assertThreadsAgree("BatchMatMul", { a: dy, b: w }, {
    transposeA: false,
    transposeB: true,
  }, "dy · Wᵀ (the input gradient)");
});

Deno.test("wasm MaxPoolGrad with disjoint windows on two kernel threads equals one thread bit for bit", async () => {
  const cases: [number[], number, number, Pad][] = [
    [[64, 28, 28, 6], 2, 2, "valid"], // LeNet-5's first pool
    [[40, 33, 31, 8], 2, 2, "valid"], // odd sizes: rows left below
    [[20, 30, 30, 16], 3, 3, "same"],
    [[24, 29, 30, 16], 2, 2, "same"], // padding at the bottom and right
  ];
  for (const [i, [shape, filterSize, strides, pad]] of cases.entries()) {
    assert.ok(
      16 * tf.util.sizeFromShape(shape) >= 1 << 22,
      `${shape} is too small to thread`,
    );
    const inputs = await maxPoolGradInputs(shape, filterSize, strides, pad, {
      x: i + 31,
      dy: i + 32,
    });
    await assertThreadsAgree(
      "MaxPoolGrad",
      inputs,
      { filterSize, strides, pad },
      `pool ${shape} ${filterSize}/${strides} ${pad}`,
    );
  }
});

Deno.test("wasm LeakyRelu on two kernel threads equals one thread bit for bit", async () => {
  const shape = [32, 32, 32, 8]; // 256K values: threaded
  const size = tf.util.sizeFromShape(shape);
  await assertThreadsAgree(
    "LeakyRelu",
    {
      x: { shape, data: values(size, 65) },
    },
    { alpha: 0.1 },
    "leakyRelu",
  );
});

Deno.test("wasm per-channel and scalar ops and two-axis sums on two kernel threads equal one thread bit for bit", async () => {
  const shape = [64, 28, 28, 6]; // 301K values: threaded
  const size = tf.util.sizeFromShape(shape);
  const x = { shape, data: values(size, 67) };
  await assertThreadsAgree(
    "Add",
    {
      a: x,
      b: { shape: [6], data: values(6, 68) },
    },
    {},
    "a bias added",
  );
  await assertThreadsAgree(
    "RealDiv",
    {
      a: { shape: [], data: values(1, 69) },
      b: x,
    },
    {},
    "a scalar divided by a tensor",
  );
  // lenet5-1998's 2x2 window sums at batch 64.
  await assertThreadsAgree(
    "Sum",
    {
      x: { shape: [64, 14, 2, 14, 2, 6], data: values(size, 70) },
    },
    { axis: [2, 4], keepDims: false },
    "two-axis sum",
  );
});

Deno.test("wasm Tanh on two kernel threads equals one thread bit for bit", async () => {
  // 150K values (lenet5-1998's first squash): threaded; 3 scaled so that
  // both the polynomial and the exponential branch run.
  const shape = [32, 28, 28, 6];
  const size = tf.util.sizeFromShape(shape);
  await assertThreadsAgree(
    "Tanh",
    { x: { shape, data: values(size, 66).map((v) => 3 * v) } },
    {},
    "tanh",
  );
});

Deno.test("CNN_KERNEL_THREADS other than 1 or 2 is refused with a clear error", async () => {
  Deno.env.set("CNN_KERNEL_THREADS", "4");
  try {
    await assert.rejects(startKernelThreads(), /CNN_KERNEL_THREADS=4: use 1/);
  } finally {
    Deno.env.delete("CNN_KERNEL_THREADS");
  }
});

Deno.test("wasm ClipByValue keeps NaN as NaN and matches the cpu kernel to the bit", async () => {
  const x = values(2 * 3 * 5 * 7, 66).map((v) => v * 2);
  // NaN in the vector part and in the scalar tail, the bounds, signed zeros.
  x.set([NaN, 1e-7, 1 - 1e-7, -0, 0, Infinity, -Infinity, NaN], 0);
  x[x.length - 1] = NaN;
  for (const [lo, hi] of [[1e-7, 1 - 1e-7], [0, 6], [-0.5, 0.25]]) {
    const attrs = { clipValueMin: lo, clipValueMax: hi };
    const inputs = { x: { shape: [2, 3, 5, 7], data: x } };
    const expected = await run("cpu", "ClipByValue", inputs, attrs);
    assert.ok(Number.isNaN(expected.data[0]), "cpu keeps NaN");
    await bothPaths(async (path) => {
      const actual = await run("wasm", "ClipByValue", inputs, attrs);
      assert.deepEqual(actual.shape, expected.shape);
      for (let i = 0; i < x.length; i++) {
        assert.ok(
          Object.is(actual.data[i], expected.data[i]),
          `${path}: clip(${x[i]}, ${lo}, ${hi}) is ${actual.data[i]}, ` +
            `expected ${expected.data[i]}`,
        );
      }
    });
  }
  // The cross-entropy of a diverged model (tfjs-layers clips the
  // probabilities) stays NaN, as on cpu.
  await tf.setBackend("wasm");
  const loss = tf.tidy(() =>
    tf.metrics.categoricalCrossentropy(
      tf.tensor2d([[0, 1]]),
      tf.tensor2d([[NaN, NaN]]),
    )
  );
  assert.ok(Number.isNaN((await loss.data())[0]), "a NaN loss on wasm");
  loss.dispose();
});

Deno.test("every wasm kernel and gradient of the manifest was exercised by a test of this file", () => {
  const missed = [...exercised].filter(([, calls]) => calls === 0);
  assert.deepEqual(
    missed.map(([key]) => key),
    [],
    "manifest entries naming tests/backend_kernels_test.ts that no test " +
      "here ran: add a differential test",
  );
});
