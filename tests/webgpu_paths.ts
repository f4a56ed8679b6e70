/**
 * Run by tests/webgpu_test.ts as `CNN_BACKEND=webgpu deno run -A
 * tests/webgpu_paths.ts`: the library paths a GPU user takes (a short
 * `trainLoop` with a checkpoint and a resume, `fitModel`, evaluation,
 * prediction from an image file, the figures that read tensors), on whatever
 * backend `initBackend()` picks from the environment. Prints one line per
 * step and `webgpu paths: ok` at the end; any error exits non-zero.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import {
  evaluateModel,
  predictImageFile,
  writeImageFile,
} from "../lib/eval/mod.ts";
import { filterGrid, imageGrid, maxStimulus } from "../lib/plot/mod.ts";
import { fitModel, trainLoop } from "../lib/train/mod.ts";

const backend = await initBackend({ verbose: false });
console.log(`backend: ${backend.name}`);
const expected = Deno.env.get("CNN_BACKEND");
if (expected) assert.equal(tf.getBackend(), expected);

function convNet(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [12, 12, 1],
        filters: 4,
        kernelSize: 3,
        activation: "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({
        units: 3,
        activation: "softmax",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
}

const n = 48;
const { xs, ys } = tf.tidy(() => ({
  xs: tf.randomUniform([n, 12, 12, 1], 0, 1, "float32", 3),
  ys: tf.tensor1d(Array.from({ length: n }, (_, i) => i % 3), "int32"),
}));
const dir = await Deno.makeTempDir({ prefix: "webgpu-paths-" });
try {
  const model = convNet();
  const loop = await trainLoop(model, { xs, ys }, {
    optimizer: tf.train.adamax(1e-2),
    loss: "sparseCategoricalCrossentropy",
    epochs: 1,
    batchSize: 16,
    validationSplit: 0.25,
    checkpointDir: `${dir}/checkpoints`,
    progress: "none",
  });
  assert.ok(Number.isFinite(loop.records[0].loss));
  const resumed = await trainLoop(convNet(), { xs, ys }, {
    optimizer: tf.train.adamax(1e-2),
    loss: "sparseCategoricalCrossentropy",
    epochs: 2,
    batchSize: 16,
    validationSplit: 0.25,
    checkpointDir: `${dir}/checkpoints`,
    resume: true,
    progress: "none",
  });
  assert.equal(resumed.initialEpoch, 1);
  console.log(`trainLoop: loss ${loop.records[0].loss.toFixed(4)}, resumed`);

  const fitted = convNet();
  fitted.compile({
    optimizer: tf.train.sgd(0.05),
    loss: "sparseCategoricalCrossentropy",
    metrics: ["accuracy"],
  });
  const fit = await fitModel(fitted, { xs, ys }, {
    epochs: 1,
    batchSize: 16,
    validationSplit: 0.25,
    progress: "none",
  });
  console.log(`fitModel: loss ${fit.records[0].loss.toFixed(4)}`);

  const evaluation = await evaluateModel(model, { xs, ys }, { batchSize: 20 });
  assert.equal(evaluation.count, n);
  console.log(`evaluateModel: accuracy ${evaluation.accuracy.toFixed(3)}`);

  const png = `${dir}/digit.png`;
  await writeImageFile(png, {
    data: new Uint8Array(40 * 40).map((_, i) => (i % 40 > 18 ? 255 : 0)),
    height: 40,
    width: 40,
    channels: 1,
  });
  const prediction = await predictImageFile(model, png);
  assert.equal(prediction.probabilities.length, 3);
  console.log(`predictImageFile: class ${prediction.classIndex}`);

  assert.ok((await imageGrid(tf.slice(xs, 0, 4))).svg.includes("<image"));
  assert.ok((await filterGrid(model)).svg.includes("<image"));
  const [stimulus] = await maxStimulus(model, { units: [0], iterations: 2 });
  assert.ok(stimulus.input.every(Number.isFinite));
  console.log("figures: imageGrid, filterGrid, maxStimulus");
  console.log("webgpu paths: ok");
} finally {
  tf.dispose([xs, ys]);
  await Deno.remove(dir, { recursive: true });
}
