/**
 * The fused batch normalisation of lib/backend/fused_batch_norm.ts against
 * tfjs-layers' own BatchNormalization on the cpu backend: outputs, the
 * gradients of the input, scale and offset, and the moving statistics.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import {
  installFusedBatchNorm,
  loadSimdKernels,
  registerWasmTrainingKernels,
} from "../lib/backend/mod.ts";

assert.ok(await loadSimdKernels(), "kernels.wasm did not load");
registerWasmTrainingKernels();
installFusedBatchNorm();

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

interface Step {
  output: number[];
  grads: number[][];
  moving: number[][];
}

/** Two training calls of one BatchNormalization layer on `backend`. */
async function trainTwice(backend: string, shape: number[]): Promise<Step> {
  await tf.setBackend(backend);
  const channels = shape[shape.length - 1];
  const layer = tf.layers.batchNormalization({ momentum: 0.9 });
  layer.build(shape);
  layer.setWeights([
    tf.tensor(values(channels, 1).map((v) => 1 + v / 2)), // gamma
    tf.tensor(values(channels, 2)), // beta
    tf.zeros([channels]), // moving mean
    tf.ones([channels]), // moving variance
  ]);
  const [gamma, beta] = layer.trainableWeights.map((w) => w.read());
  const size = tf.util.sizeFromShape(shape);
  const weights = tf.tensor(values(size, 3), shape);
  let step: Step | undefined;
  for (let i = 0; i < 2; i++) {
    const x = tf.tensor(values(size, 10 + i).map((v) => 3 * v + 1), shape);
    const f = (input: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      void g, b; // gamma and beta are read by the layer itself
      const y = layer.apply(input, { training: true }) as tf.Tensor;
      return tf.sum(tf.mul(tf.square(y), weights));
    };
    const output = layer.apply(x, { training: false }) as tf.Tensor;
    const { value, grads } = tf.valueAndGrads(f)([x, gamma, beta]);
    step = {
      output: Array.from(await output.data()),
      grads: await Promise.all(
        grads.map(async (g) => Array.from(await g.data())),
      ),
      moving: [
        Array.from(await layer.getWeights()[2].data()),
        Array.from(await layer.getWeights()[3].data()),
      ],
    };
    tf.dispose([x, output, value, ...grads]);
  }
  weights.dispose();
  for (const w of layer.weights) w.dispose();
  return step!;
}

function assertClose(actual: number[], expected: number[], what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= 1e-4 * scale,
      `${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`,
    );
  }
}

Deno.test("fused batch norm matches tfjs-layers' on the cpu backend", async () => {
  for (const shape of [[4, 3, 5, 8], [6, 7], [2, 3, 3, 6]]) {
    const expected = await trainTwice("cpu", shape);
    const actual = await trainTwice("wasm", shape);
    assertClose(actual.output, expected.output, `${shape}: output`);
    for (const [i, name] of ["x", "gamma", "beta"].entries()) {
      assertClose(actual.grads[i], expected.grads[i], `${shape}: d${name}`);
    }
    assertClose(actual.moving[0], expected.moving[0], `${shape}: moving mean`);
    assertClose(actual.moving[1], expected.moving[1], `${shape}: moving var`);
  }
});

Deno.test("fused batch norm runs its own kernels and leaks no tensors", async () => {
  await tf.setBackend("wasm");
  const kernel = tf.getKernel("ProjectBatchNormGrad", "wasm")!;
  const inner = kernel.kernelFunc;
  let calls = 0;
  kernel.kernelFunc = ((args: Parameters<tf.KernelFunc>[0]) => {
    calls++;
    return inner(args);
  }) as tf.KernelFunc;
  try {
    const layer = tf.layers.batchNormalization({});
    const x = tf.tensor(values(2 * 3 * 4, 5), [2, 3, 4]);
    const step = () =>
      tf.dispose(
        tf.grads((input: tf.Tensor) =>
          tf.sum(layer.apply(input, { training: true }) as tf.Tensor)
        )([x]),
      );
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    assert.equal(tf.memory().numTensors, before);
    assert.equal(calls, 4);
    x.dispose();
    for (const w of layer.weights) w.dispose();
  } finally {
    kernel.kernelFunc = inner;
  }
});

Deno.test("a training step runs all three fused kernels (ProjectBatchNormMoments, ProjectBatchNormForward, ProjectBatchNormGrad)", async () => {
  await tf.setBackend("wasm");
  const names = [
    "ProjectBatchNormMoments",
    "ProjectBatchNormForward",
    "ProjectBatchNormGrad",
  ];
  const calls = new Map(names.map((n) => [n, 0]));
  const restore = names.map((name) => {
    const kernel = tf.getKernel(name, "wasm")!;
    const inner = kernel.kernelFunc;
    kernel.kernelFunc = ((args: Parameters<tf.KernelFunc>[0]) => {
      calls.set(name, calls.get(name)! + 1);
      return inner(args);
    }) as tf.KernelFunc;
    return () => kernel.kernelFunc = inner;
  });
  try {
    const layer = tf.layers.batchNormalization({});
    const x = tf.tensor(values(4 * 5, 9), [4, 5]);
    tf.dispose(
      tf.grads((input: tf.Tensor) =>
        tf.sum(layer.apply(input, { training: true }) as tf.Tensor)
      )([x]),
    );
    assert.deepEqual([...calls.values()], [1, 1, 1]);
    x.dispose();
    for (const w of layer.weights) w.dispose();
  } finally {
    for (const r of restore) r();
  }
});
