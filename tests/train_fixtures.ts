// Tiny models and synthetic data shared by the tests/train_*_test.ts files.
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import type { EpochRecord, TrainData } from "../lib/train/mod.ts";

await initBackend({ backend: "cpu" });

/** 3-class data: the class is the argmax of a fixed linear map of 4 features. */
export function tinyData(n = 96, seed = 7): TrainData {
  return tf.tidy(() => {
    const xs = tf.randomNormal([n, 4], 0, 1, "float32", seed);
    const w = tf.tensor2d([[1, 0, -1], [0, 1, 0], [1, 1, 0], [0, -1, 1]]);
    const ys = tf.cast(tf.argMax(tf.matMul(xs, w), -1), "int32");
    return { xs, ys };
  });
}

/** 4 -> 8 (relu) -> 3 (softmax), initialised from `initSeed`, optionally compiled. */
export function tinyModel(
  optimizer?: tf.Optimizer,
  initSeed = 42,
): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 8,
        inputShape: [4],
        activation: "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed: initSeed }),
      }),
      tf.layers.dense({
        units: 3,
        activation: "softmax",
        kernelInitializer: tf.initializers.glorotUniform({
          seed: initSeed + 1,
        }),
      }),
    ],
  });
  if (optimizer) {
    model.compile({
      optimizer,
      loss: "sparseCategoricalCrossentropy",
      metrics: ["accuracy"],
    });
  }
  return model;
}

/** Copies of all weights as plain arrays. */
export function weightValues(model: tf.LayersModel): Float32Array[] {
  return model.weights.map((w) =>
    (w.read().dataSync() as Float32Array).slice()
  );
}

/** Records without the timing columns, for exact comparisons. */
export function untimed(records: readonly EpochRecord[]) {
  return records.map(({ seconds: _s, samples_per_s: _r, ...rest }) => rest);
}

export function disposeData(data: TrainData): void {
  tf.dispose([data.xs, data.ys]);
}
