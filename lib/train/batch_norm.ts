/**
 * Recomputing BatchNormalization's moving statistics after training
 * ("precise BN"). During training each BatchNormalization layer normalises
 * with the current batch's mean and variance and keeps an exponential moving
 * average of them (momentum 0.99 in Keras) for inference. After a short run
 * those averages still mix in statistics of much earlier weights, and in a
 * deep network such as MobileNet the mismatch compounds layer by layer: the
 * model that learned in training mode can score chance in inference mode.
 * Measuring the statistics again with the final weights removes the lag.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { recalibrateBatchNorm } from "./batch_norm.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({ layers: [
 *   tf.layers.dense({ units: 4, inputShape: [3] }),
 *   tf.layers.batchNormalization(),
 * ] });
 * const report = await recalibrateBatchNorm(model, tf.randomNormal([64, 3]));
 * assert.equal(report.layers, 1);
 * assert.equal(report.samples, 64);
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";

/** Options of {@linkcode recalibrateBatchNorm}. */
export interface RecalibrateBatchNormOptions {
  /** Images per forward pass; memory grows with it. Default: 256. */
  batchSize?: number;
}

/** What {@linkcode recalibrateBatchNorm} did. */
export interface BatchNormRecalibration {
  /** BatchNormalization layers whose moving mean and variance were replaced. */
  layers: number;
  /** Samples the statistics were measured on. */
  samples: number;
}

interface BatchNormLike {
  name: string;
  axis: number;
  input: tf.SymbolicTensor | tf.SymbolicTensor[];
  getWeights(): tf.Tensor[];
  setWeights(weights: tf.Tensor[]): void;
}

function _batchNormLayers(model: tf.LayersModel): BatchNormLike[] {
  const found: BatchNormLike[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() === "BatchNormalization") {
      found.push(layer as unknown as BatchNormLike);
    } else if (
      layer instanceof tf.LayersModel &&
      _batchNormLayers(layer).length > 0
    ) {
      throw new Error(
        `recalibrateBatchNorm: the nested model "${layer.name}" holds ` +
          "BatchNormalization layers, which this function cannot reach. " +
          "Build the model flat: apply the new layers to the inner model's " +
          "outputs (`tf.model({ inputs: base.inputs, outputs: ... })`).",
      );
    }
  }
  return found;
}

/**
 * Replaces the moving mean and variance of every BatchNormalization layer of
 * `model` by the mean and variance its input has over `xs`, with the current
 * weights. Layers are measured in graph order, each after the ones before it
 * were recalibrated, so every layer sees the inputs inference will give it.
 * Trainable weights (gamma, beta, kernels) are not touched. Uses only async
 * reads (WebGPU-safe); disposes everything it creates.
 *
 * Keras's `fit` does not do this; it is a remedy for short runs, where the
 * moving averages lag behind the weights (see the module doc).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { buildModel } from "../models/mod.ts";
 * import { recalibrateBatchNorm } from "./batch_norm.ts";
 * await initBackend({ backend: "wasm", kernelThreads: false, verbose: false });
 * const model = buildModel("mobilenet");
 * // A few hundred to 1,000 training images are plenty for the statistics;
 * // 16 random ones keep the example fast.
 * const trainImages = tf.randomUniform([16, 32, 32, 1]);
 * const report = await recalibrateBatchNorm(model, trainImages);
 * assert.equal(report.samples, 16);
 * ```
 */
export async function recalibrateBatchNorm(
  model: tf.LayersModel,
  xs: tf.Tensor,
  options: RecalibrateBatchNormOptions = {},
): Promise<BatchNormRecalibration> {
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(
      `recalibrateBatchNorm: batchSize must be an integer >= 1, got ${batchSize}.`,
    );
  }
  const samples = xs.shape[0] ?? 0;
  if (samples < 2) {
    throw new Error(
      `recalibrateBatchNorm: needs at least 2 samples to measure a variance, ` +
        `got ${samples}. Pass a few hundred training images.`,
    );
  }
  const layers = _batchNormLayers(model);
  for (const layer of layers) {
    const input = Array.isArray(layer.input) ? layer.input[0] : layer.input;
    const rank = input.shape.length;
    const axis = layer.axis < 0 ? rank + layer.axis : layer.axis;
    const reduce = [...Array(rank).keys()].filter((a) => a !== axis);
    // Per batch: count, mean and variance, merged in float64 (Chan et al.),
    // so the result does not depend on how the samples were batched.
    let count = 0;
    let mean: Float64Array | undefined;
    let m2: Float64Array | undefined;
    for (let start = 0; start < samples; start += batchSize) {
      const size = Math.min(batchSize, samples - start);
      let n = 0; // values per channel in this batch
      const [batchMean, batchVar] = tf.tidy(() => {
        const activations = model.execute(
          xs.slice(start, size),
          input.name,
        ) as tf.Tensor;
        n = activations.size / activations.shape[axis];
        const { mean, variance } = tf.moments(activations, reduce);
        return [mean, variance];
      });
      const [bm, bv] = await Promise.all([batchMean.data(), batchVar.data()]);
      tf.dispose([batchMean, batchVar]);
      if (mean === undefined || m2 === undefined) {
        mean = Float64Array.from(bm);
        m2 = Float64Array.from(bv, (v) => v * n);
        count = n;
        continue;
      }
      const total = count + n;
      for (let c = 0; c < mean.length; c++) {
        const delta = bm[c] - mean[c];
        mean[c] += delta * n / total;
        m2[c] += bv[c] * n + delta * delta * count * n / total;
      }
      count = total;
    }
    const weights = layer.getWeights();
    // gamma and beta come first when present; the moving mean and variance
    // are always the last two weights.
    const movingMean = tf.tensor1d(Float32Array.from(mean!));
    const movingVariance = tf.tensor1d(
      Float32Array.from(m2!, (v) => v / count),
    );
    layer.setWeights([...weights.slice(0, -2), movingMean, movingVariance]);
    tf.dispose([movingMean, movingVariance]);
  }
  return { layers: layers.length, samples };
}
