/**
 * Seed 000's self-defined CNN for Kannada-MNIST.
 *
 * @module
 */
import * as tf from "../tf.ts";
import {
  _checkInputShape,
  _checkInt,
  _checkRate,
  _Seeder,
  type ImageShape,
} from "./_common.ts";

/** Arguments of {@linkcode buildKannadaCnn}. */
export interface KannadaCnnArgs {
  /** Input `[height, width, channels]`; sides >= 4. Default: `[28, 28, 1]`. */
  inputShape?: ImageShape;
  /** Number of classes. Default: 10. */
  numClasses?: number;
  /** Dropout after each convolution block. Default: 0.25. */
  convDropout?: number;
  /** Dropout after the 256-unit dense layer. Default: 0.5. */
  denseDropout?: number;
  /**
   * Seed for the initial weights. Default: unseeded. Dropout masks stay
   * random (a seeded tfjs dropout repeats one mask forever).
   */
  seed?: number;
  /** Model name. Default: "kannada-cnn". */
  name?: string;
}

/**
 * Seed 000's custom CNN: two conv 32@5x5 'same' ReLU, max-pool, dropout 0.25;
 * two conv 64@3x3 'same' ReLU, max-pool, dropout 0.25; flatten, dense 256
 * ReLU, dropout 0.5, dense 10 softmax (887,530 parameters on 28x28x1).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { buildKannadaCnn } from "./kannada_cnn.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * assert.equal(buildKannadaCnn().countParams(), 887530);
 * ```
 */
export function buildKannadaCnn(args: KannadaCnnArgs = {}): tf.Sequential {
  const inputShape = _checkInputShape(
    args.inputShape ?? [28, 28, 1],
    "kannada-cnn",
    4,
    "two 2x2 poolings",
  );
  const numClasses = _checkInt(
    args.numClasses ?? 10,
    "kannada-cnn: numClasses",
  );
  const convDropout = _checkRate(args.convDropout ?? 0.25, "convDropout");
  const denseDropout = _checkRate(args.denseDropout ?? 0.5, "denseDropout");
  const s = new _Seeder(args.seed);
  const conv = (name: string, filters: number, kernelSize: number) =>
    tf.layers.conv2d({
      name,
      filters,
      kernelSize,
      padding: "same",
      activation: "relu",
      kernelInitializer: s.glorot(),
    });
  return tf.sequential({
    name: args.name ?? "kannada-cnn",
    layers: [
      tf.layers.conv2d({
        name: "conv1",
        filters: 32,
        kernelSize: 5,
        padding: "same",
        activation: "relu",
        inputShape,
        kernelInitializer: s.glorot(),
      }),
      conv("conv2", 32, 5),
      tf.layers.maxPooling2d({ name: "pool1", poolSize: 2 }),
      tf.layers.dropout({ name: "dropout1", rate: convDropout }),
      conv("conv3", 64, 3),
      conv("conv4", 64, 3),
      tf.layers.maxPooling2d({ name: "pool2", poolSize: 2, strides: 2 }),
      tf.layers.dropout({ name: "dropout2", rate: convDropout }),
      tf.layers.flatten({ name: "flatten" }),
      tf.layers.dense({
        name: "dense1",
        units: 256,
        activation: "relu",
        kernelInitializer: s.glorot(),
      }),
      tf.layers.dropout({ name: "dropout3", rate: denseDropout }),
      tf.layers.dense({
        name: "dense2",
        units: numClasses,
        activation: "softmax",
        kernelInitializer: s.glorot(),
      }),
    ],
  });
}
