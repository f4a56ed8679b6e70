/**
 * No synchronous tensor reads on any path a notebook, a CLI or the library
 * takes: WebGPU (what `auto` picks on a machine with a GPU) cannot read
 * synchronously in Deno (`dataSync` needs a canvas there). These tests run on
 * the cpu backend with the engine's synchronous read disabled, so every
 * `dataSync`/`arraySync`/`bufferSync` (the library's or tfjs's own) throws
 * as it would on WebGPU; tests/webgpu_test.ts runs the same paths on a real
 * (software) WebGPU adapter where one exists.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import {
  evaluateModel,
  predictClasses,
  predictImageFile,
  writeImageFile,
} from "../lib/eval/mod.ts";
import { filterGrid, imageGrid, maxStimulus } from "../lib/plot/mod.ts";
import {
  checkpointCallback,
  fitModel,
  getOptimizerState,
  setOptimizerState,
  trainLoop,
} from "../lib/train/mod.ts";
import { loadModel, saveModel } from "../lib/models/mod.ts";

await initBackend({ backend: "cpu", verbose: false });

/** Runs `fn` with synchronous reads throwing, as on WebGPU in Deno. */
async function withoutSyncReads<T>(fn: () => Promise<T>): Promise<T> {
  const engine = tf.engine() as unknown as { readSync: unknown };
  const original = engine.readSync;
  engine.readSync = () => {
    throw new Error("synchronous tensor read (dataSync/arraySync/bufferSync)");
  };
  try {
    return await fn();
  } finally {
    engine.readSync = original;
  }
}

function convNet(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [8, 8, 1],
        filters: 3,
        kernelSize: 3,
        activation: "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.flatten(),
      tf.layers.dense({
        units: 3,
        activation: "softmax",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
}

function data(n = 12) {
  return tf.tidy(() => ({
    xs: tf.randomUniform([n, 8, 8, 1], 0, 1, "float32", 3),
    ys: tf.tensor1d(Array.from({ length: n }, (_, i) => i % 3), "int32"),
  }));
}

Deno.test("the guard catches a synchronous read", async () => {
  const t = tf.scalar(1);
  await assert.rejects(
    () => withoutSyncReads(() => Promise.resolve(t.dataSync())),
    /synchronous tensor read/,
  );
  assert.equal(t.dataSync()[0], 1, "the guard is removed afterwards");
  t.dispose();
});

Deno.test("evaluation and prediction read asynchronously", async () => {
  const model = convNet();
  const { xs, ys } = data();
  const oneHot = tf.oneHot(ys, 3);
  await withoutSyncReads(async () => {
    const r = await evaluateModel(model, { xs, ys }, { batchSize: 5 });
    assert.equal(r.count, 12);
    const r2 = await evaluateModel(model, { xs, ys: oneHot });
    assert.equal(r2.accuracy, r.accuracy);
    const { classes } = await predictClasses(model, xs);
    assert.equal(classes.length, 12);
  });
  tf.dispose([xs, ys, oneHot]);
  model.dispose();
});

Deno.test("predicting an image file reads asynchronously", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/digit.png`;
    const pixels = new Uint8Array(16 * 16).map((_, i) => (i % 16) * 16);
    await writeImageFile(path, {
      data: pixels,
      height: 16,
      width: 16,
      channels: 1,
    });
    const model = convNet();
    const p = await withoutSyncReads(() =>
      predictImageFile(model, path, { normalize: { mean: 0.5, std: 0.25 } })
    );
    assert.equal(p.probabilities.length, 3);
    assert.equal(p.pixels.length, 64);
    model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("figures of tensors, filters and stimuli read asynchronously", async () => {
  const model = convNet();
  const { xs, ys } = data(4);
  await withoutSyncReads(async () => {
    const grid = await imageGrid(xs);
    assert.ok(grid.svg.includes("<image"));
    const filters = await filterGrid(model);
    assert.ok(filters.svg.includes("<image"));
    const stimuli = await maxStimulus(model, { units: [0], iterations: 2 });
    assert.equal(stimuli.length, 1);
  });
  tf.dispose([xs, ys]);
  model.dispose();
});

Deno.test("fitModel, trainLoop, checkpoints, optimizer state and model files read asynchronously", async () => {
  const dir = await Deno.makeTempDir();
  const { xs, ys } = data();
  try {
    await withoutSyncReads(async () => {
      const fitted = convNet();
      fitted.compile({
        optimizer: tf.train.adamax(1e-2),
        loss: "sparseCategoricalCrossentropy",
        metrics: ["accuracy"],
      });
      const a = await fitModel(fitted, { xs, ys }, {
        epochs: 1,
        batchSize: 4,
        validationSplit: 0.25,
        callbacks: [checkpointCallback(`${dir}/fit`)],
      });
      assert.equal(a.records.length, 1);
      const looped = convNet();
      const optimizer = tf.train.adamax(1e-2);
      const b = await trainLoop(looped, { xs, ys }, {
        optimizer,
        loss: "sparseCategoricalCrossentropy",
        epochs: 2,
        batchSize: 4,
        checkpointDir: `${dir}/loop`,
      });
      assert.equal(b.records.length, 2);
      const resumed = await trainLoop(convNet(), { xs, ys }, {
        optimizer: tf.train.adamax(1e-2),
        loss: "sparseCategoricalCrossentropy",
        epochs: 3,
        batchSize: 4,
        checkpointDir: `${dir}/loop`,
        resume: true,
      });
      assert.equal(resumed.initialEpoch, 2, "resumed from the checkpoint");
      assert.equal(resumed.records.length, 3);
      const state = await getOptimizerState(optimizer);
      await setOptimizerState(tf.train.adamax(1e-2), state);
      await saveModel(looped, `${dir}/model`);
      const loaded = await loadModel(`${dir}/model`);
      assert.equal(loaded.layers.length, looped.layers.length);
    });
  } finally {
    tf.dispose([xs, ys]);
    await Deno.remove(dir, { recursive: true });
  }
});
