import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import { recalibrateBatchNorm } from "../lib/train/mod.ts";
import { initBackend } from "../lib/backend/mod.ts";

await initBackend();

/** conv → BN → ReLU → conv → BN → pooling → dense: two BN layers in a chain. */
function bnModel(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 2] });
  let x = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: "same" })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: "bn1" }).apply(
    x,
  ) as tf.SymbolicTensor;
  x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 4, kernelSize: 3 }).apply(
    x,
  ) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: "bn2" }).apply(
    x,
  ) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 3 }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

/** Moving statistics far from the data's, as after a short training run. */
function spoilMovingStatistics(model: tf.LayersModel): void {
  for (const name of ["bn1", "bn2"]) {
    const layer = model.getLayer(name);
    const [gamma, beta, mean, variance] = layer.getWeights();
    layer.setWeights([
      gamma,
      beta,
      tf.fill(mean.shape, 5),
      tf.fill(variance.shape, 100),
    ]);
  }
}

Deno.test("recalibrateBatchNorm: inference then matches training-mode normalisation over the same samples", async () => {
  const model = bnModel();
  const xs = tf.randomNormal([40, 6, 6, 2], 3, 2, "float32", 1);
  spoilMovingStatistics(model);
  const trainable = model.trainableWeights.map((w) => w.read().arraySync());
  const before = tf.memory().numTensors;

  const report = await recalibrateBatchNorm(model, xs, { batchSize: 16 });

  assert.deepEqual(report, { layers: 2, samples: 40 });
  assert.equal(tf.memory().numTensors, before, "no tensor leaks");
  assert.deepEqual(
    model.trainableWeights.map((w) => w.read().arraySync()),
    trainable,
    "gamma, beta and the kernels are untouched",
  );
  const inference = model.predict(xs) as tf.Tensor;
  // Training mode normalises with the statistics of the batch it is given:
  // all 40 samples at once are exactly what was measured.
  const training = model.apply(xs, { training: true }) as tf.Tensor;
  const gap = tf.max(tf.abs(tf.sub(inference, training))).dataSync()[0];
  assert.ok(gap < 1e-4, `inference and training mode differ by ${gap}`);
});

Deno.test("recalibrateBatchNorm: the statistics do not depend on the batch size", async () => {
  const xs = tf.randomNormal([30, 6, 6, 2], 1, 3, "float32", 2);
  const first = bnModel();
  const second = bnModel();
  second.setWeights(first.getWeights()); // the same weights in both
  const stats: number[][] = [];
  for (const [model, batchSize] of [[first, 7], [second, 30]] as const) {
    spoilMovingStatistics(model);
    await recalibrateBatchNorm(model, xs, { batchSize });
    stats.push(
      ["bn1", "bn2"].flatMap((name) =>
        model.getLayer(name).getWeights().slice(2).flatMap((w) =>
          Array.from(w.dataSync())
        )
      ),
    );
  }
  assert.equal(stats[0].length, stats[1].length);
  stats[0].forEach((v, i) =>
    assert.ok(
      Math.abs(v - stats[1][i]) < 1e-4 * Math.max(1, Math.abs(v)),
      `statistic ${i}: ${v} (batch 7) vs ${stats[1][i]} (batch 30)`,
    )
  );
});

Deno.test("recalibrateBatchNorm: refuses BN layers inside a nested model and too few samples", async () => {
  const inner = tf.sequential({
    name: "inner_base",
    layers: [
      tf.layers.dense({ units: 3, inputShape: [4] }),
      tf.layers.batchNormalization(),
    ],
  });
  const outer = tf.sequential({
    layers: [inner, tf.layers.dense({ units: 2 })],
  });
  await assert.rejects(
    recalibrateBatchNorm(outer, tf.ones([8, 4])),
    /nested model "inner_base" holds BatchNormalization layers/,
  );
  await assert.rejects(
    recalibrateBatchNorm(inner, tf.ones([1, 4])),
    /at least 2 samples/,
  );
  await assert.rejects(
    recalibrateBatchNorm(inner, tf.ones([8, 4]), { batchSize: 0 }),
    /batchSize must be an integer >= 1, got 0/,
  );
});
