/**
 * The fused Adam and Adamax steps on wasm against tfjs's own optimizers
 * (the same model trained with `CNN_SIMD_KERNELS=off`): same weights, same
 * optimizer state, no leaked tensors.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import { initBackend, simdKernelsFor } from "../lib/backend/mod.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

await initBackend({ backend: "wasm", verbose: false });

function net(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.dense({
    inputShape: [5],
    units: 7,
    activation: "relu",
    kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
  }));
  model.add(tf.layers.dense({
    units: 3,
    kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
  }));
  return model;
}

/** Trains a fresh net for 4 steps; returns weights and optimizer state. */
async function train(optimizer: tf.Optimizer, fused: boolean) {
  if (!fused) Deno.env.set("CNN_SIMD_KERNELS", "off");
  try {
    assert.equal(
      simdKernelsFor(tf.backend() as BackendWasm) !== undefined,
      fused,
    );
    const model = net();
    const x = tf.tensor2d(
      Array.from({ length: 40 }, (_, i) => Math.sin(i)),
      [8, 5],
    );
    const y = tf.tensor2d(
      Array.from({ length: 24 }, (_, i) => Math.cos(i)),
      [8, 3],
    );
    model.compile({ optimizer, loss: "meanSquaredError" });
    await model.trainOnBatch(x, y); // creates the moments
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
    assert.equal(tf.memory().numTensors, before, "tensors leaked");
    const weights = await Promise.all(
      model.getWeights().map((w) => w.data()),
    );
    // Adamax has no getWeights() in tfjs: read the slots themselves.
    const o = optimizer as unknown as Record<
      string,
      { originalName: string; variable: tf.Variable }[] | undefined
    >;
    const slots = [
      "accumulatedFirstMoment",
      "accumulatedSecondMoment",
      "accumulatedWeightedInfNorm",
    ].flatMap((k) => o[k] ?? []);
    const scalars = ["accBeta1", "accBeta2", "iteration"].flatMap((k) => {
      const v = (optimizer as unknown as Record<string, tf.Variable>)[k];
      return v === undefined ? [] : [{ originalName: k, variable: v }];
    });
    const stateValues = await Promise.all(
      [...slots, ...scalars].map(async (s) => ({
        name: s.originalName,
        data: await s.variable.data(),
      })),
    );
    tf.dispose([x, y]);
    model.dispose();
    optimizer.dispose();
    return { weights, state: stateValues };
  } finally {
    Deno.env.delete("CNN_SIMD_KERNELS");
  }
}

for (
  const [name, make] of [
    ["adam", () => tf.train.adam(0.01)],
    ["adamax", () => tf.train.adamax(0.02, 0.9, 0.999, 1e-7, 0.01)],
  ] as const
) {
  Deno.test(`fused ${name} on wasm gives tfjs's weights and state`, async () => {
    const fused = await train(make(), true);
    const reference = await train(make(), false);
    assert.equal(fused.state.length, reference.state.length);
    const close = (
      a: ArrayLike<number>,
      b: ArrayLike<number>,
      what: string,
    ) => {
      assert.equal(a.length, b.length, what);
      for (let i = 0; i < a.length; i++) {
        assert.ok(
          Math.abs(a[i] - b[i]) <= 1e-6 * Math.max(1, Math.abs(b[i])),
          `${what}[${i}]: ${a[i]} vs ${b[i]}`,
        );
      }
    };
    fused.weights.forEach((w, i) =>
      close(
        w as Float32Array,
        reference.weights[i] as Float32Array,
        `weight ${i}`,
      )
    );
    fused.state.forEach((s, i) => {
      // Variable names carry a global counter; the suffix is the slot.
      assert.equal(
        s.name.split("/").pop(),
        reference.state[i].name.split("/").pop(),
      );
      close(
        s.data as Float32Array,
        reference.state[i].data as Float32Array,
        s.name,
      );
    });
  });
}

Deno.test("a convnet's training curve on wasm (SIMD kernels, fused Adam) matches cpu", async () => {
  const build = () => {
    const model = tf.sequential();
    model.add(tf.layers.conv2d({
      inputShape: [9, 9, 2],
      filters: 6,
      kernelSize: 3,
      padding: "same",
      activation: "relu",
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
    }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.depthwiseConv2d({
      kernelSize: 3,
      padding: "same",
      depthwiseInitializer: tf.initializers.glorotUniform({ seed: 4 }),
    }));
    model.add(tf.layers.conv2d({
      filters: 5,
      kernelSize: 1,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
    }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({
      units: 3,
      activation: "softmax",
      kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }),
    }));
    model.compile({
      optimizer: tf.train.adam(0.01),
      loss: "categoricalCrossentropy",
    });
    return model;
  };
  const curves: number[][] = [];
  for (const backend of ["wasm", "cpu"]) {
    await tf.setBackend(backend);
    const model = build();
    const x = tf.tensor4d(
      Array.from({ length: 70 * 81 * 2 }, (_, i) => Math.sin(i * 0.37)),
      [70, 9, 9, 2],
    );
    const y = tf.oneHot(
      tf.tensor1d(Array.from({ length: 70 }, (_, i) => i % 3), "int32"),
      3,
    );
    const losses: number[] = [];
    for (let step = 0; step < 8; step++) {
      losses.push(await model.trainOnBatch(x, y) as number);
    }
    curves.push(losses);
    tf.dispose([x, y]);
    model.optimizer.dispose();
    model.dispose();
  }
  await tf.setBackend("wasm");
  const [wasm, cpu] = curves;
  assert.ok(cpu[7] < cpu[0], "the reference did not learn");
  wasm.forEach((loss, i) =>
    assert.ok(
      Math.abs(loss - cpu[i]) <= 1e-4 * Math.max(1, cpu[i]),
      `step ${i}: wasm ${loss}, cpu ${cpu[i]}`,
    )
  );
});
